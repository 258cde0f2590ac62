//! RDB's length and string encodings, as `rdbSaveLen` and
//! `rdbSaveRawString` write them.

/// Strings this short never shrink under LZF (Redis's threshold).
const LZF_MIN_LEN: usize = 21;

pub fn len(n: u64, out: &mut Vec<u8>) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u64::from(u32::MAX) {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// A string: as an 8/16/32-bit integer when it is one in canonical form,
/// LZF-compressed when that saves at least 4 bytes, else verbatim.
pub fn string(s: &[u8], out: &mut Vec<u8>) {
    if s.len() <= 11 {
        if let Some(v) = crate::number::parse_i64(s).filter(|v| v.to_string().as_bytes() == s) {
            if let Ok(v) = i8::try_from(v) {
                out.extend_from_slice(&[0xc0, v as u8]);
                return;
            }
            if let Ok(v) = i16::try_from(v) {
                out.push(0xc1);
                out.extend_from_slice(&v.to_le_bytes());
                return;
            }
            if let Ok(v) = i32::try_from(v) {
                out.push(0xc2);
                out.extend_from_slice(&v.to_le_bytes());
                return;
            }
        }
    }
    if s.len() >= LZF_MIN_LEN {
        if let Ok(compressed) = lzf::compress(s) {
            if compressed.len() + 4 <= s.len() {
                out.push(0xc3);
                len(compressed.len() as u64, out);
                len(s.len() as u64, out);
                out.extend_from_slice(&compressed);
                return;
            }
        }
    }
    len(s.len() as u64, out);
    out.extend_from_slice(s);
}

/// A string verbatim, never as an integer (binary ids and names, as
/// `rdbSaveRawString` would only compress them).
pub fn raw_string(s: &[u8], out: &mut Vec<u8>) {
    len(s.len() as u64, out);
    out.extend_from_slice(s);
}

#[cfg(test)]
mod tests {
    use super::super::reader::Reader;
    use super::*;

    #[test]
    fn strings_round_trip_in_their_smallest_form() {
        let cases: &[(&[u8], usize)] = &[
            (b"12", 2),
            (b"-300", 3),
            (b"2147483647", 5),
            (b"2147483648", 11),
            (b"007", 4),
            (b"", 1),
        ];
        for (s, size) in cases {
            let mut out = Vec::new();
            string(s, &mut out);
            assert_eq!(out.len(), *size, "{}", String::from_utf8_lossy(s));
            assert_eq!(Reader::new(&out).string().unwrap(), *s);
        }
        let long = vec![b'a'; 1000];
        let mut out = Vec::new();
        string(&long, &mut out);
        assert_eq!(out[0], 0xc3);
        assert!(out.len() < 100);
        assert_eq!(Reader::new(&out).string().unwrap(), long);
        for n in [0u64, 63, 64, 16383, 16384, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            len(n, &mut out);
            assert_eq!(Reader::new(&out).len().unwrap(), n);
        }
    }
}
