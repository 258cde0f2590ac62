//! HyperLogLog (PFADD, PFCOUNT, PFMERGE) with Redis's algorithm, so that
//! counts match Redis's for the same elements, stored in Kvrocks' layout.
//!
//! Algorithm (Redis `hyperloglog.c`): an element's 64-bit MurmurHash64A
//! (seed 0xadc83b19) picks one of 16384 registers with its low 14 bits; the
//! register keeps the largest "position of the first 1 bit + 1" seen in the
//! remaining 50 bits (1..=51). PFCOUNT is Ertl's estimator over the
//! register histogram, which Redis uses since 5.0.
//!
//! Layout (Kvrocks `redis_hyperloglog.cc`): metadata of type 11 with the
//! common header (version, size 0) and a one-byte trailer, the encoding (0 =
//! dense). The registers are Redis's dense representation (6 bits each,
//! least significant bits first) cut into 16 segments of 1024 registers
//! (768 bytes); segment `i` is the subkey "i" in decimal. A segment that
//! was never written holds only zero registers and is not stored.

use crate::database::{Database, Record};
use crate::error::{Error, Result};
use crate::hll_payload::{CardField, Invalid};
use basalt_engine::{ColumnFamily, Metadata, RedisType, WriteBatch};

/// Index bits: 2^14 registers.
const P: u32 = 14;
pub const REGISTERS: usize = 1 << P;
/// Hash bits left after the index; a register holds at most Q + 1.
const Q: u32 = 64 - P;
const REGISTER_BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << REGISTER_BITS) - 1;
pub const SEGMENT_REGISTERS: usize = 1024;
pub const SEGMENT_BYTES: usize = SEGMENT_REGISTERS * REGISTER_BITS / 8;
pub const SEGMENTS: usize = REGISTERS / SEGMENT_REGISTERS;
const HASH_SEED: u64 = 0xadc83b19;
/// 0.5 / ln 2: the estimator's constant for an infinite number of registers.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
/// Kvrocks' `HyperLogLogMetadata::EncodeType::DENSE`, the only one it has.
const ENCODING_DENSE: u8 = 0;

