//! Whole values: a key's value read in one piece and a new key written
//! from one, for DUMP, RESTORE and MIGRATE. Writing goes through the same
//! per-type helpers as the STORE commands, so a restored key is laid out
//! exactly like one built by SADD or RPUSH.

use crate::database::Database;
use crate::error::{Error, Result};
use basalt_engine::version::now_ms;
use basalt_engine::{ColumnFamily, RedisType, WriteBatch};

/// A value of one of the types Basalt stores, independent of the layout.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    String(Vec<u8>),
    List(Vec<Vec<u8>>),
    Set(Vec<Vec<u8>>),
    Hash(Vec<crate::hash::FieldValue>),
    /// A hash in which at least one field has a TTL: (field, value,
    /// expire_ms), 0 for a field without one.
    HashWithTtls(Vec<crate::hash_ttl::TtlFieldValue>),
    ZSet(Vec<(Vec<u8>, f64)>),
    Stream(Box<crate::stream::StreamValue>),
}

/// What [`Database::restore_value`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restored {
    Created,
    /// The key exists and REPLACE was not given: nothing changed.
    Busy,
    /// The expiry had already passed, so no key was created; `deleted`:
    /// REPLACE removed the value the key held.
    Expired {
        deleted: bool,
    },
}

impl Database {
    /// A live key's value and its absolute expiry in ms (0: none).
    pub fn read_value(&self, key: &[u8]) -> Result<Option<(Value, u64)>> {
        let Some(record) = self.read(key)? else {
            return Ok(None);
        };
        let (version, expire_ms) = (record.metadata.version, record.metadata.expire_ms);
        let value = match record.metadata.kind {
            RedisType::String => Value::String(record.rest),
            RedisType::List => Value::List(self.list_elements(key, record)?),
            RedisType::Set => Value::Set(self.set_members(key, version)?),
            RedisType::Hash => {
                let fields = self.hash_fields_with_ttls(key, &record)?;
                if fields.iter().any(|&(_, _, at)| at != 0) {
                    Value::HashWithTtls(fields)
                } else {
                    Value::Hash(fields.into_iter().map(|(f, v, _)| (f, v)).collect())
                }
            }
            RedisType::ZSet => Value::ZSet(self.zset_members(key, &record)?),
            RedisType::Stream => match self.stream_value(key)? {
                Some(stream) => Value::Stream(Box::new(stream)),
                None => return Ok(None),
            },
            // Redis keeps a HyperLogLog as a string: dump it as Redis would.
            RedisType::HyperLogLog => Value::String(self.hll_string(key, &record)?),
            // Redis users see a bitmap as the string it reads as.
            RedisType::Bitmap => {
                let bits = self.load_bits(key, record, None)?;
                Value::String(bits.to_vec(0, bits.len()))
            }
            RedisType::BloomFilter => return Err(Error::NotDumpable("MBbloom--")),
            // No command creates the other types Kvrocks' encoding names.
            _ => return Err(Error::WrongType),
        };
        Ok(Some((value, expire_ms)))
    }

