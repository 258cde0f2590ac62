//! Listpack, the compact encoding of Redis 7's small lists, hashes, sets
//! and sorted sets: `total-bytes u32 LE | count u16 LE | entries | 0xFF`,
//! each entry `encoding+data | backlen`. Every entry is validated as
//! Redis's deep sanitization does (lengths inside the blob, backlen
//! matching, count matching), whatever `sanitize-dump-payload` says there.

use super::Error;

const HEADER: usize = 6;
const EOF: u8 = 0xff;
const COUNT_UNKNOWN: u16 = u16::MAX;

/// The elements of a listpack, integers rendered in decimal as Redis
/// returns them.
pub fn entries(lp: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    if lp.len() < HEADER + 1 || lp[lp.len() - 1] != EOF {
        return Err(Error::BadData);
    }
    let total = u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as usize;
    let count = u16::from_le_bytes([lp[4], lp[5]]);
    if total != lp.len() {
        return Err(Error::BadData);
    }
    let end = lp.len() - 1;
    let mut pos = HEADER;
    let mut out = Vec::new();
    while pos < end {
        let (element, size) = entry(&lp[pos..end])?;
        let backlen = backlen_size(size);
        let stored = lp
            .get(pos + size..pos + size + backlen)
            .ok_or(Error::BadData)?;
        if stored != encode_backlen(size).as_slice() {
            return Err(Error::BadData);
        }
        out.push(element);
        pos += size + backlen;
    }
    if pos != end || (count != COUNT_UNKNOWN && usize::from(count) != out.len()) {
        return Err(Error::BadData);
    }
    Ok(out)
}

/// A listpack of `elements`, each stored as an integer when it is one in
/// canonical form (as `lpAppend` does), else as a string.
pub fn build<'a>(elements: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = vec![0u8; HEADER];
    let mut count = 0usize;
    for e in elements {
        let start = out.len();
        match crate::number::parse_i64(e).filter(|v| v.to_string().as_bytes() == e) {
            Some(v) => encode_int(v, &mut out),
            None => encode_string(e, &mut out),
        }
        let size = out.len() - start;
        out.extend_from_slice(&encode_backlen(size));
        count += 1;
    }
    out.push(EOF);
    let total = out.len() as u32;
    out[..4].copy_from_slice(&total.to_le_bytes());
    let count = u16::try_from(count).unwrap_or(COUNT_UNKNOWN);
    out[4..6].copy_from_slice(&count.to_le_bytes());
    out
}

fn encode_int(v: i64, out: &mut Vec<u8>) {
    if (0..=127).contains(&v) {
        out.push(v as u8);
    } else if (-4096..=4095).contains(&v) {
        let u = (v as u64) & 0x1fff;
        out.extend_from_slice(&[0xc0 | (u >> 8) as u8, u as u8]);
    } else if let Ok(v) = i16::try_from(v) {
        out.push(0xf1);
        out.extend_from_slice(&v.to_le_bytes());
    } else if (-(1 << 23)..(1 << 23)).contains(&v) {
        out.push(0xf2);
        out.extend_from_slice(&v.to_le_bytes()[..3]);
    } else if let Ok(v) = i32::try_from(v) {
        out.push(0xf3);
        out.extend_from_slice(&v.to_le_bytes());
    } else {
        out.push(0xf4);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn encode_string(s: &[u8], out: &mut Vec<u8>) {
    let n = s.len();
    if n < 64 {
        out.push(0x80 | n as u8);
    } else if n < 4096 {
        out.extend_from_slice(&[0xe0 | (n >> 8) as u8, n as u8]);
    } else {
        out.push(0xf0);
        out.extend_from_slice(&(n as u32).to_le_bytes());
    }
    out.extend_from_slice(s);
}

/// One entry at the start of `p`: its element and the size of its
/// encoding and data (without the backlen).
fn entry(p: &[u8]) -> Result<(Vec<u8>, usize), Error> {
    let b = p[0];
    let int = |size: usize| -> Result<(i64, usize), Error> {
        Ok((super::int_le(p.get(1..size).ok_or(Error::BadData)?), size))
    };
    let string = |header: usize, len: usize| -> Result<(Vec<u8>, usize), Error> {
        let data = p.get(header..header + len).ok_or(Error::BadData)?;
        Ok((data.to_vec(), header + len))
    };
    let (value, size) = match b {
        0x00..=0x7f => (i64::from(b), 1),
        0x80..=0xbf => return string(1, usize::from(b & 0x3f)),
        0xc0..=0xdf => {
            let low = *p.get(1).ok_or(Error::BadData)?;
            let v = (u16::from(b & 0x1f) << 8) | u16::from(low);
            // 13-bit two's complement.
            (((v << 3) as i16 >> 3).into(), 2)
        }
        0xe0..=0xef => {
            let low = *p.get(1).ok_or(Error::BadData)?;
            return string(2, (usize::from(b & 0x0f) << 8) | usize::from(low));
        }
        0xf0 => {
            let len = p.get(1..5).ok_or(Error::BadData)?;
            let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]);
            return string(5, usize::try_from(len).map_err(|_| Error::BadData)?);
        }
        0xf1 => int(3)?,
        0xf2 => int(4)?,
        0xf3 => int(5)?,
        0xf4 => int(9)?,
        _ => return Err(Error::BadData),
    };
    Ok((value.to_string().into_bytes(), size))
}

