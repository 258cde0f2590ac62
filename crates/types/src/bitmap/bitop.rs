//! BITOP, computed one 1 KiB fragment at a time so that sparse bitmaps
//! cost only their stored fragments (except NOT, whose result has a set
//! bit in every fragment of an all-zero range).

use super::{Bits, FRAGMENT};
use crate::database::{Database, Record};
use crate::error::Result;
use basalt_engine::{ColumnFamily, RedisType, WriteBatch};
use std::collections::BTreeSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
    /// X and not (Y1 or Y2 ...): bits of the first key set in none of the others.
    Diff,
    /// (Y1 or Y2 ...) and not X.
    Diff1,
    /// X and (Y1 or Y2 ...).
    AndOr,
    /// Bits set in exactly one key.
    One,
}

impl BitOp {
    pub fn parse(name: &[u8]) -> Option<BitOp> {
        let ops = [
            ("and", BitOp::And),
            ("or", BitOp::Or),
            ("xor", BitOp::Xor),
            ("not", BitOp::Not),
            ("diff", BitOp::Diff),
            ("diff1", BitOp::Diff1),
            ("andor", BitOp::AndOr),
            ("one", BitOp::One),
        ];
        ops.iter()
            .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
            .map(|&(_, op)| op)
    }

    /// One result byte from the sources' bytes at one offset.
    fn byte(self, src: impl Iterator<Item = u8>) -> u8 {
        let mut src = src;
        let first = src.next().unwrap_or(0);
        match self {
            BitOp::And => src.fold(first, |a, b| a & b),
            BitOp::Or => src.fold(first, |a, b| a | b),
            BitOp::Xor => src.fold(first, |a, b| a ^ b),
            BitOp::Not => !first,
            BitOp::Diff => first & !src.fold(0, |a, b| a | b),
            BitOp::Diff1 => !first & src.fold(0, |a, b| a | b),
            BitOp::AndOr => first & src.fold(0, |a, b| a | b),
            BitOp::One => {
                let (mut once, mut more) = (first, 0u8);
                for b in src {
                    more |= once & b;
                    once |= b;
                }
                once & !more
            }
        }
    }
}

/// What BITOP did to the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOpOutcome {
    /// Written, with this length in bytes.
    Stored(u64),
    /// Every source was empty or missing: the destination was deleted
    /// (`true`) or did not exist.
    Empty(bool),
}

impl Database {
    /// BITOP: `dest` becomes `op` over `sources` (missing keys are empty;
    /// shorter values are zero-padded to the longest). The result is a
    /// string when every source is a string, as in Redis, and a bitmap
    /// (zero fragments omitted) when any source is a bitmap.
    pub fn bitop(&self, op: BitOp, dest: &[u8], sources: &[&[u8]]) -> Result<BitOpOutcome> {
        let mut all = vec![dest];
        all.extend_from_slice(sources);
        let _guard = self.storage().locks().lock_many(&all);
        let mut srcs = Vec::with_capacity(sources.len());
        for key in sources {
            srcs.push(self.read_bits(key)?.unwrap_or_default());
        }
        let len = srcs.iter().map(Bits::len).max().unwrap_or(0);
        let old = self.read(dest)?;
        let mut batch = WriteBatch::default();
        if len == 0 {
            let Some(old) = old else {
                return Ok(BitOpOutcome::Empty(false));
            };
            self.storage()
                .delete(&mut batch, ColumnFamily::Metadata, &self.metadata_key(dest));
            self.storage().write(batch)?;
            self.reclaim(dest, &old.metadata);
            return Ok(BitOpOutcome::Empty(true));
        }
        let fragments = len.div_ceil(FRAGMENT);
        let compute = |index: u64| -> Vec<u8> {
            let frags: Vec<_> = srcs.iter().map(|s| s.fragment(index)).collect();
            let n = (len - index * FRAGMENT).min(FRAGMENT) as usize;
            (0..n)
                .map(|j| op.byte(frags.iter().map(|f| f.get(j).copied().unwrap_or(0))))
                .collect()
        };
        if srcs.iter().any(Bits::is_bitmap) {
            let mut record = Record::new_collection(RedisType::Bitmap, 0);
            record.metadata.size = len;
            let version = record.metadata.version;
            // All-zero sources give an all-zero result except under NOT.
            let indexes: BTreeSet<u64> = if op == BitOp::Not {
                (0..fragments).collect()
            } else {
                srcs.iter().flat_map(Bits::stored_fragments).collect()
            };
            for index in indexes {
                let bytes = compute(index);
                if bytes.iter().any(|&b| b != 0) {
                    self.put_fragment(&mut batch, dest, version, index * FRAGMENT, &bytes);
                }
            }
            self.put_record(&mut batch, dest, &record);
        } else {
            let mut out = Vec::with_capacity(len as usize);
            for index in 0..fragments {
                out.extend(compute(index));
            }
            self.put_string(&mut batch, dest, 0, &out);
        }
        self.storage().write(batch)?;
        if let Some(old) = old {
            self.reclaim(dest, &old.metadata);
        }
        Ok(BitOpOutcome::Stored(len))
    }
}