    /// RESTORE: creates `key` holding `value`, expiring at `expire_ms`
    /// (absolute Unix ms, 0: never), in one write batch. An existing key
    /// is replaced only with `replace`. An expiry already past creates
    /// nothing, as in Redis (and with `replace` still deletes the old key).
    pub fn restore_value(
        &self,
        key: &[u8],
        value: &Value,
        expire_ms: u64,
        replace: bool,
    ) -> Result<Restored> {
        let _guard = self.storage().locks().lock(key);
        let old = self.read(key)?;
        if old.is_some() && !replace {
            return Ok(Restored::Busy);
        }
        let mut batch = WriteBatch::default();
        let expired = expire_ms != 0 && expire_ms <= now_ms();
        if expired {
            let Some(old) = old else {
                return Ok(Restored::Expired { deleted: false });
            };
            self.storage()
                .delete(&mut batch, ColumnFamily::Metadata, &self.metadata_key(key));
            self.storage().write(batch)?;
            self.reclaim(key, &old.metadata);
            return Ok(Restored::Expired { deleted: true });
        }
        match value {
            Value::String(s) => match crate::hll_payload::parse(s) {
                Ok(hll) => self.put_new_hll(&mut batch, key, &hll, expire_ms),
                Err(_) => self.put_string(&mut batch, key, expire_ms, s),
            },
            Value::List(items) => {
                self.put_new_list(&mut batch, key, items.iter().map(|v| &v[..]), expire_ms);
            }
            Value::Set(members) => {
                self.put_new_set(&mut batch, key, members.iter().map(|m| &m[..]), expire_ms)
            }
            Value::Hash(pairs) => {
                let pairs = pairs.iter().map(|(f, v)| (&f[..], &v[..]));
                self.put_new_hash(&mut batch, key, pairs, expire_ms)
            }
            Value::HashWithTtls(fields) => {
                self.put_new_hash_with_ttls(&mut batch, key, fields, expire_ms)
            }
            Value::ZSet(items) => self.put_new_zset(&mut batch, key, items, expire_ms),
            Value::Stream(stream) => self.put_new_stream(&mut batch, key, stream, expire_ms),
        }
        self.storage().write(batch)?;
        if let Some(old) = old {
            self.reclaim(key, &old.metadata);
        }
        Ok(Restored::Created)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::test_support::open;

    fn values() -> Vec<Value> {
        vec![
            Value::String(b"hello".to_vec()),
            Value::List(vec![b"a".to_vec(), b"b".to_vec(), b"a".to_vec()]),
            Value::Set(vec![b"x".to_vec(), b"y".to_vec()]),
            Value::Hash(vec![
                (b"f".to_vec(), b"1".to_vec()),
                (b"g".to_vec(), b"2".to_vec()),
            ]),
            Value::ZSet(vec![(b"m".to_vec(), -1.5), (b"n".to_vec(), f64::INFINITY)]),
            Value::HashWithTtls(vec![
                (b"a".to_vec(), b"1".to_vec(), 0),
                (b"b".to_vec(), b"2".to_vec(), now_ms() + 3_600_000),
            ]),
        ]
    }

    #[test]
    fn every_type_round_trips_with_its_expiry() {
        let t = open();
        let db = &t.db;
        let at = now_ms() + 60_000;
        for (i, v) in values().into_iter().enumerate() {
            let key = format!("k{i}");
            assert_eq!(
                db.restore_value(key.as_bytes(), &v, at, false).unwrap(),
                Restored::Created
            );
            assert_eq!(db.read_value(key.as_bytes()).unwrap(), Some((v, at)));
        }
        assert_eq!(
            db.lrange(b"k1", 0, -1).unwrap(),
            vec![b"a".to_vec(), b"b".to_vec(), b"a".to_vec()]
        );
        assert_eq!(db.zscore(b"k4", b"m").unwrap(), Some(-1.5));
        assert_eq!(db.hget(b"k3", b"g").unwrap(), Some(b"2".to_vec()));
        assert_eq!(db.hlen(b"k5").unwrap(), 2);
        let ttls = db.hash_field_ttls(b"k5", &[b"a", b"b"]).unwrap();
        assert_eq!(ttls[0], crate::hash_ttl::FieldTtl::Persistent);
        assert!(matches!(ttls[1], crate::hash_ttl::FieldTtl::At(at) if at > now_ms()));
    }

    #[test]
    fn busy_replace_and_past_expiry() {
        let t = open();
        let db = &t.db;
        let [s, list, ..] = &values()[..] else {
            unreachable!()
        };
        assert_eq!(
            db.restore_value(b"k", s, 0, false).unwrap(),
            Restored::Created
        );
        assert_eq!(
            db.restore_value(b"k", list, 0, false).unwrap(),
            Restored::Busy
        );
        assert_eq!(
            db.restore_value(b"k", list, 0, true).unwrap(),
            Restored::Created
        );
        assert_eq!(db.read_value(b"k").unwrap(), Some((list.clone(), 0)));
        assert_eq!(
            db.restore_value(b"k", s, 1, true).unwrap(),
            Restored::Expired { deleted: true }
        );
        assert_eq!(db.read_value(b"k").unwrap(), None);
        assert_eq!(
            db.restore_value(b"k", s, 1, true).unwrap(),
            Restored::Expired { deleted: false }
        );
    }
}
