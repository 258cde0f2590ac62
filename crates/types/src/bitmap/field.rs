//! BITFIELD: integers of 1 to 64 bits at any bit offset, with Redis's
//! overflow rules (WRAP, SAT, FAIL) reproduced operation for operation.

use super::store::fragments_of;
use super::Bits;
use crate::database::Database;
use crate::error::Result;
use basalt_engine::WriteBatch;
use std::collections::BTreeSet;

/// `i1`..`i64` or `u1`..`u63`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldType {
    pub signed: bool,
    pub bits: u32,
}

impl FieldType {
    /// Parses `i16`, `u8`, ...; u64 is refused as in Redis (its values
    /// could not all be returned as RESP integers).
    pub fn parse(arg: &[u8]) -> Option<FieldType> {
        let signed = match arg.first()? {
            b'i' => true,
            b'u' => false,
            _ => return None,
        };
        let bits: i64 = crate::number::parse_i64(&arg[1..])?;
        let max = if signed { 64 } else { 63 };
        (1..=max).contains(&bits).then_some(FieldType {
            signed,
            bits: bits as u32,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Overflow {
    #[default]
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldAction {
    Get,
    Set(i64),
    IncrBy(i64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldOp {
    pub action: FieldAction,
    pub ty: FieldType,
    pub offset: u64,
    pub overflow: Overflow,
}

impl FieldOp {
    fn writes(&self) -> bool {
        self.action != FieldAction::Get
    }

    fn last_bit(&self) -> u64 {
        self.offset + self.ty.bits as u64 - 1
    }
}

fn get_unsigned(bits: &Bits, offset: u64, n: u32) -> u64 {
    let mut value = 0u64;
    for j in 0..n as u64 {
        let at = offset + j;
        let bit = (bits.byte(at >> 3) >> (7 - (at & 7))) & 1;
        value = (value << 1) | bit as u64;
    }
    value
}

fn get_signed(bits: &Bits, offset: u64, n: u32) -> i64 {
    let v = get_unsigned(bits, offset, n);
    if n < 64 && v & (1 << (n - 1)) != 0 {
        (v | (u64::MAX << n)) as i64
    } else {
        v as i64
    }
}

fn set_unsigned(bits: &mut Bits, offset: u64, n: u32, value: u64) {
    for j in 0..n as u64 {
        let on = value & (1 << (n as u64 - 1 - j)) != 0;
        let at = offset + j;
        let mask = 0x80u8 >> (at & 7);
        let b = bits.byte(at >> 3);
        bits.set_byte(at >> 3, if on { b | mask } else { b & !mask });
    }
}

/// Redis's checkUnsignedBitfieldOverflow: `Some(result)` on overflow
/// (the wrapped or saturated value; unused for FAIL).
fn unsigned_overflow(value: u64, incr: i64, n: u32, ow: Overflow) -> Option<u64> {
    let max = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = (value as i64).wrapping_neg();
    let wrap = || value.wrapping_add(incr as u64) & !(u64::MAX.checked_shl(n).unwrap_or(0));
    if value > max || (incr > 0 && incr > maxincr) {
        Some(match ow {
            Overflow::Wrap => wrap(),
            _ => max,
        })
    } else if incr < 0 && incr < minincr {
        Some(match ow {
            Overflow::Wrap => wrap(),
            _ => 0,
        })
    } else {
        None
    }
}

/// Redis's checkSignedBitfieldOverflow.
fn signed_overflow(value: i64, incr: i64, n: u32, ow: Overflow) -> Option<i64> {
    let max = if n == 64 {
        i64::MAX
    } else {
        (1i64 << (n - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let c = (value as u64).wrapping_add(incr as u64);
        if n < 64 {
            let mask = u64::MAX << n;
            if c & (1 << (n - 1)) != 0 {
                (c | mask) as i64
            } else {
                (c & !mask) as i64
            }
        } else {
            c as i64
        }
    };
    if value > max || (n != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        Some(match ow {
            Overflow::Wrap => wrap(),
            _ => max,
        })
    } else if value < min
        || (n != 64 && incr < minincr)
        || (value < 0 && incr < 0 && incr < minincr)
    {
        Some(match ow {
            Overflow::Wrap => wrap(),
            _ => min,
        })
    } else {
        None
    }
}

/// Runs one write op: its reply (`None`: FAIL refused it) and whether it
/// changed the value.
fn apply(bits: &mut Bits, op: &FieldOp) -> (Option<i64>, bool) {
    let n = op.ty.bits;
    if op.ty.signed {
        let old = get_signed(bits, op.offset, n);
        let (new, reply, overflow) = match op.action {
            FieldAction::IncrBy(incr) => {
                let o = signed_overflow(old, incr, n, op.overflow);
                let new = o.unwrap_or(old.wrapping_add(incr));
                (new, new, o.is_some())
            }
            FieldAction::Set(v) => {
                let o = signed_overflow(v, 0, n, op.overflow);
                (o.unwrap_or(v), old, o.is_some())
            }
            FieldAction::Get => return (Some(old), false),
        };
        if overflow && op.overflow == Overflow::Fail {
            return (None, false);
        }
        set_unsigned(bits, op.offset, n, new as u64);
        (Some(reply), old != new)
    } else {
        let old = get_unsigned(bits, op.offset, n);
        let (new, reply, overflow) = match op.action {
            FieldAction::IncrBy(incr) => {
                let o = unsigned_overflow(old, incr, n, op.overflow);
                let new = o.unwrap_or(old.wrapping_add(incr as u64));
                (new, new, o.is_some())
            }
            FieldAction::Set(v) => {
                let o = unsigned_overflow(v as u64, 0, n, op.overflow);
                (o.unwrap_or(v as u64), old, o.is_some())
            }
            FieldAction::Get => return (Some(old as i64), false),
        };
        if overflow && op.overflow == Overflow::Fail {
            return (None, false);
        }
        set_unsigned(bits, op.offset, n, new);
        (Some(reply as i64), old != new)
    }
}

/// What BITFIELD did: a reply per op and how many ops changed the value
/// (Redis signals and counts the write only when some did).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FieldOutcome {
    pub replies: Vec<Option<i64>>,
    pub changes: u64,
}

impl Database {
    /// BITFIELD / BITFIELD_RO. Reads only the fragments the ops touch.
    /// With a write op, a missing key is created as a bitmap and the value
    /// first grows to cover the farthest bit written, as Redis grows the
    /// string before running the ops.
    pub fn bitfield(&self, key: &[u8], ops: &[FieldOp]) -> Result<FieldOutcome> {
        let highest = ops
            .iter()
            .filter(|o| o.writes())
            .map(FieldOp::last_bit)
            .max();
        let _guard = highest.map(|_| self.storage().locks().lock(key));
        let touched: BTreeSet<u64> = ops
            .iter()
            .flat_map(|o| fragments_of(o.offset >> 3, o.last_bit() >> 3))
            .collect();
        let (record, created) = match self.read(key)? {
            Some(r) => (r, false),
            None if highest.is_none() => {
                let replies = ops.iter().map(|o| apply(&mut Bits::default(), o).0);
                return Ok(FieldOutcome {
                    replies: replies.collect(),
                    changes: 0,
                });
            }
            None => (
                crate::database::Record::new_collection(basalt_engine::RedisType::Bitmap, 0),
                true,
            ),
        };
        let mut bits = self.load_bits(key, record.clone(), Some(&touched))?;
        let mut grew = created;
        if let Some(highest) = highest {
            let len = (highest >> 3) + 1;
            if len > bits.len {
                if !bits.fragmented {
                    self.check_bits_len(len)?;
                }
                bits.grow(len);
                grew = true;
            }
        }
        let mut out = FieldOutcome::default();
        for op in ops {
            let (reply, changed) = apply(&mut bits, op);
            out.replies.push(reply);
            if op.writes() && reply.is_some() && (changed || grew) {
                out.changes += 1;
            }
        }
        if highest.is_some() && (out.changes > 0 || grew) {
            let mut batch = WriteBatch::default();
            self.save_bits(&mut batch, key, record, bits, touched);
            self.storage().write(batch)?;
        }
        Ok(out)
    }
}
