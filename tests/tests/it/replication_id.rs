//! The replication id (Kvrocks #462/#538), always on, and the replica's
//! side of Redis's semantics (HELLO's role, EXECABORT for a write queued
//! on a replica, WAIT in blocked_clients, slave-empty-db-before-fullsync).
//! Real processes on 127.0.0.1; whether a sync was partial or full is read
//! from the master's Kvrocks counters.

use super::replication::{exact, expect_request, line, send};
use basalt_tests::client::{err, q, reply};
use basalt_tests::nodes::{
    assert_same_data, connect, fill_incompressible, fill_incompressible_as, info_field, info_int,
    start_replica, wait_in_sync, wait_link, wait_until,
};
use basalt_tests::{skip_on_redis, Server};
use std::time::Duration;

const SYNC: Duration = Duration::from_secs(30);

/// `sync_full`, `sync_partial_ok`, `sync_partial_err` of a master.
fn counters(c: &mut redis::Connection) -> (i64, i64, i64) {
    (
        info_int(c, "stats", "sync_full"),
        info_int(c, "stats", "sync_partial_ok"),
        info_int(c, "stats", "sync_partial_err"),
    )
}

fn replid(c: &mut redis::Connection) -> String {
    let id = info_field(c, "replication", "master_replid").expect("master_replid");
    assert_eq!(id.len(), 16, "{id}");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()),
        "{id}"
    );
    id
}

/// A replica promoted, its old master attached to it without having
/// written since: the old master's history is a prefix of the new one's,
/// so it resumes with a partial sync.
#[test]
fn the_old_master_attached_to_its_promoted_replica_resumes_with_a_partial_sync() {
    skip_on_redis!();
    let old = Server::start();
    let new = start_replica(&old, &[]);
    let (mut o, mut n) = (old.client(), connect(&new, SYNC));
    let _: () = q(&mut o, &["SET", "a", "1"]);
    let _: i64 = q(&mut o, &["HSET", "h", "f", "v"]);
    wait_in_sync(&old, &new, SYNC);
    let old_id = replid(&mut o);
    assert_eq!(replid(&mut n), old_id, "a replica shows its master's id");

    assert_eq!(reply(&mut n, &["REPLICAOF", "NO", "ONE"]), "OK");
    let new_id = replid(&mut n);
    assert_ne!(new_id, old_id, "a promotion shifts the id");
    assert_eq!(
        info_field(&mut n, "replication", "master_replid2"),
        Some(old_id)
    );
    assert!(info_int(&mut n, "replication", "second_repl_offset") > 0);
    let _: () = q(&mut n, &["SET", "after-promotion", "1"]);

    let (full, ok, errors) = counters(&mut n);
    let to = new.port.to_string();
    assert_eq!(reply(&mut o, &["REPLICAOF", "127.0.0.1", &to]), "OK");
    wait_in_sync(&new, &old, SYNC);
    assert_eq!(counters(&mut n), (full, ok + 1, errors), "one partial sync");
    let mut o = connect(&old, SYNC);
    assert_eq!(reply(&mut o, &["GET", "after-promotion"]), "1");
    assert_eq!(replid(&mut o), new_id);
    assert_same_data(&mut n, &mut o);
}

/// Kvrocks #462 the other way round: the old master wrote after the
/// promotion, so its history is no prefix of the new master's; attached,
/// it gets a full sync and loses its own writes.
#[test]
fn an_old_master_that_wrote_after_the_promotion_gets_a_full_sync() {
    skip_on_redis!();
    let old = Server::start();
    let new = start_replica(&old, &[]);
    let (mut o, mut n) = (old.client(), connect(&new, SYNC));
    let _: () = q(&mut o, &["SET", "k", "0"]);
    wait_in_sync(&old, &new, SYNC);
    assert_eq!(reply(&mut n, &["REPLICAOF", "NO", "ONE"]), "OK");
    // One write each: both histories are as long (the promotion's id
    // took a sequence on the new master), with different batches.
    let _: () = q(&mut o, &["SET", "k", "old"]);
    let _: () = q(&mut o, &["SET", "only-on-the-old-master", "1"]);
    let _: () = q(&mut n, &["SET", "k", "new"]);
    assert_eq!(
        info_int(&mut o, "replication", "master_repl_offset"),
        info_int(&mut n, "replication", "master_repl_offset"),
    );
    let (full, _, errors) = counters(&mut n);
    let to = new.port.to_string();
    assert_eq!(reply(&mut o, &["REPLICAOF", "127.0.0.1", &to]), "OK");
    wait_until(SYNC, "a full sync", || match counters(&mut n).0 {
        x if x == full + 1 => Ok(()),
        x => Err(format!("sync_full {x}")),
    });
    assert!(counters(&mut n).2 > errors, "the partial sync was refused");
    wait_in_sync(&new, &old, SYNC);
    let mut o = connect(&old, SYNC);
    assert_same_data(&mut n, &mut o);
    assert_eq!(reply(&mut o, &["GET", "k"]), "new");
    assert_eq!(reply(&mut o, &["GET", "only-on-the-old-master"]), "nil");
}

