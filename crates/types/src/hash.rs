//! Hashes, stored as Kvrocks stores them: metadata type 2 whose size is the
//! number of fields, and one subkey per field in the default column family
//! (subkey = field bytes, value = field value). Fields therefore iterate in
//! bytewise order, which HSCAN cursors and HRANGEBYLEX rely on.

use crate::database::{Database, Record};
use crate::error::{Error, Result};
use crate::hash_ttl::FieldCodec;
use crate::number::{add_human, parse_f64, parse_i64};
use basalt_engine::{ColumnFamily, EngineError, RedisType, WriteBatch};
use std::collections::BTreeMap;

pub type FieldValue = (Vec<u8>, Vec<u8>);

/// One end of an HRANGEBYLEX range, parsed from `-`, `+`, `[x` or `(x`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    NegInf,
    PosInf,
    Inclusive(Vec<u8>),
    Exclusive(Vec<u8>),
}

impl LexBound {
    pub fn parse(arg: &[u8]) -> Option<LexBound> {
        match arg {
            b"-" => Some(LexBound::NegInf),
            b"+" => Some(LexBound::PosInf),
            [b'[', rest @ ..] => Some(LexBound::Inclusive(rest.to_vec())),
            [b'(', rest @ ..] => Some(LexBound::Exclusive(rest.to_vec())),
            _ => None,
        }
    }

    /// Whether `field` is on the allowed side of this bound used as a minimum.
    fn admits_as_min(&self, field: &[u8]) -> bool {
        match self {
            LexBound::NegInf => true,
            LexBound::PosInf => false,
            LexBound::Inclusive(b) => field >= b.as_slice(),
            LexBound::Exclusive(b) => field > b.as_slice(),
        }
    }

    fn admits_as_max(&self, field: &[u8]) -> bool {
        match self {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Inclusive(b) => field <= b.as_slice(),
            LexBound::Exclusive(b) => field < b.as_slice(),
        }
    }
}

/// HRANGEBYLEX's arguments after parsing. `offset < 0` skips nothing and
/// `count < 0` means no limit, as in Kvrocks.
#[derive(Clone, Debug)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
    pub reverse: bool,
    pub offset: i64,
    pub count: i64,
}

pub struct HashScanPage {
    pub cursor: u64,
    pub items: Vec<FieldValue>,
}

/// HRANDFIELD with a count: distinct fields (positive) or `n` independent
/// draws that may repeat (negative).
#[derive(Clone, Copy, Debug)]
pub enum RandomCount {
    Distinct(u64),
    WithRepeats(u64),
}

impl Database {
    fn hash_record(&self, key: &[u8]) -> Result<Option<Record>> {
        self.read_typed(key, RedisType::Hash)
    }

    /// A field's live value (`None` if absent or expired).
    fn field_get(&self, key: &[u8], record: &Record, field: &[u8]) -> Result<Option<Vec<u8>>> {
        let sk = self.subkey(key, record.metadata.version, field);
        let codec = FieldCodec::of(record);
        Ok(self
            .storage()
            .get(ColumnFamily::Default, &sk)?
            .and_then(|v| codec.live(&v).map(<[u8]>::to_vec)))
    }

    /// A field as stored: (its expiry, 0 = none; whether it is live).
    fn field_state(
        &self,
        key: &[u8],
        record: &Record,
        field: &[u8],
    ) -> Result<Option<(u64, bool)>> {
        let sk = self.subkey(key, record.metadata.version, field);
        let codec = FieldCodec::of(record);
        Ok(self.storage().get(ColumnFamily::Default, &sk)?.map(|v| {
            let (at, _) = codec.split(&v);
            (at, !codec.is_due(at))
        }))
    }

    /// Every live field of one hash generation in bytewise order.
    fn all_fields(&self, key: &[u8], record: &Record) -> Result<Vec<FieldValue>> {
        let mut out = Vec::new();
        self.for_each_live_field(key, record, |field, value, _| {
            out.push((field.to_vec(), value.to_vec()))
        })?;
        Ok(out)
    }

