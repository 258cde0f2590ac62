//! Hash-field expiration (Redis 7.4/8: HEXPIRE and friends, HGETEX,
//! HSETEX, HGETDEL), as an extension of Kvrocks' hash layout that leaves a
//! hash without field TTLs byte-identical to Kvrocks'.
//!
//! - A hash gets a one-byte metadata trailer `0x01` the first time one of
//!   its fields gets a TTL. From then on every field value of that
//!   generation is stored as `u64 expire_ms (big-endian, 0 = none) ‖ value`;
//!   the switch rewrites the existing fields once (O(fields)).
//! - Every field with a TTL also has an index entry in the `zset_score`
//!   column family under the hash's own `key|version` prefix:
//!   `u64 expire_ms ‖ field` with an empty value. It sorts by time, so the
//!   fields due are a prefix scan, and it lives and dies with the generation
//!   (DEL, RENAME, COPY, compaction filters treat it as any subkey).
//! - A field is expired once its time is at or before now: every read skips
//!   it at once. The metadata size keeps counting stored fields until the
//!   background cycle deletes them, so HLEN is the size minus the index
//!   entries already due (O(expired, not yet reclaimed fields)): exact at
//!   once, and O(1) again after reclamation.
//! - The background cycle deletes due fields (notifying `hexpired`, and
//!   `del` when the last field went) for the hashes it has been told about
//!   (`note_field_ttl`, on every TTL write) and for every hash with the
//!   trailer it meets on its walk of the keyspace (after a restart).

use crate::database::{Database, Record};
use crate::error::Result;
use basalt_engine::version::now_ms;
use basalt_engine::{ColumnFamily, EngineError, RedisType, WriteBatch};
use std::collections::HashMap;

/// The metadata trailer of a hash whose values carry their expiry.
pub const FIELD_TTL_MODE: u8 = 1;

/// How one stored field value reads at one instant.
#[derive(Clone, Copy)]
pub(crate) struct FieldCodec {
    ttl: bool,
    now: u64,
}

impl FieldCodec {
    pub(crate) fn of(record: &Record) -> FieldCodec {
        FieldCodec {
            ttl: record.rest.first() == Some(&FIELD_TTL_MODE),
            now: now_ms(),
        }
    }

    pub(crate) fn has_ttls(&self) -> bool {
        self.ttl
    }

    /// (expire_ms, value) of a stored field; 0 = no TTL.
    pub(crate) fn split<'a>(&self, raw: &'a [u8]) -> (u64, &'a [u8]) {
        if !self.ttl || raw.len() < 8 {
            return (0, raw);
        }
        let (head, value) = raw.split_at(8);
        let at = u64::from_be_bytes(head.try_into().unwrap_or([0; 8]));
        (at, value)
    }

    pub(crate) fn is_due(&self, at: u64) -> bool {
        at != 0 && at <= self.now
    }

    /// The value of a stored field, `None` if it has expired.
    pub(crate) fn live<'a>(&self, raw: &'a [u8]) -> Option<&'a [u8]> {
        let (at, value) = self.split(raw);
        (!self.is_due(at)).then_some(value)
    }

    /// The stored form of `value` expiring at `at` (0 = never).
    pub(crate) fn encode(&self, value: &[u8], at: u64) -> Vec<u8> {
        if !self.ttl {
            return value.to_vec();
        }
        let mut out = Vec::with_capacity(8 + value.len());
        out.extend_from_slice(&at.to_be_bytes());
        out.extend_from_slice(value);
        out
    }
}

/// A hash field with its expiry in Unix ms (0: none), as DUMP and RESTORE
/// carry it.
pub type TtlFieldValue = (Vec<u8>, Vec<u8>, u64);

/// A field's TTL as HTTL and friends see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldTtl {
    NoField,
    Persistent,
    /// Absolute Unix milliseconds.
    At(u64),
}

/// HEXPIRE's NX XX GT LT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldExpireCondition {
    Always,
    Nx,
    Xx,
    Gt,
    Lt,
}

/// What HEXPIRE did to one field (Redis's reply codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldExpireResult {
    NoField = -2,
    ConditionNotMet = 0,
    Set = 1,
    /// The time was not in the future: the field was deleted.
    Deleted = 2,
}

