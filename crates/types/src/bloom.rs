//! Scalable Bloom filters (BF.*), stored byte for byte as Kvrocks stores
//! them (`redis_bloom_chain.cc`, `bloom_filter.cc`).
//!
//! Layout: metadata of type 9 (`MBbloom--`) whose size is the number of
//! items added, followed by the chain trailer
//! `n_filters u16, expansion u16, base_capacity u32, error_rate (8-byte
//! order-preserving double), bloom_bytes u32` (all big-endian). Sub-filter
//! `i` is the subkey `u16 i` (big-endian) and holds a raw split-block Bloom
//! filter: 32-byte blocks of eight 32-bit words (native little-endian, as
//! Kvrocks writes them on x86/ARM), one bit set per word, the block picked
//! by the high half of the item's XXH64 (seed 0) and the bits by the low
//! half times eight odd salts (Apache Parquet's filter).
//!
//! Scaling, as Kvrocks: when an add would exceed the chain's capacity (the
//! geometric sum of the sub-filters' capacities), a new sub-filter of
//! `base_capacity * expansion^n` items is created with the same error rate;
//! with expansion 0 (NONSCALING) the add fails instead.

use crate::database::{Database, Record};
use crate::error::{Error, Result};
use basalt_engine::encoding::{decode_double, encode_double, get_u16, get_u32, put_u16, put_u32};
use basalt_engine::{ColumnFamily, RedisType, WriteBatch};

pub const DEFAULT_CAPACITY: u32 = 100;
pub const DEFAULT_ERROR_RATE: f64 = 0.01;
pub const DEFAULT_EXPANSION: u16 = 2;

const MIN_FILTER_BYTES: u32 = 32;
const MAX_FILTER_BYTES: u32 = 128 * 1024 * 1024;
const BYTES_PER_BLOCK: usize = 32;
const BITS_SET_PER_BLOCK: usize = 8;
const SALT: [u32; BITS_SET_PER_BLOCK] = [
    0x47b6137b, 0x44974d91, 0x8824ad5b, 0xa2b7289d, 0x705495c7, 0x2df1424b, 0x9efc4947, 0x5c6bfb31,
];

/// Bloom failures a client sees with RedisBloom's texts.
#[derive(Debug, thiserror::Error)]
pub enum BloomError {
    /// BF.RESERVE on an existing filter.
    #[error("ERR item exists")]
    ItemExists,
    /// BF.INFO on a missing key, BF.INSERT NOCREATE on a missing key.
    #[error("ERR not found")]
    NotFound,
    /// The stored chain does not decode.
    #[error("ERR corrupted bloom filter")]
    Corrupt,
}

/// The hash every filter operation works on: XXH64 with seed 0.
pub fn item_hash(item: &[u8]) -> u64 {
    xxhash_rust::xxh64::xxh64(item, 0)
}

/// Kvrocks' `OptimalNumOfBits`/8: the bytes of a split-block filter for
/// `ndv` items at false-positive rate `fpp`, a power of two in 32..=128 MiB.
pub fn optimal_num_bytes(ndv: u32, fpp: f64) -> u32 {
    let max_bits = (MAX_FILTER_BYTES as u64) << 3;
    let m = -8.0 * ndv as f64 / (1.0 - fpp.powf(1.0 / 8.0)).ln();
    let mut bits: u64 = if !(0.0..=max_bits as f64).contains(&m) {
        max_bits
    } else {
        m as u64
    };
    bits = bits.max((MIN_FILTER_BYTES as u64) << 3);
    bits = bits.next_power_of_two().min(max_bits);
    (bits >> 3) as u32
}

fn block_of(hash: u64, len: usize) -> usize {
    (((hash >> 32) * (len / BYTES_PER_BLOCK) as u64) >> 32) as usize
}