/// A replica promoted, written to, then restarted with `slaveof` still in
/// its configuration: its writes are not in the master's history, so it
/// gets a full sync instead of keeping them.
#[test]
fn a_diverged_node_restarted_with_slaveof_gets_a_full_sync() {
    skip_on_redis!();
    let master = Server::start();
    let mut replica = start_replica(&master, &[]);
    let mut m = master.client();
    let _: () = q(&mut m, &["SET", "shared", "1"]);
    wait_in_sync(&master, &replica, SYNC);
    let mut r = connect(&replica, SYNC);
    assert_eq!(reply(&mut r, &["REPLICAOF", "NO", "ONE"]), "OK");
    let _: () = q(&mut r, &["SET", "mine", "1"]);
    let _: () = q(&mut r, &["SET", "shared", "changed on the replica"]);
    let _: () = q(&mut m, &["SET", "later", "1"]);
    drop(r);
    let (full, _, errors) = counters(&mut m);
    replica.restart();
    wait_until(SYNC, "a full sync", || match counters(&mut m).0 {
        x if x == full + 1 => Ok(()),
        x => Err(format!("sync_full {x}")),
    });
    assert!(counters(&mut m).2 > errors, "the partial sync was refused");
    wait_in_sync(&master, &replica, SYNC);
    let mut r = connect(&replica, SYNC);
    assert_same_data(&mut m, &mut r);
    assert_eq!(reply(&mut r, &["GET", "mine"]), "nil");
    assert_eq!(reply(&mut r, &["GET", "shared"]), "1");
}

/// A replica restarted with `slaveof` that took no writes of its own
/// resumes with a partial sync (its last batch carries the master's id).
#[test]
fn a_replica_restarted_with_slaveof_resumes_with_a_partial_sync() {
    skip_on_redis!();
    let master = Server::start();
    let mut replica = start_replica(&master, &[]);
    let mut m = master.client();
    let _: () = q(&mut m, &["SET", "a", "1"]);
    wait_in_sync(&master, &replica, SYNC);
    assert!(replica.terminate().is_some_and(|s| s.success()));
    let _: () = q(&mut m, &["SET", "b", "2"]);
    let (full, ok, errors) = counters(&mut m);
    replica.restart();
    wait_in_sync(&master, &replica, SYNC);
    assert_eq!(counters(&mut m), (full, ok + 1, errors));
    let mut r = connect(&replica, SYNC);
    assert_same_data(&mut m, &mut r);
}

