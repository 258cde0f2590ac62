//! JSON documents with RedisJSON's data model, stored as Kvrocks stores
//! them: a single-KV record of type 10 whose bytes after the metadata
//! header are `format u8` (0 = JSON text, 1 = CBOR) and the document.
//!
//! Basalt writes format 0 only (see docs/compatibility.md) and reads both,
//! so a data directory Kvrocks wrote with `json-storage-format cbor` works.
//!
//! The document is a `serde_json::Value` with object keys kept in insertion
//! order, as RedisJSON keeps them. Paths ([`path`]) locate nodes; the edits
//! of the JSON.* commands are in [`edit`]; [`format`] prints documents the
//! way RedisJSON does (INDENT/NEWLINE/SPACE).

pub mod edit;
mod error;
mod filter_ext;
pub mod format;
pub mod path;

use crate::database::Database;
use crate::error::{Error, Result};
use basalt_engine::{ColumnFamily, Metadata, RedisType, WriteBatch};
pub use error::JsonError;
pub use serde_json;
pub use serde_json::Value;

impl From<JsonError> for Error {
    fn from(e: JsonError) -> Error {
        Error::Json(e)
    }
}

const FORMAT_JSON: u8 = 0;
const FORMAT_CBOR: u8 = 1;

/// What a JSON write does to the key once the edit has run.
pub enum Change {
    /// Nothing changed: no write.
    Keep,
    /// Store this document (a new key, or the key's TTL kept).
    Put(Value),
    /// Remove the key.
    Delete,
}

/// Parses a document as RedisJSON's JSON.SET does: serde_json's errors,
/// and its nesting limit of 128.
pub fn parse(text: &[u8]) -> std::result::Result<Value, JsonError> {
    serde_json::from_slice(text).map_err(|e| JsonError::Parse(e.to_string()))
}

/// The deepest nesting a stored document may have: serde_json's parser
/// limit (RedisJSON's too), so that every stored document reads back.
pub const MAX_DEPTH: usize = 127;