fn word(data: &[u8], i: usize) -> u32 {
    let at = i * 4;
    u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

/// Whether `hash` may be in the filter `data` (false: certainly not).
pub fn filter_check(data: &[u8], hash: u64) -> bool {
    if data.len() < BYTES_PER_BLOCK {
        return false;
    }
    let block = block_of(hash, data.len());
    let key = hash as u32;
    (0..BITS_SET_PER_BLOCK).all(|i| {
        let mask = 1u32 << (key.wrapping_mul(SALT[i]) >> 27);
        word(data, block * BITS_SET_PER_BLOCK + i) & mask != 0
    })
}

pub fn filter_insert(data: &mut [u8], hash: u64) {
    if data.len() < BYTES_PER_BLOCK {
        return;
    }
    let block = block_of(hash, data.len());
    let key = hash as u32;
    for (i, salt) in SALT.iter().enumerate() {
        let mask = 1u32 << (key.wrapping_mul(*salt) >> 27);
        let w = block * BITS_SET_PER_BLOCK + i;
        let v = word(data, w) | mask;
        data[w * 4..w * 4 + 4].copy_from_slice(&v.to_le_bytes());
    }
}

/// The chain trailer of the metadata record.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BloomChain {
    pub n_filters: u16,
    /// 0 = NONSCALING.
    pub expansion: u16,
    pub base_capacity: u32,
    pub error_rate: f64,
    /// Bytes of all sub-filters together.
    pub bloom_bytes: u32,
}

impl BloomChain {
    pub fn decode(mut input: &[u8]) -> Option<BloomChain> {
        let n_filters = get_u16(&mut input)?;
        let expansion = get_u16(&mut input)?;
        let base_capacity = get_u32(&mut input)?;
        let rate: [u8; 8] = input.get(..8)?.try_into().ok()?;
        input = &input[8..];
        let bloom_bytes = get_u32(&mut input)?;
        Some(BloomChain {
            n_filters,
            expansion,
            base_capacity,
            error_rate: decode_double(rate),
            bloom_bytes,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(20);
        put_u16(&mut out, self.n_filters);
        put_u16(&mut out, self.expansion);
        put_u32(&mut out, self.base_capacity);
        out.extend_from_slice(&encode_double(self.error_rate));
        put_u32(&mut out, self.bloom_bytes);
        out
    }

    /// Kvrocks' `GetCapacity`: the items the chain holds before it scales
    /// (the geometric sum of its sub-filters' capacities), in u32 as there.
    pub fn capacity(&self) -> u32 {
        match self.expansion {
            0 => self.base_capacity,
            1 => self.base_capacity.wrapping_mul(self.n_filters as u32),
            e => {
                let e = e as f64;
                (self.base_capacity as f64 * (1.0 - e.powi(self.n_filters as i32)) / (1.0 - e))
                    as u32
            }
        }
    }

    pub fn is_scaling(&self) -> bool {
        self.expansion > 0
    }
}

/// BF.INSERT's options (BF.ADD and BF.MADD use the defaults).
#[derive(Clone, Copy, Debug)]
pub struct InsertOptions {
    pub capacity: u32,
    pub error_rate: f64,
    /// 0 = NONSCALING.
    pub expansion: u16,
    pub auto_create: bool,
}

impl Default for InsertOptions {
    fn default() -> Self {
        InsertOptions {
            capacity: DEFAULT_CAPACITY,
            error_rate: DEFAULT_ERROR_RATE,
            expansion: DEFAULT_EXPANSION,
            auto_create: true,
        }
    }
}

/// What adding one item did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddResult {
    Added,
    /// The item (or one with the same bits) was already there.
    Exists,
    /// A NONSCALING filter reached its capacity.
    Full,
}

/// BF.INFO's numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BloomInfo {
    pub capacity: u32,
    pub bytes: u32,
    pub filters: u16,
    pub items: u64,
    /// `None` for a NONSCALING filter.
    pub expansion: Option<u16>,
}

impl Database {
    fn bloom_subkey(&self, key: &[u8], version: u64, index: u16) -> Vec<u8> {
        self.subkey(key, version, &index.to_be_bytes())
    }