/// Every batch a master writes ends with Kvrocks' log-data record
/// `r <id>`, and PSYNC with another id at that point is refused as
/// Kvrocks refuses it.
#[test]
fn every_batch_carries_the_replication_id_and_psync_checks_it() {
    skip_on_redis!();
    let master = Server::start();
    let mut m = master.client();
    let _: () = q(&mut m, &["SET", "k", "v"]);
    let id = replid(&mut m);
    let latest = info_int(&mut m, "replication", "master_repl_offset") as u64;
    let next = (latest + 1).to_string();
    let (_, _, errors) = counters(&mut m);

    let mut s = master.raw();
    let other = if id == "0000000000000000" {
        "1111111111111111"
    } else {
        "0000000000000000"
    };
    send(&mut s, &[b"PSYNC", other.as_bytes(), next.as_bytes()]);
    assert_eq!(line(&mut s), b"-ERR wrong replication id of the last log");
    assert_eq!(counters(&mut m).2, errors + 1);

    send(&mut s, &[b"PSYNC", id.as_bytes(), next.as_bytes()]);
    assert_eq!(line(&mut s), b"+OK");
    let _: () = q(&mut m, &["MSET", "a", "1", "b", "2"]);
    let batch = loop {
        let header = line(&mut s);
        let len: usize = std::str::from_utf8(&header[1..]).unwrap().parse().unwrap();
        let data = exact(&mut s, len + 2);
        if &data[..len] != b"ping" {
            break data[..len].to_vec();
        }
    };
    assert_eq!(
        u64::from_le_bytes(batch[..8].try_into().unwrap()),
        latest + 1
    );
    assert_eq!(u32::from_le_bytes(batch[8..12].try_into().unwrap()), 2);
    // Log data (type 0x03), length 18, then "r " and the id.
    let mut record = vec![0x03, 18, b'r', b' '];
    record.extend_from_slice(id.as_bytes());
    assert!(batch.ends_with(&record), "{batch:?}");
}

/// HELLO's role, and a write queued in MULTI on a replica dooms the
/// transaction, as in Redis.
#[test]
fn a_replica_says_so_in_hello_and_refuses_writes_queued_in_multi() {
    skip_on_redis!();
    let master = Server::start();
    let replica = start_replica(&master, &[]);
    let mut m = master.client();
    let _: () = q(&mut m, &["SET", "x", "master"]);
    wait_in_sync(&master, &replica, SYNC);
    let mut r = connect(&replica, SYNC);
    assert!(reply(&mut r, &["HELLO", "2"]).contains("role,replica"));
    assert!(reply(&mut m, &["HELLO", "2"]).contains("role,master"));

    assert_eq!(reply(&mut r, &["MULTI"]), "OK");
    assert_eq!(reply(&mut r, &["GET", "x"]), "QUEUED");
    assert_eq!(
        err(&mut r, &["SET", "x", "1"]),
        "READONLY You can't write against a read only replica."
    );
    assert_eq!(
        err(&mut r, &["EXEC"]),
        "EXECABORT Transaction discarded because of previous errors."
    );
    assert_eq!(reply(&mut r, &["GET", "x"]), "master");
    // Reads alone still run.
    assert_eq!(reply(&mut r, &["MULTI"]), "OK");
    assert_eq!(reply(&mut r, &["GET", "x"]), "QUEUED");
    assert_eq!(reply(&mut r, &["EXEC"]), "[master]");

    // A write queued on a master that becomes a replica before EXEC: the
    // transaction is discarded whole.
    let node = Server::start();
    let (mut a, mut b) = (node.client(), node.client());
    assert_eq!(reply(&mut a, &["MULTI"]), "OK");
    assert_eq!(reply(&mut a, &["SET", "y", "1"]), "QUEUED");
    let to = master.port.to_string();
    assert_eq!(reply(&mut b, &["REPLICAOF", "127.0.0.1", &to]), "OK");
    assert_eq!(
        err(&mut a, &["EXEC"]),
        "EXECABORT Transaction discarded because of: READONLY You can't write against a read only replica."
    );
}

/// A client blocked in WAIT counts in INFO's blocked_clients.
#[test]
fn a_client_blocked_in_wait_counts_as_blocked() {
    skip_on_redis!();
    let master = Server::start();
    let mut m = master.client();
    let mut s = master.raw();
    send(&mut s, &[b"SET", b"k", b"v"]);
    assert_eq!(line(&mut s), b"+OK");
    send(&mut s, &[b"WAIT", b"1", b"0"]);
    wait_until(SYNC, "the WAIT to block", || {
        match info_int(&mut m, "clients", "blocked_clients") {
            1 => Ok(()),
            n => Err(format!("{n} blocked")),
        }
    });
    drop(s);
    wait_until(SYNC, "the client to go", || {
        match info_int(&mut m, "clients", "blocked_clients") {
            0 => Ok(()),
            n => Err(format!("{n} blocked")),
        }
    });
}

