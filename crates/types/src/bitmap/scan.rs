//! BITCOUNT and BITPOS over a byte or bit range, with Redis's rules for
//! negative and out-of-range indexes. Both walk only the stored runs of a
//! sparse bitmap, so a range of zeros costs nothing.

use super::{Bits, Run};

/// Whether a range's indexes count bytes (the default) or bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitUnit {
    Byte,
    Bit,
}

/// A range resolved to bit offsets `first..=last`, both inside the value.
struct BitRange {
    first: u64,
    last: u64,
}

/// Redis's clamping: negative indexes count from the end, then both are
/// clamped into the value. `None` for an empty range.
fn resolve(len: u64, start: i64, end: i64, unit: BitUnit) -> Option<BitRange> {
    let total = match unit {
        BitUnit::Byte => len as i64,
        BitUnit::Bit => (len as i64) << 3,
    };
    let fix = |i: i64| if i < 0 { (total + i).max(0) } else { i };
    let (start, end) = (fix(start), fix(end).min(total - 1));
    if start > end {
        return None;
    }
    Some(match unit {
        BitUnit::Byte => BitRange {
            first: (start as u64) << 3,
            last: ((end as u64) << 3) | 7,
        },
        BitUnit::Bit => BitRange {
            first: start as u64,
            last: end as u64,
        },
    })
}

/// The bits of `byte` (at byte offset `at`) that lie in `first..=last`.
fn in_range(byte: u8, at: u64, first: u64, last: u64) -> u8 {
    let lo = first.saturating_sub(at << 3);
    let hi = last.saturating_sub(at << 3);
    let mut mask = 0xffu8;
    if lo > 0 {
        mask &= 0xff >> lo.min(8);
    }
    if hi < 7 {
        mask &= !(0xffu8 >> (hi + 1));
    }
    byte & mask
}

impl Bits {
    /// BITCOUNT with an optional range.
    pub fn count(&self, range: Option<(i64, i64, BitUnit)>) -> u64 {
        let r = match range {
            None if self.len == 0 => return 0,
            None => BitRange {
                first: 0,
                last: (self.len << 3) - 1,
            },
            Some((start, end, unit)) => {
                if start < 0 && end < 0 && start > end {
                    return 0;
                }
                match resolve(self.len, start, end, unit) {
                    Some(r) => r,
                    None => return 0,
                }
            }
        };
        let (first_byte, last_byte) = (r.first >> 3, r.last >> 3);
        let mut count = 0u64;
        for (_, run) in self.runs(first_byte, last_byte + 1) {
            if let Run::Stored(bytes) = run {
                count += bytes.iter().map(|b| b.count_ones() as u64).sum::<u64>();
            }
        }
        // Edge bytes only partly inside a bit range.
        let edges = if first_byte == last_byte {
            &[first_byte][..]
        } else {
            &[first_byte, last_byte][..]
        };
        for &pos in edges {
            let b = self.byte(pos);
            count -= (b & !in_range(b, pos, r.first, r.last)).count_ones() as u64;
        }
        count
    }

    /// BITPOS: the first bit equal to `bit` in the range, Redis's answer
    /// when there is none (-1, or the bit just past the value when looking
    /// for a 0 with no explicit end).
    pub fn pos(&self, bit: bool, start: Option<i64>, end: Option<i64>, unit: BitUnit) -> i64 {
        let end_given = end.is_some();
        let r = match start {
            None if self.len == 0 => return -1,
            None => BitRange {
                first: 0,
                last: (self.len << 3) - 1,
            },
            Some(start) => {
                let end = end.unwrap_or(match unit {
                    BitUnit::Byte => self.len as i64 - 1,
                    BitUnit::Bit => ((self.len as i64) << 3) + 7,
                });
                match resolve(self.len, start, end, unit) {
                    Some(r) => r,
                    None => return -1,
                }
            }
        };
        let (first_byte, last_byte) = (r.first >> 3, r.last >> 3);
        for (at, run) in self.runs(first_byte, last_byte + 1) {
            match run {
                Run::Zeros(_) if !bit => return (at << 3).max(r.first) as i64,
                Run::Zeros(_) => {}
                Run::Stored(bytes) => {
                    for (i, &b) in bytes.iter().enumerate() {
                        let pos = at + i as u64;
                        let edge = pos == first_byte || pos == last_byte;
                        let wanted = if bit { b } else { !b };
                        if wanted == 0 {
                            continue;
                        }
                        let wanted = if edge {
                            in_range(wanted, pos, r.first, r.last)
                        } else {
                            wanted
                        };
                        if wanted != 0 {
                            return (pos * 8 + wanted.leading_zeros() as u64) as i64;
                        }
                    }
                }
            }
        }
        if bit || end_given {
            -1
        } else {
            ((last_byte + 1) * 8) as i64
        }
    }
}