/// The TTL part of HGETEX/HSETEX.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldTtlChange {
    /// HGETEX without an option: nothing changes.
    None,
    /// HSETEX without KEEPTTL (and HSET): the field loses its TTL.
    Clear,
    /// KEEPTTL.
    Keep,
    /// EX PX EXAT PXAT (absolute ms).
    At(u64),
    /// HGETEX PERSIST.
    Persist,
}

/// HSETEX's FNX / FXX.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldSetCondition {
    Always,
    /// Only if none of the fields exists.
    Fnx,
    /// Only if all of them exist.
    Fxx,
}

/// What a TTL-changing write did, for its notifications.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FieldTtlOutcome {
    pub updated: u64,
    pub deleted: u64,
    pub persisted: u64,
    /// The hash lost its last field.
    pub key_deleted: bool,
}

/// Hashes the background cycle should look at, with the earliest time a
/// field of each may expire (0: look at once). A hint: losing it (restart)
/// only delays reclamation until the keyspace walk meets the hash.
#[derive(Default)]
pub struct FieldTtlHints {
    map: parking_lot::Mutex<HashMap<Vec<u8>, u64>>,
}

const HINTS_MAX: usize = 100_000;

/// Due fields one reclamation step deletes from one hash: bounds the write
/// batch and how long the key stays locked (a hash whose millions of
/// fields expire together is reclaimed over many steps).
const RECLAIM_CHUNK: usize = 10_000;

impl FieldTtlHints {
    pub fn note(&self, key: &[u8], at: u64) {
        let mut map = self.map.lock();
        if map.len() >= HINTS_MAX && !map.contains_key(key) {
            // The keyspace walk finds the dropped ones again.
            return;
        }
        let e = map.entry(key.to_vec()).or_insert(at);
        *e = (*e).min(at);
    }

    fn take_due(&self, now: u64, limit: usize) -> Vec<Vec<u8>> {
        let mut map = self.map.lock();
        let due: Vec<Vec<u8>> = map
            .iter()
            .filter(|(_, &at)| at <= now)
            .take(limit)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &due {
            map.remove(k);
        }
        due
    }
}

impl Database {
    fn ttl_index_key(&self, key: &[u8], version: u64, at: u64, field: &[u8]) -> Vec<u8> {
        let mut sub = Vec::with_capacity(8 + field.len());
        sub.extend_from_slice(&at.to_be_bytes());
        sub.extend_from_slice(field);
        self.subkey(key, version, &sub)
    }

    /// Index entries of a generation in time order: (expire_ms, field),
    /// stopping after `until` (inclusive) or `limit` entries.
    fn ttl_index_until(
        &self,
        key: &[u8],
        version: u64,
        until: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>> {
        let prefix_len = self.subkey_prefix(key, version).len();
        let mut it = self.ttl_index_iter(key, version, until);
        let mut out = Vec::new();
        while let Some(k) = it.key() {
            if out.len() >= limit {
                break;
            }
            let Some(sub) = k.get(prefix_len..).filter(|s| s.len() >= 8) else {
                break;
            };
            let at = u64::from_be_bytes(sub[..8].try_into().unwrap_or([0; 8]));
            if at > until {
                break;
            }
            out.push((at, sub[8..].to_vec()));
            it.next();
        }
        it.status().map_err(EngineError::from)?;
        Ok(out)
    }

    /// The index entries of a generation due at or before `until`, the
    /// iterator bounded there: a scan of the due entries never walks the
    /// tombstones of later entries (a field whose TTL was changed leaves
    /// one at its old time; a hash of millions of fields given new TTLs
    /// leaves millions).
    fn ttl_index_iter(
        &self,
        key: &[u8],
        version: u64,
        until: u64,
    ) -> basalt_engine::StorageIter<'_> {
        let prefix = self.subkey_prefix(key, version);
        let upper = match until.checked_add(1) {
            Some(end) => {
                let mut upper = prefix.clone();
                upper.extend_from_slice(&end.to_be_bytes());
                Some(upper)
            }
            None => basalt_engine::key::prefix_upper_bound(&prefix),
        };
        let mut it = self
            .storage()
            .iter(ColumnFamily::ZSetScore, Some(&prefix), upper.as_deref());
        it.seek(&prefix);
        it
    }