/// `slave-empty-db-before-fullsync yes`: the replica's own data is gone
/// before the master's checkpoint has arrived (a slow one here, at 1 MB/s).
#[test]
fn slave_empty_db_before_fullsync_empties_the_replica_first() {
    skip_on_redis!();
    let master = Server::start_with(&["--max-replication-mb", "1"]);
    let mut m = master.client();
    // About 3 MB that compression cannot shrink.
    fill_incompressible(&mut m, 750, 4096, 0x2545_F491_4F6C_DD1D);
    let replica = Server::start_with(&["--slave-empty-db-before-fullsync", "yes"]);
    let mut r = replica.client();
    assert_eq!(
        reply(&mut r, &["CONFIG", "GET", "slave-empty-db-before-fullsync"]),
        "[slave-empty-db-before-fullsync,yes]"
    );
    let _: () = q(&mut r, &["SET", "own", "1"]);
    let to = master.port.to_string();
    assert_eq!(reply(&mut r, &["REPLICAOF", "127.0.0.1", &to]), "OK");
    // Seen empty while the files still arrive.
    wait_until(SYNC, "an empty replica during the sync", || {
        let size: Result<i64, _> = redis::cmd("DBSIZE").query(&mut r);
        let syncing = info_field(&mut r, "replication", "master_sync_in_progress");
        match (size, syncing.as_deref()) {
            (Ok(0), Some("1")) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    wait_in_sync(&master, &replica, SYNC);
    let mut r = connect(&replica, SYNC);
    assert_same_data(&mut m, &mut r);
    assert_eq!(reply(&mut r, &["GET", "own"]), "nil");
    assert!(replica
        .log()
        .contains("emptied the database before the full sync"));
}

/// A master that knows no replication ids (PSYNC with two arguments is a
/// wrong number of arguments there) gets the old `PSYNC <seq>`, on the same
/// connection, as a Kvrocks replica does.
#[test]
fn a_master_without_replication_ids_gets_the_old_psync() {
    skip_on_redis!();
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let fake_port = listener.local_addr().unwrap().port();
    let fake = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        expect_request(&mut s, b"_db_name");
        s.write_all(b"change.me.db\r\n").unwrap();
        expect_request(&mut s, b"listening-port");
        s.write_all(b"+OK\r\n").unwrap();
        expect_request(&mut s, b"keyspace-events");
        s.write_all(b"-ERR unknown option\r\n").unwrap();
        expect_request(&mut s, b"*3\r\n$5\r\nPSYNC\r\n$16\r\n");
        s.write_all(b"-ERR wrong number of arguments for 'psync' command\r\n")
            .unwrap();
        expect_request(&mut s, b"*2\r\n$5\r\nPSYNC\r\n");
        s.write_all(b"+OK\r\n").unwrap();
        s
    });
    // A master until now: it has an id of its own.
    let replica = Server::start();
    let mut r = replica.client();
    let to = fake_port.to_string();
    assert_eq!(reply(&mut r, &["REPLICAOF", "127.0.0.1", &to]), "OK");
    let _stream = fake.join().expect("fake master");
    wait_link(&mut r, "up", SYNC);
}

/// A full sync whose link is cut in the middle of a file (through the
/// TCP proxy) resumes that file from where it stopped.
#[test]
fn a_full_sync_cut_in_the_middle_of_a_file_resumes_it() {
    skip_on_redis!();
    let master = Server::start_with(&["--max-replication-mb", "1"]);
    let mut m = master.client();
    // About 3 MB that compression cannot shrink, in one SST file.
    fill_incompressible(&mut m, 750, 4096, 0x9E37_79B9_7F4A_7C15);
    let _: String = q(&mut m, &["BGREWRITEAOF"]);
    wait_until(SYNC, "the data in an SST file", || {
        let biggest = std::fs::read_dir(master.data_dir().join("db"))
            .map_err(|e| e.to_string())?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".sst"))
            .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
            .max()
            .unwrap_or(0);
        if biggest > 2 << 20 {
            Ok(())
        } else {
            Err(format!("largest SST {biggest} bytes"))
        }
    });
    // The extension on the wire: one file from a byte on (unpaced).
    let _: () = q(&mut m, &["CONFIG", "SET", "max-replication-mb", "0"]);
    let mut s = master.raw();
    send(&mut s, &[b"_fetch_meta"]);
    let files = String::from_utf8(line(&mut s)).unwrap();
    let sst = files
        .split(',')
        .find(|f| f.ends_with(".sst"))
        .expect("an SST file in the checkpoint")
        .to_string();
    let mut s = master.raw();
    send(&mut s, &[b"_fetch_file", sst.as_bytes()]);
    let size: usize = String::from_utf8(line(&mut s)).unwrap().parse().unwrap();
    let whole = exact(&mut s, size);
    let mut s = master.raw();
    send(&mut s, &[b"_fetch_file", sst.as_bytes(), b"1000"]);
    let rest: usize = String::from_utf8(line(&mut s)).unwrap().parse().unwrap();
    assert_eq!(rest, size - 1000);
    assert_eq!(exact(&mut s, rest), whole[1000..]);
    let mut s = master.raw();
    let beyond = (size + 1).to_string();
    send(&mut s, &[b"_fetch_file", sst.as_bytes(), beyond.as_bytes()]);
    assert!(line(&mut s).starts_with(b"-ERR offset"));
    assert_eq!(
        err(&mut m, &["_fetch_file", "a,b", "10"]),
        "ERR an offset goes with exactly one file"
    );

    let _: () = q(&mut m, &["CONFIG", "SET", "max-replication-mb", "1"]);
    let proxy = basalt_tests::proxy::Proxy::start(master.port);
    let replica = Server::start();
    let mut r = replica.client();
    let to = proxy.port.to_string();
    assert_eq!(reply(&mut r, &["REPLICAOF", "127.0.0.1", &to]), "OK");
    wait_until(SYNC, "a megabyte received", || {
        let read = info_field(&mut r, "replication", "master_sync_read_bytes")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        if read > 1 << 20 {
            Ok(())
        } else {
            Err(format!("{read} bytes"))
        }
    });
    proxy.cut();
    wait_in_sync(&master, &replica, SYNC);
    let log = replica.log();
    let resumed = log
        .lines()
        .find(|l| l.contains("replication: resuming ") && l.contains(".sst at byte "))
        .unwrap_or_else(|| panic!("no resumption in the log:\n{log}"));
    assert!(!resumed.contains("at byte 0 "), "{resumed}");
    let mut r = connect(&replica, SYNC);
    assert_same_data(&mut m, &mut r);
}

