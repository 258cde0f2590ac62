//! Fixed-width big-endian integers and the order-preserving double, as Kvrocks
//! writes them. Big-endian makes bytewise order equal numeric order, which is
//! what RocksDB's default comparator and every range scan rely on.

pub fn put_u8(out: &mut Vec<u8>, v: u8) {
    out.push(v);
}

pub fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Reads a fixed-width big-endian value from the front of `input`,
/// advancing it. `None` when the input is too short (a corrupt record).
pub fn get_u8(input: &mut &[u8]) -> Option<u8> {
    let (&b, rest) = input.split_first()?;
    *input = rest;
    Some(b)
}

pub fn get_u16(input: &mut &[u8]) -> Option<u16> {
    take::<2>(input).map(u16::from_be_bytes)
}

pub fn get_u32(input: &mut &[u8]) -> Option<u32> {
    take::<4>(input).map(u32::from_be_bytes)
}

pub fn get_u64(input: &mut &[u8]) -> Option<u64> {
    take::<8>(input).map(u64::from_be_bytes)
}

fn take<const N: usize>(input: &mut &[u8]) -> Option<[u8; N]> {
    if input.len() < N {
        return None;
    }
    let (head, rest) = input.split_at(N);
    *input = rest;
    head.try_into().ok()
}

/// Kvrocks' `EncodeDouble`: negative values have every bit flipped, others
/// get the sign bit set, so that the big-endian bytes sort like the numbers.
pub fn encode_double(value: f64) -> [u8; 8] {
    let mut bits = value.to_bits();
    if value < 0.0 {
        bits = !bits;
    } else {
        bits |= 1 << 63;
    }
    bits.to_be_bytes()
}

pub fn decode_double(bytes: [u8; 8]) -> f64 {
    let mut bits = u64::from_be_bytes(bytes);
    if bits & (1 << 63) != 0 {
        bits &= !(1 << 63);
    } else {
        bits = !bits;
    }
    f64::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fixed_ints_are_big_endian() {
        let mut out = Vec::new();
        put_u16(&mut out, 0x0102);
        put_u32(&mut out, 0x03040506);
        put_u64(&mut out, 0x0708090a0b0c0d0e);
        assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
        let mut input = out.as_slice();
        assert_eq!(get_u16(&mut input), Some(0x0102));
        assert_eq!(get_u32(&mut input), Some(0x03040506));
        assert_eq!(get_u64(&mut input), Some(0x0708090a0b0c0d0e));
        assert_eq!(get_u8(&mut input), None);
    }

    #[test]
    fn double_golden_bytes() {
        // Values worked out from Kvrocks' EncodeDouble by hand.
        assert_eq!(encode_double(0.0), [0x80, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(encode_double(1.0), [0xbf, 0xf0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            encode_double(-1.0),
            [0x40, 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(
            encode_double(f64::NEG_INFINITY),
            [0x00, 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(encode_double(f64::INFINITY), [0xff, 0xf0, 0, 0, 0, 0, 0, 0]);
    }

    proptest! {
        #[test]
        fn unsigned_encoding_sorts_like_numbers(a: u64, b: u64) {
            let (mut ea, mut eb) = (Vec::new(), Vec::new());
            put_u64(&mut ea, a);
            put_u64(&mut eb, b);
            prop_assert_eq!(a.cmp(&b), ea.cmp(&eb));
        }

        #[test]
        fn double_encoding_sorts_like_numbers(a in any::<f64>().prop_filter("not nan", |v| !v.is_nan()),
                                              b in any::<f64>().prop_filter("not nan", |v| !v.is_nan())) {
            let (ea, eb) = (encode_double(a), encode_double(b));
            // -0.0 and 0.0 compare equal as numbers and encode equal.
            prop_assert_eq!(a.partial_cmp(&b).unwrap(), ea.cmp(&eb));
        }

        #[test]
        fn double_round_trips(a in any::<f64>().prop_filter("not nan", |v| !v.is_nan())) {
            let back = decode_double(encode_double(a));
            prop_assert!(back == a);
        }
    }
}