    /// When the background cycle should look at a generation again: the
    /// first index entry's time. Looked for within the next minute first
    /// (a bounded scan); past it, the whole index is scanned, tombstones
    /// and all, which a hash with fields due soon never needs.
    fn ttl_index_next(&self, key: &[u8], version: u64, now: u64) -> Result<Option<u64>> {
        const SOON_MS: u64 = 60_000;
        let prefix_len = self.subkey_prefix(key, version).len();
        let it = self.ttl_index_iter(key, version, now.saturating_add(SOON_MS));
        let soon = it
            .key()
            .and_then(|k| k.get(prefix_len..prefix_len + 8))
            .map(|b| u64::from_be_bytes(b.try_into().unwrap_or([0; 8])));
        it.status().map_err(EngineError::from)?;
        match soon {
            Some(at) => Ok(Some(at)),
            None => self.ttl_index_first(key, version),
        }
    }

    /// The first index entry's time, if any field has a TTL.
    fn ttl_index_first(&self, key: &[u8], version: u64) -> Result<Option<u64>> {
        let prefix_len = self.subkey_prefix(key, version).len();
        let it = self.iter_subkeys(ColumnFamily::ZSetScore, key, version);
        let first = it
            .key()
            .and_then(|k| k.get(prefix_len..prefix_len + 8))
            .map(|b| u64::from_be_bytes(b.try_into().unwrap_or([0; 8])));
        it.status().map_err(EngineError::from)?;
        Ok(first)
    }

    /// Fields stored but already expired (HLEN subtracts them).
    pub(crate) fn expired_field_count(&self, key: &[u8], record: &Record) -> Result<u64> {
        let codec = FieldCodec::of(record);
        if !codec.has_ttls() {
            return Ok(0);
        }
        let prefix_len = self.subkey_prefix(key, record.metadata.version).len();
        let mut it = self.ttl_index_iter(key, record.metadata.version, codec.now);
        let mut due = 0u64;
        while let Some(at) = it
            .key()
            .and_then(|k| k.get(prefix_len..prefix_len + 8))
            .map(|b| u64::from_be_bytes(b.try_into().unwrap_or([0; 8])))
        {
            if at > codec.now {
                break;
            }
            due += 1;
            it.next();
        }
        it.status().map_err(EngineError::from)?;
        Ok(due)
    }

