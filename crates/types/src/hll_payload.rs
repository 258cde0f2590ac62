//! HyperLogLog values in Redis's own form, a string with the `HYLL`
//! header (dense or sparse registers), for DUMP and RESTORE: Redis dumps a
//! HyperLogLog as that string, and Basalt keeps HyperLogLogs as Kvrocks'
//! own type, so the two convert here.

use crate::hyperloglog::{get_register, Registers, REGISTERS};

const MAGIC: &[u8; 4] = b"HYLL";
const HEADER: usize = 16;
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
const DENSE_BYTES: usize = REGISTERS * 6 / 8;

/// Redis's dense string for `registers`, its cached cardinality marked
/// stale so that Redis recomputes it on the first PFCOUNT.
pub fn to_redis(registers: &Registers) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + DENSE_BYTES);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[DENSE, 0, 0, 0]);
    out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0x80]);
    out.extend_from_slice(&registers.to_dense());
    out
}

/// The registers of a Redis HyperLogLog string, `None` if `s` is not a
/// well-formed one (it then stays a plain string).
pub fn from_redis(s: &[u8]) -> Option<Registers> {
    if s.len() < HEADER || &s[..4] != MAGIC {
        return None;
    }
    let body = &s[HEADER..];
    let mut regs = Registers::default();
    match s[4] {
        DENSE => {
            if body.len() != DENSE_BYTES {
                return None;
            }
            for i in 0..REGISTERS {
                let v = get_register(body, i);
                if v > 0 {
                    regs.offer(i, v);
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
                    // XZERO: a run of up to 16384.
                    1 => {
                        let low = *body.get(p + 1)? as usize;
                        index += ((((op & 0x3f) as usize) << 8) | low) + 1;
                        p += 2;
                    }
                    // VAL: up to 4 registers holding 1..=32.
                    _ => {
                        let value = ((op >> 2) & 0x1f) + 1;
                        let run = (op & 3) as usize + 1;
                        if index + run > REGISTERS {
                            return None;
                        }
                        for i in index..index + run {
                            regs.offer(i, value);
                        }
                        index += run;
                        p += 1;
                    }
                }
                if index > REGISTERS {
                    return None;
                }
            }
            if index != REGISTERS {
                return None;
            }
        }
        _ => return None,
    }
    Some(regs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_round_trip_and_sparse_runs() {
        let mut regs = Registers::default();
        regs.offer(0, 3);
        regs.offer(16383, 63);
        regs.offer(5000, 1);
        let s = to_redis(&regs);
        assert_eq!(s.len(), HEADER + DENSE_BYTES);
        assert_eq!(from_redis(&s), Some(regs));
        // XZERO 16383, VAL 2 x1: register 16383 = 2.
        let mut sparse = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0".to_vec();
        sparse.extend_from_slice(&[0x40 | 0x3f, 0xfe, 0x80 | (1 << 2)]);
        let regs = from_redis(&sparse).unwrap();
        assert_eq!(regs.get(16383), 2);
        assert_eq!(regs.get(0), 0);
        sparse.push(0x80);
        assert_eq!(from_redis(&sparse), None);
    }
}
