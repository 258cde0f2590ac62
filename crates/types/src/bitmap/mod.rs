//! Bit commands over both kinds of key that hold bits: strings, operated
//! on in place as Redis does, and Kvrocks' sparse bitmap type (type 6).
//!
//! A bitmap keeps its bytes in fragments of up to 1 KiB, each a subkey
//! named by the decimal ASCII of the fragment's first byte offset (0, 1024,
//! 2048, ...), with the bits of each byte stored LSB-first (Kvrocks'
//! layout); `metadata.size` is the logical byte length. Only fragments
//! holding a set bit are stored, so a bitmap with one bit at offset 4e9
//! costs one fragment. Commands see both kinds through [`Bits`], in Redis's
//! order (bit 0 is the high bit of byte 0).

pub mod bitop;
pub mod field;
mod scan;
mod store;

pub use bitop::BitOp;
pub use field::{FieldOp, FieldType, Overflow};
pub use scan::BitUnit;

use std::collections::BTreeMap;

/// Bytes per fragment.
pub const FRAGMENT: u64 = 1024;

/// A key's bytes as the bit commands see them, in Redis's bit order.
/// Stored runs (`chunks`, keyed by their first byte offset, never
/// overlapping) may be shorter than the gaps between them; every byte
/// below `len` that no run covers is zero.
#[derive(Clone, Debug, Default)]
pub struct Bits {
    len: u64,
    chunks: BTreeMap<u64, Vec<u8>>,
    /// A bitmap (fragments) rather than a string (one run at 0).
    fragmented: bool,
}

/// One stretch of a byte range: stored bytes, or `len` zero bytes.
enum Run<'a> {
    Stored(&'a [u8]),
    Zeros(u64),
}

impl Bits {
    pub fn from_string(value: Vec<u8>) -> Bits {
        let mut chunks = BTreeMap::new();
        let len = value.len() as u64;
        if !value.is_empty() {
            chunks.insert(0, value);
        }
        Bits {
            len,
            chunks,
            fragmented: false,
        }
    }

    fn fragmented(len: u64) -> Bits {
        Bits {
            len,
            chunks: BTreeMap::new(),
            fragmented: true,
        }
    }

    /// Logical length in bytes (STRLEN).
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_bitmap(&self) -> bool {
        self.fragmented
    }

    /// The byte at `i` (zero past the end).
    pub fn byte(&self, i: u64) -> u8 {
        match self.chunks.range(..=i).next_back() {
            Some((start, c)) => c.get((i - start) as usize).copied().unwrap_or(0),
            None => 0,
        }
    }

    /// The runs covering bytes `[start, end)` in order.
    fn runs(&self, start: u64, end: u64) -> Vec<(u64, Run<'_>)> {
        let mut out = Vec::new();
        let mut at = start;
        let first = self.chunks.range(..=start).next_back();
        let rest = self.chunks.range(start.saturating_add(1)..end);
        for (&cstart, chunk) in first.into_iter().chain(rest) {
            let cend = (cstart + chunk.len() as u64).min(end);
            if cend <= at {
                continue;
            }
            if cstart > at {
                out.push((at, Run::Zeros(cstart - at)));
                at = cstart;
            }
            let from = (at - cstart) as usize;
            out.push((at, Run::Stored(&chunk[from..(cend - cstart) as usize])));
            at = cend;
        }
        if at < end {
            out.push((at, Run::Zeros(end - at)));
        }
        out
    }

    /// Bytes `[start, end)` as one buffer (GET, GETRANGE of a bitmap).
    pub fn to_vec(&self, start: u64, end: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(end.saturating_sub(start) as usize);
        for (_, run) in self.runs(start, end) {
            match run {
                Run::Stored(s) => out.extend_from_slice(s),
                Run::Zeros(n) => out.resize(out.len() + n as usize, 0),
            }
        }
        out
    }

    /// Sets the byte at `i`, growing the value to cover it.
    fn set_byte(&mut self, i: u64, value: u8) {
        self.len = self.len.max(i + 1);
        if self.fragmented {
            let start = i / FRAGMENT * FRAGMENT;
            let chunk = self
                .chunks
                .entry(start)
                .or_insert_with(|| vec![0; FRAGMENT as usize]);
            if chunk.len() < FRAGMENT as usize {
                chunk.resize(FRAGMENT as usize, 0);
            }
            chunk[(i - start) as usize] = value;
        } else {
            let chunk = self.chunks.entry(0).or_default();
            if chunk.len() as u64 <= i {
                chunk.resize(i as usize + 1, 0);
            }
            chunk[i as usize] = value;
        }
    }

    /// Grows the logical length to `len` bytes (zero-padded).
    fn grow(&mut self, len: u64) {
        if len > self.len {
            if self.fragmented {
                self.len = len;
            } else {
                self.set_byte(len - 1, self.byte(len - 1));
            }
        }
    }

    /// The string value of a non-bitmap.
    fn into_string(mut self) -> Vec<u8> {
        let mut v = self.chunks.remove(&0).unwrap_or_default();
        v.resize(self.len as usize, 0);
        v
    }

    /// The bytes of fragment `index` that are stored (a prefix of the
    /// fragment, or nothing when it is all zeros).
    fn fragment(&self, index: u64) -> std::borrow::Cow<'_, [u8]> {
        let start = index * FRAGMENT;
        let end = (start + FRAGMENT).min(self.len);
        if start >= end {
            return std::borrow::Cow::Borrowed(&[]);
        }
        if self.fragmented {
            let c = self.chunks.get(&start).map_or(&[][..], |c| &c[..]);
            return std::borrow::Cow::Borrowed(&c[..c.len().min((end - start) as usize)]);
        }
        let c = self.chunks.get(&0).map_or(&[][..], |c| &c[..]);
        let hi = (end as usize).min(c.len());
        std::borrow::Cow::Borrowed(c.get(start as usize..hi).unwrap_or(&[]))
    }

    /// Indexes of the fragments that hold any stored byte.
    fn stored_fragments(&self) -> impl Iterator<Item = u64> + '_ {
        self.chunks.iter().flat_map(|(&start, c)| {
            let end = (start + c.len() as u64).min(self.len);
            let first = start / FRAGMENT;
            let last = if end > start {
                (end - 1) / FRAGMENT + 1
            } else {
                first
            };
            first..last
        })
    }
}

/// Kvrocks stores a byte's bits LSB-first; Redis's order is MSB-first.
fn swap_bit_order(bytes: &mut [u8]) {
    for b in bytes {
        *b = b.reverse_bits();
    }
}

#[cfg(test)]
mod tests;