    fn bloom_record(&self, key: &[u8]) -> Result<Option<(Record, BloomChain)>> {
        let Some(record) = self.read_typed(key, RedisType::BloomFilter)? else {
            return Ok(None);
        };
        let chain = BloomChain::decode(&record.rest).ok_or(Error::Bloom(BloomError::Corrupt))?;
        Ok(Some((record, chain)))
    }

    fn bloom_filters(
        &self,
        key: &[u8],
        record: &Record,
        chain: &BloomChain,
    ) -> Result<Vec<Vec<u8>>> {
        let keys: Vec<Vec<u8>> = (0..chain.n_filters)
            .map(|i| self.bloom_subkey(key, record.metadata.version, i))
            .collect();
        let mut out = Vec::with_capacity(keys.len());
        for value in self.storage().multi_get(ColumnFamily::Default, &keys) {
            match value? {
                Some(v) => out.push(v.to_vec()),
                None => return Err(Error::Bloom(BloomError::Corrupt)),
            }
        }
        Ok(out)
    }

    /// A new chain with one empty sub-filter (not yet written).
    fn bloom_new(error_rate: f64, capacity: u32, expansion: u16) -> (Record, BloomChain, Vec<u8>) {
        let bytes = optimal_num_bytes(capacity, error_rate);
        let chain = BloomChain {
            n_filters: 1,
            expansion,
            base_capacity: capacity,
            error_rate,
            bloom_bytes: bytes,
        };
        let record = Record::new_collection(RedisType::BloomFilter, 0);
        (record, chain, vec![0; bytes as usize])
    }

    /// BF.RESERVE: creates an empty filter; `ERR item exists` if `key` is
    /// already a filter, WRONGTYPE if it holds anything else.
    pub fn bf_reserve(
        &self,
        key: &[u8],
        error_rate: f64,
        capacity: u32,
        expansion: u16,
    ) -> Result<()> {
        let _guard = self.storage().locks().lock(key);
        if self.read(key)?.is_some() {
            self.bloom_record(key)?;
            return Err(Error::Bloom(BloomError::ItemExists));
        }
        let (mut record, chain, filter) = Self::bloom_new(error_rate, capacity, expansion);
        let mut batch = WriteBatch::default();
        let sub = self.bloom_subkey(key, record.metadata.version, 0);
        self.storage()
            .put(&mut batch, ColumnFamily::Default, &sub, &filter);
        record.rest = chain.encode();
        self.put_record(&mut batch, key, &record);
        self.storage().write(batch)?;
        Ok(())
    }

