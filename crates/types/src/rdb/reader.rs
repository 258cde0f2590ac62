//! A bounds-checked cursor over a payload, with RDB's length and string
//! encodings. Every read fails with `BadData` instead of reading past the
//! end, so a hostile payload can only be refused, never crash the server.

use super::Error;

/// Longest string an LZF header may claim: Redis's proto-max-bulk-len
/// default. Checked before anything is allocated for it.
const MAX_LZF_OUTPUT: u64 = 512 << 20;

/// LZF turns a 3-byte back reference into at most 264 bytes; an output
/// length beyond this ratio cannot come from the input, and refusing it
/// first keeps a forged header from making us allocate gigabytes.
const MAX_LZF_RATIO: u64 = 88;

pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// An RDB length or, with its two top bits set, a special string encoding.
pub enum Len {
    Plain(u64),
    Encoded(u8),
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub fn bytes(&mut self, n: u64) -> Result<&'a [u8], Error> {
        let n = usize::try_from(n).map_err(|_| Error::BadData)?;
        if n > self.remaining() {
            return Err(Error::BadData);
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N as u64)?);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.array::<1>()?[0])
    }

    pub fn len_or_encoding(&mut self) -> Result<Len, Error> {
        let first = self.u8()?;
        Ok(match first >> 6 {
            0 => Len::Plain(u64::from(first & 0x3f)),
            1 => Len::Plain((u64::from(first & 0x3f) << 8) | u64::from(self.u8()?)),
            2 => match first {
                0x80 => Len::Plain(u64::from(u32::from_be_bytes(self.array()?))),
                0x81 => Len::Plain(u64::from_be_bytes(self.array()?)),
                _ => return Err(Error::BadData),
            },
            _ => Len::Encoded(first & 0x3f),
        })
    }

    /// A length; a string encoding where a length belongs is corrupt.
    pub fn len(&mut self) -> Result<u64, Error> {
        match self.len_or_encoding()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(_) => Err(Error::BadData),
        }
    }

    /// A collection's element (or node) count. Each element takes at
    /// least one byte, so a count beyond the bytes left is corrupt:
    /// refusing it here keeps a forged count from driving a long loop or
    /// sizing an allocation.
    pub fn count(&mut self) -> Result<u64, Error> {
        let n = self.len()?;
        if n > self.remaining() as u64 {
            return Err(Error::BadData);
        }
        Ok(n)
    }

    /// An RDB string: raw, integer-encoded (8, 16 or 32 bits) or
    /// LZF-compressed.
    pub fn string(&mut self) -> Result<Vec<u8>, Error> {
        match self.len_or_encoding()? {
            Len::Plain(n) => Ok(self.bytes(n)?.to_vec()),
            Len::Encoded(0) => Ok((self.u8()? as i8).to_string().into_bytes()),
            Len::Encoded(1) => Ok(i16::from_le_bytes(self.array()?).to_string().into_bytes()),
            Len::Encoded(2) => Ok(i32::from_le_bytes(self.array()?).to_string().into_bytes()),
            Len::Encoded(3) => {
                let compressed_len = self.len()?;
                let len = self.len()?;
                let compressed = self.bytes(compressed_len)?;
                lzf_decompress(compressed, len)
            }
            Len::Encoded(_) => Err(Error::BadData),
        }
    }

    /// RDB_TYPE_ZSET_2's score: a little-endian IEEE 754 double.
    pub fn binary_double(&mut self) -> Result<f64, Error> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// The old RDB_TYPE_ZSET's score: a length byte and the score as text,
    /// with 253, 254 and 255 standing for NaN, +inf and -inf.
    pub fn text_double(&mut self) -> Result<f64, Error> {
        match self.u8()? {
            255 => Ok(f64::NEG_INFINITY),
            254 => Ok(f64::INFINITY),
            253 => Ok(f64::NAN),
            n => {
                let text = self.bytes(u64::from(n))?;
                crate::sort::parse_score(text).ok_or(Error::BadData)
            }
        }
    }
}

fn lzf_decompress(compressed: &[u8], len: u64) -> Result<Vec<u8>, Error> {
    let max = (compressed.len() as u64).saturating_mul(MAX_LZF_RATIO);
    if len == 0 || len > max || len > MAX_LZF_OUTPUT {
        return Err(Error::BadData);
    }
    let out = lzf::decompress(compressed, len as usize).map_err(|_| Error::BadData)?;
    if out.len() as u64 != len {
        return Err(Error::BadData);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_strings() {
        let mut r = Reader::new(&[0x05, 0x41, 0x02, 0x80, 0, 0, 1, 0, 0xc0, 0xfe]);
        assert_eq!(r.len().unwrap(), 5);
        assert_eq!(r.len().unwrap(), 0x102);
        assert_eq!(r.len().unwrap(), 256);
        assert_eq!(r.string().unwrap(), b"-2");
        assert!(r.is_empty());
        assert_eq!(r.u8(), Err(Error::BadData));
        // 0x82 is no length encoding.
        assert_eq!(Reader::new(&[0x82, 0, 0]).len(), Err(Error::BadData));
    }

    #[test]
    fn lzf_strings() {
        // "aaaaaaaaaa": literal 'a', then a back reference of 9 at distance 1.
        let payload = [0xc3, 0x05, 0x0a, 0x00, b'a', 0xe0, 0x00, 0x00];
        assert_eq!(Reader::new(&payload).string().unwrap(), b"aaaaaaaaaa");
        let mut wrong_len = payload;
        wrong_len[2] = 11;
        assert_eq!(Reader::new(&wrong_len).string(), Err(Error::BadData));
        // A claimed output far beyond what the input can expand to.
        let huge = [0xc3, 0x02, 0x81, 0, 0, 0, 1, 0, 0, 0, 0, 0x00, b'a'];
        assert_eq!(Reader::new(&huge).string(), Err(Error::BadData));
    }
}
