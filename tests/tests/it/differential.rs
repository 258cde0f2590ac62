//! Differential and randomized tests of the data types (issue 13, item 10).
//!
//! The same random command stream runs on the server under test and on a
//! real redis-server started by the test, and every reply must be equal
//! (order, rounding and error texts included). Where Redis 7.0 lacks the
//! commands (hash-field TTLs) an in-test model stands in for it.
//!
//! Each test prints its seed; set `BASALT_DIFF_SEED=<n>` to replay a
//! failure.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use basalt_tests::client::{cmd, int, q};
use basalt_tests::Server;
use redis::{Connection, Value};

/// xorshift64*: small, reproducible from one printed seed.
struct Rng(u64);

impl Rng {
    fn seeded(test: &str) -> Rng {
        let seed = std::env::var("BASALT_DIFF_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        // xorshift needs a non-zero state.
        let seed = seed | 1;
        eprintln!("{test}: BASALT_DIFF_SEED={seed}");
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..hi` (hi exclusive).
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo) as u64) as i64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn float(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (self.next() >> 11) as f64 / (1u64 << 53) as f64 * (hi - lo)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// A reply rendered exactly: bulk strings byte for byte, errors as
/// "CODE detail".
fn render(r: redis::RedisResult<Value>) -> String {
    match r {
        Ok(v) => format!("{v:?}"),
        Err(e) => match e.code() {
            Some(code) => format!("error {code} {}", e.detail().unwrap_or("")),
            None => panic!("not a server error: {e}"),
        },
    }
}

/// The server under test and a reference redis-server, fed the same
/// commands.
struct Pair {
    _servers: (Server, Server),
    basalt: Connection,
    redis: Connection,
    seed_note: String,
}

impl Pair {
    fn start(test: &str, rng: &Rng) -> Pair {
        let server = Server::start();
        let redis = Server::start_redis();
        let basalt = server.client();
        let reference = redis.client();
        Pair {
            _servers: (server, redis),
            basalt,
            redis: reference,
            seed_note: format!("{test} (replay with BASALT_DIFF_SEED={})", rng.0),
        }
    }

    /// Runs `args` on both servers and asserts equal replies.
    fn check<A: AsRef<[u8]>>(&mut self, args: &[A]) -> String {
        let c = cmd(args);
        let ours = render(c.query::<Value>(&mut self.basalt));
        let theirs = render(c.query::<Value>(&mut self.redis));
        if ours != theirs {
            let words: Vec<String> = args
                .iter()
                .map(|a| String::from_utf8_lossy(a.as_ref()).into_owned())
                .collect();
            panic!(
                "{}: replies differ for {words:?}\n basalt: {ours}\n  redis: {theirs}",
                self.seed_note
            );
        }
        ours
    }
}

fn words(parts: &[String]) -> Vec<&str> {
    parts.iter().map(String::as_str).collect()
}

#[test]
fn hyperloglog_matches_redis_on_random_inputs() {
    let mut rng = Rng::seeded("hyperloglog");
    let mut p = Pair::start("hyperloglog", &rng);
    let keys = ["h0", "h1", "h2", "h3"];
    for _ in 0..250 {
        match rng.below(10) {
            0..=4 => {
                // Mostly small batches (sparse), sometimes large ones that
                // turn the sketch dense.
                let n = if rng.chance(15) {
                    rng.range(500, 4000)
                } else {
                    rng.range(0, 20)
                };
                let mut args = vec!["PFADD".to_string(), rng.pick(&keys).into()];
                let space = if rng.chance(50) { 300 } else { 1_000_000 };
                for _ in 0..n {
                    args.push(format!("e{}", rng.range(0, space)));
                }
                p.check(&words(&args));
            }
            5..=7 => {
                let n = rng.range(1, 4) as usize;
                let mut args = vec!["PFCOUNT"];
                for _ in 0..n {
                    args.push(rng.pick(&keys));
                }
                p.check(&args);
            }
            _ => {
                let mut args = vec!["PFMERGE", rng.pick(&keys)];
                for _ in 0..rng.range(0, 3) {
                    args.push(rng.pick(&keys));
                }
                p.check(&args);
            }
        }
    }
    for k in keys {
        p.check(&["PFCOUNT", k]);
    }
}

#[test]
fn geo_search_matches_redis_on_random_inputs() {
    let mut rng = Rng::seeded("geo");
    let mut p = Pair::start("geo", &rng);
    // Points clustered around a few centres, so searches find many.
    let centres: Vec<(f64, f64)> = (0..4)
        .map(|_| (rng.float(-170.0, 170.0), rng.float(-75.0, 75.0)))
        .collect();
    let mut members = Vec::new();
    for i in 0..300 {
        let (lon, lat) = if rng.chance(85) {
            let (clon, clat) = centres[rng.below(centres.len())];
            (
                (clon + rng.float(-3.0, 3.0)).clamp(-180.0, 180.0),
                (clat + rng.float(-3.0, 3.0)).clamp(-85.05, 85.05),
            )
        } else {
            (rng.float(-180.0, 180.0), rng.float(-85.05, 85.05))
        };
        let m = format!("m{i}");
        p.check(&["GEOADD", "g", &format!("{lon}"), &format!("{lat}"), &m]);
        members.push(m);
    }
    let units = ["m", "km", "mi", "ft"];
    let per_unit = |u: &str| match u {
        "m" => 1.0,
        "km" => 1000.0,
        "mi" => 1609.34,
        _ => 0.3048,
    };
    let mut found = 0;
    for _ in 0..300 {
        let unit = rng.pick(&units);
        let metres = 10f64.powf(rng.float(3.0, 6.5));
        let size = format!("{:.3}", metres / per_unit(unit));
        let (clon, clat) = centres[rng.below(centres.len())];
        let lon = format!("{:.6}", clon + rng.float(-2.0, 2.0));
        let lat = format!("{:.6}", (clat + rng.float(-2.0, 2.0)).clamp(-85.0, 85.0));
        let member = members[rng.below(members.len())].clone();
        let mut args: Vec<String> = Vec::new();
        match rng.below(4) {
            0 | 1 => {
                args.extend(["GEOSEARCH".into(), "g".into()]);
                if rng.chance(50) {
                    args.extend(["FROMMEMBER".into(), member.clone()]);
                } else {
                    args.extend(["FROMLONLAT".into(), lon.clone(), lat.clone()]);
                }
                if rng.chance(50) {
                    args.extend(["BYRADIUS".into(), size.clone(), unit.into()]);
                } else {
                    let h = format!("{:.3}", metres * rng.float(0.3, 2.0) / per_unit(unit));
                    args.extend(["BYBOX".into(), size.clone(), h, unit.into()]);
                }
            }
            2 => args.extend([
                "GEORADIUS".into(),
                "g".into(),
                lon.clone(),
                lat.clone(),
                size.clone(),
                unit.into(),
            ]),
            _ => args.extend([
                "GEORADIUSBYMEMBER".into(),
                "g".into(),
                member.clone(),
                size.clone(),
                unit.into(),
            ]),
        }
        // Without ASC/DESC the order is the scan order of the nine geohash
        // boxes, which must match Redis as well.
        match rng.below(3) {
            0 => args.push("ASC".into()),
            1 => args.push("DESC".into()),
            _ => {}
        }
        if rng.chance(50) {
            args.extend(["COUNT".into(), rng.range(1, 30).to_string()]);
        }
        for opt in ["WITHDIST", "WITHCOORD", "WITHHASH"] {
            if rng.chance(40) {
                args.push(opt.into());
            }
        }
        if p.check(&words(&args)).contains("bulk-string('\"m") {
            found += 1;
        }
    }
    // The inputs are meant to hit: most searches find members.
    assert!(found > 100, "only {found} searches found members");
    for _ in 0..50 {
        let a = members[rng.below(members.len())].clone();
        let b = members[rng.below(members.len())].clone();
        let unit = rng.pick(&units);
        p.check(&["GEODIST", "g", &a, &b, unit]);
        p.check(&["GEOPOS", "g", &a, "nosuch", &b]);
        p.check(&["GEOHASH", "g", &a, &b]);
    }
}

fn random_bitfield_type(rng: &mut Rng) -> String {
    if rng.chance(50) {
        format!("i{}", rng.range(1, 65))
    } else {
        format!("u{}", rng.range(1, 64))
    }
}

#[test]
fn bit_commands_match_redis_on_random_inputs() {
    let mut rng = Rng::seeded("bits");
    let mut p = Pair::start("bits", &rng);
    let keys = ["b0", "b1", "b2"];
    for _ in 0..500 {
        let key = rng.pick(&keys);
        match rng.below(9) {
            0 => {
                let len = rng.below(40);
                let value = rng.bytes(len);
                let mut c = cmd(&["SET", key]);
                c.arg(value);
                let ours = render(c.query(&mut p.basalt));
                let theirs = render(c.query(&mut p.redis));
                assert_eq!(ours, theirs, "{}", p.seed_note);
            }
            1 => {
                let off = rng.range(0, 600).to_string();
                let bit = rng.range(0, 2).to_string();
                p.check(&["SETBIT", key, &off, &bit]);
            }
            2 => {
                let mut args = vec!["BITCOUNT".to_string(), key.into()];
                if rng.chance(70) {
                    args.push(rng.range(-60, 60).to_string());
                    args.push(rng.range(-60, 60).to_string());
                    if rng.chance(50) {
                        args.push(rng.pick(&["BYTE", "BIT"]).into());
                    }
                }
                p.check(&words(&args));
            }
            3 => {
                let mut args = vec![
                    "BITPOS".to_string(),
                    key.into(),
                    rng.range(0, 2).to_string(),
                ];
                if rng.chance(70) {
                    args.push(rng.range(-60, 60).to_string());
                    if rng.chance(60) {
                        args.push(rng.range(-60, 60).to_string());
                        if rng.chance(50) {
                            args.push(rng.pick(&["BYTE", "BIT"]).into());
                        }
                    }
                }
                p.check(&words(&args));
            }
            4 => {
                let op = rng.pick(&["AND", "OR", "XOR", "NOT"]);
                let mut args = vec!["BITOP", op, rng.pick(&keys)];
                let n = if op == "NOT" { 1 } else { rng.range(1, 4) };
                for _ in 0..n {
                    args.push(rng.pick(&keys));
                }
                p.check(&args);
            }
            5..=7 => {
                let mut args = vec!["BITFIELD".to_string(), key.into()];
                for _ in 0..rng.range(1, 5) {
                    if rng.chance(30) {
                        args.push("OVERFLOW".into());
                        args.push(rng.pick(&["WRAP", "SAT", "FAIL"]).into());
                    }
                    let ty = random_bitfield_type(&mut rng);
                    let offset = if rng.chance(30) {
                        format!("#{}", rng.range(0, 20))
                    } else {
                        rng.range(0, 400).to_string()
                    };
                    let value = match rng.below(3) {
                        0 => rng.range(-300, 300).to_string(),
                        1 => (rng.next() as i64).to_string(),
                        _ => (rng.next() >> rng.range(1, 63)).to_string(),
                    };
                    match rng.below(3) {
                        0 => args.extend(["GET".into(), ty, offset]),
                        1 => args.extend(["SET".into(), ty, offset, value]),
                        _ => args.extend(["INCRBY".into(), ty, offset, value]),
                    }
                }
                p.check(&words(&args));
            }
            _ => {
                let off = rng.range(0, 400).to_string();
                let ty = random_bitfield_type(&mut rng);
                p.check(&["BITFIELD_RO", key, "GET", &ty, &off]);
            }
        }
        p.check(&["GET", key]);
    }
}

#[test]
fn list_set_zset_match_redis_on_random_operations() {
    let mut rng = Rng::seeded("collections");
    let mut p = Pair::start("collections", &rng);
    let elems: Vec<String> = (0..12).map(|i| format!("v{i}")).collect();
    let e = |rng: &mut Rng| elems[rng.below(elems.len())].clone();
    for _ in 0..600 {
        let i = rng.range(-8, 8).to_string();
        let j = rng.range(-8, 8).to_string();
        let (a, b) = (e(&mut rng), e(&mut rng));
        let args: Vec<String> = match rng.below(18) {
            0 => vec!["LPUSH".into(), "l".into(), a, b],
            1 => vec!["RPUSH".into(), "l".into(), a],
            2 => vec!["LPOP".into(), "l".into(), rng.range(1, 3).to_string()],
            3 => vec!["RPOP".into(), "l".into()],
            4 => vec!["LREM".into(), "l".into(), i, a],
            5 => vec!["LINSERT".into(), "l".into(), "BEFORE".into(), a, b],
            6 => vec!["LSET".into(), "l".into(), i, a],
            7 => vec!["LTRIM".into(), "l".into(), i, j],
            8 => vec!["SADD".into(), "s".into(), a, b],
            9 => vec!["SREM".into(), "s".into(), a],
            10 => vec!["SMOVE".into(), "s".into(), "s2".into(), a],
            11 => vec!["SINTERSTORE".into(), "s3".into(), "s".into(), "s2".into()],
            12 => vec![
                "ZADD".into(),
                "z".into(),
                rng.range(-5, 5).to_string(),
                a,
                // Quarters only: Basalt prints scores in the shortest
                // round-trip form (as Redis 7.2+), Redis 7.0 with %.17g
                // (docs/compatibility.md); both agree on exact binary
                // fractions.
                format!("{}", rng.range(-20, 20) as f64 / 4.0),
                b,
            ],
            13 => vec!["ZINCRBY".into(), "z".into(), i, a],
            14 => vec!["ZREM".into(), "z".into(), a],
            15 => vec!["ZREMRANGEBYRANK".into(), "z".into(), i, j],
            16 => vec!["ZRANGE".into(), "z".into(), i, j, "WITHSCORES".into()],
            _ => vec![
                "ZRANGEBYSCORE".into(),
                "z".into(),
                format!("({}", rng.range(-5, 5)),
                "+inf".into(),
            ],
        };
        p.check(&words(&args));
        // The full state after each step.
        p.check(&["LRANGE", "l", "0", "-1"]);
        p.check(&["SORT", "s", "ALPHA"]);
        p.check(&["SORT", "s2", "ALPHA"]);
        p.check(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]);
        p.check(&["ZCARD", "z"]);
    }
}

#[test]
fn stream_matches_redis_on_random_operations() {
    let mut rng = Rng::seeded("stream");
    let mut p = Pair::start("stream", &rng);
    let mut next_ms = 1u64;
    for _ in 0..500 {
        let args: Vec<String> = match rng.below(6) {
            0..=2 => {
                next_ms += rng.range(0, 3) as u64;
                let id = if rng.chance(20) {
                    // Sometimes an ID at or below the last one: an error.
                    format!("{}-{}", next_ms.saturating_sub(1), rng.range(0, 3))
                } else {
                    format!("{next_ms}-*")
                };
                vec![
                    "XADD".into(),
                    "x".into(),
                    id,
                    "f".into(),
                    rng.range(0, 99).to_string(),
                ]
            }
            3 => {
                let ms = rng.range(0, next_ms as i64 + 1);
                vec![
                    "XDEL".into(),
                    "x".into(),
                    format!("{ms}-0"),
                    format!("{ms}-1"),
                ]
            }
            4 => {
                if rng.chance(50) {
                    vec![
                        "XTRIM".into(),
                        "x".into(),
                        "MAXLEN".into(),
                        rng.range(0, 40).to_string(),
                    ]
                } else {
                    let ms = rng.range(0, next_ms as i64 + 1);
                    vec!["XTRIM".into(), "x".into(), "MINID".into(), format!("{ms}")]
                }
            }
            _ => {
                let a = rng.range(0, next_ms as i64 + 1);
                let b = rng.range(0, next_ms as i64 + 1);
                let mut v = vec!["XRANGE".into(), "x".into(), format!("{a}"), format!("{b}")];
                if rng.chance(50) {
                    v.extend(["COUNT".into(), rng.range(0, 10).to_string()]);
                }
                if rng.chance(30) {
                    v[0] = "XREVRANGE".into();
                    v.swap(2, 3);
                }
                v
            }
        };
        p.check(&words(&args));
        p.check(&["XRANGE", "x", "-", "+"]);
        p.check(&["XLEN", "x"]);
    }
}

/// Hash with field TTLs against an in-test model (Redis 7.0 has no
/// HEXPIRE). TTLs are either far in the future or in the past, so the
/// model never depends on timing.
#[test]
fn hash_with_field_ttls_matches_a_model() {
    let mut rng = Rng::seeded("hash-ttl");
    let server = Server::start();
    if basalt_tests::against_redis() {
        // redis-server 7.0 has no field TTLs.
        return;
    }
    let mut c = server.client();
    // field -> (value, has TTL)
    let mut model: HashMap<String, (i64, bool)> = HashMap::new();
    let fields: Vec<String> = (0..15).map(|i| format!("f{i}")).collect();
    for step in 0..500 {
        let f = fields[rng.below(fields.len())].clone();
        let note = format!("step {step} field {f}");
        match rng.below(8) {
            0 | 1 => {
                let v = rng.range(0, 100);
                let added = int(&mut c, &["HSET", "h", &f, &v.to_string()]);
                let new = !model.contains_key(&f);
                assert_eq!(added, new as i64, "{note}");
                // HSET keeps the field but drops its TTL.
                model.insert(f, (v, false));
            }
            2 => {
                let by = rng.range(-5, 5);
                let got = int(&mut c, &["HINCRBY", "h", &f, &by.to_string()]);
                let entry = model.entry(f).or_insert((0, false));
                entry.0 += by;
                assert_eq!(got, entry.0, "{note}");
            }
            3 => {
                let n = int(&mut c, &["HDEL", "h", &f]);
                assert_eq!(n, model.remove(&f).is_some() as i64, "{note}");
            }
            4 => {
                let reply: Vec<i64> = q(&mut c, &["HEXPIRE", "h", "100000", "FIELDS", "1", &f]);
                let want = match model.get_mut(&f) {
                    Some(e) => {
                        e.1 = true;
                        1
                    }
                    None => -2,
                };
                if model.is_empty() {
                    // No key at all: HEXPIRE replies -2 per field too.
                    assert_eq!(reply, vec![-2], "{note}");
                } else {
                    assert_eq!(reply, vec![want], "{note}");
                }
            }
            5 => {
                // A time in the past deletes the field at once.
                let reply: Vec<i64> = q(&mut c, &["HPEXPIREAT", "h", "1", "FIELDS", "1", &f]);
                let want = if model.remove(&f).is_some() { 2 } else { -2 };
                assert_eq!(reply, vec![want], "{note}");
            }
            6 => {
                let reply: Vec<i64> = q(&mut c, &["HPERSIST", "h", "FIELDS", "1", &f]);
                let want = match model.get_mut(&f) {
                    Some(e) if e.1 => {
                        e.1 = false;
                        1
                    }
                    Some(_) => -1,
                    None => -2,
                };
                assert_eq!(reply, vec![want], "{note}");
            }
            _ => {
                let reply: Vec<i64> = q(&mut c, &["HTTL", "h", "FIELDS", "1", &f]);
                match model.get(&f) {
                    Some((_, true)) => assert!(
                        reply[0] > 99_000 && reply[0] <= 100_000,
                        "{note}: {reply:?}"
                    ),
                    Some((_, false)) => assert_eq!(reply, vec![-1], "{note}"),
                    None => assert_eq!(reply, vec![-2], "{note}"),
                }
            }
        }
        let all: BTreeMap<String, i64> = q(&mut c, &["HGETALL", "h"]);
        let want: BTreeMap<String, i64> = model.iter().map(|(k, v)| (k.clone(), v.0)).collect();
        assert_eq!(all, want, "{note}");
        assert_eq!(int(&mut c, &["HLEN", "h"]), model.len() as i64, "{note}");
        assert_eq!(
            int(&mut c, &["EXISTS", "h"]),
            !model.is_empty() as i64,
            "{note}"
        );
    }
}

/// A consumer reads entries and dies without XACK; another recovers them
/// with XAUTOCLAIM / XCLAIM after the min-idle-time. Every entry is acked
/// exactly once and none is lost.
#[test]
fn stream_group_recovers_entries_of_a_crashed_consumer() {
    let server = Server::start();
    let mut admin = server.client();
    let total = 40;
    for i in 0..total {
        q::<String>(
            &mut admin,
            &["XADD", "jobs", &format!("{}-0", i + 1), "n", &i.to_string()],
        );
    }
    q::<()>(&mut admin, &["XGROUP", "CREATE", "jobs", "g", "0"]);

    // The crashing consumer takes 15 entries and its connection drops.
    let taken: Vec<String> = {
        let mut doomed = server.client();
        let reply: Value = q(
            &mut doomed,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "doomed",
                "COUNT",
                "15",
                "STREAMS",
                "jobs",
                ">",
            ],
        );
        let ids = read_ids(&reply);
        assert_eq!(ids.len(), 15);
        ids
    };
    // A healthy consumer takes the rest and acks them.
    let mut worker = server.client();
    let reply: Value = q(
        &mut worker,
        &["XREADGROUP", "GROUP", "g", "worker", "STREAMS", "jobs", ">"],
    );
    let mut acked: Vec<String> = read_ids(&reply);
    assert_eq!(acked.len(), total - 15);
    let mut ack = vec!["XACK", "jobs", "g"];
    ack.extend(acked.iter().map(String::as_str));
    assert_eq!(int(&mut worker, &ack), (total - 15) as i64);

    // XPENDING: 15 pending, all owned by the dead consumer.
    let summary: Value = q(&mut admin, &["XPENDING", "jobs", "g"]);
    assert_eq!(
        format!("{summary:?}"),
        format!(
            "{:?}",
            Value::Array(vec![
                Value::Int(15),
                Value::BulkString(taken[0].clone().into_bytes()),
                Value::BulkString(taken[14].clone().into_bytes()),
                Value::Array(vec![Value::Array(vec![
                    Value::BulkString(b"doomed".to_vec()),
                    Value::BulkString(b"15".to_vec()),
                ])]),
            ])
        )
    );

    // Too early: nothing is idle for 60 s.
    let early: Value = q(
        &mut worker,
        &[
            "XAUTOCLAIM",
            "jobs",
            "g",
            "worker",
            "60000",
            "0",
            "COUNT",
            "100",
        ],
    );
    let Value::Array(parts) = &early else {
        panic!("{early:?}")
    };
    assert_eq!(stream_ids(&parts[1]).len(), 0, "{early:?}");

    thread::sleep(Duration::from_millis(120));
    // XCLAIM one entry explicitly, then XAUTOCLAIM the rest in pages.
    let one: Value = q(
        &mut worker,
        &["XCLAIM", "jobs", "g", "worker", "100", &taken[0]],
    );
    assert_eq!(stream_ids(&one), vec![taken[0].clone()]);
    let mut recovered = vec![taken[0].clone()];
    let mut cursor = "0-0".to_string();
    loop {
        let page: Value = q(
            &mut worker,
            &[
                "XAUTOCLAIM",
                "jobs",
                "g",
                "worker",
                "100",
                &cursor,
                "COUNT",
                "4",
            ],
        );
        let Value::Array(parts) = &page else {
            panic!("{page:?}")
        };
        recovered.extend(stream_ids(&parts[1]));
        cursor = match &parts[0] {
            Value::BulkString(b) => String::from_utf8(b.clone()).unwrap(),
            other => panic!("{other:?}"),
        };
        if cursor == "0-0" {
            break;
        }
    }
    let unique: HashSet<&String> = recovered.iter().collect();
    assert_eq!(
        unique.len(),
        recovered.len(),
        "delivered twice: {recovered:?}"
    );
    let mut sorted = recovered.clone();
    sorted.sort_by_key(|id| id.split('-').next().unwrap().parse::<u64>().unwrap());
    assert_eq!(
        sorted, taken,
        "every entry of the dead consumer is recovered"
    );

    // Now owned by the worker, delivered twice each (read + claim).
    let detail: Value = q(
        &mut admin,
        &["XPENDING", "jobs", "g", "-", "+", "100", "doomed"],
    );
    assert_eq!(detail, Value::Array(vec![]));
    let detail: Value = q(
        &mut admin,
        &["XPENDING", "jobs", "g", "-", "+", "100", "worker"],
    );
    let Value::Array(rows) = &detail else {
        panic!("{detail:?}")
    };
    assert_eq!(rows.len(), 15);
    for row in rows {
        let Value::Array(f) = row else {
            panic!("{row:?}")
        };
        assert_eq!(f[3], Value::Int(2), "{row:?}");
    }

    let mut ack = vec!["XACK", "jobs", "g"];
    ack.extend(recovered.iter().map(String::as_str));
    assert_eq!(int(&mut worker, &ack), 15);
    // Acking again changes nothing; nothing is pending or left to claim.
    assert_eq!(int(&mut worker, &ack), 0);
    acked.extend(recovered);
    assert_eq!(acked.len(), total);
    let summary: Value = q(&mut admin, &["XPENDING", "jobs", "g"]);
    let Value::Array(s) = &summary else {
        panic!("{summary:?}")
    };
    assert_eq!(s[0], Value::Int(0));
    let after: Value = q(
        &mut worker,
        &["XAUTOCLAIM", "jobs", "g", "worker", "0", "0"],
    );
    let Value::Array(parts) = &after else {
        panic!("{after:?}")
    };
    assert_eq!(stream_ids(&parts[1]).len(), 0);
    let more: Value = q(
        &mut worker,
        &["XREADGROUP", "GROUP", "g", "worker", "STREAMS", "jobs", ">"],
    );
    assert_eq!(more, Value::Nil);
}

/// The entry IDs of an array of entries (XCLAIM, XAUTOCLAIM's second
/// element).
fn stream_ids(v: &Value) -> Vec<String> {
    fn entry_id(e: &Value) -> Option<String> {
        match e {
            Value::Array(pair) => match pair.first() {
                Some(Value::BulkString(b)) => Some(String::from_utf8(b.clone()).unwrap()),
                _ => None,
            },
            _ => None,
        }
    }
    match v {
        Value::Nil => vec![],
        Value::Array(items) => items.iter().filter_map(entry_id).collect(),
        other => panic!("not a stream reply: {other:?}"),
    }
}

/// The entry IDs of an XREADGROUP reply on one stream.
fn read_ids(v: &Value) -> Vec<String> {
    match v {
        Value::Nil => vec![],
        Value::Array(streams) => match &streams[0] {
            Value::Array(s) => stream_ids(&s[1]),
            other => panic!("{other:?}"),
        },
        Value::Map(kv) => stream_ids(&kv[0].1),
        other => panic!("not an XREADGROUP reply: {other:?}"),
    }
}