/// A master whose data lies in several SST files of about a megabyte,
/// which keeps no WAL once flushed (so a new replica needs a full sync),
/// and sends at most a megabyte a second to its replicas.
fn master_with_several_sst_files() -> Server {
    let master = Server::start_with(&[
        "--max-replication-mb",
        "1",
        "--rocksdb.target_file_size_base",
        "1",
        "--rocksdb.wal_ttl_seconds",
        "0",
        "--rocksdb.wal_size_limit_mb",
        "0",
    ]);
    let mut m = master.client();
    let ssts = || -> usize {
        std::fs::read_dir(master.data_dir().join("db"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".sst"))
                    .filter(|e| e.metadata().map(|m| m.len()).unwrap_or(0) > 512 << 10)
                    .count()
            })
            .unwrap_or(0)
    };
    // Four flushes of a megabyte each, under keys of their own.
    for round in 0..4u64 {
        let prefix = format!("f{round}");
        fill_incompressible_as(&mut m, &prefix, 256, 4096, 0x2545_F491_4F6C_DD1D + round);
        let before = ssts();
        let _: String = q(&mut m, &["BGREWRITEAOF"]);
        wait_until(SYNC, "the megabyte in an SST file", || {
            let now = ssts();
            if now > before || now >= 3 {
                Ok(())
            } else {
                Err(format!("{now} SST files"))
            }
        });
    }
    wait_until(SYNC, "the data in several SST files", || {
        let n = ssts();
        if n >= 3 {
            Ok(())
        } else {
            Err(format!("{n} SST files"))
        }
    });
    master
}

/// The whole SST files in `dir`, with their sizes.
fn whole_ssts(dir: &std::path::Path) -> Vec<(String, u64)> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| {
                    let size = e.metadata().map(|m| m.len()).unwrap_or(0);
                    (e.file_name().to_string_lossy().into_owned(), size)
                })
                .filter(|(n, _)| n.ends_with(".sst"))
                .collect()
        })
        .unwrap_or_default()
}