    /// Calls `f(field, value, expires_at)` (0 = never) for every live
    /// field of one hash generation, in bytewise order.
    pub(crate) fn for_each_live_field(
        &self,
        key: &[u8],
        record: &Record,
        mut f: impl FnMut(&[u8], &[u8], u64),
    ) -> Result<()> {
        let version = record.metadata.version;
        let codec = FieldCodec::of(record);
        let prefix_len = self.subkey_prefix(key, version).len();
        let mut it = self.iter_subkeys(ColumnFamily::Default, key, version);
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            let (at, value) = codec.split(v);
            if let Some(field) = k.get(prefix_len..).filter(|_| !codec.is_due(at)) {
                f(field, value, at);
            }
            it.next();
        }
        it.status().map_err(EngineError::from)?;
        Ok(())
    }

    /// Writes a hash's metadata after fields were removed: gone (and
    /// reclaimed) when no live field is left.
    fn put_after_removal(&self, mut batch: WriteBatch, key: &[u8], record: &Record) -> Result<()> {
        let gone = record.metadata.size <= self.expired_field_count(key, record)?;
        if gone {
            self.storage()
                .delete(&mut batch, ColumnFamily::Metadata, &self.metadata_key(key));
        } else {
            self.put_record(&mut batch, key, record);
        }
        self.storage().write(batch)?;
        if gone {
            self.reclaim(key, &record.metadata);
        }
        Ok(())
    }

    /// Writes a new hash generation holding `pairs` under `key` (RESTORE),
    /// hiding what `key` held before, which the caller reclaims.
    pub(crate) fn put_new_hash<'p>(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        pairs: impl ExactSizeIterator<Item = (&'p [u8], &'p [u8])>,
        expire_ms: u64,
    ) {
        let mut record = Record::new_collection(RedisType::Hash, expire_ms);
        record.metadata.size = pairs.len() as u64;
        for (field, value) in pairs {
            let k = self.subkey(key, record.metadata.version, field);
            self.storage().put(batch, ColumnFamily::Default, &k, value);
        }
        self.put_record(batch, key, &record);
    }

    /// HSET/HMSET (`only_new` = false) and HSETNX (true). Returns how many
    /// fields were created. A field repeated in `pairs` takes its last value.
    pub fn hset(&self, key: &[u8], pairs: &[(&[u8], &[u8])], only_new: bool) -> Result<u64> {
        let _guard = self.storage().locks().lock(key);
        let mut record = self.read_or_create(key, RedisType::Hash)?;
        let version = record.metadata.version;
        let mut last: BTreeMap<&[u8], &[u8]> = BTreeMap::new();
        for (f, v) in pairs {
            if only_new {
                last.entry(f).or_insert(v);
            } else {
                last.insert(f, v);
            }
        }
        let codec = FieldCodec::of(&record);
        let mut batch = WriteBatch::default();
        let (mut added, mut stored_added) = (0u64, 0u64);
        for (field, value) in last {
            let state = if record.metadata.size > 0 {
                self.field_state(key, &record, field)?
            } else {
                None
            };
            let live = state.is_some_and(|(_, live)| live);
            if live && only_new {
                continue;
            }
            if !live {
                added += 1;
            }
            if state.is_none() {
                stored_added += 1;
            }
            // HSET drops the field's TTL, as in Redis.
            let old_at = state.map_or(0, |(at, _)| at);
            self.put_field_with_ttl(&mut batch, key, codec, version, field, value, old_at, 0);
        }
        if added == 0 && only_new {
            return Ok(0);
        }
        // Overwriting stored fields leaves the metadata as it is.
        if stored_added > 0 {
            record.metadata.size += stored_added;
            self.put_record(&mut batch, key, &record);
        }
        self.storage().write(batch)?;
        Ok(added)
    }

    pub fn hget(&self, key: &[u8], field: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.hash_record(key)? {
            Some(r) => self.field_get(key, &r, field),
            None => Ok(None),
        }
    }

    pub fn hmget(&self, key: &[u8], fields: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        let Some(r) = self.hash_record(key)? else {
            return Ok(vec![None; fields.len()]);
        };
        let codec = FieldCodec::of(&r);
        let keys: Vec<Vec<u8>> = fields
            .iter()
            .map(|f| self.subkey(key, r.metadata.version, f))
            .collect();
        self.storage()
            .multi_get(ColumnFamily::Default, &keys)
            .into_iter()
            .map(|v| Ok(v?.and_then(|s| codec.live(&s).map(<[u8]>::to_vec))))
            .collect()
    }

    pub fn hgetall(&self, key: &[u8]) -> Result<Vec<FieldValue>> {
        match self.hash_record(key)? {
            Some(r) => self.all_fields(key, &r),
            None => Ok(Vec::new()),
        }
    }

    /// The stored field count less the fields already expired but not yet
    /// reclaimed, so exact at every instant.
    pub fn hlen(&self, key: &[u8]) -> Result<u64> {
        match self.hash_record(key)? {
            Some(r) => Ok(r
                .metadata
                .size
                .saturating_sub(self.expired_field_count(key, &r)?)),
            None => Ok(0),
        }
    }

    pub fn hexists(&self, key: &[u8], field: &[u8]) -> Result<bool> {
        Ok(self.hget(key, field)?.is_some())
    }

    pub fn hstrlen(&self, key: &[u8], field: &[u8]) -> Result<u64> {
        Ok(self.hget(key, field)?.map_or(0, |v| v.len() as u64))
    }

    /// Removes fields; returns how many existed. The key goes away with its
    /// last field.
    pub fn hdel(&self, key: &[u8], fields: &[&[u8]]) -> Result<u64> {
        let _guard = self.storage().locks().lock(key);
        let Some(mut record) = self.hash_record(key)? else {
            return Ok(0);
        };
        let version = record.metadata.version;
        let unique: std::collections::BTreeSet<&[u8]> = fields.iter().copied().collect();
        let mut batch = WriteBatch::default();
        let (mut removed, mut stored_removed) = (0u64, 0u64);
        for field in unique {
            if let Some((at, live)) = self.field_state(key, &record, field)? {
                self.delete_field(&mut batch, key, version, field, at);
                stored_removed += 1;
                removed += live as u64;
            }
        }
        if stored_removed == 0 {
            return Ok(0);
        }
        record.metadata.size = record.metadata.size.saturating_sub(stored_removed);
        self.put_after_removal(batch, key, &record)?;
        Ok(removed)
    }

    /// Read-modify-write of one field under the key lock: `update` maps the
    /// current value (if any) to the new text, which is stored and returned.
    fn hupdate<T>(
        &self,
        key: &[u8],
        field: &[u8],
        update: impl FnOnce(Option<&[u8]>) -> Result<(String, T)>,
    ) -> Result<T> {
        let _guard = self.storage().locks().lock(key);
        let mut record = self.read_or_create(key, RedisType::Hash)?;
        let version = record.metadata.version;
        let (current, state) = if record.metadata.size > 0 {
            (
                self.field_get(key, &record, field)?,
                self.field_state(key, &record, field)?,
            )
        } else {
            (None, None)
        };
        let (text, out) = update(current.as_deref())?;
        let mut batch = WriteBatch::default();
        if state.is_none() {
            record.metadata.size += 1;
            self.put_record(&mut batch, key, &record);
        }
        // The field keeps its TTL (Redis's HINCRBY does); an expired one is
        // a new field without one.
        let old_at = state.map_or(0, |(at, _)| at);
        let keep = state.filter(|&(_, live)| live).map_or(0, |(at, _)| at);
        let codec = FieldCodec::of(&record);
        self.put_field_with_ttl(
            &mut batch,
            key,
            codec,
            version,
            field,
            text.as_bytes(),
            old_at,
            keep,
        );
        self.storage().write(batch)?;
        Ok(out)
    }

    pub fn hincr_by(&self, key: &[u8], field: &[u8], delta: i64) -> Result<i64> {
        self.hupdate(key, field, |current| {
            let value = match current {
                Some(v) => parse_i64(v).ok_or(Error::HashNotInteger)?,
                None => 0,
            };
            let next = value.checked_add(delta).ok_or(Error::Overflow)?;
            Ok((next.to_string(), next))
        })
    }

    /// HINCRBYFLOAT with the increment as the client sent it (already checked
    /// to be a finite float); returns the new value as Redis prints it.
    pub fn hincr_by_float(&self, key: &[u8], field: &[u8], delta: &[u8]) -> Result<String> {
        self.hupdate(key, field, |current| {
            let current = current.unwrap_or(b"0");
            parse_f64(current).ok_or(Error::HashNotFloat)?;
            let text = add_human(current, delta).ok_or(Error::NanOrInfinity)?;
            Ok((text.clone(), text))
        })
    }

    /// HRANDFIELD without a count: one random field and its value. Reads the
    /// whole hash (O(N)), as Kvrocks does.
    pub fn hrandfield_one(&self, key: &[u8]) -> Result<Option<FieldValue>> {
        let mut all = self.hgetall(key)?;
        if all.is_empty() {
            return Ok(None);
        }
        let i = rand::random_range(0..all.len());
        Ok(Some(all.swap_remove(i)))
    }

    /// HRANDFIELD with a count. Distinct draws come back in random order.
    pub fn hrandfield(&self, key: &[u8], count: RandomCount) -> Result<Vec<FieldValue>> {
        let mut all = self.hgetall(key)?;
        if all.is_empty() {
            return Ok(all);
        }
        match count {
            RandomCount::Distinct(n) => {
                // Partial Fisher-Yates: the first `n` slots are a uniform
                // random sample without replacement.
                let n = usize::try_from(n).unwrap_or(usize::MAX).min(all.len());
                for i in 0..n {
                    let j = rand::random_range(i..all.len());
                    all.swap(i, j);
                }
                all.truncate(n);
                Ok(all)
            }
            RandomCount::WithRepeats(n) => {
                let mut out = Vec::new();
                for _ in 0..n {
                    let i = rand::random_range(0..all.len());
                    if let Some(fv) = all.get(i) {
                        out.push(fv.clone());
                    }
                }
                Ok(out)
            }
        }
    }

    /// HSCAN: up to `count` fields after the cursor's position, filtered by
    /// `pattern`. A cursor remembers the key and the last field returned, so
    /// a cursor from another key (or one never handed out) restarts, as any
    /// number is a valid cursor in Redis.
    pub fn hscan(
        &self,
        key: &[u8],
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<HashScanPage> {
        let empty = HashScanPage {
            cursor: 0,
            items: Vec::new(),
        };
        let Some(record) = self.hash_record(key)? else {
            return Ok(empty);
        };
        let after = match cursor {
            0 => None,
            c => self
                .cursors()
                .get(c)
                .and_then(|saved| cursor_field(&saved, key)),
        };
        let pattern = pattern.filter(|p| *p != b"*");
        let literal = pattern.map(basalt_glob::literal_prefix).unwrap_or_default();
        let version = record.metadata.version;
        let codec = FieldCodec::of(&record);
        let prefix = self.subkey_prefix(key, version);
        let mut it = self.iter_subkeys(ColumnFamily::Default, key, version);
        match &after {
            Some(f) if f.as_slice() >= literal.as_ref() => {
                let sk = self.subkey(key, version, f);
                it.seek(&sk);
                if it.key() == Some(sk.as_slice()) {
                    it.next();
                }
            }
            _ => it.seek(self.subkey(key, version, &literal)),
        }
        let mut items = Vec::new();
        let mut examined = 0usize;
        let mut last: Option<Vec<u8>> = None;
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            let Some(field) = k.get(prefix.len()..) else {
                break;
            };
            if !field.starts_with(&literal) {
                break;
            }
            if examined >= count.max(1) {
                let saved = last.take().unwrap_or_default();
                return Ok(HashScanPage {
                    cursor: self.cursors().insert(cursor_bytes(key, &saved)),
                    items,
                });
            }
            examined += 1;
            if let Some(value) = codec
                .live(v)
                .filter(|_| pattern.is_none_or(|p| basalt_glob::glob_match(p, field, false)))
            {
                items.push((field.to_vec(), value.to_vec()));
            }
            last = Some(field.to_vec());
            it.next();
        }
        it.status().map_err(EngineError::from)?;
        Ok(HashScanPage { cursor: 0, items })
    }

    /// Kvrocks' HRANGEBYLEX: fields within `[min, max]` in bytewise order
    /// (descending with `reverse`), after skipping `offset`, at most `count`.
    pub fn hrange_by_lex(&self, key: &[u8], range: &LexRange) -> Result<Vec<FieldValue>> {
        if range.count == 0 {
            return Ok(Vec::new());
        }
        let Some(record) = self.hash_record(key)? else {
            return Ok(Vec::new());
        };
        let version = record.metadata.version;
        let codec = FieldCodec::of(&record);
        let prefix = self.subkey_prefix(key, version);
        let mut it = self.iter_subkeys(ColumnFamily::Default, key, version);
        if range.reverse {
            match &range.max {
                LexBound::Inclusive(b) | LexBound::Exclusive(b) => {
                    it.seek_for_prev(self.subkey(key, version, b))
                }
                _ => it.seek_to_last(),
            }
        } else if let LexBound::Inclusive(b) | LexBound::Exclusive(b) = &range.min {
            it.seek(self.subkey(key, version, b));
        }
        let mut out = Vec::new();
        let mut skipped = 0i64;
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            let Some(field) = k.get(prefix.len()..) else {
                break;
            };
            let in_min = range.min.admits_as_min(field);
            let in_max = range.max.admits_as_max(field);
            // Past the far end: stop. On the near end an exclusive bound's
            // own field is skipped.
            let past_end = if range.reverse { !in_min } else { !in_max };
            if past_end {
                break;
            }
            let live = codec.live(v);
            if let Some(value) = live.filter(|_| in_min && in_max) {
                if skipped < range.offset {
                    skipped += 1;
                } else {
                    out.push((field.to_vec(), value.to_vec()));
                    if range.count > 0 && out.len() as i64 >= range.count {
                        break;
                    }
                }
            }
            if range.reverse {
                it.prev();
            } else {
                it.next();
            }
        }
        it.status().map_err(EngineError::from)?;
        Ok(out)
    }
}

