//! FUNCTION DUMP / RESTORE payloads in Redis's format, so a dump taken
//! from redis-server restores here and back:
//! `(0xF5 rdb-string(library code))* | u16 LE RDB version | u64 LE CRC64`,
//! the CRC (Jones polynomial, CRC_64_REDIS) covering everything before it.

use crc::{Crc, CRC_64_REDIS};

/// RDB_OPCODE_FUNCTION2.
const OPCODE_FUNCTION: u8 = 245;
/// The RDB version we write (Redis 7.2's); we read up to this one.
pub const RDB_VERSION: u16 = 11;

const CRC64: Crc<u64> = Crc::<u64>::new(&CRC_64_REDIS);

/// A payload holding the libraries' code.
pub fn dump<'a>(libraries: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for code in libraries {
        out.push(OPCODE_FUNCTION);
        write_len(code.len(), &mut out);
        out.extend_from_slice(code);
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = CRC64.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The library codes in a payload; `Err` carries Redis's error text.
pub fn restore(payload: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let bad = || "ERR DUMP payload version or checksum are wrong".to_string();
    if payload.len() < 10 {
        return Err(bad());
    }
    let (body, footer) = payload.split_at(payload.len() - 10);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    let crc = u64::from_le_bytes(footer[2..10].try_into().map_err(|_| bad())?);
    if version > RDB_VERSION || CRC64.checksum(&payload[..payload.len() - 8]) != crc {
        return Err(bad());
    }
    let mut libraries = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        if body[pos] != OPCODE_FUNCTION {
            return Err("ERR given type is not a function".into());
        }
        pos += 1;
        let code = read_string(body, &mut pos).ok_or_else(|| "ERR Bad data format".to_string())?;
        libraries.push(code);
    }
    Ok(libraries)
}

fn write_len(len: usize, out: &mut Vec<u8>) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.push(0x40 | (len >> 8) as u8);
        out.push(len as u8);
    } else if len <= u32::MAX as usize {
        out.push(0x80);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

/// An RDB length; `Ok((n, true))` for a special encoding (`n` = its type).
fn read_len(b: &[u8], pos: &mut usize) -> Option<(u64, bool)> {
    let first = *b.get(*pos)?;
    *pos += 1;
    match first >> 6 {
        0 => Some(((first & 0x3f) as u64, false)),
        1 => {
            let second = *b.get(*pos)?;
            *pos += 1;
            Some(((((first & 0x3f) as u64) << 8) | second as u64, false))
        }
        2 => {
            let n = match first {
                0x80 => 4,
                0x81 => 8,
                _ => return None,
            };
            let bytes = b.get(*pos..*pos + n)?;
            *pos += n;
            Some((bytes.iter().fold(0u64, |a, &x| (a << 8) | x as u64), false))
        }
        _ => Some(((first & 0x3f) as u64, true)),
    }
}

/// An RDB string: raw, integer-encoded or LZF-compressed.
fn read_string(b: &[u8], pos: &mut usize) -> Option<Vec<u8>> {
    let (len, special) = read_len(b, pos)?;
    if !special {
        let s = b.get(*pos..*pos + len as usize)?.to_vec();
        *pos += len as usize;
        return Some(s);
    }
    match len {
        0 => {
            let v = *b.get(*pos)? as i8;
            *pos += 1;
            Some(v.to_string().into_bytes())
        }
        1 => {
            let v = i16::from_le_bytes(b.get(*pos..*pos + 2)?.try_into().ok()?);
            *pos += 2;
            Some(v.to_string().into_bytes())
        }
        2 => {
            let v = i32::from_le_bytes(b.get(*pos..*pos + 4)?.try_into().ok()?);
            *pos += 4;
            Some(v.to_string().into_bytes())
        }
        3 => {
            let (clen, _) = read_len(b, pos)?;
            let (ulen, _) = read_len(b, pos)?;
            let compressed = b.get(*pos..*pos + clen as usize)?;
            *pos += clen as usize;
            lzf_decompress(compressed, ulen as usize)
        }
        _ => None,
    }
}

/// LZF decompression (liblzf's format, used by RDB strings).
fn lzf_decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(out_len);
    let mut i = 0;
    while i < input.len() {
        let ctrl = input[i] as usize;
        i += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            out.extend_from_slice(input.get(i..i + n)?);
            i += n;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(i)? as usize;
                i += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + *input.get(i)? as usize + 1;
            i += 1;
            let start = out.len().checked_sub(back)?;
            for k in 0..len + 2 {
                let c = out[start + k];
                out.push(c);
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restores_a_redis_7_dump() {
        // FUNCTION DUMP from redis-server 7.0.15 (RDB version 10).
        let code = "#!lua name=a\nredis.register_function('f', function() return 1 end)";
        let mut payload = vec![0xf5, 0x40, 0x42];
        payload.extend_from_slice(code.as_bytes());
        payload.extend_from_slice(&[0x0a, 0x00, 0xe3, 0xd1, 0xb9, 0x83, 0x19, 0xf4, 0xe3, 0x84]);
        assert_eq!(restore(&payload).unwrap(), vec![code.as_bytes().to_vec()]);
        let mut bad = payload.clone();
        bad[5] ^= 1;
        assert_eq!(
            restore(&bad).unwrap_err(),
            "ERR DUMP payload version or checksum are wrong"
        );
    }

    #[test]
    fn round_trip() {
        let long = "x".repeat(20000);
        let libs = [b"#!lua name=a\n".as_slice(), long.as_bytes()];
        let payload = dump(libs);
        assert_eq!(
            restore(&payload).unwrap(),
            libs.iter().map(|l| l.to_vec()).collect::<Vec<_>>()
        );
        assert_eq!(restore(&dump([])).unwrap(), Vec::<Vec<u8>>::new());
    }

    #[test]
    fn lzf() {
        // "aaaaaaaaaa": literal 'a' then a back reference of 9 at distance 1.
        assert_eq!(
            lzf_decompress(&[0x00, b'a', 0xe0, 0x00, 0x00], 10).unwrap(),
            b"aaaaaaaaaa"
        );
        assert_eq!(lzf_decompress(&[0x00, b'a', 0xe0, 0x00, 0x00], 11), None);
        assert_eq!(
            lzf_decompress(&[0x00, b'a', 0xc0, 0x00], 9).unwrap(),
            b"aaaaaaaaa"
        );
    }
}
