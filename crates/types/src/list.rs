//! Lists: u64 index subkeys in the default column family; head/tail in the metadata trailer.
//!
//! Kvrocks' layout: the metadata trailer is `head u64 BE | tail u64 BE`, both
//! starting at `u64::MAX / 2`, and the live elements sit at subkeys
//! `head..tail` (the index as u64 BE). Pushing on the left writes at
//! `head - 1`, on the right at `tail`, so both ends are O(1) and an index is
//! reached with one point read (`head + i`). Inserting or removing in the
//! middle shifts the elements on one side, as Kvrocks does.

use crate::database::{Database, Record};
use crate::error::{Error, Result};
use basalt_engine::{ColumnFamily, RedisType, WriteBatch};

const INITIAL_INDEX: u64 = u64::MAX / 2;

/// Above this many contiguous deletions one range tombstone is cheaper than
/// a point tombstone per element.
const RANGE_DELETE_MIN: u64 = 64;

/// Up to this many elements are read by point lookups instead of an
/// iterator (see `read_elements`).
const POINT_READ_MAX: u64 = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Left,
    Right,
}

/// LPOS options. `count`: `None` = no COUNT (one answer), `Some(0)` = all
/// matches. `maxlen` 0 = scan the whole list.
#[derive(Clone, Copy, Debug)]
pub struct LposOptions {
    pub rank: i64,
    pub count: Option<u64>,
    pub maxlen: u64,
}

