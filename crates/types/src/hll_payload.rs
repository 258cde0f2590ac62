//! HyperLogLog values in Redis's own form, a string with the `HYLL`
//! header and dense or sparse registers. Redis keeps a HyperLogLog as that
//! string, so users GET it, SETRANGE it, DUMP it and SET it back; Basalt
//! keeps HyperLogLogs as Kvrocks' own type and converts here, both ways.
//!
//! Header (Redis `hyperloglog.c`): `HYLL`, the encoding byte (0 dense, 1
//! sparse), three unused bytes, and the cached cardinality as 8 bytes
//! little-endian whose top bit set means "stale".

use crate::hyperloglog::{get_register, Registers, REGISTERS};

const MAGIC: &[u8; 4] = b"HYLL";
pub const HEADER: usize = 16;
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
const DENSE_BYTES: usize = REGISTERS * 6 / 8;
/// The largest value a sparse VAL opcode can hold.
const SPARSE_VAL_MAX: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
/// Redis's default `hll-sparse-max-bytes`.
pub const DEFAULT_SPARSE_MAX_BYTES: u64 = 3000;

/// Why a string is not a usable HyperLogLog, in Redis's two answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// Not a HyperLogLog at all: WRONGTYPE (bad magic, unknown encoding, a
    /// dense body of the wrong length).
    NotHll,
    /// A sparse body whose opcodes do not cover exactly the registers:
    /// INVALIDOBJ.
    Corrupt,
}

/// A Redis HyperLogLog string, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub registers: Registers,
    /// The header's cached-cardinality field as stored.
    pub card: CardField,
}

/// The header's 8 bytes of cached cardinality, little-endian; the top bit
/// of the last byte marks the count stale, and Redis leaves the old count
/// in the other bits when it sets it, so the bytes are kept as they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CardField(pub [u8; 8]);

impl CardField {
    /// What Redis writes in a new HyperLogLog.
    pub const STALE: CardField = CardField([0, 0, 0, 0, 0, 0, 0, 0x80]);

    pub fn valid(count: u64) -> CardField {
        CardField((count & !(1 << 63)).to_le_bytes())
    }

    /// The cached count, if it is marked valid.
    pub fn cached(self) -> Option<u64> {
        (self.0[7] & 0x80 == 0).then(|| u64::from_le_bytes(self.0))
    }

    /// The same field marked stale (Redis's `HLL_INVALIDATE_CACHE`).
    pub fn invalidated(mut self) -> CardField {
        self.0[7] |= 0x80;
        self
    }
}

/// Redis's string for `registers`: sparse while every register fits a
/// sparse opcode and the whole string fits in `sparse_max` bytes, dense
/// otherwise, as Redis would have promoted it, with `card` in the header.
pub fn to_redis(registers: &Registers, card: CardField, sparse_max: u64) -> Vec<u8> {
    let sparse = sparse_body(registers, sparse_max.saturating_sub(HEADER as u64) as usize);
    let mut out = Vec::with_capacity(HEADER + sparse.as_ref().map_or(DENSE_BYTES, Vec::len));
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[if sparse.is_some() { SPARSE } else { DENSE }, 0, 0, 0]);
    out.extend_from_slice(&card.0);
    match sparse {
        Some(body) => out.extend_from_slice(&body),
        None => out.extend_from_slice(&registers.to_dense()),
    }
    out
}

/// The sparse opcodes for `registers`, `None` if a register is too large
/// for them or they would take more than `limit` bytes. Zero runs are
/// ZERO (up to 64) or XZERO opcodes, value runs VAL opcodes of up to 4.
fn sparse_body(registers: &Registers, limit: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < REGISTERS {
        let v = registers.get(i);
        let mut run = 1;
        if v == 0 {
            while i + run < REGISTERS && registers.get(i + run) == 0 {
                run += 1;
            }
            if run <= SPARSE_ZERO_MAX_LEN {
                out.push((run - 1) as u8);
            } else {
                out.push(0x40 | ((run - 1) >> 8) as u8);
                out.push(((run - 1) & 0xff) as u8);
            }
        } else {
            if v > SPARSE_VAL_MAX {
                return None;
            }
            while run < SPARSE_VAL_MAX_LEN && i + run < REGISTERS && registers.get(i + run) == v {
                run += 1;
            }
            out.push(0x80 | ((v - 1) << 2) | (run - 1) as u8);
        }
        if out.len() > limit {
            return None;
        }
        i += run;
    }
    Some(out)
}

/// Redis's `isHLLObjectOrReply`: the magic, a known encoding and a dense
/// body of the right length (a sparse body is checked only when read).
/// The cached-count field when they hold.
pub fn check_header(s: &[u8]) -> Result<CardField, Invalid> {
    if s.len() < HEADER || &s[..4] != MAGIC {
        return Err(Invalid::NotHll);
    }
    match s[4] {
        DENSE if s.len() - HEADER != DENSE_BYTES => Err(Invalid::NotHll),
        DENSE | SPARSE => Ok(CardField(s[8..16].try_into().unwrap_or([0; 8]))),
        _ => Err(Invalid::NotHll),
    }
}

