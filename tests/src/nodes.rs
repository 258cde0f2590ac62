//! Support for tests with several server processes (replication now,
//! cluster later): bounded waits for a condition, INFO fields, a replica
//! started against a master, a write load that remembers every write the
//! server acknowledged, and a checker that compares two servers key by key
//! (type, expiry time and value, the value as DUMP serializes it, or for
//! the types DUMP refuses, what the commands of the type show).

use crate::Server;
use redis::{Connection, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Polls `cond` every 20 ms until it holds; panics naming `what` (and the
/// last value `cond` reported) when `timeout` passes first.
pub fn wait_until<T>(
    timeout: Duration,
    what: &str,
    mut cond: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        let last = match cond() {
            Ok(v) => return v,
            Err(e) => e,
        };
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}; last seen: {last}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One field of `INFO <section>`, if present.
pub fn info_field(c: &mut Connection, section: &str, field: &str) -> Option<String> {
    let text: String = redis::cmd("INFO").arg(section).query(c).ok()?;
    text.lines().find_map(|l| {
        l.strip_prefix(field)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(|v| v.trim().to_string())
    })
}

/// An INFO field that is a number (0 when missing).
pub fn info_int(c: &mut Connection, section: &str, field: &str) -> i64 {
    info_field(c, section, field)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A connection that reconnects until the server answers (after a
/// restart), within `timeout`.
pub fn connect(server: &Server, timeout: Duration) -> Connection {
    wait_until(timeout, "a connection", || {
        redis::Client::open(server.url())
            .and_then(|c| c.get_connection())
            .map_err(|e| e.to_string())
    })
}

/// Starts a server that follows `master` from startup.
pub fn start_replica(master: &Server, extra: &[&str]) -> Server {
    let to = format!("127.0.0.1 {}", master.port);
    let mut args = vec!["--slaveof", to.as_str()];
    args.extend_from_slice(extra);
    Server::start_with(&args)
}

/// Waits until a replica's `master_link_status` (INFO replication) is
/// `status` (`up` or `down`), within `timeout`.
pub fn wait_link(c: &mut Connection, status: &str, timeout: Duration) {
    wait_until(
        timeout,
        &format!("the replica's link {status}"),
        || match info_field(c, "replication", "master_link_status") {
            Some(s) if s == status => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
}

/// Waits until a master counts exactly `n` replicas (`connected_slaves`),
/// within `timeout`: it feeds them, or has noticed that they went.
pub fn wait_replicas(c: &mut Connection, n: i64, timeout: Duration) {
    wait_until(
        timeout,
        &format!("the master to count {n} replicas"),
        || match info_int(c, "replication", "connected_slaves") {
            c if c == n => Ok(()),
            c => Err(format!("{c} replicas")),
        },
    );
}

/// Waits until `replica` is linked to its master and has applied all the
/// master has written (its sequence equals the master's).
pub fn wait_in_sync(master: &Server, replica: &Server, timeout: Duration) {
    let mut m = connect(master, timeout);
    let mut r = connect(replica, timeout);
    wait_until(timeout, "the replica to catch up", || {
        let link = info_field(&mut r, "replication", "master_link_status");
        let theirs = info_int(&mut r, "replication", "slave_repl_offset");
        let ours = info_int(&mut m, "replication", "master_repl_offset");
        if link.as_deref() == Some("up") && theirs == ours {
            Ok(())
        } else {
            Err(format!(
                "link {link:?}, replica at {theirs}, master at {ours}"
            ))
        }
    });
}

/// One key as the checker compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyState {
    pub kind: String,
    /// PEXPIRETIME: the absolute expiry (the same bytes on both sides), or
    /// -1.
    pub expire_at_ms: i64,
    /// DUMP's serialization of the value (JSON: its JSON.GET text; a
    /// Bloom filter: [`bloom_state`]).
    pub value: Vec<u8>,
}

/// Items BF.MEXISTS is asked about when two Bloom filters are compared:
/// short words and numbers tests add, and enough others that two filters
/// with different bits are very unlikely to answer all of them alike.
fn bloom_sample() -> Vec<String> {
    let words = ["a", "b", "c", "x", "y", "z", "apple", "pear", "plum", "fig"];
    let mut items: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    items.extend((0..200).map(|i| i.to_string()));
    items.extend((0..200).map(|i| format!("item:{i}")));
    items
}

/// What a user sees of a Bloom filter, which DUMP refuses (RedisBloom's
/// payload is its module's own): every BF.INFO field and BF.MEXISTS of a
/// fixed sample of items. Equal filters always give equal states; a filter
/// whose bits differ shows in the item count or, almost surely, the sample.
pub fn bloom_state(c: &mut Connection, key: &[u8]) -> Vec<u8> {
    let info: Value = redis::cmd("BF.INFO").arg(key).query(c).expect("BF.INFO");
    let seen: Value = redis::cmd("BF.MEXISTS")
        .arg(key)
        .arg(bloom_sample())
        .query(c)
        .expect("BF.MEXISTS");
    format!("{info:?} {seen:?}").into_bytes()
}

/// Every key of a server with its type, expiry and value.
pub fn snapshot(c: &mut Connection) -> BTreeMap<Vec<u8>, KeyState> {
    let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(c).expect("KEYS");
    let mut out = BTreeMap::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE").arg(&key).query(c).expect("TYPE");
        if kind == "none" {
            continue;
        }
        let expire_at_ms: i64 = redis::cmd("PEXPIRETIME")
            .arg(&key)
            .query(c)
            .expect("PEXPIRETIME");
        // DUMP refuses the module types: JSON is compared as its text, a
        // Bloom filter as its commands show it.
        let value = if kind == "MBbloom--" {
            bloom_state(c, &key)
        } else {
            let dump = if kind == "ReJSON-RL" {
                "JSON.GET"
            } else {
                "DUMP"
            };
            match redis::cmd(dump).arg(&key).query::<Value>(c).expect(dump) {
                Value::BulkString(b) => b,
                Value::Nil => continue,
                other => panic!("{dump} {key:?}: {other:?}"),
            }
        };
        out.insert(
            key,
            KeyState {
                kind,
                expire_at_ms,
                value,
            },
        );
    }
    out
}

/// Panics with the first differences when the two servers do not hold
/// exactly the same keys, types, expiry times and values.
pub fn assert_same_data(a: &mut Connection, b: &mut Connection) -> usize {
    assert_no_differences(&snapshot(a), &snapshot(b))
}

fn assert_no_differences(
    left: &BTreeMap<Vec<u8>, KeyState>,
    right: &BTreeMap<Vec<u8>, KeyState>,
) -> usize {
    let diffs = differences(left, right);
    assert!(
        diffs.is_empty(),
        "{} differences (of {} and {} keys), first ones: {:#?}",
        diffs.len(),
        left.len(),
        right.len(),
        &diffs[..diffs.len().min(10)]
    );
    left.len()
}

/// The keys two snapshots disagree on, described.
fn differences(
    left: &BTreeMap<Vec<u8>, KeyState>,
    right: &BTreeMap<Vec<u8>, KeyState>,
) -> Vec<String> {
    let mut diffs = Vec::new();
    for (k, v) in left {
        match right.get(k) {
            None => diffs.push(format!("{} only on the first", String::from_utf8_lossy(k))),
            Some(w) if w != v => diffs.push(format!(
                "{} differs: {}/{} vs {}/{}{}",
                String::from_utf8_lossy(k),
                v.kind,
                v.expire_at_ms,
                w.kind,
                w.expire_at_ms,
                if v.value == w.value {
                    String::new()
                } else {
                    format!(
                        ", values {:.300} vs {:.300}",
                        String::from_utf8_lossy(&v.value),
                        String::from_utf8_lossy(&w.value)
                    )
                }
            )),
            _ => {}
        }
    }
    for k in right.keys().filter(|k| !left.contains_key(*k)) {
        diffs.push(format!("{} only on the second", String::from_utf8_lossy(k)));
    }
    diffs
}

/// Writers running against a server until stopped. Each writer owns its
/// keys: `load:<w>:<i>` strings, a list `loadlist:<w>` it appends to and a
/// hash `loadhash:<w>`; every write the server acknowledged is remembered.
/// A writer whose connection fails (its server was killed) reconnects.
pub struct WriteLoad {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    acked: Arc<Mutex<Vec<Acked>>>,
    pub count: Arc<AtomicU64>,
}

/// A write the server acknowledged.
#[derive(Clone, Debug)]
pub enum Acked {
    Set(String, String),
    Push(String, u64),
    HSet(String, String, String),
}

impl WriteLoad {
    pub fn start(server: &Server, writers: usize) -> WriteLoad {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let count = Arc::new(AtomicU64::new(0));
        let url = server.url();
        let threads = (0..writers)
            .map(|w| {
                let (stop, acked, count, url) =
                    (stop.clone(), acked.clone(), count.clone(), url.clone());
                std::thread::spawn(move || write_loop(w, &url, &stop, &acked, &count))
            })
            .collect();
        WriteLoad {
            stop,
            threads,
            acked,
            count,
        }
    }

    /// Waits until at least `n` more writes were acknowledged.
    pub fn wait_for_writes(&self, n: u64, timeout: Duration) {
        let target = self.count.load(Ordering::Acquire) + n;
        wait_until(timeout, "the load to write", || {
            let now = self.count.load(Ordering::Acquire);
            if now >= target {
                Ok(())
            } else {
                Err(format!("{now} of {target} writes"))
            }
        });
    }

    /// Stops the writers; returns every acknowledged write.
    pub fn stop(mut self) -> Vec<Acked> {
        self.stop.store(true, Ordering::Release);
        for t in self.threads.drain(..) {
            t.join().expect("writer thread panicked");
        }
        let acked = self.acked.lock().unwrap().clone();
        acked
    }
}

impl Drop for WriteLoad {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

fn write_loop(
    w: usize,
    url: &str,
    stop: &AtomicBool,
    acked: &Mutex<Vec<Acked>>,
    count: &AtomicU64,
) {
    let mut conn: Option<Connection> = None;
    let mut i: u64 = 0;
    while !stop.load(Ordering::Acquire) {
        let c = match conn.as_mut() {
            Some(c) => c,
            None => {
                match redis::Client::open(url).and_then(|c| c.get_connection()) {
                    Ok(c) => conn = Some(c),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
                continue;
            }
        };
        i += 1;
        let (cmd, record) = match i % 3 {
            0 => {
                let (k, v) = (format!("load:{w}:{i}"), format!("v{i}"));
                let mut c = redis::cmd("SET");
                c.arg(&k).arg(&v);
                (c, Acked::Set(k, v))
            }
            1 => {
                let k = format!("loadlist:{w}");
                let mut c = redis::cmd("RPUSH");
                c.arg(&k).arg(i);
                (c, Acked::Push(k, i))
            }
            _ => {
                let (k, f, v) = (
                    format!("loadhash:{w}"),
                    format!("f{}", i % 50),
                    format!("{i}"),
                );
                let mut c = redis::cmd("HSET");
                c.arg(&k).arg(&f).arg(&v);
                (c, Acked::HSet(k, f, v))
            }
        };
        match cmd.query::<Value>(c) {
            Ok(_) => {
                acked.lock().unwrap().push(record);
                count.fetch_add(1, Ordering::AcqRel);
            }
            Err(_) => conn = None,
        }
    }
}

/// Panics unless every acknowledged write is visible on `c`: each SET key
/// holds its value, each pushed element is in its list, each hash field
/// holds the last value acknowledged for it.
pub fn assert_acked_present(c: &mut Connection, acked: &[Acked]) {
    let mut fields: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut lists: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut missing = Vec::new();
    for a in acked {
        match a {
            Acked::Set(k, v) => {
                let got: Option<String> = redis::cmd("GET").arg(k).query(c).expect("GET");
                if got.as_deref() != Some(v.as_str()) {
                    missing.push(format!("{k}={v} (got {got:?})"));
                }
            }
            Acked::Push(k, i) => lists.entry(k.clone()).or_default().push(*i),
            Acked::HSet(k, f, v) => {
                fields.insert((k.clone(), f.clone()), v.clone());
            }
        }
    }
    for (k, pushed) in lists {
        let got: Vec<u64> = redis::cmd("LRANGE")
            .arg(&k)
            .arg(0)
            .arg(-1)
            .query(c)
            .expect("LRANGE");
        let got: std::collections::HashSet<u64> = got.into_iter().collect();
        for i in pushed.iter().filter(|i| !got.contains(i)) {
            missing.push(format!("{k} lacks {i}"));
        }
    }
    for ((k, f), v) in fields {
        let got: Option<String> = redis::cmd("HGET").arg(&k).arg(&f).query(c).expect("HGET");
        if got.as_deref() != Some(v.as_str()) {
            missing.push(format!("{k}.{f}={v} (got {got:?})"));
        }
    }
    assert!(
        missing.is_empty(),
        "{} acknowledged writes missing, first ones: {:#?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
}

/// Writes `count` keys `r:<i>` of `size` pseudo-random bytes from `seed`
/// (xorshift): data that compression cannot shrink, so a transfer of it
/// takes the time its size says.
pub fn fill_incompressible(c: &mut Connection, count: usize, size: usize, seed: u64) {
    fill_incompressible_as(c, "r", count, size, seed);
}

/// `fill_incompressible` under keys `<prefix>:0`, `<prefix>:1`, ...
pub fn fill_incompressible_as(
    c: &mut Connection,
    prefix: &str,
    count: usize,
    size: usize,
    seed: u64,
) {
    let mut x = seed;
    let mut fill = redis::pipe();
    for i in 0..count {
        let value: Vec<u8> = (0..size)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        fill.cmd("SET")
            .arg(format!("{prefix}:{i}"))
            .arg(value)
            .ignore();
    }
    let _: () = fill.query(c).expect("fill");
}

/// A replica of `master` (started with `extra` arguments too) whose link
/// goes through a proxy the test can cut, freeze or slow down.
pub fn replica_via_proxy(master: &Server, extra: &[&str]) -> (crate::proxy::Proxy, Server) {
    let proxy = crate::proxy::Proxy::start(master.port);
    let to = format!("127.0.0.1 {}", proxy.port);
    let mut args = vec!["--slaveof", to.as_str()];
    args.extend_from_slice(extra);
    let replica = Server::start_with(&args);
    (proxy, replica)
}

/// One key as servers of different kinds (Basalt and Kvrocks) both show
/// it, where their DUMP payloads differ for the same value (each picks
/// its own RDB encodings) and so do some TYPE names (Kvrocks answers
/// `bitmap` and `hyperloglog` where Basalt, as Redis, answers `string`).
/// The value is what the type's read commands answer, in a canonical
/// order: a string's bytes (a HyperLogLog's count, as Kvrocks' GET
/// refuses one), a hash's fields, a list's elements, a set's members, a
/// sorted set's members with their scores, a stream's entries and its
/// consumer groups, a JSON document's text, a Bloom filter's state.
pub fn view(c: &mut Connection, key: &[u8]) -> Option<KeyState> {
    let kind: String = redis::cmd("TYPE").arg(key).query(c).expect("TYPE");
    let kind = match kind.as_str() {
        "none" => return None,
        "bitmap" | "hyperloglog" => "string".to_string(),
        _ => kind,
    };
    let expire_at_ms: i64 = redis::cmd("PEXPIRETIME")
        .arg(key)
        .query(c)
        .expect("PEXPIRETIME");
    let value = match kind.as_str() {
        "string" => string_view(c, key),
        "hash" => {
            let mut pairs: Vec<(Vec<u8>, Vec<u8>)> =
                redis::cmd("HGETALL").arg(key).query(c).expect("HGETALL");
            pairs.sort();
            format!("{pairs:?}").into_bytes()
        }
        "list" => {
            let items: Vec<Vec<u8>> = redis::cmd("LRANGE")
                .arg(key)
                .arg(0)
                .arg(-1)
                .query(c)
                .expect("LRANGE");
            format!("{items:?}").into_bytes()
        }
        "set" => {
            let mut members: Vec<Vec<u8>> =
                redis::cmd("SMEMBERS").arg(key).query(c).expect("SMEMBERS");
            members.sort();
            format!("{members:?}").into_bytes()
        }
        "zset" => {
            let pairs: Vec<(Vec<u8>, String)> = redis::cmd("ZRANGE")
                .arg(key)
                .arg(0)
                .arg(-1)
                .arg("WITHSCORES")
                .query(c)
                .expect("ZRANGE");
            // Scores as numbers: servers may print a double differently.
            let pairs: Vec<(Vec<u8>, f64)> = pairs
                .into_iter()
                .map(|(m, s)| (m, s.parse().expect("a score")))
                .collect();
            format!("{pairs:?}").into_bytes()
        }
        "stream" => stream_view(c, key),
        "ReJSON-RL" => {
            let text: Vec<u8> = redis::cmd("JSON.GET").arg(key).query(c).expect("JSON.GET");
            text
        }
        "MBbloom--" => bloom_state(c, key),
        other => panic!("no view of type {other} ({key:?})"),
    };
    Some(KeyState {
        kind,
        expire_at_ms,
        value,
    })
}

/// A string's bytes; a HyperLogLog's count (Basalt's GET shows Redis's
/// `HYLL` representation, Kvrocks' GET refuses a HyperLogLog).
fn string_view(c: &mut Connection, key: &[u8]) -> Vec<u8> {
    match redis::cmd("GET").arg(key).query::<Vec<u8>>(c) {
        Ok(bytes) if !bytes.starts_with(b"HYLL") => bytes,
        _ => {
            let n: i64 = redis::cmd("PFCOUNT").arg(key).query(c).expect("PFCOUNT");
            format!("hyperloglog of {n}").into_bytes()
        }
    }
}

/// A stream's entries, then per consumer group (by name) its last
/// delivered id, pending count and consumer count.
fn stream_view(c: &mut Connection, key: &[u8]) -> Vec<u8> {
    let entries: Value = redis::cmd("XRANGE")
        .arg(key)
        .arg("-")
        .arg("+")
        .query(c)
        .expect("XRANGE");
    let groups: Vec<Value> = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(key)
        .query(c)
        .expect("XINFO GROUPS");
    let mut shown = Vec::new();
    for group in groups {
        let fields: Vec<(String, Value)> = match group {
            Value::Array(items) => items
                .chunks(2)
                .filter_map(|kv| match kv {
                    [Value::BulkString(k), v] => {
                        Some((String::from_utf8_lossy(k).into(), v.clone()))
                    }
                    [Value::SimpleString(k), v] => Some((k.clone(), v.clone())),
                    _ => None,
                })
                .collect(),
            Value::Map(items) => items
                .into_iter()
                .filter_map(|(k, v)| match k {
                    Value::BulkString(k) => Some((String::from_utf8_lossy(&k).into(), v)),
                    Value::SimpleString(k) => Some((k, v)),
                    _ => None,
                })
                .collect(),
            other => panic!("XINFO GROUPS {key:?}: {other:?}"),
        };
        let mut kept: Vec<String> = fields
            .into_iter()
            .filter(|(k, _)| {
                matches!(
                    k.as_str(),
                    "name" | "consumers" | "pending" | "last-delivered-id"
                )
            })
            .map(|(k, v)| format!("{k}={}", crate::client::show(&v)))
            .collect();
        kept.sort();
        shown.push(kept.join(" "));
    }
    shown.sort();
    format!("{} groups {shown:?}", crate::client::show(&entries)).into_bytes()
}

/// Every key of a server as [`view`] shows it.
pub fn view_snapshot(c: &mut Connection) -> BTreeMap<Vec<u8>, KeyState> {
    let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(c).expect("KEYS");
    keys.into_iter()
        .filter_map(|k| view(c, &k).map(|v| (k, v)))
        .collect()
}

/// [`assert_same_data`] for servers of different kinds: compares what
/// [`view`] shows of every key instead of DUMP payloads.
pub fn assert_same_view(a: &mut Connection, b: &mut Connection) -> usize {
    assert_no_differences(&view_snapshot(a), &view_snapshot(b))
}

/// Waits until two servers of different kinds show the same data
/// ([`view`]), within `timeout`; panics with the differences left.
pub fn wait_same_view(a: &mut Connection, b: &mut Connection, timeout: Duration) -> usize {
    wait_until(timeout, "the same data on both servers", || {
        let (left, right) = (view_snapshot(a), view_snapshot(b));
        let diffs = differences(&left, &right);
        if diffs.is_empty() {
            Ok(left.len())
        } else {
            Err(format!(
                "{} differences, first ones: {:#?}",
                diffs.len(),
                &diffs[..diffs.len().min(5)]
            ))
        }
    })
}