    /// Switches a hash generation to values with an expiry prefix: rewrites
    /// every field once, in `batch`, and sets the trailer.
    fn enable_field_ttls(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        record: &mut Record,
    ) -> Result<()> {
        if FieldCodec::of(record).has_ttls() {
            return Ok(());
        }
        let version = record.metadata.version;
        let prefix_len = self.subkey_prefix(key, version).len();
        let mut it = self.iter_subkeys(ColumnFamily::Default, key, version);
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            if k.len() >= prefix_len {
                let mut stored = Vec::with_capacity(8 + v.len());
                stored.extend_from_slice(&0u64.to_be_bytes());
                stored.extend_from_slice(v);
                self.storage().put(batch, ColumnFamily::Default, k, &stored);
            }
            it.next();
        }
        it.status().map_err(EngineError::from)?;
        record.rest = vec![FIELD_TTL_MODE];
        Ok(())
    }

    /// The stored (raw) values of `fields`, in order.
    fn raw_fields(
        &self,
        key: &[u8],
        version: u64,
        fields: &[&[u8]],
    ) -> Result<Vec<Option<Vec<u8>>>> {
        let keys: Vec<Vec<u8>> = fields
            .iter()
            .map(|f| self.subkey(key, version, f))
            .collect();
        self.storage()
            .multi_get(ColumnFamily::Default, &keys)
            .into_iter()
            .map(|v| Ok(v?.map(|s| s.to_vec())))
            .collect()
    }

    /// Writes one field with its expiry, keeping the index in step with
    /// the expiry it had (`old_at`, 0 = none or absent).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn put_field_with_ttl(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        codec: FieldCodec,
        version: u64,
        field: &[u8],
        value: &[u8],
        old_at: u64,
        at: u64,
    ) {
        let sk = self.subkey(key, version, field);
        self.storage()
            .put(batch, ColumnFamily::Default, &sk, &codec.encode(value, at));
        if old_at != at {
            if old_at != 0 {
                let ik = self.ttl_index_key(key, version, old_at, field);
                self.storage().delete(batch, ColumnFamily::ZSetScore, &ik);
            }
            if at != 0 {
                let ik = self.ttl_index_key(key, version, at, field);
                self.storage().put(batch, ColumnFamily::ZSetScore, &ik, b"");
            }
        }
    }

    /// Deletes one stored field and its index entry.
    pub(crate) fn delete_field(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        version: u64,
        field: &[u8],
        at: u64,
    ) {
        let sk = self.subkey(key, version, field);
        self.storage().delete(batch, ColumnFamily::Default, &sk);
        if at != 0 {
            let ik = self.ttl_index_key(key, version, at, field);
            self.storage().delete(batch, ColumnFamily::ZSetScore, &ik);
        }
    }

    /// Every live field of a hash record with its expiry (DUMP).
    pub(crate) fn hash_fields_with_ttls(
        &self,
        key: &[u8],
        record: &Record,
    ) -> Result<Vec<TtlFieldValue>> {
        let mut out = Vec::new();
        self.for_each_live_field(key, record, |field, value, at| {
            out.push((field.to_vec(), value.to_vec(), at))
        })?;
        Ok(out)
    }

    /// Writes a new hash generation holding `fields` with their expiry
    /// (RESTORE), in the field-TTL encoding when any field has one, and
    /// tells the expiry cycle about the earliest.
    pub(crate) fn put_new_hash_with_ttls(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        fields: &[TtlFieldValue],
        expire_ms: u64,
    ) {
        let mut record = Record::new_collection(RedisType::Hash, expire_ms);
        record.metadata.size = fields.len() as u64;
        record.rest = vec![FIELD_TTL_MODE];
        let codec = FieldCodec::of(&record);
        let version = record.metadata.version;
        for (field, value, at) in fields {
            self.put_field_with_ttl(batch, key, codec, version, field, value, 0, *at);
        }
        self.put_record(batch, key, &record);
        if let Some(first) = fields.iter().map(|f| f.2).filter(|&at| at != 0).min() {
            self.field_ttls().note(key, first);
        }
    }

    /// HTTL/HPTTL/HEXPIRETIME/HPEXPIRETIME: each field's TTL.
    pub fn hash_field_ttls(&self, key: &[u8], fields: &[&[u8]]) -> Result<Vec<FieldTtl>> {
        let Some(record) = self.read_typed(key, RedisType::Hash)? else {
            return Ok(vec![FieldTtl::NoField; fields.len()]);
        };
        let codec = FieldCodec::of(&record);
        let raw = self.raw_fields(key, record.metadata.version, fields)?;
        Ok(raw
            .iter()
            .map(|v| match v.as_deref().map(|r| codec.split(r)) {
                None => FieldTtl::NoField,
                Some((at, _)) if codec.is_due(at) => FieldTtl::NoField,
                Some((0, _)) => FieldTtl::Persistent,
                Some((at, _)) => FieldTtl::At(at),
            })
            .collect())
    }

    /// HEXPIRE and friends: sets each field's expiry to `at` (absolute ms)
    /// under `cond`; a time not in the future deletes the field.
    pub fn hexpire(
        &self,
        key: &[u8],
        fields: &[&[u8]],
        at: u64,
        cond: FieldExpireCondition,
    ) -> Result<(Vec<FieldExpireResult>, FieldTtlOutcome)> {
        let _guard = self.storage().locks().lock(key);
        let mut outcome = FieldTtlOutcome::default();
        let Some(mut record) = self.read_typed(key, RedisType::Hash)? else {
            return Ok((vec![FieldExpireResult::NoField; fields.len()], outcome));
        };
        let mut batch = WriteBatch::default();
        // Values read below are as stored before this switch.
        let stored = FieldCodec::of(&record);
        self.enable_field_ttls(&mut batch, key, &mut record)?;
        let version = record.metadata.version;
        let codec = FieldCodec::of(&record);
        let mut current: HashMap<&[u8], (u64, Option<Vec<u8>>)> = HashMap::new();
        let mut out = Vec::with_capacity(fields.len());
        let mut stored_deleted = 0u64;
        for (field, raw) in fields.iter().zip(self.raw_fields(key, version, fields)?) {
            // A field named twice sees the first one's effect.
            let (old_at, value) = match current.get(field) {
                Some((a, v)) => (*a, v.clone()),
                None => match raw.as_deref() {
                    Some(r) => {
                        let (a, v) = stored.split(r);
                        (a, Some(v.to_vec()))
                    }
                    None => (0, None),
                },
            };
            let live = value.is_some() && !codec.is_due(old_at);
            if !live {
                out.push(FieldExpireResult::NoField);
                continue;
            }
            let met = match cond {
                FieldExpireCondition::Always => true,
                FieldExpireCondition::Nx => old_at == 0,
                FieldExpireCondition::Xx => old_at != 0,
                // No TTL counts as an infinite one.
                FieldExpireCondition::Gt => old_at != 0 && at > old_at,
                FieldExpireCondition::Lt => old_at == 0 || at < old_at,
            };
            if !met {
                out.push(FieldExpireResult::ConditionNotMet);
                continue;
            }
            let value = value.unwrap_or_default();
            if at <= codec.now {
                self.delete_field(&mut batch, key, version, field, old_at);
                current.insert(field, (0, None));
                stored_deleted += 1;
                outcome.deleted += 1;
                out.push(FieldExpireResult::Deleted);
            } else {
                self.put_field_with_ttl(&mut batch, key, codec, version, field, &value, old_at, at);
                current.insert(field, (at, Some(value)));
                outcome.updated += 1;
                out.push(FieldExpireResult::Set);
            }
        }
        if outcome.updated + outcome.deleted == 0 {
            return Ok((out, outcome));
        }
        record.metadata.size = record.metadata.size.saturating_sub(stored_deleted);
        // A field just given a future time is live, so the hash stays: only
        // a call that deleted every field it named needs the count of the
        // expired ones (a scan of them, costly while many await reclaiming).
        outcome.key_deleted = outcome.updated == 0
            && record.metadata.size <= self.expired_field_count(key, &record)?;
        self.finish_ttl_write(&mut batch, key, &record, outcome.key_deleted)?;
        if outcome.updated > 0 {
            self.field_ttls().note(key, at);
        }
        Ok((out, outcome))
    }

    /// Writes the metadata of a hash after a TTL change: deleted (and its
    /// generation reclaimed) when no live field is left.
    fn finish_ttl_write(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        record: &Record,
        gone: bool,
    ) -> Result<()> {
        if gone {
            self.storage()
                .delete(batch, ColumnFamily::Metadata, &self.metadata_key(key));
        } else {
            self.put_record(batch, key, record);
        }
        self.storage().write(std::mem::take(batch))?;
        if gone {
            self.reclaim(key, &record.metadata);
        }
        Ok(())
    }

    /// HPERSIST: -2 no field, -1 no TTL, 1 TTL removed.
    pub fn hpersist(&self, key: &[u8], fields: &[&[u8]]) -> Result<Vec<i64>> {
        let _guard = self.storage().locks().lock(key);
        let Some(record) = self.read_typed(key, RedisType::Hash)? else {
            return Ok(vec![-2; fields.len()]);
        };
        let codec = FieldCodec::of(&record);
        let version = record.metadata.version;
        let mut batch = WriteBatch::default();
        let mut done: HashMap<&[u8], ()> = HashMap::new();
        let mut out = Vec::with_capacity(fields.len());
        for (field, raw) in fields.iter().zip(self.raw_fields(key, version, fields)?) {
            let Some(raw) = raw else {
                out.push(-2);
                continue;
            };
            let (at, value) = codec.split(&raw);
            if codec.is_due(at) {
                out.push(-2);
            } else if at == 0 || done.contains_key(field) {
                out.push(-1);
            } else {
                self.put_field_with_ttl(&mut batch, key, codec, version, field, value, at, 0);
                done.insert(field, ());
                out.push(1);
            }
        }
        if !done.is_empty() {
            self.storage().write(batch)?;
        }
        Ok(out)
    }

    /// HGETEX: the live values of `fields`, changing the TTL of those that
    /// exist; a time not in the future deletes them.
    pub fn hgetex(
        &self,
        key: &[u8],
        fields: &[&[u8]],
        change: FieldTtlChange,
    ) -> Result<(Vec<Option<Vec<u8>>>, FieldTtlOutcome)> {
        let _guard = self.storage().locks().lock(key);
        let mut outcome = FieldTtlOutcome::default();
        let Some(mut record) = self.read_typed(key, RedisType::Hash)? else {
            return Ok((vec![None; fields.len()], outcome));
        };
        let mut batch = WriteBatch::default();
        // Values read below are as stored before a switch to TTL values.
        let stored = FieldCodec::of(&record);
        if matches!(change, FieldTtlChange::At(_)) {
            self.enable_field_ttls(&mut batch, key, &mut record)?;
        }
        let codec = FieldCodec::of(&record);
        let version = record.metadata.version;
        let mut values = Vec::with_capacity(fields.len());
        let mut seen: HashMap<&[u8], bool> = HashMap::new();
        let mut stored_deleted = 0;
        for (field, raw) in fields.iter().zip(self.raw_fields(key, version, fields)?) {
            let (at, value) = match raw.as_deref() {
                Some(r) => {
                    let (a, v) = stored.split(r);
                    (a, Some(v.to_vec()))
                }
                None => (0, None),
            };
            let live = value.filter(|_| !codec.is_due(at));
            if seen.contains_key(field) {
                values.push(if seen[field] { live } else { None });
                continue;
            }
            if let Some(v) = &live {
                match change {
                    FieldTtlChange::At(to) if to <= codec.now => {
                        self.delete_field(&mut batch, key, version, field, at);
                        stored_deleted += 1;
                        outcome.deleted += 1;
                        seen.insert(field, false);
                    }
                    FieldTtlChange::At(to) => {
                        self.put_field_with_ttl(&mut batch, key, codec, version, field, v, at, to);
                        outcome.updated += 1;
                        seen.insert(field, true);
                    }
                    FieldTtlChange::Persist if at != 0 => {
                        self.put_field_with_ttl(&mut batch, key, codec, version, field, v, at, 0);
                        outcome.persisted += 1;
                        seen.insert(field, true);
                    }
                    _ => {
                        seen.insert(field, true);
                    }
                }
            }
            values.push(live);
        }
        if outcome.updated + outcome.deleted + outcome.persisted == 0 {
            return Ok((values, outcome));
        }
        record.metadata.size = record.metadata.size.saturating_sub(stored_deleted);
        outcome.key_deleted = record.metadata.size <= self.expired_field_count(key, &record)?;
        self.finish_ttl_write(&mut batch, key, &record, outcome.key_deleted)?;
        if let FieldTtlChange::At(to) = change {
            self.field_ttls().note(key, to);
        }
        Ok((values, outcome))
    }

    /// HSETEX: sets all pairs (or none, under FNX/FXX) with `change` for
    /// their TTL. Returns whether they were set.
    pub fn hsetex(
        &self,
        key: &[u8],
        pairs: &[(&[u8], &[u8])],
        cond: FieldSetCondition,
        change: FieldTtlChange,
    ) -> Result<(bool, FieldTtlOutcome)> {
        let _guard = self.storage().locks().lock(key);
        let mut outcome = FieldTtlOutcome::default();
        let mut record = self.read_or_create(key, RedisType::Hash)?;
        let existed = record.metadata.size > 0;
        let mut batch = WriteBatch::default();
        let fields: Vec<&[u8]> = pairs.iter().map(|(f, _)| *f).collect();
        let old = if existed {
            let raw = self.raw_fields(key, record.metadata.version, &fields)?;
            let codec = FieldCodec::of(&record);
            raw.into_iter()
                .map(|r| r.map(|r| codec.split(&r).0))
                .collect::<Vec<_>>()
        } else {
            vec![None; pairs.len()]
        };
        let codec_before = FieldCodec::of(&record);
        let live: Vec<bool> = old
            .iter()
            .map(|o| o.is_some_and(|at| !codec_before.is_due(at)))
            .collect();
        let ok = match cond {
            FieldSetCondition::Always => true,
            FieldSetCondition::Fnx => !live.contains(&true),
            FieldSetCondition::Fxx => !live.contains(&false),
        };
        if !ok {
            return Ok((false, outcome));
        }
        if matches!(change, FieldTtlChange::At(_)) {
            self.enable_field_ttls(&mut batch, key, &mut record)?;
        }
        let codec = FieldCodec::of(&record);
        let version = record.metadata.version;
        // The last value of a repeated field wins, as in HSET.
        let mut last: std::collections::BTreeMap<&[u8], (&[u8], Option<u64>)> = Default::default();
        for ((f, v), o) in pairs.iter().zip(&old) {
            last.insert(f, (v, *o));
        }
        let mut added = 0u64;
        let past = matches!(change, FieldTtlChange::At(to) if to <= codec.now);
        for (field, (value, old_at)) in last {
            let old_at_stored = old_at.unwrap_or(0);
            let was_stored = old_at.is_some();
            if past {
                if was_stored {
                    self.delete_field(&mut batch, key, version, field, old_at_stored);
                    record.metadata.size = record.metadata.size.saturating_sub(1);
                }
                outcome.deleted += 1;
                continue;
            }
            let at = match change {
                FieldTtlChange::At(to) => to,
                FieldTtlChange::Keep if !codec_before.is_due(old_at_stored) => old_at_stored,
                _ => 0,
            };
            self.put_field_with_ttl(
                &mut batch,
                key,
                codec,
                version,
                field,
                value,
                old_at_stored,
                at,
            );
            if !was_stored {
                added += 1;
            }
            if at != 0 {
                outcome.updated += 1;
            }
        }
        record.metadata.size += added;
        let gone = record.metadata.size == 0
            || (existed && record.metadata.size <= self.expired_field_count(key, &record)?);
        outcome.key_deleted = gone && existed;
        if gone && !existed {
            // Nothing was created (every field expired at once).
            return Ok((true, outcome));
        }
        self.finish_ttl_write(&mut batch, key, &record, gone)?;
        if let FieldTtlChange::At(to) = change {
            if !past {
                self.field_ttls().note(key, to);
            }
        }
        Ok((true, outcome))
    }

    /// HGETDEL: the live values of `fields`, which are deleted, and how
    /// many live fields went.
    pub fn hgetdel(&self, key: &[u8], fields: &[&[u8]]) -> Result<(Vec<Option<Vec<u8>>>, u64)> {
        let _guard = self.storage().locks().lock(key);
        let Some(mut record) = self.read_typed(key, RedisType::Hash)? else {
            return Ok((vec![None; fields.len()], 0));
        };
        let codec = FieldCodec::of(&record);
        let version = record.metadata.version;
        let mut batch = WriteBatch::default();
        let mut gone: HashMap<&[u8], ()> = HashMap::new();
        let mut values = Vec::with_capacity(fields.len());
        let (mut removed, mut stored_removed) = (0u64, 0u64);
        for (field, raw) in fields.iter().zip(self.raw_fields(key, version, fields)?) {
            if gone.contains_key(field) {
                values.push(None);
                continue;
            }
            let Some(raw) = raw else {
                values.push(None);
                continue;
            };
            let (at, value) = codec.split(&raw);
            self.delete_field(&mut batch, key, version, field, at);
            gone.insert(field, ());
            stored_removed += 1;
            if codec.is_due(at) {
                values.push(None);
            } else {
                removed += 1;
                values.push(Some(value.to_vec()));
            }
        }
        if stored_removed == 0 {
            return Ok((values, 0));
        }
        record.metadata.size = record.metadata.size.saturating_sub(stored_removed);
        let key_deleted = record.metadata.size <= self.expired_field_count(key, &record)?;
        self.finish_ttl_write(&mut batch, key, &record, key_deleted)?;
        Ok((values, removed))
    }

    /// Background reclamation of one hash: deletes its due fields. Returns
    /// (fields deleted, the hash went away with them).
    pub fn expire_hash_fields(&self, key: &[u8]) -> Result<(u64, bool)> {
        let _guard = self.storage().locks().lock(key);
        let Some(mut record) = self.read(key)? else {
            return Ok((0, false));
        };
        if record.metadata.kind != RedisType::Hash || !FieldCodec::of(&record).has_ttls() {
            return Ok((0, false));
        }
        let codec = FieldCodec::of(&record);
        let version = record.metadata.version;
        let due = self.ttl_index_until(key, version, codec.now, RECLAIM_CHUNK)?;
        let Some((last_at, last_field)) = due.last() else {
            if let Some(next) = self.ttl_index_next(key, version, codec.now)? {
                self.field_ttls().note(key, next);
            }
            return Ok((0, false));
        };
        let mut batch = WriteBatch::default();
        for (_, field) in &due {
            self.storage().delete(
                &mut batch,
                ColumnFamily::Default,
                &self.subkey(key, version, field),
            );
        }
        // The entries taken are the index's first ones (the key lock keeps
        // writers out): one range deletion removes them all, and the next
        // scan from the prefix skips it at once, where millions of point
        // tombstones would be walked one by one until compaction.
        let mut end = self.ttl_index_key(key, version, *last_at, last_field);
        end.push(0);
        self.storage().delete_range(
            &mut batch,
            ColumnFamily::ZSetScore,
            &self.subkey_prefix(key, version),
            &end,
        );
        record.metadata.size = record.metadata.size.saturating_sub(due.len() as u64);
        let gone = record.metadata.size == 0;
        self.finish_ttl_write(&mut batch, key, &record, gone)?;
        if !gone {
            if due.len() == RECLAIM_CHUNK {
                // More may be due: the next step goes on with them.
                self.field_ttls().note(key, 0);
            } else if let Some(next) = self.ttl_index_next(key, version, codec.now)? {
                self.field_ttls().note(key, next);
            }
        }
        Ok((due.len() as u64, gone))
    }

    /// The background cycle's step for field TTLs: reclaims up to `limit`
    /// hashes with fields due. Returns (key, key deleted) per hash that
    /// lost fields.
    pub fn expire_due_hash_fields(&self, limit: usize) -> Result<Vec<(Vec<u8>, bool)>> {
        let mut out = Vec::new();
        for key in self.field_ttls().take_due(now_ms(), limit) {
            let (n, gone) = self.expire_hash_fields(&key)?;
            if n > 0 {
                out.push((key, gone));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::test_support::open;

    fn stored(db: &Database, key: &[u8], field: &[u8]) -> Option<Vec<u8>> {
        let record = db.read(key).unwrap()?;
        let sk = db.subkey(key, record.metadata.version, field);
        db.storage()
            .get(ColumnFamily::Default, &sk)
            .unwrap()
            .map(|v| v.to_vec())
    }

    #[test]
    fn a_hash_without_field_ttls_keeps_kvrocks_bytes() {
        let t = open();
        t.db.hset(b"h", &[(b"f", b"v"), (b"g", b"w")], false)
            .unwrap();
        t.db.hpersist(b"h", &[b"f"]).unwrap();
        let record = t.db.read(b"h").unwrap().unwrap();
        assert!(record.rest.is_empty(), "no trailer");
        assert_eq!(stored(&t.db, b"h", b"f").unwrap(), b"v");
    }

    #[test]
    fn the_first_ttl_switches_the_encoding_and_reclamation_deletes_due_fields() {
        let t = open();
        t.db.hset(b"h", &[(b"a", b"1"), (b"b", b"2"), (b"c", b"3")], false)
            .unwrap();
        let far = now_ms() + 100_000;
        let (r, _) =
            t.db.hexpire(b"h", &[b"a"], far, FieldExpireCondition::Always)
                .unwrap();
        assert_eq!(r, vec![FieldExpireResult::Set]);
        let record = t.db.read(b"h").unwrap().unwrap();
        assert_eq!(record.rest, vec![FIELD_TTL_MODE]);
        let mut expected = far.to_be_bytes().to_vec();
        expected.push(b'1');
        assert_eq!(stored(&t.db, b"h", b"a").unwrap(), expected);
        let mut plain = 0u64.to_be_bytes().to_vec();
        plain.push(b'2');
        assert_eq!(stored(&t.db, b"h", b"b").unwrap(), plain);

        // Make b due by writing its expiry directly in the past.
        let mut batch = WriteBatch::default();
        let codec = FieldCodec::of(&record);
        let past = now_ms() - 10;
        t.db.put_field_with_ttl(
            &mut batch,
            b"h",
            codec,
            record.metadata.version,
            b"b",
            b"2",
            0,
            past,
        );
        t.db.storage().write(batch).unwrap();
        assert_eq!(t.db.hlen(b"h").unwrap(), 2);
        assert_eq!(t.db.read(b"h").unwrap().unwrap().metadata.size, 3);
        assert_eq!(t.db.expire_hash_fields(b"h").unwrap(), (1, false));
        assert_eq!(t.db.read(b"h").unwrap().unwrap().metadata.size, 2);
        assert_eq!(stored(&t.db, b"h", b"b"), None);
        assert_eq!(t.db.hlen(b"h").unwrap(), 2);
        assert_eq!(
            t.db.hash_field_ttls(b"h", &[b"a", b"b", b"c"]).unwrap(),
            vec![FieldTtl::At(far), FieldTtl::NoField, FieldTtl::Persistent]
        );
    }
}