    /// BF.ADD, BF.MADD and BF.INSERT. As RedisBloom, items after the first
    /// that finds a NONSCALING filter full are not tried (the reply ends
    /// there).
    pub fn bf_insert(
        &self,
        key: &[u8],
        items: &[&[u8]],
        opts: InsertOptions,
    ) -> Result<Vec<AddResult>> {
        let _guard = self.storage().locks().lock(key);
        let (mut record, mut chain, mut filters, created) = match self.bloom_record(key)? {
            Some((record, chain)) => {
                let filters = self.bloom_filters(key, &record, &chain)?;
                (record, chain, filters, false)
            }
            None if opts.auto_create => {
                let (record, chain, filter) =
                    Self::bloom_new(opts.error_rate, opts.capacity, opts.expansion);
                (record, chain, vec![filter], true)
            }
            None => return Err(Error::Bloom(BloomError::NotFound)),
        };
        let first_dirty = if created { 0 } else { filters.len() - 1 };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let hash = item_hash(item);
            if filters.iter().rev().any(|f| filter_check(f, hash)) {
                out.push(AddResult::Exists);
                continue;
            }
            if record.metadata.size + 1 > chain.capacity() as u64 {
                // A chain of 65535 sub-filters cannot name another one
                // (the subkey is a u16): it is full, not wrapped around.
                if !chain.is_scaling() || chain.n_filters == u16::MAX {
                    out.push(AddResult::Full);
                    break;
                }
                let grown = chain.base_capacity as f64
                    * (chain.expansion as f64).powi(chain.n_filters as i32);
                let bytes = optimal_num_bytes(grown as u32, chain.error_rate);
                chain.n_filters += 1;
                chain.bloom_bytes = chain.bloom_bytes.wrapping_add(bytes);
                filters.push(vec![0; bytes as usize]);
            }
            if let Some(last) = filters.last_mut() {
                filter_insert(last, hash);
            }
            record.metadata.size += 1;
            out.push(AddResult::Added);
        }
        if created || out.contains(&AddResult::Added) {
            let mut batch = WriteBatch::default();
            for (i, f) in filters.iter().enumerate().skip(first_dirty) {
                let sub = self.bloom_subkey(key, record.metadata.version, i as u16);
                self.storage()
                    .put(&mut batch, ColumnFamily::Default, &sub, f);
            }
            record.rest = chain.encode();
            self.put_record(&mut batch, key, &record);
            self.storage().write(batch)?;
        }
        Ok(out)
    }

    /// BF.EXISTS/BF.MEXISTS: a missing key holds nothing.
    pub fn bf_mexists(&self, key: &[u8], items: &[&[u8]]) -> Result<Vec<bool>> {
        let Some((record, chain)) = self.bloom_record(key)? else {
            return Ok(vec![false; items.len()]);
        };
        let filters = self.bloom_filters(key, &record, &chain)?;
        Ok(items
            .iter()
            .map(|item| {
                let hash = item_hash(item);
                filters.iter().rev().any(|f| filter_check(f, hash))
            })
            .collect())
    }

    pub fn bf_info(&self, key: &[u8]) -> Result<Option<BloomInfo>> {
        Ok(self.bloom_record(key)?.map(|(record, chain)| BloomInfo {
            capacity: chain.capacity(),
            bytes: chain.bloom_bytes,
            filters: chain.n_filters,
            items: record.metadata.size,
            expansion: chain.is_scaling().then_some(chain.expansion),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::test_support::open;

    #[test]
    fn sizes_follow_kvrocks() {
        // -8 * 100 / ln(1 - 0.01^(1/8)) = 968.3 bits -> 1024 bits.
        assert_eq!(optimal_num_bytes(100, 0.01), 128);
        assert_eq!(optimal_num_bytes(1, 0.5), 32);
        assert_eq!(optimal_num_bytes(u32::MAX, 0.0001), MAX_FILTER_BYTES);
    }

    #[test]
    fn xxh64_matches_the_reference_vectors() {
        assert_eq!(item_hash(b""), 0xef46db3751d8e999);
        assert_eq!(item_hash(b"a"), 0xd24ec4f1a98c6e5b);
    }

    #[test]
    fn chain_trailer_round_trips() {
        let chain = BloomChain {
            n_filters: 3,
            expansion: 2,
            base_capacity: 100,
            error_rate: 0.01,
            bloom_bytes: 1792,
        };
        let raw = chain.encode();
        assert_eq!(raw.len(), 20);
        assert_eq!(BloomChain::decode(&raw), Some(chain));
        assert_eq!(chain.capacity(), 700);
    }

    #[test]
    fn inserted_items_are_found_and_the_chain_scales() {
        let t = open();
        t.db.bf_reserve(b"bf", 0.01, 10, 2).unwrap();
        let items: Vec<Vec<u8>> = (0..100).map(|i| format!("item{i}").into_bytes()).collect();
        let refs: Vec<&[u8]> = items.iter().map(|v| v.as_slice()).collect();
        let added =
            t.db.bf_insert(b"bf", &refs, InsertOptions::default())
                .unwrap();
        assert_eq!(added.len(), 100);
        assert!(t.db.bf_mexists(b"bf", &refs).unwrap().iter().all(|&b| b));
        let info = t.db.bf_info(b"bf").unwrap().unwrap();
        assert!(info.filters >= 4, "{info:?}");
        assert!(matches!(
            t.db.bf_reserve(b"bf", 0.01, 10, 2),
            Err(Error::Bloom(BloomError::ItemExists))
        ));
    }
}
