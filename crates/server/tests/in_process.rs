//! Several servers in one process, through the layers' library entry
//! points (what multi-node tests will build on): each has its own storage,
//! its own listener and its own shutdown, and they share nothing but the
//! command table.

use basalt_config::Config;
use basalt_core::shared::Shared;
use basalt_engine::{EngineOptions, Storage};
use std::sync::Arc;
use tokio::net::TcpListener;

struct Node {
    port: u16,
    stop: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<()>,
    shared: Arc<Shared>,
    _dir: tempfile::TempDir,
}

async fn start() -> Node {
    let dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(Storage::open(&EngineOptions::new(dir.path())).unwrap());
    let shared = Arc::new(Shared::new(
        Config::default(),
        storage,
        basalt_commands::table(),
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(basalt_net::serve(vec![listener], shared.clone(), async {
        let _ = stopped.await;
    }));
    Node {
        port,
        stop,
        done,
        shared,
        _dir: dir,
    }
}

fn client(port: u16) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap()
}

#[test]
fn two_servers_in_one_process_keep_their_own_data() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (a, b) = runtime.block_on(async { (start().await, start().await) });
    let (pa, pb) = (a.port, b.port);
    // The redis client is blocking: talk to the servers from another thread.
    std::thread::spawn(move || {
        let mut ca = client(pa);
        let mut cb = client(pb);
        let _: () = redis::cmd("SET")
            .arg("k")
            .arg("on-a")
            .query(&mut ca)
            .unwrap();
        let _: () = redis::cmd("SET")
            .arg("k")
            .arg("on-b")
            .query(&mut cb)
            .unwrap();
        let got_a: String = redis::cmd("GET").arg("k").query(&mut ca).unwrap();
        let got_b: String = redis::cmd("GET").arg("k").query(&mut cb).unwrap();
        assert_eq!((got_a.as_str(), got_b.as_str()), ("on-a", "on-b"));
        let only_a: Option<String> = redis::cmd("GET").arg("only").query(&mut cb).unwrap();
        assert_eq!(only_a, None);
    })
    .join()
    .unwrap();
    // Stopping one leaves the other serving.
    let _ = a.stop.send(());
    runtime.block_on(a.done).unwrap();
    a.shared.data().db.stop_background();
    a.shared.data().storage.close();
    std::thread::spawn(move || {
        let mut cb = client(pb);
        let got: String = redis::cmd("GET").arg("k").query(&mut cb).unwrap();
        assert_eq!(got, "on-b");
        assert!(redis::Client::open(format!("redis://127.0.0.1:{pa}/"))
            .unwrap()
            .get_connection()
            .is_err());
    })
    .join()
    .unwrap();
    let _ = b.stop.send(());
    runtime.block_on(b.done).unwrap();
    b.shared.data().db.stop_background();
    b.shared.data().storage.close();
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
}