/// A replica of `master` killed (-9) in the middle of its full sync, once
/// the whole SST files it received are `enough`; returns it stopped, and
/// those files.
fn replica_killed_in_a_full_sync(
    master: &Server,
    enough: impl Fn(&[(String, u64)]) -> bool,
) -> (Server, Vec<(String, u64)>) {
    let mut replica = start_replica(master, &[]);
    let mut r = replica.client();
    let checkpoint = replica.data_dir().join("sync_checkpoint");
    wait_until(SYNC, "enough whole SST files received", || {
        let have = whole_ssts(&checkpoint);
        if enough(&have) {
            Ok(())
        } else {
            Err(format!("{have:?}"))
        }
    });
    assert_eq!(
        info_field(&mut r, "replication", "master_sync_in_progress").as_deref(),
        Some("1")
    );
    replica.kill9();
    let kept = whole_ssts(&checkpoint);
    (replica, kept)
}

/// "full sync from …: N files, M to fetch", from a replica's log.
fn full_sync_plans(log: &str) -> Vec<(usize, usize)> {
    log.lines()
        .filter_map(|l| {
            let (_, rest) = l.split_once("replication: full sync from ")?;
            let (_, counts) = rest.split_once(": ")?;
            let (files, rest) = counts.split_once(" files, ")?;
            let (todo, _) = rest.split_once(" to fetch")?;
            Some((files.parse().ok()?, todo.parse().ok()?))
        })
        .collect()
}

/// A replica killed in the middle of a full sync and restarted keeps the
/// whole SST files it had received: after RocksDB found them to be the
/// master's, it fetches only the rest.
#[test]
fn a_replica_restarted_in_a_full_sync_fetches_only_the_files_it_lacks() {
    skip_on_redis!();
    let master = master_with_several_sst_files();
    let (mut replica, kept) = replica_killed_in_a_full_sync(&master, |have| have.len() >= 2);
    replica.restart();
    wait_in_sync(&master, &replica, SYNC);
    let log = replica.log();
    let plans = full_sync_plans(&log);
    assert_eq!(plans.len(), 2, "{log}");
    let ((files, todo), (files_again, todo_again)) = (plans[0], plans[1]);
    assert_eq!(files, todo, "{log}");
    assert_eq!(files_again, files, "{log}");
    assert_eq!(todo_again, files - kept.len(), "kept {kept:?}\n{log}");
    assert!(
        log.contains("the files kept from an earlier transfer are the master's"),
        "{log}"
    );
    let mut m = master.client();
    let mut r = connect(&replica, SYNC);
    assert_same_data(&mut m, &mut r);
    // Nothing of the transfer is left behind.
    assert!(!replica.data_dir().join("sync_checkpoint").exists());
    assert!(!replica.data_dir().join("sync_checkpoint.source").exists());
}

/// A kept file that is not the master's, though it has the name and the
/// size the master's MANIFEST gives (as another database's file with that
/// number could), is found out before the swap by its unique id, and every
/// file is fetched again.
#[test]
fn a_kept_file_that_is_not_the_masters_is_found_out_and_fetched_again() {
    skip_on_redis!();
    let master = master_with_several_sst_files();
    let masters = whole_ssts(&master.data_dir().join("db"));
    // Another of the master's SST files of the same size as one kept.
    let twin = |(name, size): &(String, u64)| {
        masters
            .iter()
            .find(|(n, s)| n != name && s == size)
            .map(|(n, _)| (name.clone(), n.clone()))
    };
    let (mut replica, kept) =
        replica_killed_in_a_full_sync(&master, |have| have.iter().any(|f| twin(f).is_some()));
    let (victim, stranger) = kept.iter().find_map(twin).expect("a file with a twin");
    std::fs::copy(
        master.data_dir().join("db").join(&stranger),
        replica.data_dir().join("sync_checkpoint").join(&victim),
    )
    .unwrap();
    replica.restart();
    wait_in_sync(&master, &replica, SYNC);
    let log = replica.log();
    assert!(
        log.contains("files kept from an earlier transfer are not the master's"),
        "{log}"
    );
    let plans = full_sync_plans(&log);
    assert_eq!(plans.len(), 3, "{log}");
    assert_eq!(plans[2].0, plans[2].1, "{log}");
    let mut m = master.client();
    let mut r = connect(&replica, SYNC);
    assert_same_data(&mut m, &mut r);
}
