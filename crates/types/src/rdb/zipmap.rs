//! Zipmap, the small-hash encoding of Redis 2.x that Redis 7 still loads:
//! `count u8 | (len key len free value free-bytes)* | 0xFF`, where a
//! length is one byte below 254, else 254 and a u32 LE.

use super::Error;
use crate::hash::FieldValue;

const END: u8 = 0xff;
const BIG_LEN: u8 = 254;

/// The field/value pairs of a zipmap.
pub fn pairs(zm: &[u8]) -> Result<Vec<FieldValue>, Error> {
    if zm.len() < 2 || zm[zm.len() - 1] != END {
        return Err(Error::BadData);
    }
    let end = zm.len() - 1;
    let mut pos = 1;
    let mut out = Vec::new();
    while pos < end {
        let field = take(zm, &mut pos, end, 0)?;
        let len = length(zm, &mut pos, end)?;
        let free = usize::from(*zm.get(pos).filter(|_| pos < end).ok_or(Error::BadData)?);
        pos += 1;
        let value = zm.get(pos..pos + len).filter(|_| pos + len + free <= end);
        let value = value.ok_or(Error::BadData)?.to_vec();
        pos += len + free;
        out.push((field, value));
    }
    if out.is_empty() || (zm[0] != BIG_LEN && usize::from(zm[0]) != out.len()) {
        return Err(Error::BadData);
    }
    Ok(out)
}

fn length(zm: &[u8], pos: &mut usize, end: usize) -> Result<usize, Error> {
    let first = *zm.get(*pos).filter(|_| *pos < end).ok_or(Error::BadData)?;
    if first < BIG_LEN {
        *pos += 1;
        return Ok(usize::from(first));
    }
    let raw = zm
        .get(*pos + 1..*pos + 5)
        .filter(|_| *pos + 5 <= end)
        .ok_or(Error::BadData)?;
    *pos += 5;
    Ok(u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize)
}

/// A length-prefixed string followed by `free` unused bytes.
fn take(zm: &[u8], pos: &mut usize, end: usize, free: usize) -> Result<Vec<u8>, Error> {
    let len = length(zm, pos, end)?;
    let data = zm
        .get(*pos..*pos + len)
        .filter(|_| *pos + len + free <= end);
    let data = data.ok_or(Error::BadData)?.to_vec();
    *pos += len + free;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_and_validation() {
        // {"foo" => "bar", "hello" => "world"} with 2 free bytes after "bar".
        let zm = b"\x02\x03foo\x03\x02barxx\x05hello\x05\x00world\xff";
        assert_eq!(
            pairs(zm).unwrap(),
            vec![
                (b"foo".to_vec(), b"bar".to_vec()),
                (b"hello".to_vec(), b"world".to_vec())
            ]
        );
        let mut wrong_count = zm.to_vec();
        wrong_count[0] = 3;
        assert_eq!(pairs(&wrong_count), Err(Error::BadData));
        assert_eq!(pairs(b"\x01\x03foo\x03\x00ba\xff"), Err(Error::BadData));
        assert_eq!(pairs(b"\x00\xff"), Err(Error::BadData));
    }
}
