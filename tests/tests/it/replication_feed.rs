//! The master's feed (Basalt only): batches sent from the in-memory
//! backlog while a replica keeps up, from the WAL when it is further
//! behind, in order and without a gap either way; PSYNC resumes from a
//! sequence the backlog holds.

use crate::replication::{exact, line, send};
use basalt_tests::client::q;
use basalt_tests::nodes::{
    assert_acked_present, assert_same_data, connect, info_field, info_int, replica_via_proxy,
    start_replica, wait_in_sync, wait_link, wait_until, WriteLoad,
};
use basalt_tests::{skip_on_redis, Server};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const SYNC: Duration = Duration::from_secs(30);

/// One batch as the feed sends it.
struct Batch {
    sequence: u64,
    count: u64,
    data: Vec<u8>,
}

/// The next batch on a PSYNC stream (skipping `ping`s).
fn next_batch(s: &mut TcpStream) -> Batch {
    loop {
        let header = line(s);
        assert_eq!(header[0], b'$', "{header:?}");
        let len: usize = std::str::from_utf8(&header[1..]).unwrap().parse().unwrap();
        let data = exact(s, len + 2);
        assert_eq!(&data[len..], b"\r\n");
        if &data[..len] == b"ping" {
            continue;
        }
        let data = data[..len].to_vec();
        return Batch {
            sequence: u64::from_le_bytes(data[..8].try_into().unwrap()),
            count: u32::from_le_bytes(data[8..12].try_into().unwrap()) as u64,
            data,
        };
    }
}

/// Opens a PSYNC stream at `next` (with the master's replication id when
/// given); whether it was accepted.
fn psync(master: &Server, id: Option<&str>, next: u64) -> (TcpStream, bool) {
    let mut s = master.raw();
    let next = next.to_string();
    match id {
        Some(id) => send(&mut s, &[b"PSYNC", id.as_bytes(), next.as_bytes()]),
        None => send(&mut s, &[b"PSYNC", next.as_bytes()]),
    }
    let ok = line(&mut s) == b"+OK";
    (s, ok)
}

/// Reads batches until the stream has everything up to `last`, checking
/// that each starts where the one before ended and ends with the master's
/// replication id record (Kvrocks' `r <id>` log data: every batch a master
/// writes carries it, so a batch that does is one writer's whole batch or
/// a WAL record of several).
fn read_through(s: &mut TcpStream, mut next: u64, last: u64, id: &str) -> Vec<Batch> {
    let mut got = Vec::new();
    let tail = [&[0x03u8, 18][..], b"r ", id.as_bytes()].concat();
    s.set_read_timeout(Some(SYNC)).unwrap();
    while next <= last {
        let b = next_batch(s);
        assert_eq!(b.sequence, next, "a gap or an overlap in the stream");
        assert!(b.count > 0);
        assert!(
            b.data.ends_with(&tail),
            "batch at {} does not end with the replication id",
            b.sequence
        );
        next = b.sequence + b.count;
        got.push(b);
    }
    got
}

#[test]
fn a_stream_under_concurrent_writers_has_every_batch_in_order() {
    skip_on_redis!();
    let master = Server::start();
    let mut m = master.client();
    let _: () = q(&mut m, &["SET", "before", "1"]);
    let id = info_field(&mut m, "replication", "master_replid").unwrap();
    // A real replica too, to compare data at the end.
    let replica = start_replica(&master, &[]);
    wait_in_sync(&master, &replica, SYNC);
    let start = info_int(&mut m, "replication", "master_repl_offset") as u64 + 1;
    let (mut s, ok) = psync(&master, Some(&id), start);
    assert!(ok);
    // Concurrent writers: RocksDB merges their batches into shared WAL
    // records, the backlog keeps each writer's own.
    let load = WriteLoad::start(&master, 6);
    load.wait_for_writes(3000, SYNC);
    let acked = load.stop();
    let last = info_int(&mut m, "replication", "master_repl_offset") as u64;
    let batches = read_through(&mut s, start, last, &id);
    assert!(batches.len() > 100, "{} batches", batches.len());
    assert_eq!(
        info_field(&mut m, "replication", "repl_backlog_active").as_deref(),
        Some("1")
    );
    assert!(info_int(&mut m, "replication", "repl_backlog_histlen") > 0);

    // Resuming inside the backlog: from a batch's first sequence, the same
    // bytes again; from the middle of a batch, refused.
    let pick = &batches[batches.len() / 2];
    let (mut again, ok) = psync(&master, Some(&id), pick.sequence);
    assert!(ok);
    again.set_read_timeout(Some(SYNC)).unwrap();
    let first = next_batch(&mut again);
    assert_eq!(first.sequence, pick.sequence);
    assert_eq!(first.data, pick.data, "the bytes sent the first time");
    let wide = batches.iter().find(|b| b.count > 1).expect("a batch of 2+");
    let (_, ok) = psync(&master, None, wide.sequence + 1);
    assert!(!ok, "the middle of a writer's batch is no place to resume");

    wait_in_sync(&master, &replica, SYNC);
    let mut r = connect(&replica, SYNC);
    assert_same_data(&mut m, &mut r);
    assert_acked_present(&mut r, &acked);
}