/// MurmurHash64A as Redis's `hyperloglog.c` has it. Written out here rather
/// than taken from a crate because the register an element lands in, and so
/// every count, depends on this exact function bit for bit: Redis reads the
/// 8-byte blocks little-endian, mixes the tail bytes in its own order, and
/// seeds with `seed ^ (len * m)`; the general-purpose crates differ in one
/// of these (or hash 128 bits).
pub fn murmurhash64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut blocks = data.chunks_exact(8);
    for block in &mut blocks {
        let mut k = u64::from_le_bytes(block.try_into().unwrap_or([0; 8]));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate().rev() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element updates and the value it offers it.
pub fn register_of(element: &[u8]) -> (usize, u8) {
    let hash = murmurhash64a(element, HASH_SEED);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    // The sentinel bit bounds the run of zeros at Q, so the value is 1..=Q+1.
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Register `i` of a dense segment (or of Redis's whole dense array).
pub fn get_register(regs: &[u8], i: usize) -> u8 {
    let bit = i * REGISTER_BITS;
    let (byte, shift) = (bit / 8, bit % 8);
    let lo = regs[byte] >> shift;
    let hi = if shift > 8 - REGISTER_BITS {
        regs[byte + 1] << (8 - shift)
    } else {
        0
    };
    (lo | hi) & REGISTER_MAX
}

pub fn set_register(regs: &mut [u8], i: usize, value: u8) {
    let bit = i * REGISTER_BITS;
    let (byte, shift) = (bit / 8, bit % 8);
    regs[byte] &= !(REGISTER_MAX << shift);
    regs[byte] |= value << shift;
    if shift > 8 - REGISTER_BITS {
        let up = 8 - shift;
        regs[byte + 1] &= !(REGISTER_MAX >> up);
        regs[byte + 1] |= value >> up;
    }
}

/// All 16384 registers, by segment; `None` is a segment of zeros.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Registers {
    segments: [Option<Vec<u8>>; SEGMENTS],
}

impl Registers {
    /// Offers `value` to register `index`; true if the register grew.
    pub fn offer(&mut self, index: usize, value: u8) -> bool {
        let segment =
            self.segments[index / SEGMENT_REGISTERS].get_or_insert_with(|| vec![0; SEGMENT_BYTES]);
        let i = index % SEGMENT_REGISTERS;
        if value > get_register(segment, i) {
            set_register(segment, i, value);
            return true;
        }
        false
    }

    pub fn get(&self, index: usize) -> u8 {
        self.segments[index / SEGMENT_REGISTERS]
            .as_deref()
            .map_or(0, |s| get_register(s, index % SEGMENT_REGISTERS))
    }

    /// Register-wise maximum with `other` (the union of the two sets).
    pub fn merge(&mut self, other: &Registers) {
        for (mine, theirs) in self.segments.iter_mut().zip(&other.segments) {
            let Some(theirs) = theirs else { continue };
            match mine {
                None => *mine = Some(theirs.clone()),
                Some(mine) => {
                    for i in 0..SEGMENT_REGISTERS {
                        let v = get_register(theirs, i);
                        if v > get_register(mine, i) {
                            set_register(mine, i, v);
                        }
                    }
                }
            }
        }
    }

    /// The cardinality estimate, computed as Redis 7 does (`hllCount`):
    /// Ertl, "New cardinality estimation algorithms for HyperLogLog
    /// sketches" (arXiv:1702.01284), over the histogram of register values.
    pub fn count(&self) -> u64 {
        let mut histogram = [0u32; 64];
        for segment in &self.segments {
            match segment {
                None => histogram[0] += SEGMENT_REGISTERS as u32,
                Some(s) => {
                    for i in 0..SEGMENT_REGISTERS {
                        histogram[get_register(s, i) as usize] += 1;
                    }
                }
            }
        }
        let m = REGISTERS as f64;
        let q = Q as usize;
        let mut z = m * tau((m - histogram[q + 1] as f64) / m);
        for j in (1..=q).rev() {
            z += histogram[j] as f64;
            z *= 0.5;
        }
        z += m * sigma(histogram[0] as f64 / m);
        (ALPHA_INF * m * m / z).round() as u64
    }

    /// Redis's dense registers as one 12288-byte array.
    pub fn to_dense(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(SEGMENTS * SEGMENT_BYTES);
        for segment in &self.segments {
            match segment {
                Some(s) => out.extend_from_slice(s),
                None => out.resize(out.len() + SEGMENT_BYTES, 0),
            }
        }
        out
    }
}

/// Ertl's sigma; the loop stops when the sum no longer changes in f64.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if before == z {
            return z;
        }
    }
}

/// Ertl's tau.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if before == z {
            return z / 3.0;
        }
    }
}

/// A key PF* commands accept: Kvrocks' HyperLogLog, or a string holding
/// Redis's form of one (SET from another server's GET, a RESTOREd value
/// that was edited, or a HyperLogLog a string command rewrote).
enum Loaded {
    Native(Record, Registers),
    Str {
        metadata: Metadata,
        value: Vec<u8>,
        parsed: crate::hll_payload::Parsed,
    },
}

impl Loaded {
    fn registers(&self) -> &Registers {
        match self {
            Loaded::Native(_, r) => r,
            Loaded::Str { parsed, .. } => &parsed.registers,
        }
    }

    /// The record PFADD and PFMERGE write: the native one, or a new
    /// HyperLogLog generation that keeps the string's TTL.
    fn into_record(self) -> (Record, Registers, bool) {
        match self {
            Loaded::Native(r, regs) => (r, regs, false),
            Loaded::Str {
                metadata, parsed, ..
            } => {
                let mut record = Record::new_collection(RedisType::HyperLogLog, metadata.expire_ms);
                set_card_field(&mut record, parsed.card);
                (record, parsed.registers, true)
            }
        }
    }
}

impl Database {
    fn hll_segment_key(&self, key: &[u8], version: u64, segment: usize) -> Vec<u8> {
        self.subkey(key, version, segment.to_string().as_bytes())
    }

