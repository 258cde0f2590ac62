//! Ziplist, the compact encoding before listpack (RDB version 9 and
//! older, still loaded by Redis 7): `zlbytes u32 LE | zltail u32 LE |
//! zllen u16 LE | entries | 0xFF`, each entry `prevlen | encoding | data`.
//! Validated as Redis's deep sanitization does.

use super::Error;

const HEADER: usize = 10;
const END: u8 = 0xff;
const BIG_PREVLEN: u8 = 254;

/// The elements of a ziplist, integers rendered in decimal.
pub fn entries(zl: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    if zl.len() < HEADER + 1 || zl[zl.len() - 1] != END {
        return Err(Error::BadData);
    }
    let bytes = u32::from_le_bytes([zl[0], zl[1], zl[2], zl[3]]) as usize;
    let tail = u32::from_le_bytes([zl[4], zl[5], zl[6], zl[7]]) as usize;
    let count = u16::from_le_bytes([zl[8], zl[9]]);
    let end = zl.len() - 1;
    if bytes != zl.len() || tail > end {
        return Err(Error::BadData);
    }
    let mut pos = HEADER;
    let mut prev_size = 0;
    let mut last = None;
    let mut out = Vec::new();
    while pos < end {
        let p = &zl[pos..end];
        let (prevlen, prevlen_size) = match p[0] {
            b if b < BIG_PREVLEN => (usize::from(b), 1),
            _ => {
                let raw = p.get(1..5).ok_or(Error::BadData)?;
                (
                    u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize,
                    5,
                )
            }
        };
        if prevlen != prev_size {
            return Err(Error::BadData);
        }
        let (element, size) = entry(&p[prevlen_size..])?;
        out.push(element);
        last = Some(pos);
        prev_size = prevlen_size + size;
        pos += prev_size;
    }
    if pos != end
        || last.is_some_and(|l| l != tail)
        || (count != u16::MAX && usize::from(count) != out.len())
    {
        return Err(Error::BadData);
    }
    Ok(out)
}

/// One entry after its prevlen: the element and the size of encoding and
/// data together.
fn entry(p: &[u8]) -> Result<(Vec<u8>, usize), Error> {
    let b = *p.first().ok_or(Error::BadData)?;
    let string = |header: usize, len: usize| -> Result<(Vec<u8>, usize), Error> {
        let data = p.get(header..header + len).ok_or(Error::BadData)?;
        Ok((data.to_vec(), header + len))
    };
    let int = |width: usize| -> Result<(i64, usize), Error> {
        Ok((
            super::int_le(p.get(1..1 + width).ok_or(Error::BadData)?),
            1 + width,
        ))
    };
    let (value, size) = match b >> 6 {
        0 => return string(1, usize::from(b & 0x3f)),
        1 => {
            let low = *p.get(1).ok_or(Error::BadData)?;
            return string(2, (usize::from(b & 0x3f) << 8) | usize::from(low));
        }
        2 if b == 0x80 => {
            let len = p.get(1..5).ok_or(Error::BadData)?;
            let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
            return string(5, usize::try_from(len).map_err(|_| Error::BadData)?);
        }
        2 => return Err(Error::BadData),
        _ => match b {
            0xc0 => int(2)?,
            0xd0 => int(4)?,
            0xe0 => int(8)?,
            0xf0 => int(3)?,
            0xfe => int(1)?,
            0xf1..=0xfd => (i64::from(b & 0x0f) - 1, 1),
            _ => return Err(Error::BadData),
        },
    };
    Ok((value.to_string().into_bytes(), size))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A ziplist of these entries (each its encoding and data).
    pub fn build(entries: &[&[u8]]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        let mut tail = HEADER;
        for e in entries {
            tail = HEADER + body.len();
            let before = body.len();
            if prev < usize::from(BIG_PREVLEN) {
                body.push(prev as u8);
            } else {
                body.push(BIG_PREVLEN);
                body.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            body.extend_from_slice(e);
            prev = body.len() - before;
        }
        let total = (HEADER + body.len() + 1) as u32;
        let mut zl = total.to_le_bytes().to_vec();
        zl.extend_from_slice(&(tail as u32).to_le_bytes());
        zl.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        zl.extend_from_slice(&body);
        zl.push(END);
        zl
    }

    #[test]
    fn every_encoding() {
        let mut str14 = vec![0x40 | 1, 44];
        str14.extend_from_slice(&[b'z'; 300]);
        let mut str32 = vec![0x80, 0, 0, 0x40, 0];
        str32.extend_from_slice(&[b'w'; 0x4000]);
        let zl = build(&[
            &[0x02, b'h', b'i'],
            &[0xf1],
            &[0xfd],
            &[0xfe, 0x80],
            &[0xc0, 0x18, 0xfc],
            &[0xf0, 0xff, 0xff, 0x7f],
            &[0xd0, 0x00, 0x00, 0x00, 0x80],
            &[0xe0, 1, 0, 0, 0, 0, 0, 0, 0],
            &str14,
            &str32,
        ]);
        let got = entries(&zl).unwrap();
        let want: Vec<Vec<u8>> = vec![
            b"hi".to_vec(),
            b"0".to_vec(),
            b"12".to_vec(),
            b"-128".to_vec(),
            b"-1000".to_vec(),
            b"8388607".to_vec(),
            i32::MIN.to_string().into_bytes(),
            b"1".to_vec(),
            vec![b'z'; 300],
            vec![b'w'; 0x4000],
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn corrupt_blobs_are_refused() {
        let good = build(&[&[0x01, b'a'], &[0xf2]]);
        assert_eq!(entries(&good).unwrap(), vec![b"a".to_vec(), b"1".to_vec()]);
        let mut bad_prevlen = good.clone();
        bad_prevlen[13] = 7;
        assert_eq!(entries(&bad_prevlen), Err(Error::BadData));
        let mut bad_tail = good.clone();
        bad_tail[4] = 10;
        assert_eq!(entries(&bad_tail), Err(Error::BadData));
        let mut bad_count = good;
        bad_count[8] = 5;
        assert_eq!(entries(&bad_count), Err(Error::BadData));
        assert_eq!(entries(&build(&[&[0xc1, 0, 0]])), Err(Error::BadData));
        assert_eq!(entries(&build(&[&[0x05, b'a']])), Err(Error::BadData));
    }
}