#[test]
fn a_replica_behind_the_backlog_catches_up_from_the_wal() {
    skip_on_redis!();
    // A backlog of a few batches: any replica that falls behind at all
    // reads the WAL.
    let master = Server::start_with(&["--repl-backlog-size", "4kb"]);
    let (proxy, replica) = replica_via_proxy(&master, &[]);
    let mut m = master.client();
    wait_in_sync(&master, &replica, SYNC);
    let (full, partial) = (
        info_int(&mut m, "stats", "sync_full"),
        info_int(&mut m, "stats", "sync_partial_ok"),
    );
    let load = WriteLoad::start(&master, 6);
    load.wait_for_writes(1000, SYNC);

    // Away while the master writes far more than the backlog holds: the
    // replica resumes (PSYNC) from the WAL, possibly in the middle of a
    // WAL record that merged several writers' batches.
    proxy.refuse(true);
    proxy.cut();
    let mut r = connect(&replica, SYNC);
    wait_link(&mut r, "down", SYNC);
    load.wait_for_writes(2000, SYNC);
    proxy.refuse(false);

    // A slow link: the feed falls behind the backlog while connected, and
    // goes back to the WAL.
    proxy.delay(Duration::from_millis(30));
    load.wait_for_writes(2000, SYNC);
    proxy.delay(Duration::ZERO);
    load.wait_for_writes(1000, SYNC);
    let acked = load.stop();
    wait_in_sync(&master, &replica, SYNC);
    assert_same_data(&mut m, &mut r);
    assert_acked_present(&mut r, &acked);
    assert_eq!(info_int(&mut m, "stats", "sync_full"), full, "no full sync");
    assert_eq!(info_int(&mut m, "stats", "sync_partial_ok"), partial + 1);

    // Caught up, the stream goes on.
    let t0 = Instant::now();
    let _: () = q(&mut m, &["SET", "last", "1"]);
    wait_until(SYNC, "the last write on the replica", || {
        match q::<Option<String>>(&mut r, &["GET", "last"]) {
            Some(_) => Ok(()),
            None => Err(format!("not yet after {:?}", t0.elapsed())),
        }
    });
}

#[test]
fn resuming_where_the_backlog_no_longer_reaches_reads_the_same_records_from_the_wal() {
    skip_on_redis!();
    let master = Server::start();
    let mut m = master.client();
    let _: () = q(&mut m, &["SET", "before", "1"]);
    let id = info_field(&mut m, "replication", "master_replid").unwrap();
    let start = info_int(&mut m, "replication", "master_repl_offset") as u64 + 1;
    let (mut s, ok) = psync(&master, Some(&id), start);
    assert!(ok);
    // Each writer's batch, from the backlog.
    let load = WriteLoad::start(&master, 6);
    load.wait_for_writes(2000, SYNC);
    load.stop();
    let last = info_int(&mut m, "replication", "master_repl_offset") as u64;
    let batches = read_through(&mut s, start, last, &id);

    // The backlog shrinks to almost nothing: resuming at any of those
    // batches reads the WAL, where concurrent writers' batches share
    // records; a record is cut where the batch starts.
    let _: () = q(&mut m, &["CONFIG", "SET", "repl-backlog-size", "1kb"]);
    // It keeps the newest kilobyte: a few more writes push the load's out.
    wait_until(SYNC, "the backlog to shrink", || {
        let _: () = q(&mut m, &["SET", "after", "1"]);
        match info_int(&mut m, "replication", "repl_backlog_first_byte_offset") as u64 {
            first if first > last => Ok(()),
            first => Err(format!("first {first}")),
        }
    });
    let step = (batches.len() / 40).max(1);
    for b in batches.iter().step_by(step) {
        let (mut again, ok) = psync(&master, Some(&id), b.sequence);
        assert!(ok, "PSYNC {} refused", b.sequence);
        again.set_read_timeout(Some(SYNC)).unwrap();
        let first = next_batch(&mut again);
        assert_eq!(first.sequence, b.sequence);
        // The WAL's batch holds this writer's records first (and maybe the
        // next writers' after them).
        assert!(first.count >= b.count);
        assert!(
            first.data[12..].starts_with(&b.data[12..]),
            "at {}: other records than the backlog's",
            b.sequence
        );
    }
}