    /// The registers of a live HyperLogLog record.
    fn hll_registers(&self, key: &[u8], record: &Record) -> Result<Registers> {
        if record.rest.first().is_some_and(|&e| e != ENCODING_DENSE) {
            return Err(Error::CorruptHyperLogLog);
        }
        let keys: Vec<Vec<u8>> = (0..SEGMENTS)
            .map(|i| self.hll_segment_key(key, record.metadata.version, i))
            .collect();
        let mut registers = Registers::default();
        let values = self.storage().multi_get(ColumnFamily::Default, &keys);
        for (slot, value) in registers.segments.iter_mut().zip(values) {
            if let Some(v) = value? {
                if v.len() != SEGMENT_BYTES {
                    return Err(Error::CorruptHyperLogLog);
                }
                *slot = Some(v.to_vec());
            }
        }
        Ok(registers)
    }

    /// A HyperLogLog record read as the string Redis would hold: sparse
    /// or dense as Redis would have chosen for these registers, the count
    /// cached in the header when PFCOUNT cached it.
    pub(crate) fn hll_string(&self, key: &[u8], record: &Record) -> Result<Vec<u8>> {
        let registers = self.hll_registers(key, record)?;
        // A valid cache shows the registers' count (the same number unless
        // another writer, such as Kvrocks, left the trailer behind).
        let card = match card_field(record).cached() {
            Some(_) => CardField::valid(registers.count()),
            None => card_field(record),
        };
        Ok(crate::hll_payload::to_redis(
            &registers,
            card,
            self.hll_sparse_max_bytes(),
        ))
    }

    /// `key` as PF* see it: `None` if missing; WRONGTYPE for a string that
    /// is not a HyperLogLog (Redis's own message) or another type,
    /// INVALIDOBJ for a corrupt sparse one.
    fn hll_load(&self, key: &[u8]) -> Result<Option<Loaded>> {
        match self.read(key)? {
            None => Ok(None),
            Some(record) => self.hll_loaded(key, record),
        }
    }

    /// [`Database::hll_load`] of a record already read.
    fn hll_loaded(&self, key: &[u8], record: Record) -> Result<Option<Loaded>> {
        match record.metadata.kind {
            RedisType::HyperLogLog => {
                let registers = self.hll_registers(key, &record)?;
                Ok(Some(Loaded::Native(record, registers)))
            }
            // Users see a bitmap as a string: not a HyperLogLog one.
            RedisType::String | RedisType::Bitmap => {
                let value = if record.metadata.kind == RedisType::String {
                    record.rest
                } else {
                    Vec::new()
                };
                match crate::hll_payload::parse(&value) {
                    Ok(parsed) => Ok(Some(Loaded::Str {
                        metadata: record.metadata,
                        value,
                        parsed,
                    })),
                    Err(Invalid::NotHll) => Err(Error::NotHyperLogLog),
                    Err(Invalid::Corrupt) => Err(Error::CorruptHyperLogLog),
                }
            }
            _ => Err(Error::WrongType),
        }
    }

    /// The registers of `key` (a HyperLogLog or a string holding one):
    /// `None` if it does not exist.
    pub fn hll_read(&self, key: &[u8]) -> Result<Option<Registers>> {
        Ok(self.hll_load(key)?.map(|l| l.registers().clone()))
    }

    /// Writes `record` and the segments of `registers` that `dirty` selects;
    /// the cached count is stale afterwards.
    fn hll_write(
        &self,
        key: &[u8],
        record: &mut Record,
        registers: &Registers,
        dirty: impl Fn(usize) -> bool,
    ) -> Result<()> {
        let mut batch = WriteBatch::default();
        for (i, segment) in registers.segments.iter().enumerate() {
            if let Some(s) = segment.as_deref().filter(|_| dirty(i)) {
                let sub = self.hll_segment_key(key, record.metadata.version, i);
                self.storage()
                    .put(&mut batch, ColumnFamily::Default, &sub, s);
            }
        }
        set_card_field(record, card_field(record).invalidated());
        self.put_record(&mut batch, key, record);
        self.storage().write(batch)?;
        Ok(())
    }

    /// Writes `hll` into `batch` as a new HyperLogLog generation of `key`
    /// (RESTORE of Redis's HyperLogLog string), its cache flag as the
    /// string's header says.
    pub(crate) fn put_new_hll(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        hll: &crate::hll_payload::Parsed,
        expire_ms: u64,
    ) {
        let mut record = Record::new_collection(RedisType::HyperLogLog, expire_ms);
        for (i, segment) in hll.registers.segments.iter().enumerate() {
            if let Some(s) = segment {
                let sub = self.hll_segment_key(key, record.metadata.version, i);
                self.storage().put(batch, ColumnFamily::Default, &sub, s);
            }
        }
        set_card_field(&mut record, hll.card);
        self.put_record(batch, key, &record);
    }

