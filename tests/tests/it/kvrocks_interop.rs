//! Replication between Basalt and a real Apache Kvrocks, both ways: a
//! Basalt replica follows a Kvrocks master, a Kvrocks replica follows a
//! Basalt master. Each direction (`follow`): an empty replica catches up
//! with data of every type both servers have by a partial sync from the
//! first sequence (the master's WAL still holds it all), takes the live
//! stream, is killed with `kill -9` and resumes with a partial sync; then,
//! after the master restarted (and dropped its WAL), a replica whose data
//! was lost gets a full sync (the master's checkpoint, loaded by the other
//! server) and the stream after it. The data is compared key by key as the
//! commands of each type show it (`nodes::view`: DUMP payloads differ
//! between the two servers for the same value).
//!
//! Kvrocks is not on this machine's package lists: these tests run only
//! when the environment variable `KVROCKS_BIN` names a Kvrocks binary
//! (docs/replication.md, "Kvrocks interop"); without it they print why
//! they are skipped and pass.

use basalt_tests::client::err;
use basalt_tests::nodes::{connect, info_field, info_int, wait_same_view, wait_until};
use basalt_tests::{free_port, Server};
use redis::{Connection, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SYNC: Duration = Duration::from_secs(30);

/// The Kvrocks binary named by `KVROCKS_BIN`, or None (the caller returns)
/// after saying why the test does not run.
fn kvrocks_bin() -> Option<PathBuf> {
    match std::env::var_os("KVROCKS_BIN") {
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            assert!(p.exists(), "KVROCKS_BIN={} does not exist", p.display());
            Some(p)
        }
        _ => {
            eprintln!("skipped: KVROCKS_BIN does not name a Kvrocks binary");
            None
        }
    }
}

/// A Kvrocks process on a loopback port, with its data and log in a
/// temporary directory, killed on drop.
struct Kvrocks {
    bin: PathBuf,
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

impl Kvrocks {
    /// Starts Kvrocks with `extra` lines added to its configuration file.
    fn start(bin: &std::path::Path, extra: &[String]) -> Kvrocks {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let mut conf = format!(
            "bind 127.0.0.1\nport {port}\ndir {}\nworkers 2\nlog-dir stdout\n\
             daemonize no\nrocksdb.block_cache_size 64\nrocksdb.write_buffer_size 16\n",
            dir.path().join("data").display()
        );
        for line in extra {
            conf.push_str(line);
            conf.push('\n');
        }
        std::fs::write(dir.path().join("kvrocks.conf"), conf).expect("kvrocks.conf");
        let mut k = Kvrocks {
            bin: bin.to_path_buf(),
            child: None,
            port,
            dir,
        };
        k.spawn();
        k
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("kvrocks.log"))
            .expect("log file");
        let child = Command::new(&self.bin)
            .arg("-c")
            .arg(self.dir.path().join("kvrocks.conf"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn kvrocks");
        self.child = Some(child);
        let url = self.url();
        wait_until(Duration::from_secs(60), "Kvrocks to answer", || {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("kvrocks exited with {status}:\n{}", self.log());
            }
            redis::Client::open(url.as_str())
                .and_then(|c| c.get_connection())
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
                .map_err(|e| e.to_string())
        });
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn client(&self) -> Connection {
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection())
            .expect("connect to kvrocks")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("kvrocks.log")).unwrap_or_default()
    }

    fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, and a clean exit (Kvrocks flushes its memtables).
    fn terminate(&mut self) {
        if let Some(mut child) = self.child.take() {
            unsafe {
                libc::kill(child.id() as i32, libc::SIGTERM);
            }
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            while child.try_wait().ok().flatten().is_none() {
                if std::time::Instant::now() > deadline {
                    let _ = child.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.wait();
        }
    }
}

impl Drop for Kvrocks {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// What both masters must let their WAL go as soon as it is flushed: a
/// replica that starts from nothing then needs a full sync.
const KVROCKS_NO_WAL_KEPT: [&str; 2] = ["rocksdb.wal_ttl_seconds 0", "rocksdb.wal_size_limit_mb 0"];
const BASALT_NO_WAL_KEPT: [&str; 4] = [
    "--rocksdb.wal_ttl_seconds",
    "0",
    "--rocksdb.wal_size_limit_mb",
    "0",
];

fn run(c: &mut Connection, args: &[&str]) -> Value {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c)
        .unwrap_or_else(|e| panic!("{}: {e}", args.join(" ")))
}

/// Writes keys of every type both servers have, named after `tag`: a
/// string with and one without a TTL, a counter, a hash (with a TTL), a
/// list, a set, a sorted set, a stream with a consumer group and a
/// pending entry, a bitmap, a HyperLogLog, a JSON document, a Bloom
/// filter; and changes and deletes some of what an earlier round wrote.
fn write_every_type(c: &mut Connection, tag: &str) {
    let k = |name: &str| format!("{name}:{tag}");
    run(c, &["SET", &k("s"), "plain value"]);
    run(c, &["SET", &k("sttl"), "with ttl", "PX", "3600000"]);
    run(c, &["APPEND", &k("s"), " and more"]);
    run(c, &["INCRBY", &k("counter"), "41"]);
    run(c, &["INCR", &k("counter")]);
    run(c, &["HSET", &k("h"), "f1", "v1", "f2", "v2", "n", "1"]);
    run(c, &["HINCRBY", &k("h"), "n", "9"]);
    run(c, &["HDEL", &k("h"), "f2"]);
    run(c, &["EXPIRE", &k("h"), "7200"]);
    run(c, &["RPUSH", &k("l"), "a", "b", "c", "d"]);
    run(c, &["LPUSH", &k("l"), "z"]);
    run(c, &["LSET", &k("l"), "2", "B"]);
    run(c, &["RPOP", &k("l")]);
    run(c, &["SADD", &k("set"), "m1", "m2", "m3"]);
    run(c, &["SREM", &k("set"), "m2"]);
    run(
        c,
        &["ZADD", &k("z"), "1", "one", "2.5", "two", "-3", "minus"],
    );
    run(c, &["ZINCRBY", &k("z"), "10", "one"]);
    run(c, &["ZREM", &k("z"), "two"]);
    run(c, &["XADD", &k("x"), "*", "f", "1", "g", "2"]);
    run(c, &["XADD", &k("x"), "*", "f", "3"]);
    run(c, &["XGROUP", "CREATE", &k("x"), "grp", "0"]);
    run(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "grp",
            "alice",
            "COUNT",
            "1",
            "STREAMS",
            &k("x"),
            ">",
        ],
    );
    run(c, &["SETBIT", &k("bits"), "7", "1"]);
    run(c, &["SETBIT", &k("bits"), "100000", "1"]);
    run(c, &["PFADD", &k("hll"), "a", "b", "c", "d"]);
    run(
        c,
        &[
            "JSON.SET",
            &k("j"),
            "$",
            r#"{"a":1,"b":[1,2,"x"],"c":{"d":null}}"#,
        ],
    );
    run(c, &["JSON.SET", &k("j"), "$.a", "2"]);
    run(c, &["BF.ADD", &k("bf"), "apple"]);
    run(c, &["BF.MADD", &k("bf"), "pear", "plum", "7"]);
    // Keys an earlier round wrote: overwritten with another type, deleted,
    // given a TTL, made persistent.
    run(c, &["SET", "shared:retyped", tag]);
    run(c, &["DEL", "shared:gone"]);
    run(c, &["RPUSH", "shared:gone", tag]);
    run(c, &["PEXPIRE", "shared:gone", "5000000"]);
    run(c, &["SET", "shared:persisted", tag, "EX", "1000"]);
    run(c, &["PERSIST", "shared:persisted"]);
    run(c, &["DEL", "shared:retyped2"]);
    run(c, &["HSET", "shared:retyped2", "f", tag]);
    run(c, &["DEL", "shared:retyped2"]);
    run(c, &["SADD", "shared:retyped2", tag]);
}

/// A server of either kind, as the scenario drives it.
trait Node {
    fn client(&self) -> Connection;
    fn port(&self) -> u16;
    fn log(&self) -> String;
    /// `kill -9`, and start again on the same port and data.
    fn crash_and_restart(&mut self);
    /// A clean shutdown (memtables flushed), and start again.
    fn shutdown_and_restart(&mut self);
    /// `kill -9`, the data directory deleted, and start again.
    fn lose_data_and_restart(&mut self);
}

impl Node for Kvrocks {
    fn client(&self) -> Connection {
        Kvrocks::client(self)
    }
    fn port(&self) -> u16 {
        self.port
    }
    fn log(&self) -> String {
        Kvrocks::log(self)
    }
    fn crash_and_restart(&mut self) {
        self.kill9();
        self.spawn();
    }
    fn shutdown_and_restart(&mut self) {
        self.terminate();
        self.spawn();
    }
    fn lose_data_and_restart(&mut self) {
        self.kill9();
        std::fs::remove_dir_all(self.dir.path().join("data")).expect("delete the data");
        self.spawn();
    }
}

impl Node for Server {
    fn client(&self) -> Connection {
        connect(self, SYNC)
    }
    fn port(&self) -> u16 {
        self.port
    }
    fn log(&self) -> String {
        Server::log(self)
    }
    fn crash_and_restart(&mut self) {
        self.restart();
    }
    fn shutdown_and_restart(&mut self) {
        self.terminate();
        self.restart();
    }
    fn lose_data_and_restart(&mut self) {
        self.kill9();
        std::fs::remove_dir_all(self.data_dir()).expect("delete the data");
        self.restart();
    }
}

/// The master's counters: (full syncs, accepted partial syncs).
fn sync_counters(c: &mut Connection) -> (i64, i64) {
    (
        info_int(c, "stats", "sync_full"),
        info_int(c, "stats", "sync_partial_ok"),
    )
}

fn wait_link_up(c: &mut Connection) {
    wait_until(SYNC, "the replica's link up", || {
        match info_field(c, "replication", "master_link_status") {
            Some(s) if s == "up" => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
}

/// The scenario of the module comment. `start_replica` starts an empty
/// replica of the master at the given port.
fn follow<M: Node, R: Node>(master: &mut M, start_replica: impl FnOnce(u16) -> R) {
    let mut m = master.client();
    write_every_type(&mut m, "first");
    let mut replica = start_replica(master.port());
    let mut r = replica.client();
    wait_link_up(&mut r);
    let keys = wait_same_view(&mut m, &mut r, SYNC);
    assert!(keys >= 15, "only {keys} keys");
    assert_eq!(
        sync_counters(&mut m),
        (0, 1),
        "an empty replica gets the whole WAL:\n{}",
        replica.log()
    );

    // The live stream.
    write_every_type(&mut m, "live");
    wait_same_view(&mut m, &mut r, SYNC);

    // Killed and restarted, the replica resumes where it stopped.
    replica.crash_and_restart();
    write_every_type(&mut m, "while-down");
    let mut r = replica.client();
    wait_link_up(&mut r);
    write_every_type(&mut m, "after-restart");
    wait_same_view(&mut m, &mut r, SYNC);
    assert_eq!(
        sync_counters(&mut m),
        (0, 2),
        "a partial sync again:\n{}",
        replica.log()
    );

    // The master restarts, which flushes its data and drops the WAL that
    // held it: a replica that lost its data gets a full sync.
    master.shutdown_and_restart();
    let mut m = master.client();
    replica.lose_data_and_restart();
    let mut r = replica.client();
    wait_link_up(&mut r);
    wait_same_view(&mut m, &mut r, SYNC);
    let (full, _) = sync_counters(&mut m);
    assert_eq!(full, 1, "a full sync:\n{}", replica.log());
    // The stream after it.
    write_every_type(&mut m, "after-full-sync");
    let keys = wait_same_view(&mut m, &mut r, SYNC);
    assert!(keys >= 40, "only {keys} keys");
    // A replica refuses writes.
    let refused = err(&mut r, &["SET", "k", "v"]);
    assert!(refused.starts_with("READONLY "), "{refused}");
}

#[test]
fn basalt_replica_follows_a_kvrocks_master() {
    let Some(bin) = kvrocks_bin() else { return };
    let mut master = Kvrocks::start(&bin, &KVROCKS_NO_WAL_KEPT.map(str::to_string));
    follow(&mut master, |port| {
        Server::start_with(&["--slaveof", &format!("127.0.0.1 {port}")])
    });
}

#[test]
fn kvrocks_replica_follows_a_basalt_master() {
    let Some(bin) = kvrocks_bin() else { return };
    let mut master = Server::start_with(&BASALT_NO_WAL_KEPT);
    follow(&mut master, |port| {
        Kvrocks::start(&bin, &[format!("slaveof 127.0.0.1 {port}")])
    });
}

/// Waits until the replica's link is up and its data is its master's.
fn wait_following(master: &mut Connection, replica: &mut Connection) -> usize {
    wait_link_up(replica);
    wait_same_view(master, replica, SYNC)
}

/// Replication ids across the two servers (Kvrocks with `use-rsid-psync
/// yes`, its switch for them): a Basalt replica of Kvrocks is promoted
/// and its old Kvrocks master follows it with a partial sync (its history
/// is a prefix of the new master's); then both take writes of their own,
/// and the Basalt node pointed back at the Kvrocks one is refused a
/// partial sync ("wrong replication id of the last log") and gets a full
/// sync, losing what it wrote alone.
#[test]
fn promotions_between_kvrocks_and_basalt_keep_one_history() {
    let Some(bin) = kvrocks_bin() else { return };
    let kvrocks = Kvrocks::start(&bin, &["use-rsid-psync yes".to_string()]);
    let mut k = kvrocks.client();
    write_every_type(&mut k, "kvrocks-master");
    let basalt = Server::start_with(&["--slaveof", &format!("127.0.0.1 {}", kvrocks.port)]);
    let mut b = basalt.client();
    wait_following(&mut k, &mut b);

    // Basalt promoted, Kvrocks follows it: a partial sync.
    run(&mut b, &["REPLICAOF", "NO", "ONE"]);
    write_every_type(&mut b, "basalt-master");
    // Kvrocks refuses to follow a node it still counts as its replica
    // (until a write to it fails, up to a few seconds).
    wait_until(SYNC, "Kvrocks to follow Basalt", || {
        redis::cmd("SLAVEOF")
            .arg("127.0.0.1")
            .arg(basalt.port)
            .query::<()>(&mut k)
            .map_err(|e| e.to_string())
    });
    wait_following(&mut b, &mut k);
    write_every_type(&mut b, "basalt-master-live");
    wait_following(&mut b, &mut k);
    assert_eq!(
        sync_counters(&mut b),
        (0, 1),
        "the old master resumes with a partial sync:\n{}",
        kvrocks.log()
    );

    // Two histories: Kvrocks promoted and both write; Basalt follows
    // Kvrocks again and gets its data whole.
    run(&mut k, &["SLAVEOF", "NO", "ONE"]);
    write_every_type(&mut k, "kvrocks-again");
    run(&mut b, &["SET", "basalt-alone", "lost"]);
    run(
        &mut b,
        &["REPLICAOF", "127.0.0.1", &kvrocks.port.to_string()],
    );
    wait_following(&mut k, &mut b);
    assert_eq!(
        info_int(&mut k, "stats", "sync_full"),
        1,
        "a full sync:\n{}",
        basalt.log()
    );
    assert!(info_int(&mut k, "stats", "sync_partial_err") >= 1);
    assert!(
        basalt
            .log()
            .contains("wrong replication id of the last log"),
        "refused for its replication id:\n{}",
        basalt.log()
    );
    let gone: Option<String> = redis::cmd("GET").arg("basalt-alone").query(&mut b).unwrap();
    assert_eq!(gone, None);
}

/// What a batch does beyond its data, across the two servers: a message
/// published on the master reaches the replica's subscribers, and a
/// script loaded on the master runs on the replica by its digest.
#[test]
fn messages_and_scripts_reach_the_other_kind_of_replica() {
    let Some(bin) = kvrocks_bin() else { return };
    let kvrocks = Kvrocks::start(&bin, &[]);
    let basalt = Server::start_with(&["--slaveof", &format!("127.0.0.1 {}", kvrocks.port)]);
    check_messages_and_scripts(&mut kvrocks.client(), &basalt.url(), "from kvrocks");

    let basalt = Server::start();
    let kvrocks = Kvrocks::start(&bin, &[format!("slaveof 127.0.0.1 {}", basalt.port)]);
    check_messages_and_scripts(&mut basalt.client(), &kvrocks.url(), "from basalt");
}

fn check_messages_and_scripts(m: &mut Connection, replica_url: &str, text: &str) {
    let client = redis::Client::open(replica_url).expect("client");
    let mut r = client.get_connection().expect("connect to the replica");
    wait_link_up(&mut r);
    let mut sub = client.get_connection().expect("connect to the replica");
    let mut pubsub = sub.as_pubsub();
    pubsub.subscribe("news").expect("SUBSCRIBE");
    pubsub
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    // Published until one arrives: the subscription and the stream are
    // not ordered with each other.
    let got = wait_until(SYNC, "a message on the replica", || {
        run(m, &["PUBLISH", "news", text]);
        pubsub
            .get_message()
            .map(|msg| msg.get_payload::<String>().expect("payload"))
            .map_err(|e| e.to_string())
    });
    assert_eq!(got, text);

    let script = format!("return '{text}'");
    let sha: String = redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(&script)
        .query(m)
        .expect("SCRIPT LOAD");
    let ran = wait_until(SYNC, "the script on the replica", || {
        // A Kvrocks replica refuses EVALSHA as a write.
        redis::cmd("EVALSHA_RO")
            .arg(&sha)
            .arg(0)
            .query::<String>(&mut r)
            .map_err(|e| e.to_string())
    });
    assert_eq!(ran, text);
}