/// How many bytes the backlen of an entry of `size` bytes takes; the
/// thresholds are listpack.c's (note 16383, not 16384).
fn backlen_size(size: usize) -> usize {
    match size {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// The backlen as stored: 7 bits a byte, most significant first, every
/// byte but the first flagged with 0x80 (it is read from the right).
fn encode_backlen(size: usize) -> Vec<u8> {
    let n = backlen_size(size);
    (0..n)
        .map(|i| {
            let shift = 7 * (n - 1 - i);
            let bits = ((size as u64 >> shift) & 127) as u8;
            if i == 0 {
                bits
            } else {
                bits | 0x80
            }
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A listpack of these entries, each given as its encoding and data:
    /// for tests of the decoder against hand-made blobs.
    pub fn build(entries: &[&[u8]]) -> Vec<u8> {
        let mut body = Vec::new();
        for e in entries {
            body.extend_from_slice(e);
            body.extend_from_slice(&encode_backlen(e.len()));
        }
        let total = (HEADER + body.len() + 1) as u32;
        let mut lp = total.to_le_bytes().to_vec();
        lp.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        lp.extend_from_slice(&body);
        lp.push(EOF);
        lp
    }

    #[test]
    fn every_encoding() {
        let long = vec![b'x'; 5000];
        let mut str32 = vec![0xf0];
        str32.extend_from_slice(&5000u32.to_le_bytes());
        str32.extend_from_slice(&long);
        let mut str12 = vec![0xe0 | 1, 44];
        str12.extend_from_slice(&[b'y'; 300]);
        let lp = build(&[
            &[5],
            &[0x83, b'a', b'b', b'c'],
            &[0xdf, 0xff],       // 13-bit -1
            &[0xd0, 0x00],       // 13-bit -4096
            &[0xf1, 0x18, 0xfc], // 16-bit -1000
            &[0xf2, 0xa0, 0x86, 0x01],
            &[0xf3, 0x00, 0xca, 0x9a, 0x3b],
            &[0xf4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
            &str12,
            &str32,
        ]);
        let got = entries(&lp).unwrap();
        let want: Vec<Vec<u8>> = vec![
            b"5".to_vec(),
            b"abc".to_vec(),
            b"-1".to_vec(),
            b"-4096".to_vec(),
            b"-1000".to_vec(),
            b"100000".to_vec(),
            b"1000000000".to_vec(),
            i64::MAX.to_string().into_bytes(),
            vec![b'y'; 300],
            long,
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn corrupt_blobs_are_refused() {
        let good = build(&[&[0x81, b'a'], &[7]]);
        assert!(entries(&good).is_ok());
        let mut bad_count = good.clone();
        bad_count[4] = 3;
        assert_eq!(entries(&bad_count), Err(Error::BadData));
        let mut bad_backlen = good.clone();
        bad_backlen[8] = 9;
        assert_eq!(entries(&bad_backlen), Err(Error::BadData));
        let mut bad_total = good.clone();
        bad_total[0] += 1;
        assert_eq!(entries(&bad_total), Err(Error::BadData));
        let overlong = build(&[&[0x85, b'a']]);
        assert_eq!(entries(&overlong), Err(Error::BadData));
        assert_eq!(entries(&build(&[&[0xf5]])), Err(Error::BadData));
    }

    #[test]
    fn backlen_matches_listpack_c() {
        assert_eq!(encode_backlen(5), vec![5]);
        assert_eq!(encode_backlen(300), vec![2, 0x80 | 44]);
        assert_eq!(encode_backlen(5005), vec![39, 0x80 | 13]);
        assert_eq!(encode_backlen(16383), vec![0, 0xff, 0xff]);
    }
}