    /// PFADD: true if the key was created or a register changed (Redis's
    /// reply 1). With no elements it only creates the key. A string
    /// holding a HyperLogLog becomes Kvrocks' HyperLogLog when it changes.
    pub fn pfadd(&self, key: &[u8], elements: &[&[u8]]) -> Result<bool> {
        let _guard = self.storage().locks().lock(key);
        let (mut record, mut registers, converted, created) = match self.hll_load(key)? {
            Some(loaded) => {
                let (r, regs, converted) = loaded.into_record();
                (r, regs, converted, false)
            }
            None => (
                Record::new_collection(RedisType::HyperLogLog, 0),
                Registers::default(),
                false,
                true,
            ),
        };
        let mut dirty = [converted; SEGMENTS];
        let mut changed = false;
        for e in elements {
            let (index, value) = register_of(e);
            if registers.offer(index, value) {
                dirty[index / SEGMENT_REGISTERS] = true;
                changed = true;
            }
        }
        if !created && !changed {
            return Ok(false);
        }
        self.hll_write(key, &mut record, &registers, |i| dirty[i])?;
        Ok(true)
    }

    /// PFCOUNT: the estimated cardinality of the union of `keys`' sets;
    /// missing keys count as empty. With one key, as in Redis, the count
    /// is cached (a flag in the metadata trailer, shown in the header of
    /// the key's string form) unless this node is a replica.
    pub fn pfcount(&self, keys: &[&[u8]]) -> Result<u64> {
        if let [key] = keys {
            return self.pfcount_one(key);
        }
        let mut union = Registers::default();
        for key in keys {
            if let Some(loaded) = self.hll_load(key)? {
                union.merge(loaded.registers());
            }
        }
        Ok(union.count())
    }

    fn pfcount_one(&self, key: &[u8]) -> Result<u64> {
        let _guard = self.storage().locks().lock(key);
        let may_write = !self.storage().is_fenced();
        let Some(record) = self.read(key)? else {
            return Ok(0);
        };
        // Redis answers from a valid cache after checking only the header:
        // a string whose sparse body was edited still counts.
        if record.metadata.kind == RedisType::String {
            if let Some(count) = crate::hll_payload::check_header(&record.rest)
                .ok()
                .and_then(|card| card.cached())
            {
                return Ok(count);
            }
        }
        match self.hll_loaded(key, record)? {
            None => Ok(0),
            Some(Loaded::Native(mut record, registers)) => {
                let count = registers.count();
                if may_write && card_field(&record).cached().is_none() {
                    set_card_field(&mut record, CardField::valid(count));
                    let mut batch = WriteBatch::default();
                    self.put_record(&mut batch, key, &record);
                    self.storage().write(batch)?;
                }
                Ok(count)
            }
            Some(Loaded::Str {
                metadata,
                mut value,
                parsed,
            }) => {
                let count = parsed.registers.count();
                if may_write {
                    value[8..16].copy_from_slice(&count.to_le_bytes());
                    let mut batch = WriteBatch::default();
                    self.put_string(&mut batch, key, metadata.expire_ms, &value);
                    self.storage().write(batch)?;
                }
                Ok(count)
            }
        }
    }

    /// PFMERGE: `dest` becomes the union of itself and `sources`; created
    /// if missing (even with no sources, as Redis).
    pub fn pfmerge(&self, dest: &[u8], sources: &[&[u8]]) -> Result<()> {
        let mut all = vec![dest];
        all.extend_from_slice(sources);
        let _guard = self.storage().locks().lock_many(&all);
        let (mut record, mut union) = match self.hll_load(dest)? {
            Some(loaded) => {
                let (r, regs, _) = loaded.into_record();
                (r, regs)
            }
            None => (
                Record::new_collection(RedisType::HyperLogLog, 0),
                Registers::default(),
            ),
        };
        for key in sources {
            if let Some(loaded) = self.hll_load(key)? {
                union.merge(loaded.registers());
            }
        }
        self.hll_write(dest, &mut record, &union, |_| true)
    }
}