/// An HSCAN cursor's saved state: `u32 key length | key | last field`.
fn cursor_bytes(key: &[u8], field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + key.len() + field.len());
    out.extend_from_slice(&(key.len() as u32).to_be_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(field);
    out
}

/// The last field saved in a cursor, if the cursor belongs to `key`.
fn cursor_field(saved: &[u8], key: &[u8]) -> Option<Vec<u8>> {
    let len_bytes: [u8; 4] = saved.get(..4)?.try_into().ok()?;
    let len = u32::from_be_bytes(len_bytes) as usize;
    let rest = saved.get(4..)?;
    let (k, field) = (rest.get(..len)?, rest.get(len..)?);
    (k == key).then(|| field.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::test_support::open;
    use crate::string::SetOptions;

    fn pairs<'a>(items: &'a [(&'a str, &'a str)]) -> Vec<(&'a [u8], &'a [u8])> {
        items
            .iter()
            .map(|(f, v)| (f.as_bytes(), v.as_bytes()))
            .collect()
    }

    fn fv(f: &str, v: &str) -> FieldValue {
        (f.as_bytes().to_vec(), v.as_bytes().to_vec())
    }

    #[test]
    fn set_get_delete() {
        let t = open();
        let db = &t.db;
        assert_eq!(
            db.hset(b"h", &pairs(&[("a", "1"), ("b", "2"), ("a", "3")]), false)
                .unwrap(),
            2
        );
        assert_eq!(db.hlen(b"h").unwrap(), 2);
        assert_eq!(db.hget(b"h", b"a").unwrap(), Some(b"3".to_vec()));
        assert_eq!(
            db.hset(b"h", &pairs(&[("a", "x"), ("c", "y")]), true)
                .unwrap(),
            1
        );
        assert_eq!(db.hget(b"h", b"a").unwrap(), Some(b"3".to_vec()));
        assert_eq!(
            db.hmget(b"h", &[b"a", b"zz", b"c"]).unwrap(),
            vec![Some(b"3".to_vec()), None, Some(b"y".to_vec())]
        );
        assert_eq!(
            db.hgetall(b"h").unwrap(),
            vec![fv("a", "3"), fv("b", "2"), fv("c", "y")]
        );
        assert_eq!(db.hstrlen(b"h", b"c").unwrap(), 1);
        assert!(db.hexists(b"h", b"b").unwrap());
        assert_eq!(db.hdel(b"h", &[b"a", b"a", b"nope"]).unwrap(), 1);
        assert_eq!(db.hdel(b"h", &[b"b", b"c"]).unwrap(), 2);
        assert_eq!(db.type_of(b"h").unwrap(), None);
        assert_eq!(db.hlen(b"h").unwrap(), 0);
    }

    #[test]
    fn wrong_type_and_numbers() {
        let t = open();
        let db = &t.db;
        db.set(b"s", b"v", SetOptions::default()).unwrap();
        assert!(matches!(db.hget(b"s", b"f"), Err(Error::WrongType)));
        assert!(matches!(
            db.hset(b"s", &pairs(&[("f", "v")]), false),
            Err(Error::WrongType)
        ));
        assert_eq!(db.hincr_by(b"h", b"n", 5).unwrap(), 5);
        assert_eq!(db.hincr_by(b"h", b"n", -7).unwrap(), -2);
        assert!(matches!(
            db.hincr_by(b"h", b"n", i64::MIN),
            Err(Error::Overflow)
        ));
        db.hset(b"h", &pairs(&[("t", "abc")]), false).unwrap();
        assert!(matches!(
            db.hincr_by(b"h", b"t", 1),
            Err(Error::HashNotInteger)
        ));
        assert!(matches!(
            db.hincr_by_float(b"h", b"t", b"1"),
            Err(Error::HashNotFloat)
        ));
        assert_eq!(db.hincr_by_float(b"h", b"f", b"0.1").unwrap(), "0.1");
        assert_eq!(db.hincr_by_float(b"h", b"f", b"0.2").unwrap(), "0.3");
        assert_eq!(db.hlen(b"h").unwrap(), 3);
    }

    #[test]
    fn lex_ranges_and_scan() {
        let t = open();
        let db = &t.db;
        let items: Vec<(String, String)> = (0..26u8)
            .map(|i| (((b'a' + i) as char).to_string(), i.to_string()))
            .collect();
        let refs: Vec<(&[u8], &[u8])> = items
            .iter()
            .map(|(f, v)| (f.as_bytes(), v.as_bytes()))
            .collect();
        db.hset(b"h", &refs, false).unwrap();
        let range = |min: &str, max: &str, reverse, offset, count| LexRange {
            min: LexBound::parse(min.as_bytes()).unwrap(),
            max: LexBound::parse(max.as_bytes()).unwrap(),
            reverse,
            offset,
            count,
        };
        let fields = |r: LexRange| -> String {
            db.hrange_by_lex(b"h", &r)
                .unwrap()
                .into_iter()
                .map(|(f, _)| String::from_utf8(f).unwrap())
                .collect()
        };
        assert_eq!(fields(range("[c", "(f", false, -1, -1)), "cde");
        assert_eq!(fields(range("(c", "[f", true, -1, -1)), "fed");
        assert_eq!(fields(range("-", "+", false, 24, -1)), "yz");
        assert_eq!(fields(range("-", "+", true, 1, 2)), "yx");
        assert_eq!(fields(range("[x", "[b", false, 0, -1)), "");
        assert_eq!(fields(range("-", "+", false, 0, 0)), "");

        let mut seen = Vec::new();
        let mut cursor = 0;
        loop {
            let page = db.hscan(b"h", cursor, None, 5).unwrap();
            seen.extend(page.items.into_iter().map(|(f, _)| f));
            if page.cursor == 0 {
                break;
            }
            cursor = page.cursor;
        }
        assert_eq!(seen.len(), 26);
        let page = db.hscan(b"h", 0, Some(b"q*"), 100).unwrap();
        assert_eq!((page.cursor, page.items), (0, vec![fv("q", "16")]));
        // A cursor handed out for another key starts over.
        let other = db.cursors().insert(cursor_bytes(b"other", b"m"));
        assert_eq!(db.hscan(b"h", other, None, 100).unwrap().items.len(), 26);
    }

    #[test]
    fn random_fields() {
        let t = open();
        let db = &t.db;
        assert_eq!(db.hrandfield_one(b"h").unwrap(), None);
        db.hset(b"h", &pairs(&[("a", "1"), ("b", "2"), ("c", "3")]), false)
            .unwrap();
        let mut d = db.hrandfield(b"h", RandomCount::Distinct(10)).unwrap();
        d.sort();
        assert_eq!(d, vec![fv("a", "1"), fv("b", "2"), fv("c", "3")]);
        assert_eq!(
            db.hrandfield(b"h", RandomCount::Distinct(2)).unwrap().len(),
            2
        );
        assert_eq!(
            db.hrandfield(b"h", RandomCount::WithRepeats(10))
                .unwrap()
                .len(),
            10
        );
        assert!(db.hrandfield_one(b"h").unwrap().is_some());
    }
}
