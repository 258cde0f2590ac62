//! Expiry arithmetic shared by SET/GETEX/EXPIRE and the active expiration
//! cycle that deletes expired keys in the background.

use crate::database::Database;
use crate::error::Result;
use basalt_engine::version::now_ms;
use basalt_engine::{ColumnFamily, Metadata, WriteBatch};

/// What a write does to a key's TTL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// Remove any TTL (plain SET, PERSIST).
    Clear,
    /// Keep the current TTL (KEEPTTL).
    Keep,
    /// Expire at this absolute Unix time in milliseconds.
    At(u64),
}

/// Statistics of one pass over the keyspace by the expiration cycle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyspaceCount {
    pub keys: u64,
    pub expires: u64,
}

/// Progress of the active expiration cycle through the metadata column
/// family; one value lives in the server's background task.
#[derive(Default)]
pub struct ExpireCycle {
    cursor: Option<Vec<u8>>,
    pass: KeyspaceCount,
    pub last_full_pass: Option<KeyspaceCount>,
    /// Hashes that lost expired fields in the last step, and whether each
    /// went away with them (for `hexpired` and `del` notifications).
    pub hash_fields_expired: Vec<(Vec<u8>, bool)>,
}

impl ExpireCycle {
    /// Examines up to `budget` keys after the cursor, deleting the expired
    /// ones. Returns how many it deleted. A completed pass over the whole
    /// namespace records the live key count for INFO keyspace.
    pub fn step(&mut self, db: &Database, budget: usize) -> Result<Vec<Vec<u8>>> {
        let storage = db.storage();
        let ns = storage.prefix().namespace_prefix();
        let upper = basalt_engine::key::prefix_upper_bound(&ns);
        let mut it = storage.iter(ColumnFamily::Metadata, Some(&ns), upper.as_deref());
        match &self.cursor {
            Some(c) => {
                it.seek(c);
                if it.valid() && it.key() == Some(c.as_slice()) {
                    it.next();
                }
            }
            None => it.seek(&ns),
        }
        let now = now_ms();
        let mut expired = Vec::new();
        let mut with_field_ttls = Vec::new();
        let mut seen = 0;
        while it.valid() && seen < budget {
            let (Some(k), Some(v)) = (it.key(), it.value()) else {
                break;
            };
            seen += 1;
            match Metadata::decode(v) {
                Ok((m, _)) if m.is_expired_at(now) => expired.push(k.to_vec()),
                Ok((m, rest)) => {
                    if m.kind == basalt_engine::RedisType::Hash
                        && rest.first() == Some(&crate::hash_ttl::FIELD_TTL_MODE)
                    {
                        with_field_ttls.push(k.to_vec());
                    }
                    self.pass.keys += 1;
                    if m.expire_ms != 0 {
                        self.pass.expires += 1;
                    }
                }
                Err(_) => {}
            }
            self.cursor = Some(k.to_vec());
            it.next();
        }
        if !it.valid() {
            it.status().map_err(basalt_engine::EngineError::from)?;
            if seen < budget {
                self.last_full_pass = Some(self.pass);
                self.pass = KeyspaceCount::default();
                self.cursor = None;
            }
        }
        drop(it);
        // Hashes with field TTLs met on the walk (after a restart the hints
        // are empty) are looked at on this step.
        for mkey in with_field_ttls {
            if let Some(user_key) = storage.prefix().user_key_of(&mkey) {
                db.field_ttls().note(user_key, 0);
            }
        }
        self.hash_fields_expired = db.expire_due_hash_fields(budget)?;
        let mut deleted = Vec::new();
        for mkey in expired {
            let Some(user_key) = storage.prefix().user_key_of(&mkey).map(<[u8]>::to_vec) else {
                continue;
            };
            let _guard = storage.locks().lock(&user_key);
            // Re-check under the lock: the key may have been rewritten since
            // the scan read it.
            let expired_record = match storage.get(ColumnFamily::Metadata, &mkey)? {
                Some(raw) => match Metadata::decode(&raw) {
                    Ok((m, _)) if m.is_expired_at(now_ms()) => Some(m),
                    _ => None,
                },
                None => None,
            };
            if let Some(metadata) = expired_record {
                let mut batch = WriteBatch::default();
                storage.delete(&mut batch, ColumnFamily::Metadata, &mkey);
                storage.write(batch)?;
                db.reclaim(&user_key, &metadata);
                deleted.push(user_key);
            }
        }
        Ok(deleted)
    }
}

/// Converts a relative or absolute TTL argument to absolute milliseconds,
/// `None` on overflow.
pub fn absolute_ms(value: i64, unit_ms: i64, relative: bool) -> Option<i64> {
    let ms = value.checked_mul(unit_ms)?;
    if relative {
        ms.checked_add(now_ms() as i64)
    } else {
        Some(ms)
    }
}
