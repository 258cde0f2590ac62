//! Stream entry ids: `ms-seq`, both unsigned 64-bit, ordered by (ms, seq).

use std::fmt;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// The next id, `None` after the last possible one.
    pub fn next(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    /// The previous id, `None` before 0-0.
    pub fn prev(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }

    /// The 16-byte subkey: big-endian ms then seq, so bytewise order is id
    /// order.
    pub fn encode(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.ms.to_be_bytes());
        out[8..].copy_from_slice(&self.seq.to_be_bytes());
        out
    }

    pub fn decode(raw: &[u8]) -> Option<StreamId> {
        let ms = u64::from_be_bytes(raw.get(..8)?.try_into().ok()?);
        let seq = u64::from_be_bytes(raw.get(8..16)?.try_into().ok()?);
        Some(StreamId { ms, seq })
    }

    /// Redis's id syntax: `ms` (the sequence is then `missing_seq`) or
    /// `ms-seq`, decimal without sign. `-` and `+` are handled by callers.
    pub fn parse(arg: &[u8], missing_seq: u64) -> Option<StreamId> {
        // Redis copies the argument into a 128-byte buffer first.
        if arg.len() > 127 {
            return None;
        }
        match arg.iter().position(|&b| b == b'-') {
            Some(dash) => Some(StreamId {
                ms: parse_u64(&arg[..dash])?,
                seq: parse_u64(&arg[dash + 1..])?,
            }),
            None => Some(StreamId {
                ms: parse_u64(arg)?,
                seq: missing_seq,
            }),
        }
    }
}

/// Redis's `string2ull`: plain decimal digits that fit in 64 bits.
fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 20 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        assert_eq!(StreamId::parse(b"5", 0), Some(StreamId::new(5, 0)));
        assert_eq!(
            StreamId::parse(b"5", u64::MAX),
            Some(StreamId::new(5, u64::MAX))
        );
        assert_eq!(StreamId::parse(b"5-7", 0), Some(StreamId::new(5, 7)));
        assert_eq!(
            StreamId::parse(b"18446744073709551615-18446744073709551615", 0),
            Some(StreamId::MAX)
        );
        for bad in [
            &b""[..],
            b"-",
            b"1-",
            b"-1",
            b"a-1",
            b"1-2-3",
            b"18446744073709551616",
            b"+1",
            b" 1",
        ] {
            assert_eq!(StreamId::parse(bad, 0), None, "{:?}", bad);
        }
    }

    #[test]
    fn next_and_prev_wrap_at_the_edges() {
        assert_eq!(StreamId::new(1, u64::MAX).next(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.next(), None);
        assert_eq!(StreamId::new(2, 0).prev(), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(StreamId::MIN.prev(), None);
    }

    #[test]
    fn encoding_sorts_like_ids() {
        let a = StreamId::new(1, u64::MAX);
        let b = StreamId::new(2, 0);
        assert!(a.encode() < b.encode());
        assert_eq!(StreamId::decode(&b.encode()), Some(b));
    }
}
