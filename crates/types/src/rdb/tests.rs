//! Payloads from redis-server, hand-made blobs in the older encodings, and
//! hostile input: every decoder must refuse, never panic.

use super::*;
use crate::value::Value;
use rand::{Rng, SeedableRng};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn strs(items: &[&str]) -> Vec<Vec<u8>> {
    items.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// DUMPs taken from redis-server 7.0.15 (RDB 10), with their values.
/// A stream with entries of both field layouts over several nodes, a
/// deletion and trimming recorded in its ids, and two groups.
fn stream_value() -> Value {
    use crate::stream::{ConsumerInfo, Entry, GroupValue, Pending, StreamId, StreamValue};
    let entries: Vec<Entry> = (0..230u64)
        .map(|i| Entry {
            id: StreamId::new(1000 + i / 3, i % 3 * 7),
            fields: if i % 4 == 0 {
                strs(&["f", "1", "g", "-70000"])
            } else {
                vec![b"other".to_vec(), i.to_string().into_bytes()]
            },
        })
        .collect();
    let pending = |id: StreamId, consumer: &str| Pending {
        id,
        consumer: consumer.as_bytes().to_vec(),
        delivery_ms: 1_700_000_000_123,
        deliveries: 2,
    };
    let consumer = |name: &str, n: u64| ConsumerInfo {
        name: name.as_bytes().to_vec(),
        pending: n,
        seen_ms: 1_700_000_000_000,
        active_ms: 1_700_000_000_000,
    };
    Value::Stream(Box::new(StreamValue {
        last_id: StreamId::new(2000, 1),
        first_id: StreamId::new(999, 0),
        max_deleted: StreamId::new(1500, 0),
        entries_added: 300,
        groups: vec![
            GroupValue {
                name: b"g1".to_vec(),
                last_delivered: entries[3].id,
                entries_read: Some(74),
                pending: vec![pending(entries[1].id, "a"), pending(entries[2].id, "b")],
                consumers: vec![consumer("a", 1), consumer("b", 1), consumer("c", 0)],
            },
            GroupValue {
                name: b"g2".to_vec(),
                entries_read: None,
                ..GroupValue::default()
            },
        ],
        entries,
    }))
}

fn redis_payloads() -> Vec<(Vec<u8>, Value)> {
    vec![
        // RPUSH l a 1 -300 70000 abc 5000000000: quicklist 2, one listpack.
        (
            hex("120102232300000006008161020101ded402f2701101048361626304f400f2052a0100000009ff0a0047ba0734dec340a4"),
            Value::List(strs(&["a", "1", "-300", "70000", "abc", "5000000000"])),
        ),
        // SADD si 1 2 70000: intset of 32-bit integers.
        (
            hex("0b1404000000030000000100000002000000701101000a0085d5c1065b1dd055"),
            Value::Set(strs(&["1", "2", "70000"])),
        ),
        // SADD sl a b: a plain set (7.0 has no listpack sets).
        (hex("0202016201610a0075d99d835ef85f65"), Value::Set(strs(&["b", "a"]))),
        // ZADD z 1.5 a 2 b: listpack, scores as text and integer.
        (
            hex("111414000000040081610283312e35048162020201ff0a00fa02b425af188763"),
            Value::ZSet(vec![(b"a".to_vec(), 1.5), (b"b".to_vec(), 2.0)]),
        ),
        // HSET h f v n 12: listpack.
        (
            hex("1012120000000400816602817602816e020c01ff0a0001369481d35b8974"),
            Value::Hash(vec![(b"f".to_vec(), b"v".to_vec()), (b"n".to_vec(), b"12".to_vec())]),
        ),
        // SET s 12345: an int-encoded string.
        (hex("00c139300a009d94ea2793fc08b9"), Value::String(b"12345".to_vec())),
        // SET lz <44 a's>: LZF-compressed.
        (hex("00c3092c016161e01f000161610a009811f4b6aa5376ff"), Value::String(vec![b'a'; 44])),
    ]
}

/// A payload of one object: type byte, then `body`.
fn payload(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(body);
    seal(out, WRITE_VERSION)
}

/// An RDB string holding `blob` verbatim.
fn rdb_string(blob: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    writer::len(blob.len() as u64, &mut out);
    out.extend_from_slice(blob);
    out
}

#[test]
fn restores_redis_7_payloads() {
    for (p, want) in redis_payloads() {
        assert_eq!(restore(&p).unwrap(), want);
    }
}

#[test]
fn round_trips_every_type() {
    let big: Vec<Vec<u8>> = (0..5000)
        .map(|i| format!("member-{i}").into_bytes())
        .collect();
    let values = vec![
        Value::String(b"hello".to_vec()),
        Value::String(b"-2147483648".to_vec()),
        Value::String(b"99999999999".to_vec()),
        Value::String(vec![b'z'; 100_000]),
        Value::String(Vec::new()),
        Value::List(big.clone()),
        Value::List(strs(&["1", "", "x"])),
        Value::Set(big.clone()),
        Value::Hash(big.iter().map(|m| (m.clone(), m.repeat(3))).collect()),
        Value::ZSet(vec![
            (b"a".to_vec(), f64::NEG_INFINITY),
            (b"b".to_vec(), -0.5),
            (b"c".to_vec(), 1e300),
            (b"d".to_vec(), f64::INFINITY),
        ]),
        stream_value(),
        Value::Stream(Box::default()),
    ];
    for v in values {
        let p = dump(&v);
        assert_eq!(
            u16::from_le_bytes([p[p.len() - 10], p[p.len() - 9]]),
            WRITE_VERSION
        );
        assert_eq!(restore(&p).unwrap(), v);
    }
}

#[test]
fn older_and_newer_encodings() {
    let zl = ziplist::tests::build(&[&[0x01, b'a'], &[0xf3], &[0xfe, 0xf6]]);
    let lp = listpack::tests::build(&[&[0x81, b'a'], &[0x82, b'1', b'.']]);
    let want_list = Value::List(strs(&["a", "2", "-10"]));
    assert_eq!(
        restore(&payload(types::LIST_ZIPLIST, &rdb_string(&zl))).unwrap(),
        want_list
    );
    // Quicklist v1: ziplist nodes.
    let mut body = vec![2];
    body.extend(rdb_string(&zl));
    body.extend(rdb_string(&zl));
    let Value::List(items) = restore(&payload(types::LIST_QUICKLIST, &body)).unwrap() else {
        panic!("not a list")
    };
    assert_eq!(items.len(), 6);
    // Quicklist v2 with a plain node (a large element) and a packed one.
    let mut body = vec![2, 1];
    body.extend(rdb_string(b"plain"));
    body.push(2);
    body.extend(rdb_string(&lp));
    assert_eq!(
        restore(&payload(types::LIST_QUICKLIST_2, &body)).unwrap(),
        Value::List(strs(&["plain", "a", "1."]))
    );
    let pairs = Value::Hash(vec![(b"a".to_vec(), b"2".to_vec())]);
    let zl_pair = ziplist::tests::build(&[&[0x01, b'a'], &[0xf3]]);
    assert_eq!(
        restore(&payload(types::HASH_ZIPLIST, &rdb_string(&zl_pair))).unwrap(),
        pairs
    );
    assert_eq!(
        restore(&payload(types::ZSET_ZIPLIST, &rdb_string(&zl_pair))).unwrap(),
        Value::ZSet(vec![(b"a".to_vec(), 2.0)])
    );
    assert_eq!(
        restore(&payload(types::ZSET_LISTPACK, &rdb_string(&lp))).unwrap(),
        Value::ZSet(vec![(b"a".to_vec(), 1.0)])
    );
    // Redis 7.2's listpack sets.
    assert_eq!(
        restore(&payload(types::SET_LISTPACK, &rdb_string(&lp))).unwrap(),
        Value::Set(strs(&["a", "1."]))
    );
    let zm = b"\x01\x01a\x01\x00b\xff";
    assert_eq!(
        restore(&payload(types::HASH_ZIPMAP, &rdb_string(zm))).unwrap(),
        Value::Hash(vec![(b"a".to_vec(), b"b".to_vec())])
    );
    // The old zset type: scores as text, 254 for +inf.
    let body = [2, 1, b'a', 3, b'1', b'.', b'5', 1, b'b', 254];
    assert_eq!(
        restore(&payload(types::ZSET, &body)).unwrap(),
        Value::ZSet(vec![(b"a".to_vec(), 1.5), (b"b".to_vec(), f64::INFINITY)])
    );
    // Redis 7.2's version number is accepted.
    let mut v11 = redis_payloads()[0].0.clone();
    let n = v11.len();
    v11[n - 10] = 11;
    let mut resealed = v11[..n - 10].to_vec();
    resealed.extend_from_slice(&11u16.to_le_bytes());
    let crc = CRC64.checksum(&resealed);
    resealed.extend_from_slice(&crc.to_le_bytes());
    assert!(restore(&resealed).is_ok());
}

#[test]
fn bad_footers_and_contents() {
    let good = redis_payloads()[0].0.clone();
    let n = good.len();
    let mut bad_crc = good.clone();
    bad_crc[n - 1] ^= 1;
    assert_eq!(restore(&bad_crc), Err(Error::Payload));
    let mut newer = good[..n - 10].to_vec();
    newer.extend_from_slice(&13u16.to_le_bytes());
    let crc = CRC64.checksum(&newer);
    newer.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(restore(&newer), Err(Error::Payload));
    assert_eq!(restore(b"short"), Err(Error::Payload));
    assert_eq!(
        restore(&seal(Vec::new(), WRITE_VERSION)),
        Err(Error::BadData)
    );
    // Empty collections, duplicates, NaN, unknown types, bad containers.
    assert_eq!(restore(&payload(types::SET, &[0])), Err(Error::BadData));
    assert_eq!(
        restore(&payload(types::SET, &[2, 1, b'a', 1, b'a'])),
        Err(Error::BadData)
    );
    assert_eq!(
        restore(&payload(types::HASH, &[2, 1, b'a', 0, 1, b'a', 0])),
        Err(Error::BadData)
    );
    let mut nan = vec![1, 1, b'a'];
    nan.extend_from_slice(&f64::NAN.to_le_bytes());
    assert_eq!(restore(&payload(types::ZSET_2, &nan)), Err(Error::BadData));
    assert_eq!(
        restore(&payload(types::ZSET, &[1, 1, b'a', 253])),
        Err(Error::BadData)
    );
    assert_eq!(restore(&payload(15, &[0])), Err(Error::BadData));
    assert_eq!(
        restore(&payload(types::LIST_QUICKLIST_2, &[1, 3, 1, b'x'])),
        Err(Error::BadData)
    );
    let odd = listpack::tests::build(&[&[0x81, b'a']]);
    assert_eq!(
        restore(&payload(types::HASH_LISTPACK, &rdb_string(&odd))),
        Err(Error::BadData)
    );
    // A count far beyond the data.
    assert_eq!(
        restore(&payload(
            types::LIST,
            &[0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        )),
        Err(Error::BadData)
    );
}

/// Truncated, bit-flipped and random bodies (resealed so that they reach
/// the decoders) must be refused or decoded, never panic.
#[test]
fn hostile_payloads_never_panic() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut seeds: Vec<Vec<u8>> = redis_payloads().into_iter().map(|(p, _)| p).collect();
    seeds.push(dump(&Value::Hash(vec![(b"f".to_vec(), vec![b'v'; 300])])));
    seeds.push(dump(&stream_value()));
    let zl = ziplist::tests::build(&[
        &[0x01, b'a'],
        &[0x40 | 1, 0x10]
            .iter()
            .chain([b'q'; 0x110].iter())
            .copied()
            .collect::<Vec<_>>()[..],
    ]);
    seeds.push(payload(types::LIST_ZIPLIST, &rdb_string(&zl)));
    seeds.push(payload(
        types::HASH_ZIPMAP,
        &rdb_string(b"\x01\x01a\x01\x00b\xff"),
    ));
    for seed in &seeds {
        let body = &seed[..seed.len() - 10];
        for cut in 0..body.len() {
            let _ = restore(&seal(body[..cut].to_vec(), WRITE_VERSION));
        }
        for _ in 0..2000 {
            let mut b = body.to_vec();
            for _ in 0..rng.random_range(1..4) {
                let i = rng.random_range(0..b.len());
                b[i] = rng.random();
            }
            let _ = restore(&seal(b, WRITE_VERSION));
        }
    }
    for _ in 0..20000 {
        let len = rng.random_range(0..64);
        let mut b: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        if let Some(first) = b.first_mut() {
            *first %= 22;
        }
        let _ = restore(&seal(b, WRITE_VERSION));
    }
}

#[test]
fn hashes_with_field_ttls() {
    let at = 1_900_000_000_000u64;
    let v = Value::HashWithTtls(vec![
        (b"a".to_vec(), b"1".to_vec(), at + 5),
        (b"b".to_vec(), b"x".to_vec(), 0),
        (b"c".to_vec(), b"y".to_vec(), at),
    ]);
    let p = dump(&v);
    // RDB_TYPE_HASH_METADATA under Redis 7.4's version: the earliest time
    // as 8 bytes LE, the count, then (time - earliest + 1 or 0, field,
    // value) per field, as rdbSaveObject writes them.
    let mut want = vec![types::HASH_METADATA];
    want.extend_from_slice(&at.to_le_bytes());
    want.extend_from_slice(&[
        3, 6, 1, b'a', 0xc0, 1, 0, 1, b'b', 1, b'x', 1, 1, b'c', 1, b'y',
    ]);
    assert_eq!(&p[..p.len() - 10], &want[..]);
    assert_eq!(u16::from_le_bytes([p[p.len() - 10], p[p.len() - 9]]), 12);
    assert_eq!(restore(&p).unwrap(), v);
    // The release candidates' form: absolute times.
    let body = [2, 0, 1, b'a', 1, b'1', 0x80, 0, 0, 0, 9, 1, b'b', 1, b'2'];
    assert_eq!(
        restore(&payload(types::HASH_METADATA_PRE_GA, &body)).unwrap(),
        Value::HashWithTtls(vec![
            (b"a".to_vec(), b"1".to_vec(), 0),
            (b"b".to_vec(), b"2".to_vec(), 9),
        ])
    );
    // A hash whose fields all lost their TTL is a plain hash.
    let body = [1, 0, 1, b'a', 1, b'1'];
    assert_eq!(
        restore(&payload(types::HASH_METADATA_PRE_GA, &body)).unwrap(),
        Value::Hash(vec![(b"a".to_vec(), b"1".to_vec())])
    );
    // Listpack-ex: (field, value, time) triplets in time order, fields
    // without a time last; the final form leads with the earliest time.
    let t = at.to_string();
    let lp = listpack::build([&b"c"[..], b"y", t.as_bytes(), b"b", b"x", b"0"]);
    let mut body = at.to_le_bytes().to_vec();
    body.extend_from_slice(&rdb_string(&lp));
    assert_eq!(
        restore(&payload(types::HASH_LISTPACK_EX, &body)).unwrap(),
        Value::HashWithTtls(vec![
            (b"c".to_vec(), b"y".to_vec(), at),
            (b"b".to_vec(), b"x".to_vec(), 0),
        ])
    );
    let unordered = listpack::build([&b"b"[..], b"x", b"0", b"c", b"y", t.as_bytes()]);
    assert_eq!(
        restore(&payload(
            types::HASH_LISTPACK_EX_PRE_GA,
            &rdb_string(&unordered)
        )),
        Err(Error::BadData)
    );
    let too_late = (1u64 << 48).to_string();
    let lp = listpack::build([&b"c"[..], b"y", too_late.as_bytes()]);
    assert_eq!(
        restore(&payload(types::HASH_LISTPACK_EX_PRE_GA, &rdb_string(&lp))),
        Err(Error::BadData)
    );
    let dup = [2, 0, 1, b'a', 1, b'1', 0, 1, b'a', 1, b'2'];
    assert_eq!(
        restore(&payload(types::HASH_METADATA_PRE_GA, &dup)),
        Err(Error::BadData)
    );
}