/// Reads a Redis HyperLogLog string with Redis's checks (`isHLLObjectOrReply`
/// for the header, `hllSparseSum` for the sparse opcodes).
pub fn parse(s: &[u8]) -> Result<Parsed, Invalid> {
    let card = check_header(s)?;
    let body = &s[HEADER..];
    let mut registers = Registers::default();
    match s[4] {
        DENSE => {
            for i in 0..REGISTERS {
                let v = get_register(body, i);
                if v > 0 {
                    registers.offer(i, v);
                }
            }
        }
        SPARSE => {
            let (mut index, mut p) = (0usize, 0usize);
            while p < body.len() {
                let op = body[p];
                match op >> 6 {
                    // ZERO: a run of up to 64 empty registers.
                    0 => {
                        index += (op & 0x3f) as usize + 1;
                        p += 1;
                    }
                    // XZERO: a run of up to 16384. Redis reads the string's
                    // terminating NUL when the second byte is missing.
                    1 => {
                        let low = body.get(p + 1).copied().unwrap_or(0) as usize;
                        index += ((((op & 0x3f) as usize) << 8) | low) + 1;
                        p += 2;
                    }
                    // VAL: up to 4 registers holding 1..=32. Redis stops at
                    // one that would run past the last register.
                    _ => {
                        let value = ((op >> 2) & 0x1f) + 1;
                        let run = (op & 3) as usize + 1;
                        if index + run > REGISTERS {
                            break;
                        }
                        for i in index..index + run {
                            registers.offer(i, value);
                        }
                        index += run;
                        p += 1;
                    }
                }
            }
            if index != REGISTERS {
                return Err(Invalid::Corrupt);
            }
        }
        _ => return Err(Invalid::NotHll),
    }
    Ok(Parsed { registers, card })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Registers {
        let mut regs = Registers::default();
        regs.offer(0, 3);
        regs.offer(1, 3);
        regs.offer(5000, 1);
        regs.offer(16383, 20);
        regs
    }

    #[test]
    fn small_hlls_are_sparse_and_round_trip() {
        let regs = sample();
        let s = to_redis(&regs, CardField::STALE, DEFAULT_SPARSE_MAX_BYTES);
        assert_eq!(s[4], SPARSE);
        assert_eq!(s[15], 0x80);
        // VAL 3 x2, XZERO 4998, VAL 1, XZERO 11382, VAL 20.
        assert_eq!(
            &s[HEADER..],
            &[
                0x80 | (2 << 2) | 1,
                0x40 | 0x13,
                0x85,
                0x80,
                0x40 | 0x2c,
                0x75,
                0x80 | (19 << 2)
            ]
        );
        let parsed = parse(&s).unwrap();
        assert_eq!(parsed.registers, regs);
        assert_eq!(parsed.card.cached(), None);
        let s = to_redis(&regs, CardField::valid(4), DEFAULT_SPARSE_MAX_BYTES);
        assert_eq!(parse(&s).unwrap().card.cached(), Some(4));
        let stale = CardField::valid(4).invalidated();
        assert_eq!(stale.0, [4, 0, 0, 0, 0, 0, 0, 0x80]);
        assert_eq!(stale.cached(), None);
    }

    #[test]
    fn large_values_and_limits_make_it_dense() {
        let mut regs = sample();
        let s = to_redis(&regs, CardField::STALE, 0);
        assert_eq!((s[4], s.len()), (DENSE, HEADER + DENSE_BYTES));
        assert_eq!(parse(&s).unwrap().registers, regs);
        regs.offer(7, 33);
        let s = to_redis(&regs, CardField::STALE, DEFAULT_SPARSE_MAX_BYTES);
        assert_eq!(s[4], DENSE);
        assert_eq!(parse(&s).unwrap().registers, regs);
    }

    #[test]
    fn redis_checks() {
        let s = to_redis(&sample(), CardField::STALE, DEFAULT_SPARSE_MAX_BYTES);
        let mut tail = s.clone();
        tail.extend_from_slice(b"hello");
        assert_eq!(parse(&tail), Err(Invalid::Corrupt));
        let mut magic = s.clone();
        magic[..4].copy_from_slice(b"0123");
        assert_eq!(parse(&magic), Err(Invalid::NotHll));
        let mut encoding = s.clone();
        encoding[4] = b'x';
        assert_eq!(parse(&encoding), Err(Invalid::NotHll));
        let mut dense = s.clone();
        dense[4] = DENSE;
        assert_eq!(parse(&dense), Err(Invalid::NotHll));
        assert_eq!(parse(b"HYLL"), Err(Invalid::NotHll));
        // Redis ignores a VAL past the last register.
        let mut val = s.clone();
        val.push(0x80);
        assert_eq!(parse(&val).unwrap().registers, sample());
    }
}
