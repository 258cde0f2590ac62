use super::*;
use crate::database::test_support::open;

/// Redis's BITCOUNT/BITPOS answers computed bit by bit over a plain
/// string, to check the run-walking versions against.
fn naive_bits(v: &[u8]) -> Vec<bool> {
    (0..v.len() * 8)
        .map(|i| v[i / 8] & (0x80 >> (i % 8)) != 0)
        .collect()
}

fn sparse(v: &[u8]) -> Bits {
    // The same bytes as a bitmap whose fragments hold every 7th byte's run.
    let mut bits = Bits::fragmented(v.len() as u64);
    for (i, &b) in v.iter().enumerate() {
        if b != 0 {
            bits.set_byte(i as u64, b);
        }
    }
    bits
}

#[test]
fn count_and_pos_match_a_bit_by_bit_reference() {
    let mut seed = 7u64;
    let mut rnd = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        seed >> 33
    };
    for round in 0..300 {
        let len = (rnd() % 2100) as usize;
        let v: Vec<u8> = (0..len)
            .map(|_| match rnd() % 4 {
                0 => 0,
                1 => 0xff,
                _ => rnd() as u8,
            })
            .collect();
        let reference = naive_bits(&v);
        let total = reference.len() as i64;
        for bits in [Bits::from_string(v.clone()), sparse(&v)] {
            let ones = reference.iter().filter(|&&b| b).count() as u64;
            assert_eq!(bits.count(None), ones, "round {round}");
            let s = rnd() as i64 % (total + 20) - 10;
            let e = rnd() as i64 % (total + 20) - 10;
            let fix = |i: i64| if i < 0 { (total + i).max(0) } else { i };
            let (fs, fe) = (fix(s), fix(e).min(total - 1));
            let in_range =
                |want: bool| (fs..=fe).find(|&i| i >= 0 && reference[i as usize] == want);
            let expect_count = if (s < 0 && e < 0 && s > e) || fs > fe {
                0
            } else {
                (fs..=fe).filter(|&i| reference[i as usize]).count() as u64
            };
            assert_eq!(bits.count(Some((s, e, BitUnit::Bit))), expect_count);
            for want in [true, false] {
                let expect = if fs > fe {
                    -1
                } else {
                    in_range(want).unwrap_or(-1)
                };
                assert_eq!(
                    bits.pos(want, Some(s), Some(e), BitUnit::Bit),
                    expect,
                    "round {round} {s} {e} {want}"
                );
            }
            let first_zero = reference.iter().position(|&b| !b);
            let expect = match first_zero {
                Some(p) => p as i64,
                None if v.is_empty() => -1,
                None => total,
            };
            assert_eq!(bits.pos(false, None, None, BitUnit::Byte), expect);
        }
    }
}

#[test]
fn sparse_bitmap_stores_only_set_fragments() {
    let t = open();
    let db = &t.db;
    assert!(!db.set_bit(b"b", 4_000_000_000, true).unwrap().old);
    assert!(db.get_bit(b"b", 4_000_000_000).unwrap());
    assert!(!db.get_bit(b"b", 3_999_999_999).unwrap());
    let record = db.read(b"b").unwrap().unwrap();
    assert_eq!(record.metadata.kind, basalt_engine::RedisType::Bitmap);
    assert_eq!(record.metadata.size, 500_000_001);
    let mut it = db.iter_subkeys(
        basalt_engine::ColumnFamily::Default,
        b"b",
        record.metadata.version,
    );
    let mut n = 0;
    while it.valid() {
        n += 1;
        it.next();
    }
    assert_eq!(n, 1);
    assert_eq!(db.read_bits(b"b").unwrap().unwrap().count(None), 1);
    assert_eq!(db.strlen(b"b").unwrap(), 500_000_001);
}

#[test]
fn bitmap_bytes_are_stored_lsb_first() {
    let t = open();
    let db = &t.db;
    db.set_bit(b"b", 1, true).unwrap();
    let record = db.read(b"b").unwrap().unwrap();
    let sub = db.subkey(b"b", record.metadata.version, b"0");
    let raw = db
        .storage()
        .get(basalt_engine::ColumnFamily::Default, &sub)
        .unwrap()
        .unwrap();
    assert_eq!(&raw[..], &[0b0000_0010]);
    assert_eq!(db.get(b"b").unwrap(), Some(vec![0b0100_0000]));
}