impl Default for LposOptions {
    fn default() -> Self {
        LposOptions {
            rank: 1,
            count: None,
            maxlen: 0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LsetOutcome {
    Done,
    OutOfRange,
}

/// A list's record with its decoded head/tail, modified in memory and
/// written back with [`Database::put_list`].
struct List {
    record: Record,
    head: u64,
    tail: u64,
}

impl List {
    fn new(record: Record) -> List {
        let (head, tail) = match record.rest.get(..16) {
            Some(t) => {
                let mut h = [0u8; 8];
                let mut l = [0u8; 8];
                h.copy_from_slice(&t[..8]);
                l.copy_from_slice(&t[8..16]);
                (u64::from_be_bytes(h), u64::from_be_bytes(l))
            }
            // A fresh record from read_or_create has no trailer yet.
            None => (INITIAL_INDEX, INITIAL_INDEX),
        };
        List { record, head, tail }
    }

    fn len(&self) -> u64 {
        self.tail.saturating_sub(self.head)
    }

    fn version(&self) -> u64 {
        self.record.metadata.version
    }

    /// The storage index of logical position `pos` (0 = first element).
    fn at(&self, pos: u64) -> u64 {
        self.head.wrapping_add(pos)
    }

    /// Resolves a Redis index (negative counts from the end) to a position.
    fn resolve(&self, index: i64) -> Option<u64> {
        let len = self.len();
        let pos = if index < 0 {
            len.checked_sub(index.unsigned_abs())?
        } else {
            index as u64
        };
        (pos < len).then_some(pos)
    }

    /// LRANGE/LTRIM's normalisation: the inclusive position range, or None
    /// when it is empty.
    fn range(&self, start: i64, stop: i64) -> Option<(u64, u64)> {
        let len = self.len() as i128;
        let mut s = start as i128;
        let mut e = stop as i128;
        if s < 0 {
            s += len;
        }
        if e < 0 {
            e += len;
        }
        s = s.max(0);
        if s > e || s >= len {
            return None;
        }
        e = e.min(len - 1);
        Some((s as u64, e as u64))
    }
}

impl Database {
    fn read_list(&self, key: &[u8]) -> Result<Option<List>> {
        Ok(self
            .read_typed(key, RedisType::List)?
            .map(List::new)
            .filter(|l| l.len() > 0))
    }

    fn list_key(&self, key: &[u8], list: &List, index: u64) -> Vec<u8> {
        self.subkey(key, list.version(), &index.to_be_bytes())
    }

    fn put_list(&self, batch: &mut WriteBatch, key: &[u8], mut list: List) {
        list.record.metadata.size = list.len();
        let mut rest = Vec::with_capacity(16);
        rest.extend_from_slice(&list.head.to_be_bytes());
        rest.extend_from_slice(&list.tail.to_be_bytes());
        list.record.rest = rest;
        self.put_record(batch, key, &list.record);
    }

    /// Writes a new list generation holding `elems` under `key` (SORT
    /// STORE, RESTORE). What `key` held before is hidden by the new version
    /// and left for the caller to reclaim; no elements deletes the key.
    /// Returns the length.
    pub(crate) fn put_new_list<'e>(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        elems: impl ExactSizeIterator<Item = &'e [u8]>,
        expire_ms: u64,
    ) -> u64 {
        let n = elems.len() as u64;
        let mut list = List {
            record: Record::new_collection(RedisType::List, expire_ms),
            head: INITIAL_INDEX,
            tail: INITIAL_INDEX + n,
        };
        for (i, v) in elems.enumerate() {
            let k = self.list_key(key, &list, list.at(i as u64));
            self.storage().put(batch, ColumnFamily::Default, &k, v);
        }
        list.record.metadata.size = n;
        self.put_list(batch, key, list);
        n
    }

    /// Every element of a list, in order (DUMP).
    pub(crate) fn list_elements(&self, key: &[u8], record: Record) -> Result<Vec<Vec<u8>>> {
        let list = List::new(record);
        self.scan_elements(key, &list, 0, list.len())
    }

    /// Deletes the elements at storage indices `[from, to)`.
    fn delete_elements(&self, batch: &mut WriteBatch, key: &[u8], list: &List, from: u64, to: u64) {
        if to <= from {
            return;
        }
        let storage = self.storage();
        if to - from >= RANGE_DELETE_MIN {
            let a = self.list_key(key, list, from);
            let b = self.list_key(key, list, to);
            storage.delete_range(batch, ColumnFamily::Default, &a, &b);
            return;
        }
        for i in from..to {
            storage.delete(batch, ColumnFamily::Default, &self.list_key(key, list, i));
        }
    }

    /// Visits the elements at positions `[from, to)` in order (or reverse
    /// order) until `f` returns false. Positions are logical (0 = head).
    fn scan_list(
        &self,
        key: &[u8],
        list: &List,
        from: u64,
        to: u64,
        reverse: bool,
        mut f: impl FnMut(u64, &[u8]) -> Result<bool>,
    ) -> Result<()> {
        let to = to.min(list.len());
        if from >= to {
            return Ok(());
        }
        let prefix = self.subkey_prefix(key, list.version());
        let mut it = self.iter_subkeys_unpositioned(ColumnFamily::Default, key, list.version());
        if reverse {
            it.seek_for_prev(self.list_key(key, list, list.at(to - 1)));
        } else {
            it.seek(self.list_key(key, list, list.at(from)));
        }
        while it.valid() {
            let (Some(k), Some(v)) = (it.key(), it.value()) else {
                break;
            };
            let Some(idx) = k
                .strip_prefix(prefix.as_slice())
                .and_then(|s| <[u8; 8]>::try_from(s).ok())
                .map(u64::from_be_bytes)
            else {
                break;
            };
            if idx < list.at(from) || idx >= list.at(to) {
                break;
            }
            if !f(idx.wrapping_sub(list.head), v)? {
                return Ok(());
            }
            if reverse {
                it.prev();
            } else {
                it.next();
            }
        }
        it.status().map_err(basalt_engine::EngineError::from)?;
        Ok(())
    }

    fn read_elements(&self, key: &[u8], list: &List, from: u64, to: u64) -> Result<Vec<Vec<u8>>> {
        // A few elements (LPOP, RPOP, small counts) are read by point
        // lookups: positions are contiguous, so each key is known, and a
        // Get costs far less than creating and seeking an iterator, which
        // also has to step over the tombstones earlier pops left at the
        // head (an iterator was 40% of LPOP's CPU).
        let to = to.min(list.len());
        if from < to && to - from <= POINT_READ_MAX {
            let mut out = Vec::with_capacity((to - from) as usize);
            for pos in from..to {
                let k = self.list_key(key, list, list.at(pos));
                match self.storage().get(ColumnFamily::Default, &k)? {
                    Some(v) => out.push(v.to_vec()),
                    // Not where the metadata says: read the way that
                    // tolerates gaps.
                    None => return self.scan_elements(key, list, from, to),
                }
            }
            return Ok(out);
        }
        self.scan_elements(key, list, from, to)
    }

    fn scan_elements(&self, key: &[u8], list: &List, from: u64, to: u64) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        self.scan_list(key, list, from, to, false, |_, v| {
            out.push(v.to_vec());
            Ok(true)
        })?;
        Ok(out)
    }

    fn push_into(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        list: &mut List,
        end: End,
        elems: &[&[u8]],
    ) {
        for e in elems {
            let index = match end {
                End::Left => {
                    list.head = list.head.wrapping_sub(1);
                    list.head
                }
                End::Right => {
                    list.tail = list.tail.wrapping_add(1);
                    list.tail.wrapping_sub(1)
                }
            };
            let k = self.list_key(key, list, index);
            self.storage().put(batch, ColumnFamily::Default, &k, e);
        }
    }

    /// Removes up to `count` elements from one end, returning them in pop
    /// order.
    fn pop_into(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        list: &mut List,
        end: End,
        count: u64,
    ) -> Result<Vec<Vec<u8>>> {
        let n = count.min(list.len());
        let len = list.len();
        let (from, to) = match end {
            End::Left => (0, n),
            End::Right => (len - n, len),
        };
        let mut out = self.read_elements(key, list, from, to)?;
        self.delete_elements(batch, key, list, list.at(from), list.at(to));
        match end {
            End::Left => list.head = list.at(n),
            End::Right => {
                list.tail = list.at(len - n);
                out.reverse();
            }
        }
        Ok(out)
    }

    /// LPUSH/RPUSH (`create`) and LPUSHX/RPUSHX: the new length, 0 when an
    /// X variant finds no list.
    pub fn list_push(&self, key: &[u8], end: End, elems: &[&[u8]], create: bool) -> Result<u64> {
        let _guard = self.storage().locks().lock(key);
        let mut list = if create {
            List::new(self.read_or_create(key, RedisType::List)?)
        } else {
            match self.read_list(key)? {
                Some(l) => l,
                None => return Ok(0),
            }
        };
        let mut batch = WriteBatch::default();
        self.push_into(&mut batch, key, &mut list, end, elems);
        let len = list.len();
        self.put_list(&mut batch, key, list);
        self.storage().write(batch)?;
        Ok(len)
    }

    /// LPOP/RPOP: None when the key is missing.
    pub fn list_pop(&self, key: &[u8], end: End, count: u64) -> Result<Option<Vec<Vec<u8>>>> {
        let _guard = self.storage().locks().lock(key);
        let Some(mut list) = self.read_list(key)? else {
            return Ok(None);
        };
        if count == 0 {
            return Ok(Some(Vec::new()));
        }
        let mut batch = WriteBatch::default();
        let out = self.pop_into(&mut batch, key, &mut list, end, count)?;
        self.put_list(&mut batch, key, list);
        self.storage().write(batch)?;
        Ok(Some(out))
    }

    pub fn llen(&self, key: &[u8]) -> Result<u64> {
        Ok(self.read_list(key)?.map_or(0, |l| l.len()))
    }

    pub fn lindex(&self, key: &[u8], index: i64) -> Result<Option<Vec<u8>>> {
        let Some(list) = self.read_list(key)? else {
            return Ok(None);
        };
        let Some(pos) = list.resolve(index) else {
            return Ok(None);
        };
        let k = self.list_key(key, &list, list.at(pos));
        Ok(self
            .storage()
            .get(ColumnFamily::Default, &k)?
            .map(|v| v.to_vec()))
    }

    /// LSET: `Err(NoSuchKey)` when the key is missing.
    pub fn lset(&self, key: &[u8], index: i64, value: &[u8]) -> Result<LsetOutcome> {
        let _guard = self.storage().locks().lock(key);
        let Some(list) = self.read_list(key)? else {
            return Err(Error::NoSuchKey);
        };
        let Some(pos) = list.resolve(index) else {
            return Ok(LsetOutcome::OutOfRange);
        };
        let mut batch = WriteBatch::default();
        let k = self.list_key(key, &list, list.at(pos));
        self.storage()
            .put(&mut batch, ColumnFamily::Default, &k, value);
        self.storage().write(batch)?;
        Ok(LsetOutcome::Done)
    }

    pub fn lrange(&self, key: &[u8], start: i64, stop: i64) -> Result<Vec<Vec<u8>>> {
        let Some(list) = self.read_list(key)? else {
            return Ok(Vec::new());
        };
        let Some((s, e)) = list.range(start, stop) else {
            return Ok(Vec::new());
        };
        self.read_elements(key, &list, s, e + 1)
    }

    pub fn ltrim(&self, key: &[u8], start: i64, stop: i64) -> Result<()> {
        let _guard = self.storage().locks().lock(key);
        let Some(mut list) = self.read_list(key)? else {
            return Ok(());
        };
        let mut batch = WriteBatch::default();
        match list.range(start, stop) {
            None => {
                // Deleting the metadata orphans every element; compaction
                // reclaims them, as for DEL.
                list.tail = list.head;
            }
            Some((s, e)) => {
                let (head, tail) = (list.head, list.tail);
                self.delete_elements(&mut batch, key, &list, head, list.at(s));
                self.delete_elements(&mut batch, key, &list, list.at(e + 1), tail);
                list.head = head.wrapping_add(s);
                list.tail = head.wrapping_add(e + 1);
            }
        }
        self.put_list(&mut batch, key, list);
        self.storage().write(batch)?;
        Ok(())
    }

    /// LREM: removes up to |count| occurrences (all for 0), from the head
    /// for count >= 0 and from the tail otherwise. The elements on the far
    /// side of each removed one shift toward the end the scan started from,
    /// so the list stays contiguous.
    pub fn lrem(&self, key: &[u8], count: i64, elem: &[u8]) -> Result<u64> {
        let _guard = self.storage().locks().lock(key);
        let Some(mut list) = self.read_list(key)? else {
            return Ok(0);
        };
        let limit = count.unsigned_abs();
        let reverse = count < 0;
        let mut batch = WriteBatch::default();
        let mut removed = 0u64;
        let storage = self.storage();
        let len = list.len();
        self.scan_list(key, &list, 0, len, reverse, |pos, v| {
            if v == elem && (limit == 0 || removed < limit) {
                removed += 1;
            } else if removed > 0 {
                let to = if reverse {
                    list.at(pos + removed)
                } else {
                    list.at(pos - removed)
                };
                storage.put(
                    &mut batch,
                    ColumnFamily::Default,
                    &self.list_key(key, &list, to),
                    v,
                );
            }
            Ok(true)
        })?;
        if removed == 0 {
            return Ok(0);
        }
        if reverse {
            let head = list.head;
            self.delete_elements(&mut batch, key, &list, head, head.wrapping_add(removed));
            list.head = head.wrapping_add(removed);
        } else {
            let tail = list.tail;
            self.delete_elements(&mut batch, key, &list, tail.wrapping_sub(removed), tail);
            list.tail = tail.wrapping_sub(removed);
        }
        self.put_list(&mut batch, key, list);
        storage.write(batch)?;
        Ok(removed)
    }

    /// LINSERT: the new length, -1 when the pivot is absent, 0 when the key
    /// is missing. The shorter side of the insertion point is shifted.
    pub fn linsert(&self, key: &[u8], before: bool, pivot: &[u8], elem: &[u8]) -> Result<i64> {
        let _guard = self.storage().locks().lock(key);
        let Some(mut list) = self.read_list(key)? else {
            return Ok(0);
        };
        let len = list.len();
        let mut found = None;
        self.scan_list(key, &list, 0, len, false, |pos, v| {
            if v == pivot {
                found = Some(pos);
                return Ok(false);
            }
            Ok(true)
        })?;
        let Some(p) = found else {
            return Ok(-1);
        };
        // The new element's position once inserted.
        let q = if before { p } else { p + 1 };
        let mut batch = WriteBatch::default();
        let storage = self.storage();
        let cf = ColumnFamily::Default;
        if q <= len / 2 {
            for (i, v) in self.read_elements(key, &list, 0, q)?.iter().enumerate() {
                let to = list.at(i as u64).wrapping_sub(1);
                storage.put(&mut batch, cf, &self.list_key(key, &list, to), v);
            }
            let at = list.at(q).wrapping_sub(1);
            storage.put(&mut batch, cf, &self.list_key(key, &list, at), elem);
            list.head = list.head.wrapping_sub(1);
        } else {
            for (i, v) in self.read_elements(key, &list, q, len)?.iter().enumerate() {
                let to = list.at(q + i as u64 + 1);
                storage.put(&mut batch, cf, &self.list_key(key, &list, to), v);
            }
            storage.put(&mut batch, cf, &self.list_key(key, &list, list.at(q)), elem);
            list.tail = list.tail.wrapping_add(1);
        }
        let new_len = list.len();
        self.put_list(&mut batch, key, list);
        storage.write(batch)?;
        Ok(new_len as i64)
    }

    /// LPOS: the matching positions (at most one without COUNT). The caller
    /// has rejected rank 0.
    pub fn lpos(&self, key: &[u8], elem: &[u8], opts: LposOptions) -> Result<Vec<u64>> {
        let Some(list) = self.read_list(key)? else {
            return Ok(Vec::new());
        };
        let reverse = opts.rank < 0;
        let mut skip = opts.rank.unsigned_abs().saturating_sub(1);
        let want = match opts.count {
            None => 1,
            Some(0) => u64::MAX,
            Some(n) => n,
        };
        let mut scanned = 0u64;
        let mut out = Vec::new();
        self.scan_list(key, &list, 0, list.len(), reverse, |pos, v| {
            if opts.maxlen != 0 && scanned >= opts.maxlen {
                return Ok(false);
            }
            scanned += 1;
            if v == elem {
                if skip > 0 {
                    skip -= 1;
                } else {
                    out.push(pos);
                    if out.len() as u64 >= want {
                        return Ok(false);
                    }
                }
            }
            Ok(true)
        })?;
        Ok(out)
    }

    /// LMOVE/RPOPLPUSH: the moved element, None when the source is missing.
    pub fn lmove(&self, src: &[u8], dst: &[u8], from: End, to: End) -> Result<Option<Vec<u8>>> {
        let _guard = self.storage().locks().lock_many(&[src, dst]);
        let Some(mut source) = self.read_list(src)? else {
            return Ok(None);
        };
        let mut batch = WriteBatch::default();
        if src == dst {
            // One record: pop and push on the same head/tail, so a rotation
            // rewrites one element.
            let popped = self.pop_into(&mut batch, src, &mut source, from, 1)?;
            let Some(elem) = popped.into_iter().next() else {
                return Ok(None);
            };
            self.push_into(&mut batch, src, &mut source, to, &[&elem]);
            self.put_list(&mut batch, src, source);
            self.storage().write(batch)?;
            return Ok(Some(elem));
        }
        let mut dest = List::new(self.read_or_create(dst, RedisType::List)?);
        let popped = self.pop_into(&mut batch, src, &mut source, from, 1)?;
        let Some(elem) = popped.into_iter().next() else {
            return Ok(None);
        };
        self.push_into(&mut batch, dst, &mut dest, to, &[&elem]);
        self.put_list(&mut batch, src, source);
        self.put_list(&mut batch, dst, dest);
        self.storage().write(batch)?;
        Ok(Some(elem))
    }

    /// LMPOP: pops from the first non-empty list among `keys`; returns its
    /// index in `keys` and the elements. Keys are type-checked in order up to
    /// that list, as Redis does.
    pub fn lmpop(
        &self,
        keys: &[&[u8]],
        end: End,
        count: u64,
    ) -> Result<Option<(usize, Vec<Vec<u8>>)>> {
        let _guard = self.storage().locks().lock_many(keys);
        for (i, key) in keys.iter().enumerate() {
            let Some(mut list) = self.read_list(key)? else {
                continue;
            };
            let mut batch = WriteBatch::default();
            let out = self.pop_into(&mut batch, key, &mut list, end, count)?;
            self.put_list(&mut batch, key, list);
            self.storage().write(batch)?;
            return Ok(Some((i, out)));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::test_support::open;
    use crate::string::SetOptions;

    fn all(db: &Database, key: &[u8]) -> Vec<String> {
        db.lrange(key, 0, -1)
            .unwrap()
            .into_iter()
            .map(|v| String::from_utf8(v).unwrap())
            .collect()
    }

    fn push(db: &Database, key: &[u8], end: End, elems: &[&str]) -> u64 {
        let e: Vec<&[u8]> = elems.iter().map(|s| s.as_bytes()).collect();
        db.list_push(key, end, &e, true).unwrap()
    }

    #[test]
    fn push_pop_and_kvrocks_layout() {
        let t = open();
        let db = &t.db;
        assert_eq!(push(db, b"l", End::Right, &["b", "c"]), 2);
        assert_eq!(push(db, b"l", End::Left, &["a", "z"]), 4);
        assert_eq!(all(db, b"l"), ["z", "a", "b", "c"]);
        let rec = db.read_typed(b"l", RedisType::List).unwrap().unwrap();
        assert_eq!(rec.metadata.size, 4);
        assert_eq!(rec.rest.len(), 16);
        let head = u64::from_be_bytes(rec.rest[..8].try_into().unwrap());
        let tail = u64::from_be_bytes(rec.rest[8..].try_into().unwrap());
        assert_eq!(head, INITIAL_INDEX - 2);
        assert_eq!(tail, INITIAL_INDEX + 2);
        let k = db.subkey(
            b"l",
            rec.metadata.version,
            &(INITIAL_INDEX - 2).to_be_bytes(),
        );
        assert_eq!(
            db.storage()
                .get(ColumnFamily::Default, &k)
                .unwrap()
                .unwrap()
                .to_vec(),
            b"z"
        );
        assert_eq!(
            db.list_pop(b"l", End::Right, 3).unwrap().unwrap(),
            vec![b"c".to_vec(), b"b".to_vec(), b"a".to_vec()]
        );
        assert_eq!(db.list_pop(b"l", End::Left, 0).unwrap(), Some(vec![]));
        assert_eq!(
            db.list_pop(b"l", End::Left, 5).unwrap().unwrap(),
            vec![b"z".to_vec()]
        );
        assert!(db.read(b"l").unwrap().is_none());
        assert_eq!(db.list_pop(b"l", End::Left, 1).unwrap(), None);
        assert_eq!(db.list_push(b"l", End::Left, &[b"x"], false).unwrap(), 0);
        assert!(db.read(b"l").unwrap().is_none());
    }

    #[test]
    fn index_set_range_trim() {
        let t = open();
        let db = &t.db;
        push(db, b"l", End::Right, &["a", "b", "c", "d", "e"]);
        assert_eq!(db.lindex(b"l", -1).unwrap(), Some(b"e".to_vec()));
        assert_eq!(db.lindex(b"l", 5).unwrap(), None);
        assert_eq!(db.lindex(b"l", -6).unwrap(), None);
        assert_eq!(db.lset(b"l", 1, b"B").unwrap(), LsetOutcome::Done);
        assert_eq!(db.lset(b"l", 9, b"B").unwrap(), LsetOutcome::OutOfRange);
        assert!(matches!(db.lset(b"nope", 0, b"x"), Err(Error::NoSuchKey)));
        assert_eq!(db.lrange(b"l", -100, 1).unwrap().len(), 2);
        assert_eq!(db.lrange(b"l", 3, 1).unwrap().len(), 0);
        assert_eq!(db.lrange(b"l", i64::MIN, i64::MAX).unwrap().len(), 5);
        db.ltrim(b"l", 1, -2).unwrap();
        assert_eq!(all(db, b"l"), ["B", "c", "d"]);
        db.ltrim(b"l", 5, 10).unwrap();
        assert!(db.read(b"l").unwrap().is_none());
    }

    #[test]
    fn lrem_and_linsert_shift_elements() {
        let t = open();
        let db = &t.db;
        push(db, b"l", End::Right, &["x", "a", "x", "b", "x", "c", "x"]);
        assert_eq!(db.lrem(b"l", 2, b"x").unwrap(), 2);
        assert_eq!(all(db, b"l"), ["a", "b", "x", "c", "x"]);
        assert_eq!(db.lrem(b"l", -1, b"x").unwrap(), 1);
        assert_eq!(all(db, b"l"), ["a", "b", "x", "c"]);
        assert_eq!(db.lrem(b"l", 0, b"nope").unwrap(), 0);
        assert_eq!(db.linsert(b"l", true, b"a", b"0").unwrap(), 5);
        assert_eq!(db.linsert(b"l", false, b"c", b"9").unwrap(), 6);
        assert_eq!(db.linsert(b"l", false, b"b", b"b2").unwrap(), 7);
        assert_eq!(db.linsert(b"l", true, b"zz", b"q").unwrap(), -1);
        assert_eq!(db.linsert(b"none", true, b"a", b"q").unwrap(), 0);
        assert_eq!(all(db, b"l"), ["0", "a", "b", "b2", "x", "c", "9"]);
        assert_eq!(db.llen(b"l").unwrap(), 7);
        // No stale element may survive outside [head, tail).
        let rec = db.read_typed(b"l", RedisType::List).unwrap().unwrap();
        let mut it = db.iter_subkeys(ColumnFamily::Default, b"l", rec.metadata.version);
        let mut n = 0;
        while it.valid() {
            n += 1;
            it.next();
        }
        assert_eq!(n, 7);
        assert_eq!(db.lrem(b"l", 0, b"b2").unwrap(), 1);
        assert_eq!(db.lrem(b"l", -5, b"0").unwrap(), 1);
        assert_eq!(all(db, b"l"), ["a", "b", "x", "c", "9"]);
    }

    #[test]
    fn lpos_lmove_lmpop_and_wrongtype() {
        let t = open();
        let db = &t.db;
        push(db, b"l", End::Right, &["a", "b", "a", "c", "a"]);
        let o = |rank, count, maxlen| LposOptions {
            rank,
            count,
            maxlen,
        };
        assert_eq!(db.lpos(b"l", b"a", o(1, None, 0)).unwrap(), [0]);
        assert_eq!(db.lpos(b"l", b"a", o(-1, Some(0), 0)).unwrap(), [4, 2, 0]);
        assert_eq!(db.lpos(b"l", b"a", o(2, Some(0), 0)).unwrap(), [2, 4]);
        assert_eq!(db.lpos(b"l", b"a", o(1, Some(0), 2)).unwrap(), [0]);
        assert_eq!(
            db.lpos(b"l", b"a", o(i64::MIN + 1, None, 0)).unwrap(),
            Vec::<u64>::new()
        );
        assert_eq!(
            db.lmove(b"l", b"l", End::Left, End::Right).unwrap(),
            Some(b"a".to_vec())
        );
        assert_eq!(all(db, b"l"), ["b", "a", "c", "a", "a"]);
        assert_eq!(
            db.lmove(b"l", b"m", End::Right, End::Left).unwrap(),
            Some(b"a".to_vec())
        );
        assert_eq!(all(db, b"m"), ["a"]);
        assert_eq!(db.lmove(b"none", b"m", End::Left, End::Left).unwrap(), None);
        let (i, v) = db
            .lmpop(&[b"x", b"m", b"l"], End::Left, 10)
            .unwrap()
            .unwrap();
        assert_eq!((i, v), (1, vec![b"a".to_vec()]));
        assert!(db.read(b"m").unwrap().is_none());
        db.set(b"s", b"str", SetOptions::default()).unwrap();
        assert!(matches!(db.llen(b"s"), Err(Error::WrongType)));
        assert!(matches!(
            db.list_push(b"s", End::Left, &[b"x"], true),
            Err(Error::WrongType)
        ));
        assert!(matches!(
            db.lmove(b"l", b"s", End::Left, End::Left),
            Err(Error::WrongType)
        ));
        assert!(matches!(
            db.lmpop(&[b"s", b"l"], End::Left, 1),
            Err(Error::WrongType)
        ));
        assert_eq!(all(db, b"l").len(), 4);
    }

    #[test]
    fn large_trim_uses_range_delete_correctly() {
        let t = open();
        let db = &t.db;
        let elems: Vec<String> = (0..300).map(|i| i.to_string()).collect();
        let refs: Vec<&str> = elems.iter().map(|s| s.as_str()).collect();
        push(db, b"l", End::Right, &refs);
        db.ltrim(b"l", 100, 199).unwrap();
        assert_eq!(db.llen(b"l").unwrap(), 100);
        assert_eq!(db.lindex(b"l", 0).unwrap(), Some(b"100".to_vec()));
        assert_eq!(
            db.list_pop(b"l", End::Right, 200).unwrap().unwrap().len(),
            100
        );
        push(db, b"l", End::Right, &["new"]);
        assert_eq!(all(db, b"l"), ["new"]);
    }
}
