//! MEMORY USAGE for a disk store: the bytes of a key's RocksDB records
//! (metadata record, plus element records estimated from a sample), which
//! is what the key costs on disk before compression and what it occupies in
//! the block cache when cached. Nothing of a key lives in RAM otherwise.

use crate::database::Database;
use crate::error::Result;
use basalt_engine::{ColumnFamily, RedisType};

impl Database {
    /// Bytes of `key`'s records, `None` if it does not exist. Collections
    /// are estimated from their first `samples` elements (0: all of them),
    /// as Redis's MEMORY USAGE samples five by default.
    pub fn memory_usage(&self, key: &[u8], samples: u64) -> Result<Option<u64>> {
        let mkey = self.metadata_key(key);
        let Some(record) = self.read(key)? else {
            return Ok(None);
        };
        // The record as stored: the metadata header is at most 21 bytes
        // (flags, expiry, version, size); the rest is the string value or
        // a list's head/tail.
        let own = (mkey.len() + 21 + record.rest.len()) as u64;
        let meta = &record.metadata;
        let families: &[ColumnFamily] = match meta.kind {
            RedisType::String | RedisType::Json | RedisType::None => return Ok(Some(own)),
            RedisType::ZSet => &[ColumnFamily::Default, ColumnFamily::ZSetScore],
            RedisType::Stream => &[ColumnFamily::Stream],
            _ => &[ColumnFamily::Default],
        };
        let mut elements = 0u64;
        for &cf in families {
            let mut it = self.iter_subkeys(cf, key, meta.version);
            let (mut seen, mut bytes) = (0u64, 0u64);
            // HLL segments, bitmap fragments and Bloom sub-filters: their
            // count is not the metadata size (a bitmap's counts bytes), so
            // walk them all.
            let whole = matches!(
                meta.kind,
                RedisType::HyperLogLog | RedisType::Bitmap | RedisType::BloomFilter
            );
            let all = samples == 0 || whole;
            while it.valid() && (all || seen < samples) {
                bytes +=
                    (it.key().map_or(0, <[u8]>::len) + it.value().map_or(0, <[u8]>::len)) as u64;
                seen += 1;
                it.next();
            }
            if all {
                elements += bytes;
            } else if seen > 0 {
                elements += (bytes as f64 / seen as f64 * meta.size as f64).round() as u64;
            }
        }
        Ok(Some(own + elements))
    }
}