/// How many containers deep `v` nests (a scalar: 0).
fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Refuses a document nested deeper than [`MAX_DEPTH`] (edits can nest a
/// parsed value inside an already deep document).
fn check_depth(doc: &Value) -> Result<()> {
    if depth(doc) > MAX_DEPTH {
        return Err(Error::Json(JsonError::RecursionLimit));
    }
    Ok(())
}

fn decode(payload: &[u8]) -> Result<Value> {
    match payload.split_first() {
        Some((&FORMAT_JSON, text)) => {
            serde_json::from_slice(text).map_err(|_| Error::Json(JsonError::Corrupt))
        }
        // Kvrocks with `json-storage-format cbor`; rewritten as text by
        // the next edit.
        Some((&FORMAT_CBOR, cbor)) => {
            ciborium::from_reader(cbor).map_err(|_| Error::Json(JsonError::Corrupt))
        }
        _ => Err(Error::Json(JsonError::Corrupt)),
    }
}

fn encode(expire_ms: u64, doc: &Value) -> Vec<u8> {
    let mut out = Metadata {
        kind: RedisType::Json,
        expire_ms,
        version: 0,
        size: 0,
    }
    .encode();
    out.push(FORMAT_JSON);
    out.extend_from_slice(&format::compact(doc));
    out
}

impl Database {
    /// The document at `key`; `None` if the key is missing, WRONGTYPE if it
    /// holds another type.
    pub fn json_read(&self, key: &[u8]) -> Result<Option<Value>> {
        match self.read_typed(key, RedisType::Json)? {
            Some(r) => Ok(Some(decode(&r.rest)?)),
            None => Ok(None),
        }
    }

    /// Runs `edit` on the document at `key` (`None`: missing) under the
    /// key's lock and applies the [`Change`] it asks for in one write. An
    /// existing key keeps its TTL, as RedisJSON edits in place.
    pub fn json_update<T>(
        &self,
        key: &[u8],
        edit: impl FnOnce(Option<Value>) -> Result<(T, Change)>,
    ) -> Result<T> {
        let _guard = self.storage().locks().lock(key);
        let current = self.read_typed(key, RedisType::Json)?;
        let expire_ms = current.as_ref().map_or(0, |r| r.metadata.expire_ms);
        let doc = match &current {
            Some(r) => Some(decode(&r.rest)?),
            None => None,
        };
        let (out, change) = edit(doc)?;
        let mkey = self.metadata_key(key);
        let mut batch = WriteBatch::default();
        match change {
            Change::Keep => return Ok(out),
            Change::Put(doc) => {
                check_depth(&doc)?;
                self.storage().put(
                    &mut batch,
                    ColumnFamily::Metadata,
                    &mkey,
                    &encode(expire_ms, &doc),
                );
            }
            Change::Delete => {
                if current.is_none() {
                    return Ok(out);
                }
                self.storage()
                    .delete(&mut batch, ColumnFamily::Metadata, &mkey);
            }
        }
        self.storage().write(batch)?;
        Ok(out)
    }

    /// Sets several documents in one write (JSON.MSET): each key's edit
    /// sees the document as the earlier triplets left it.
    pub fn json_update_many(
        &self,
        keys: &[&[u8]],
        mut edit: impl FnMut(usize, Option<Value>) -> Result<Change>,
    ) -> Result<()> {
        let _guard = self.storage().locks().lock_many(keys);
        let mut docs: Vec<(Vec<u8>, u64, Option<Value>, bool)> = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let slot = match docs.iter().position(|d| d.0 == *key) {
                Some(p) => p,
                None => {
                    let current = self.read_typed(key, RedisType::Json)?;
                    let expire_ms = current.as_ref().map_or(0, |r| r.metadata.expire_ms);
                    let doc = match &current {
                        Some(r) => Some(decode(&r.rest)?),
                        None => None,
                    };
                    docs.push((key.to_vec(), expire_ms, doc, false));
                    docs.len() - 1
                }
            };
            let doc = docs[slot].2.take();
            match edit(i, doc.clone())? {
                Change::Keep => docs[slot].2 = doc,
                Change::Put(new) => {
                    check_depth(&new)?;
                    docs[slot].2 = Some(new);
                    docs[slot].3 = true;
                }
                Change::Delete => docs[slot].3 = true,
            }
        }
        let mut batch = WriteBatch::default();
        for (key, expire_ms, doc, changed) in &docs {
            if !changed {
                continue;
            }
            let mkey = self.metadata_key(key);
            match doc {
                Some(doc) => self.storage().put(
                    &mut batch,
                    ColumnFamily::Metadata,
                    &mkey,
                    &encode(*expire_ms, doc),
                ),
                None => self
                    .storage()
                    .delete(&mut batch, ColumnFamily::Metadata, &mkey),
            }
        }
        self.storage().write(batch)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::test_support::open;

    #[test]
    fn stored_as_kvrocks_format_zero_json_text() {
        let t = open();
        let doc = parse(br#"{"b":1,"a":[true,null,1.5]}"#).unwrap();
        t.db.json_update(b"k", |_| Ok(((), Change::Put(doc.clone()))))
            .unwrap();
        let raw =
            t.db.storage()
                .get(ColumnFamily::Metadata, &t.db.metadata_key(b"k"))
                .unwrap()
                .unwrap();
        assert_eq!(raw[0], 0x80 | 10);
        assert_eq!(raw[9], 0);
        assert_eq!(&raw[10..], br#"{"b":1,"a":[true,null,1.5]}"#);
        assert_eq!(t.db.json_read(b"k").unwrap(), Some(doc));
        assert_eq!(t.db.type_of(b"k").unwrap(), Some(RedisType::Json));
    }

    #[test]
    fn every_storable_depth_reads_back() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let deepest = parse(nested(MAX_DEPTH).as_bytes()).unwrap();
        assert_eq!(depth(&deepest), MAX_DEPTH);
        assert!(parse(nested(MAX_DEPTH + 1).as_bytes()).is_err());
        let t = open();
        t.db.json_update(b"d", |_| Ok(((), Change::Put(deepest.clone()))))
            .unwrap();
        assert_eq!(t.db.json_read(b"d").unwrap(), Some(deepest.clone()));
        let deeper = Value::Array(vec![deepest]);
        assert!(matches!(
            t.db.json_update(b"d", |_| Ok(((), Change::Put(deeper)))),
            Err(Error::Json(JsonError::RecursionLimit))
        ));
    }

    #[test]
    fn cbor_records_written_by_kvrocks_are_read() {
        let t = open();
        let doc = parse(br#"{"b":[1,2.5,"x",null,true],"a":{"c":-7}}"#).unwrap();
        let mut raw = Metadata::new(RedisType::Json).encode();
        raw.push(FORMAT_CBOR);
        ciborium::into_writer(&doc, &mut raw).unwrap();
        let mut batch = WriteBatch::default();
        let mkey = t.db.metadata_key(b"c");
        t.db.storage()
            .put(&mut batch, ColumnFamily::Metadata, &mkey, &raw);
        t.db.storage().write(batch).unwrap();
        assert_eq!(t.db.json_read(b"c").unwrap(), Some(doc.clone()));
        // An edit writes it back as text.
        t.db.json_update(b"c", |d| Ok(((), Change::Put(d.unwrap()))))
            .unwrap();
        let raw =
            t.db.storage()
                .get(ColumnFamily::Metadata, &mkey)
                .unwrap()
                .unwrap();
        assert_eq!(raw[9], FORMAT_JSON);
        // Bytes that are not CBOR are an error, not garbage.
        let mut bad = Metadata::new(RedisType::Json).encode();
        bad.extend_from_slice(&[FORMAT_CBOR, 0xff, 0x00]);
        let mut batch = WriteBatch::default();
        t.db.storage()
            .put(&mut batch, ColumnFamily::Metadata, &mkey, &bad);
        t.db.storage().write(batch).unwrap();
        assert!(matches!(
            t.db.json_read(b"c"),
            Err(Error::Json(JsonError::Corrupt))
        ));
    }
}
