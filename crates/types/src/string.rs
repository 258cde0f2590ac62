//! String commands over the metadata column family: a string is one record,
//! `flags | expire | payload`, exactly as Kvrocks stores it.

use crate::database::Database;
use crate::error::{Error, Result};
use crate::expire::Expiry;
use crate::number::{add_human, parse_f64, parse_i64};
use basalt_engine::{ColumnFamily, Metadata, RedisType, WriteBatch};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    Always,
    IfNotExists,
    IfExists,
}

#[derive(Clone, Copy, Debug)]
pub struct SetOptions {
    pub condition: Condition,
    pub expiry: Expiry,
    /// Return the previous value (SET ... GET); it must be a string.
    pub get: bool,
}

impl Default for SetOptions {
    fn default() -> Self {
        SetOptions {
            condition: Condition::Always,
            expiry: Expiry::Clear,
            get: false,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct SetOutcome {
    pub written: bool,
    pub old: Option<Vec<u8>>,
}

/// Kvrocks' CAS/CAD results.
#[derive(Debug, PartialEq, Eq)]
pub enum CompareOutcome {
    Done,
    Mismatch,
    Missing,
}

impl Database {
    pub(crate) fn put_string(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        expire_ms: u64,
        payload: &[u8],
    ) {
        let storage = self.storage();
        storage.put(
            batch,
            ColumnFamily::Metadata,
            &self.metadata_key(key),
            &Metadata::encode_string(expire_ms, payload),
        );
    }

    fn write_string(&self, key: &[u8], expire_ms: u64, payload: &[u8]) -> Result<()> {
        let mut batch = WriteBatch::default();
        self.put_string(&mut batch, key, expire_ms, payload);
        Ok(self.storage().write(batch)?)
    }

    fn check_len(&self, len: usize) -> Result<()> {
        if len as u64 > self.max_string_len() {
            return Err(Error::StringTooLong);
        }
        Ok(())
    }

    /// GET. A bitmap reads as the string Redis would hold (Kvrocks does
    /// the same), up to `max-bitmap-to-string-mb`; a HyperLogLog as Redis's
    /// `HYLL` string.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.read(key)? {
            None => Ok(None),
            Some(r) if r.metadata.kind == RedisType::String => Ok(Some(r.rest)),
            Some(r) if r.metadata.kind == RedisType::HyperLogLog => {
                self.hll_string(key, &r).map(Some)
            }
            Some(r) if r.metadata.kind == RedisType::Bitmap => self
                .bitmap_string(key, r, self.max_bitmap_string_len())
                .map(Some),
            Some(_) => Err(Error::WrongType),
        }
    }

    pub fn set(&self, key: &[u8], value: &[u8], opts: SetOptions) -> Result<SetOutcome> {
        let _guard = self.storage().locks().lock(key);
        let needs_read =
            opts.get || opts.condition != Condition::Always || opts.expiry == Expiry::Keep;
        let current = if needs_read { self.read(key)? } else { None };
        let old = match (&current, opts.get) {
            (Some(r), true) if r.metadata.kind == RedisType::HyperLogLog => {
                Some(self.hll_string(key, r)?)
            }
            (Some(r), true) if r.metadata.kind != RedisType::String => {
                return Err(Error::WrongType)
            }
            (Some(r), true) => Some(r.rest.clone()),
            _ => None,
        };
        let exists = current.is_some();
        let allowed = match opts.condition {
            Condition::Always => true,
            Condition::IfNotExists => !exists,
            Condition::IfExists => exists,
        };
        if !allowed {
            return Ok(SetOutcome {
                written: false,
                old,
            });
        }
        let expire_ms = match opts.expiry {
            Expiry::Clear => 0,
            Expiry::Keep => current.as_ref().map_or(0, |r| r.metadata.expire_ms),
            Expiry::At(ms) => ms.max(1),
        };
        self.write_string(key, expire_ms, value)?;
        Ok(SetOutcome { written: true, old })
    }

    /// GETEX: returns the value and optionally changes the TTL.
    pub fn get_ex(&self, key: &[u8], expiry: Option<Expiry>) -> Result<Option<Vec<u8>>> {
        let Some(expiry) = expiry else {
            return self.get(key);
        };
        let _guard = self.storage().locks().lock(key);
        let Some((meta, value)) = self.read_string(key)? else {
            return Ok(None);
        };
        let expire_ms = match expiry {
            Expiry::Clear => 0,
            Expiry::Keep => meta.expire_ms,
            Expiry::At(ms) => ms.max(1),
        };
        if expire_ms != 0 && expire_ms <= basalt_engine::version::now_ms() {
            // A time in the past deletes the key, as in Redis (and as
            // EXPIRE does), rather than leaving it for the expiry cycle.
            let mut batch = WriteBatch::default();
            self.storage()
                .delete(&mut batch, ColumnFamily::Metadata, &self.metadata_key(key));
            self.storage().write(batch)?;
        } else if expire_ms != meta.expire_ms {
            self.write_string(key, expire_ms, &value)?;
        }
        Ok(Some(value))
    }

    pub fn get_del(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let _guard = self.storage().locks().lock(key);
        let Some((_, value)) = self.read_string(key)? else {
            return Ok(None);
        };
        let mut batch = WriteBatch::default();
        self.storage()
            .delete(&mut batch, ColumnFamily::Metadata, &self.metadata_key(key));
        self.storage().write(batch)?;
        Ok(Some(value))
    }

    pub fn strlen(&self, key: &[u8]) -> Result<u64> {
        match self.read(key)? {
            None => Ok(0),
            Some(r) if r.metadata.kind == RedisType::String => Ok(r.rest.len() as u64),
            Some(r) if r.metadata.kind == RedisType::Bitmap => Ok(r.metadata.size),
            Some(r) if r.metadata.kind == RedisType::HyperLogLog => {
                Ok(self.hll_string(key, &r)?.len() as u64)
            }
            Some(_) => Err(Error::WrongType),
        }
    }

    pub fn append(&self, key: &[u8], suffix: &[u8]) -> Result<u64> {
        let _guard = self.storage().locks().lock(key);
        let (expire, mut value) = match self.read_string(key)? {
            Some((m, v)) => (m.expire_ms, v),
            None => (0, Vec::new()),
        };
        self.check_len(value.len() + suffix.len())?;
        value.extend_from_slice(suffix);
        self.write_string(key, expire, &value)?;
        Ok(value.len() as u64)
    }

    /// GETRANGE with Redis's index rules (negative from the end, clamped).
    pub fn get_range(&self, key: &[u8], start: i64, end: i64) -> Result<Vec<u8>> {
        let Some(value) = self.get(key)? else {
            return Ok(Vec::new());
        };
        let len = value.len() as i64;
        if start < 0 && end < 0 && start > end {
            return Ok(Vec::new());
        }
        let mut start = if start < 0 { len + start } else { start };
        let mut end = if end < 0 { len + end } else { end };
        start = start.max(0);
        end = end.max(0);
        if len == 0 || start > end || start >= len {
            return Ok(Vec::new());
        }
        end = end.min(len - 1);
        Ok(value[start as usize..=end as usize].to_vec())
    }

    pub fn set_range(&self, key: &[u8], offset: u64, patch: &[u8]) -> Result<u64> {
        let _guard = self.storage().locks().lock(key);
        let current = self.read_string(key)?;
        if patch.is_empty() {
            return Ok(current.map_or(0, |(_, v)| v.len() as u64));
        }
        let end = offset
            .checked_add(patch.len() as u64)
            .ok_or(Error::StringTooLong)?;
        self.check_len(usize::try_from(end).map_err(|_| Error::StringTooLong)?)?;
        let (expire, mut value) = match current {
            Some((m, v)) => (m.expire_ms, v),
            None => (0, Vec::new()),
        };
        let end = end as usize;
        if value.len() < end {
            value.resize(end, 0);
        }
        value[offset as usize..end].copy_from_slice(patch);
        self.write_string(key, expire, &value)?;
        Ok(value.len() as u64)
    }

    pub fn incr_by(&self, key: &[u8], delta: i64) -> Result<i64> {
        let _guard = self.storage().locks().lock(key);
        let (expire, current) = match self.read_string(key)? {
            Some((m, v)) => (m.expire_ms, parse_i64(&v).ok_or(Error::NotInteger)?),
            None => (0, 0),
        };
        let next = current.checked_add(delta).ok_or(Error::Overflow)?;
        self.write_string(key, expire, next.to_string().as_bytes())?;
        Ok(next)
    }

    /// INCRBYFLOAT with the increment as the client sent it (already
    /// checked to be a finite float); returns the new value as Redis prints it.
    pub fn incr_by_float(&self, key: &[u8], delta: &[u8]) -> Result<String> {
        let _guard = self.storage().locks().lock(key);
        let (expire, current) = match self.read_string(key)? {
            Some((m, v)) => {
                parse_f64(&v).ok_or(Error::NotFloat)?;
                (m.expire_ms, v)
            }
            None => (0, b"0".to_vec()),
        };
        let text = add_human(&current, delta).ok_or(Error::NanOrInfinity)?;
        self.write_string(key, expire, text.as_bytes())?;
        Ok(text)
    }

    /// MGET: nil for missing keys and for keys of other types; a
    /// HyperLogLog is the string Redis would hold.
    pub fn mget(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        let mkeys: Vec<Vec<u8>> = keys.iter().map(|k| self.metadata_key(k)).collect();
        let now = basalt_engine::version::now_ms();
        self.storage()
            .multi_get(ColumnFamily::Metadata, &mkeys)
            .into_iter()
            .zip(keys)
            .map(|(raw, key)| {
                let Some(raw) = raw? else {
                    crate::lookups::record(false);
                    return Ok(None);
                };
                let (m, rest) = Metadata::decode(&raw).map_err(basalt_engine::EngineError::from)?;
                // A key of another type is a hit that answers nil, as in Redis.
                crate::lookups::record(!m.is_expired_at(now));
                if m.is_expired_at(now) {
                    return Ok(None);
                }
                match m.kind {
                    RedisType::String => Ok(Some(rest.to_vec())),
                    RedisType::HyperLogLog => {
                        let record = crate::database::Record {
                            metadata: m,
                            rest: rest.to_vec(),
                        };
                        // A HyperLogLog that fails to read is nil, as any
                        // value MGET cannot show.
                        Ok(self.hll_string(key, &record).ok())
                    }
                    _ => Ok(None),
                }
            })
            .collect()
    }

    /// MSET (`only_if_none_exist` = false) and MSETNX (true). All pairs go
    /// in one batch, so another client sees all of them or none.
    pub fn mset(&self, pairs: &[(&[u8], &[u8])], only_if_none_exist: bool) -> Result<bool> {
        let keys: Vec<&[u8]> = pairs.iter().map(|(k, _)| *k).collect();
        let _guard = self.storage().locks().lock_many(&keys);
        if only_if_none_exist {
            for k in &keys {
                if self.read(k)?.is_some() {
                    return Ok(false);
                }
            }
        }
        let mut batch = WriteBatch::default();
        for (k, v) in pairs {
            self.put_string(&mut batch, k, 0, v);
        }
        self.storage().write(batch)?;
        Ok(true)
    }

    /// Kvrocks' CAS: set `new` only if the current value equals `expected`.
    pub fn compare_and_set(
        &self,
        key: &[u8],
        expected: &[u8],
        new: &[u8],
        expire_ms: u64,
    ) -> Result<CompareOutcome> {
        let _guard = self.storage().locks().lock(key);
        match self.read_string(key)? {
            None => Ok(CompareOutcome::Missing),
            Some((_, v)) if v != expected => Ok(CompareOutcome::Mismatch),
            Some(_) => {
                self.write_string(key, expire_ms, new)?;
                Ok(CompareOutcome::Done)
            }
        }
    }

    /// Kvrocks' CAD: delete only if the current value equals `expected`.
    pub fn compare_and_delete(&self, key: &[u8], expected: &[u8]) -> Result<CompareOutcome> {
        let _guard = self.storage().locks().lock(key);
        match self.read_string(key)? {
            None => Ok(CompareOutcome::Missing),
            Some((_, v)) if v != expected => Ok(CompareOutcome::Mismatch),
            Some(_) => {
                let mut batch = WriteBatch::default();
                self.storage()
                    .delete(&mut batch, ColumnFamily::Metadata, &self.metadata_key(key));
                self.storage().write(batch)?;
                Ok(CompareOutcome::Done)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::test_support::open;

    #[test]
    fn set_get_and_conditions() {
        let t = open();
        let db = &t.db;
        assert_eq!(db.get(b"k").unwrap(), None);
        let nx = SetOptions {
            condition: Condition::IfNotExists,
            ..Default::default()
        };
        assert!(db.set(b"k", b"v1", nx).unwrap().written);
        assert!(!db.set(b"k", b"v2", nx).unwrap().written);
        let get = SetOptions {
            get: true,
            ..Default::default()
        };
        assert_eq!(db.set(b"k", b"v3", get).unwrap().old, Some(b"v1".to_vec()));
        assert_eq!(db.get(b"k").unwrap(), Some(b"v3".to_vec()));
    }

    #[test]
    fn incr_rules() {
        let t = open();
        let db = &t.db;
        assert_eq!(db.incr_by(b"n", 5).unwrap(), 5);
        assert_eq!(db.incr_by(b"n", -7).unwrap(), -2);
        db.set(b"s", b"abc", SetOptions::default()).unwrap();
        assert!(matches!(db.incr_by(b"s", 1), Err(Error::NotInteger)));
        db.set(b"m", b"9223372036854775807", SetOptions::default())
            .unwrap();
        assert!(matches!(db.incr_by(b"m", 1), Err(Error::Overflow)));
        assert_eq!(db.incr_by_float(b"f", b"10.5").unwrap(), "10.5");
        assert_eq!(db.incr_by_float(b"f", b"0.1").unwrap(), "10.6");
    }

    #[test]
    fn ranges() {
        let t = open();
        let db = &t.db;
        db.set(b"k", b"Hello World", SetOptions::default()).unwrap();
        assert_eq!(db.get_range(b"k", 0, 4).unwrap(), b"Hello");
        assert_eq!(db.get_range(b"k", -5, -1).unwrap(), b"World");
        assert_eq!(db.get_range(b"k", 5, 3).unwrap(), b"");
        assert_eq!(db.get_range(b"k", 0, -100).unwrap(), b"H");
        assert_eq!(db.set_range(b"k", 6, b"Redis").unwrap(), 11);
        assert_eq!(db.get(b"k").unwrap().unwrap(), b"Hello Redis");
        assert_eq!(db.set_range(b"z", 3, b"x").unwrap(), 4);
        assert_eq!(db.get(b"z").unwrap().unwrap(), b"\0\0\0x");
        assert_eq!(db.set_range(b"none", 3, b"").unwrap(), 0);
        assert_eq!(db.get(b"none").unwrap(), None);
    }
}