/// The count Redis would cache in its string, kept after the encoding
/// byte in the metadata trailer (Kvrocks reads only the encoding byte and
/// writes nothing after it, which reads as stale).
fn card_field(record: &Record) -> CardField {
    match record.rest.get(1..9) {
        Some(b) => CardField(b.try_into().unwrap_or(CardField::STALE.0)),
        None => CardField::STALE,
    }
}

fn set_card_field(record: &mut Record, card: CardField) {
    record.rest = vec![ENCODING_DENSE];
    record.rest.extend_from_slice(&card.0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::test_support::open;

    /// PFCOUNT after `PFADD k 1 2 ... n` (elements as decimal strings), as
    /// measured on redis-server 7.0.15.
    const REDIS_COUNTS_1_TO_N: &[(u64, u64)] = &[
        (1, 1),
        (2, 2),
        (3, 3),
        (10, 10),
        (100, 100),
        (500, 503),
        (1000, 1001),
        (5000, 4985),
        (10000, 9988),
        (30000, 29850),
        (100000, 99562),
        (250000, 252129),
    ];

    /// The one register (index, value) a single element sets, as PFDEBUG
    /// GETREG shows it on redis-server 7.0.15: checks MurmurHash64A for
    /// every tail length (0..=20 bytes of "x") and for bytes >= 0x80.
    const REDIS_REGISTERS_OF_X: &[(usize, u8)] = &[
        (5938, 2),
        (16374, 2),
        (1289, 1),
        (8026, 6),
        (11435, 1),
        (9577, 1),
        (10446, 1),
        (4290, 2),
        (5076, 2),
        (2779, 5),
        (1893, 5),
        (10224, 4),
        (2948, 2),
        (4709, 1),
        (6417, 2),
        (12070, 1),
        (10349, 1),
        (13758, 2),
        (11450, 2),
        (15034, 5),
        (3584, 1),
    ];

    /// `w{i}:{first i%11 letters of "abcdefghij"}` for i in 0..20000.
    fn words() -> Vec<Vec<u8>> {
        (0..20000)
            .map(|i| format!("w{i}:{}", &"abcdefghij"[..i % 11]).into_bytes())
            .collect()
    }

    fn add_range(db: &Database, key: &[u8], from: u64, to: u64) {
        let elements: Vec<Vec<u8>> = (from..=to).map(|i| i.to_string().into_bytes()).collect();
        let refs: Vec<&[u8]> = elements.iter().map(|e| &e[..]).collect();
        for chunk in refs.chunks(1000) {
            db.pfadd(key, chunk).unwrap();
        }
    }

    #[test]
    fn elements_land_in_redis_registers() {
        for (len, &expected) in REDIS_REGISTERS_OF_X.iter().enumerate() {
            assert_eq!(register_of(&vec![b'x'; len]), expected, "{len} x");
        }
        assert_eq!(register_of(b"\xff\x80\x00abc"), (14633, 1));
        let all_bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(register_of(&all_bytes), (12361, 1));
        assert_eq!(register_of(&[0xfe; 9]), (7903, 2));
    }

    #[test]
    fn registers_round_trip_at_every_bit_offset() {
        let mut seg = vec![0u8; SEGMENT_BYTES];
        for i in 0..SEGMENT_REGISTERS {
            set_register(&mut seg, i, (i % 64) as u8);
        }
        for i in 0..SEGMENT_REGISTERS {
            assert_eq!(get_register(&seg, i), (i % 64) as u8, "register {i}");
        }
        set_register(&mut seg, 5, 0);
        assert_eq!(get_register(&seg, 4), 4);
        assert_eq!(get_register(&seg, 5), 0);
        assert_eq!(get_register(&seg, 6), 6);
    }

    #[test]
    fn counts_match_redis() {
        for &(n, expected) in REDIS_COUNTS_1_TO_N {
            let t = open();
            add_range(&t.db, b"h", 1, n);
            assert_eq!(t.db.pfcount(&[b"h"]).unwrap(), expected, "1..{n}");
        }
    }

    #[test]
    fn unions_and_merges_match_redis() {
        let t = open();
        let db = &t.db;
        add_range(db, b"r1000", 1, 1000);
        add_range(db, b"r10000", 1, 10000);
        add_range(db, b"r30000", 1, 30000);
        let words = words();
        let refs: Vec<&[u8]> = words.iter().map(|w| &w[..]).collect();
        assert!(db.pfadd(b"w", &refs).unwrap());
        assert!(!db.pfadd(b"w", &refs).unwrap(), "no register changes");
        assert_eq!(db.pfcount(&[b"w"]).unwrap(), 20011);
        assert_eq!(db.pfcount(&[b"r1000", b"r10000"]).unwrap(), 9988);
        assert_eq!(db.pfcount(&[b"w", b"r30000", b"nokey"]).unwrap(), 49683);
        // Counting a union writes nothing.
        assert_eq!(db.pfcount(&[b"w"]).unwrap(), 20011);
        db.pfmerge(b"m", &[b"w", b"r30000", b"nokey"]).unwrap();
        assert_eq!(db.pfcount(&[b"m"]).unwrap(), 49683);
        assert_eq!(db.hll_read(b"m").unwrap(), {
            let mut u = db.hll_read(b"w").unwrap().unwrap();
            u.merge(&db.hll_read(b"r30000").unwrap().unwrap());
            Some(u)
        });
    }

    #[test]
    fn empty_pfadd_and_pfmerge_create_the_key() {
        let t = open();
        let db = &t.db;
        assert!(db.pfadd(b"e", &[]).unwrap());
        assert!(!db.pfadd(b"e", &[]).unwrap());
        assert_eq!(db.type_of(b"e").unwrap(), Some(RedisType::HyperLogLog));
        assert_eq!(db.pfcount(&[b"e"]).unwrap(), 0);
        db.pfmerge(b"m", &[]).unwrap();
        assert_eq!(db.pfcount(&[b"m", b"e", b"none"]).unwrap(), 0);
        assert_eq!(db.type_of(b"m").unwrap(), Some(RedisType::HyperLogLog));
    }

    #[test]
    fn other_types_are_wrongtype() {
        let t = open();
        let db = &t.db;
        db.sadd(b"s", &[b"a"]).unwrap();
        assert!(matches!(db.pfadd(b"s", &[b"a"]), Err(Error::WrongType)));
        assert!(matches!(db.pfcount(&[b"s"]), Err(Error::WrongType)));
        assert!(matches!(db.pfmerge(b"d", &[b"s"]), Err(Error::WrongType)));
        assert!(matches!(db.pfmerge(b"s", &[]), Err(Error::WrongType)));
        assert_eq!(db.type_of(b"d").unwrap(), None);
    }

    #[test]
    fn layout_is_kvrocks_dense_segments() {
        let t = open();
        let db = &t.db;
        db.pfadd(b"k", &[b"x"]).unwrap(); // register 16374 = segment 15
        let record = db.read(b"k").unwrap().unwrap();
        assert_eq!(record.metadata.kind as u8, 11);
        assert_eq!(record.metadata.size, 0);
        assert_eq!(record.rest, [0, 0, 0, 0, 0, 0, 0, 0, 0x80]);
        let version = record.metadata.version;
        let seg = db
            .storage()
            .get(ColumnFamily::Default, &db.subkey(b"k", version, b"15"))
            .unwrap()
            .unwrap()
            .to_vec();
        assert_eq!(seg.len(), SEGMENT_BYTES);
        assert_eq!(get_register(&seg, 16374 - 15 * 1024), 2);
        for other in 0..15 {
            let sub = db.subkey(b"k", version, other.to_string().as_bytes());
            assert!(db
                .storage()
                .get(ColumnFamily::Default, &sub)
                .unwrap()
                .is_none());
        }
    }

    #[test]
    fn a_corrupt_segment_is_an_error() {
        let t = open();
        let db = &t.db;
        db.pfadd(b"k", &[b"x"]).unwrap();
        let version = db.read(b"k").unwrap().unwrap().metadata.version;
        let mut batch = WriteBatch::default();
        let sub = db.subkey(b"k", version, b"15");
        db.storage()
            .put(&mut batch, ColumnFamily::Default, &sub, b"short");
        db.storage().write(batch).unwrap();
        assert!(matches!(
            db.pfcount(&[b"k"]),
            Err(Error::CorruptHyperLogLog)
        ));
        assert!(matches!(
            db.pfadd(b"k", &[b"y"]),
            Err(Error::CorruptHyperLogLog)
        ));
    }
}
