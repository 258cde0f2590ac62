//! Compaction filters: how space of deleted, overwritten and expired keys is
//! reclaimed. Same rules as Kvrocks' MetadataFilter / SubKeyFilter.

use crate::column_family::ColumnFamily;
use crate::key::InternalKey;
use crate::metadata::Metadata;
use crate::version::now_ms;
use rocksdb::compaction_filter::{CompactionFilter, Decision};
use rocksdb::compaction_filter_factory::{CompactionFilterContext, CompactionFilterFactory};
use rocksdb::DB;
use std::ffi::CStr;
use std::sync::{Arc, OnceLock, Weak};

/// Subkeys of a key that expired less than this long ago are kept, so that
/// an EXPIRE/PERSIST racing with a compaction cannot lose data (Kvrocks #1298).
const SUBKEY_EXPIRE_GRACE_MS: u64 = 300_000;

/// Shared late-bound handle: the filters are built before the DB they read.
pub type DbSlot = Arc<OnceLock<Weak<DB>>>;

pub fn metadata_filter(_level: u32, _key: &[u8], value: &[u8]) -> Decision {
    match Metadata::decode(value) {
        Ok((m, _)) if m.is_expired_at(now_ms()) => Decision::Remove,
        // A record we cannot read is kept: dropping data we do not
        // understand is worse than keeping a few bytes.
        _ => Decision::Keep,
    }
}

pub fn pubsub_filter(_level: u32, _key: &[u8], _value: &[u8]) -> Decision {
    Decision::Remove
}

pub fn propagate_filter(_level: u32, key: &[u8], _value: &[u8]) -> Decision {
    if key == b"script" {
        Decision::Remove
    } else {
        Decision::Keep
    }
}

pub struct SubKeyFilterFactory {
    pub db: DbSlot,
    pub cluster: bool,
}

impl CompactionFilterFactory for SubKeyFilterFactory {
    type Filter = SubKeyFilter;

    fn create(&mut self, _context: CompactionFilterContext) -> SubKeyFilter {
        SubKeyFilter {
            db: self.db.clone(),
            cluster: self.cluster,
            cached_key: Vec::new(),
            cached: None,
        }
    }

    fn name(&self) -> &CStr {
        c"SubKeyFilterFactory"
    }
}

pub struct SubKeyFilter {
    db: DbSlot,
    cluster: bool,
    /// The last metadata looked up: subkeys of one key are adjacent, so one
    /// lookup serves them all.
    cached_key: Vec<u8>,
    cached: Option<Option<Metadata>>,
}

impl SubKeyFilter {
    fn metadata_of(&mut self, metadata_key: Vec<u8>) -> Option<Option<Metadata>> {
        if self.cached.is_some() && self.cached_key == metadata_key {
            return self.cached.clone();
        }
        let db = self.db.get()?.upgrade()?;
        let cf = db.cf_handle(ColumnFamily::Metadata.name())?;
        // On a read error keep the subkey: better a stale record than lost data.
        let raw = db.get_pinned_cf(cf, &metadata_key).ok()?;
        let metadata = raw.and_then(|v| Metadata::decode(&v).ok().map(|(m, _)| m));
        self.cached_key = metadata_key;
        self.cached = Some(metadata.clone());
        Some(metadata)
    }
}

impl CompactionFilter for SubKeyFilter {
    fn filter(&mut self, _level: u32, key: &[u8], _value: &[u8]) -> Decision {
        let Some(ikey) = InternalKey::decode(key, self.cluster) else {
            return Decision::Keep;
        };
        let version = ikey.version;
        let Some(metadata) = self.metadata_of(ikey.metadata_key()) else {
            return Decision::Keep;
        };
        match metadata {
            None => Decision::Remove,
            Some(m) if m.kind.is_single_kv() || m.version != version => Decision::Remove,
            Some(m) if m.is_expired_at(now_ms().saturating_sub(SUBKEY_EXPIRE_GRACE_MS)) => {
                Decision::Remove
            }
            Some(_) => Decision::Keep,
        }
    }

    fn name(&self) -> &CStr {
        c"SubKeyFilter"
    }
}
