//! A command reading a huge collection does not hold up the other clients of
//! the worker thread serving it.

use basalt_tests::client::{cmd, q};
use basalt_tests::Server;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

#[test]
fn other_clients_are_answered_while_a_huge_list_is_scanned() {
    basalt_tests::skip_on_redis!();
    // One worker thread: without offloading, every connection would wait
    // for the LRANGE to finish.
    let server = Server::start_with(&["--workers", "1"]);
    let mut c = server.client();
    let chunk: Vec<String> = (0..10_000).map(|i| format!("element-{i:08}")).collect();
    for _ in 0..60 {
        let mut push = cmd(&["RPUSH", "big"]);
        for e in &chunk {
            push.arg(e);
        }
        let _: i64 = push.query(&mut c).unwrap();
    }
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let mut c = server.client();
        let done = done.clone();
        thread::spawn(move || {
            // LPOS of a missing element reads the whole list and answers
            // nil: all of the time is spent reading, none writing a reply.
            // Pipelined, so the connection has no pause between them.
            let mut pipe = redis::pipe();
            for _ in 0..10 {
                pipe.cmd("LPOS").arg("big").arg("missing");
            }
            let misses: Vec<Option<i64>> = pipe.query(&mut c).unwrap();
            done.store(true, Ordering::SeqCst);
            misses
        })
    };
    // PINGs answered while the reads are still going prove the worker was
    // not held by them.
    let mut other = server.client();
    let mut answered_meanwhile = 0;
    while !done.load(Ordering::SeqCst) {
        let pong: String = q(&mut other, &["PING"]);
        assert_eq!(pong, "PONG");
        if !done.load(Ordering::SeqCst) {
            answered_meanwhile += 1;
        }
    }
    assert_eq!(reader.join().unwrap(), vec![None; 10]);
    assert!(
        answered_meanwhile >= 5,
        "only {answered_meanwhile} PINGs were answered during ten scans of 600k elements"
    );
}
