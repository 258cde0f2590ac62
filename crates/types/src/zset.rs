//! Sorted sets: member -> score subkeys in the default column family plus the score index in zset_score.
//!
//! Every member has two records, written in the same batch: `member` ->
//! 8-byte order-preserving score in the default column family (point lookups
//! and lexicographic order), and `score ‖ member` -> empty in zset_score
//! (score order). Scores are stored with Kvrocks' `EncodeDouble`, which maps
//! -0.0 and 0.0 to the same bytes, so a stored score is never -0.0.
//!
//! Complexity that differs from Redis's skiplist: there is no rank index, so
//! rank-based operations (ZRANK, ZRANGE by index, ZREMRANGEBYRANK) walk the
//! score index and cost O(rank + returned) instead of O(log N + returned).

use crate::database::{Database, Record};
use crate::error::{Error, Result};
use basalt_engine::encoding::{decode_double, encode_double};
use basalt_engine::key::prefix_upper_bound;
use basalt_engine::{ColumnFamily, EngineError, Metadata, RedisType, StorageIter, WriteBatch};
use std::collections::{HashMap, HashSet};

/// One end of a score range; `±inf` are inclusive infinities.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScoreBound {
    Inclusive(f64),
    Exclusive(f64),
}

impl ScoreBound {
    fn value(self) -> f64 {
        match self {
            ScoreBound::Inclusive(v) | ScoreBound::Exclusive(v) => v,
        }
    }

    fn allows_above(self, s: f64) -> bool {
        match self {
            ScoreBound::Inclusive(v) => s >= v,
            ScoreBound::Exclusive(v) => s > v,
        }
    }

    fn allows_below(self, s: f64) -> bool {
        match self {
            ScoreBound::Inclusive(v) => s <= v,
            ScoreBound::Exclusive(v) => s < v,
        }
    }
}

/// One end of a lexicographic range: `-`, `+`, `[x` or `(x`.
#[derive(Clone, Debug, PartialEq)]
pub enum LexBound {
    Min,
    Max,
    Inclusive(Vec<u8>),
    Exclusive(Vec<u8>),
}

impl LexBound {
    fn allows_above(&self, m: &[u8]) -> bool {
        match self {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Inclusive(x) => m >= x.as_slice(),
            LexBound::Exclusive(x) => m > x.as_slice(),
        }
    }

    fn allows_below(&self, m: &[u8]) -> bool {
        match self {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Inclusive(x) => m <= x.as_slice(),
            LexBound::Exclusive(x) => m < x.as_slice(),
        }
    }
}

/// Which elements a range command selects. `offset`/`count` are LIMIT's:
/// a negative offset selects nothing, a negative count means "all".
#[derive(Clone, Debug, PartialEq)]
pub enum RangeSpec {
    Rank {
        start: i64,
        stop: i64,
    },
    Score {
        min: ScoreBound,
        max: ScoreBound,
        offset: i64,
        count: i64,
    },
    Lex {
        min: LexBound,
        max: LexBound,
        offset: i64,
        count: i64,
    },
}

#[derive(Clone, Copy, Debug, Default)]
pub struct ZAddOptions {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ZAddOutcome {
    pub added: u64,
    /// Added plus updated (what CH reports).
    pub changed: u64,
    /// INCR's resulting score; `None` when the element was left alone.
    pub score: Option<f64>,
}

pub type ScoredMember = (Vec<u8>, f64);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    fn apply(self, t: f64, v: f64) -> f64 {
        match self {
            Aggregate::Sum => {
                // inf + -inf: Redis's convention is 0.
                let s = t + v;
                if s.is_nan() {
                    0.0
                } else {
                    s
                }
            }
            Aggregate::Min => t.min(v),
            Aggregate::Max => t.max(v),
        }
    }
}

fn corrupt() -> Error {
    Error::Engine(EngineError::CorruptMetadata)
}

fn decode_score(raw: &[u8]) -> Result<f64> {
    let bytes: [u8; 8] = raw.try_into().map_err(|_| corrupt())?;
    Ok(decode_double(bytes))
}

/// Normalises -0.0 to 0.0: the on-disk encoding cannot tell them apart, so
/// replies must not either.
fn norm(v: f64) -> f64 {
    v + 0.0
}

/// The (score, member) of the score-index entry under `it`, if any.
fn score_entry(it: &StorageIter, prefix: &[u8]) -> Result<Option<(f64, Vec<u8>)>> {
    if !it.valid() {
        return Ok(None);
    }
    let k = it.key().ok_or_else(corrupt)?;
    let rest = k.get(prefix.len()..).ok_or_else(corrupt)?;
    let score = decode_score(rest.get(..8).ok_or_else(corrupt)?)?;
    Ok(Some((score, rest[8..].to_vec())))
}

/// From where `it` stands, passes over entries outside the near bound,
/// then hands `f` the page of entries up to the far bound, in the
/// direction of the walk.
fn take_page(
    mut it: StorageIter,
    prefix: &[u8],
    rev: bool,
    page: &Page,
    inside_near: impl Fn(f64, &[u8]) -> bool,
    inside_far: impl Fn(f64, &[u8]) -> bool,
    f: &mut impl FnMut(&[u8], f64),
) -> Result<()> {
    let step = |it: &mut StorageIter| if rev { it.prev() } else { it.next() };
    while let Some((s, m)) = score_entry(&it, prefix)? {
        if inside_near(s, &m) {
            break;
        }
        step(&mut it);
    }
    let mut skipped = 0u64;
    let mut taken = 0usize;
    while let Some((s, m)) = score_entry(&it, prefix)? {
        if !inside_far(s, &m) {
            break;
        }
        if skipped < page.skip {
            skipped += 1;
        } else {
            f(&m, s);
            taken += 1;
            if page.done(taken) {
                break;
            }
        }
        step(&mut it);
    }
    it.status().map_err(EngineError::from)?;
    Ok(())
}

/// Pagination of a range walk: skip `offset`, then take `count` (all when
/// negative). A negative offset selects nothing, as in Redis.
struct Page {
    skip: u64,
    take: Option<u64>,
    empty: bool,
    /// Where an unbounded walk starts instead of the end of the index (a
    /// pop hint; see `PopHints`). Only valid under the key's lock.
    start: Option<Vec<u8>>,
}

impl Page {
    fn new(offset: i64, count: i64) -> Page {
        Page {
            skip: offset.max(0) as u64,
            take: u64::try_from(count).ok(),
            empty: offset < 0,
            start: None,
        }
    }

    fn done(&self, taken: usize) -> bool {
        self.empty || self.take.is_some_and(|t| taken as u64 >= t)
    }
}

impl Database {
    fn zs_read_zset(&self, key: &[u8]) -> Result<Option<Record>> {
        self.read_typed(key, RedisType::ZSet)
    }

    fn zs_index_key(&self, key: &[u8], version: u64, score: f64, member: &[u8]) -> Vec<u8> {
        let mut sub = Vec::with_capacity(8 + member.len());
        sub.extend_from_slice(&encode_double(score));
        sub.extend_from_slice(member);
        self.subkey(key, version, &sub)
    }

    fn zs_put_member(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        version: u64,
        m: &[u8],
        score: f64,
    ) {
        // An insert may land before a recorded pop bound.
        self.pop_hints()
            .invalidate(&self.subkey_prefix(key, version));
        let s = self.storage();
        s.put(
            batch,
            ColumnFamily::Default,
            &self.subkey(key, version, m),
            &encode_double(score),
        );
        s.put(
            batch,
            ColumnFamily::ZSetScore,
            &self.zs_index_key(key, version, score, m),
            &[],
        );
    }

    fn zs_del_member(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        version: u64,
        m: &[u8],
        score: f64,
    ) {
        let s = self.storage();
        s.delete(batch, ColumnFamily::Default, &self.subkey(key, version, m));
        s.delete(
            batch,
            ColumnFamily::ZSetScore,
            &self.zs_index_key(key, version, score, m),
        );
    }

    fn zs_member_score(&self, key: &[u8], version: u64, member: &[u8]) -> Result<Option<f64>> {
        match self
            .storage()
            .get(ColumnFamily::Default, &self.subkey(key, version, member))?
        {
            Some(raw) => Ok(Some(decode_score(&raw)?)),
            None => Ok(None),
        }
    }

    /// A raw iterator bounded to one generation's records in `cf`, not yet
    /// positioned; returns the prefix length to strip.
    fn zs_bounded_iter(
        &self,
        cf: ColumnFamily,
        key: &[u8],
        version: u64,
    ) -> (StorageIter<'_>, Vec<u8>) {
        let prefix = self.subkey_prefix(key, version);
        let upper = prefix_upper_bound(&prefix);
        let it = self.storage().iter(cf, Some(&prefix), upper.as_deref());
        (it, prefix)
    }

    pub fn zadd(
        &self,
        key: &[u8],
        opts: ZAddOptions,
        items: &[(f64, &[u8])],
    ) -> Result<ZAddOutcome> {
        let _guard = self.storage().locks().lock(key);
        let existing = self.zs_read_zset(key)?;
        let mut out = ZAddOutcome::default();
        if existing.is_none() && opts.xx {
            return Ok(out);
        }
        let fresh = existing.is_none();
        let mut rec = existing.unwrap_or_else(|| Record {
            metadata: Metadata::new(RedisType::ZSet),
            rest: Vec::new(),
        });
        let version = rec.metadata.version;
        let mut batch = WriteBatch::default();
        // Scores written earlier in this command, so a member repeated in
        // one ZADD sees its own update as Redis does.
        let mut pending: HashMap<&[u8], f64> = HashMap::new();
        for &(score, member) in items {
            let current = match pending.get(member) {
                Some(&s) => Some(s),
                None if fresh => None,
                None => self.zs_member_score(key, version, member)?,
            };
            match current {
                Some(old) => {
                    if opts.nx {
                        continue;
                    }
                    let mut new = score;
                    if opts.incr {
                        new = old + score;
                        if new.is_nan() {
                            return Err(Error::ScoreNan);
                        }
                    }
                    if (opts.gt && new <= old) || (opts.lt && new >= old) {
                        continue;
                    }
                    let new = norm(new);
                    out.score = Some(new);
                    if new != old {
                        self.zs_del_member(&mut batch, key, version, member, old);
                        self.zs_put_member(&mut batch, key, version, member, new);
                        pending.insert(member, new);
                        out.changed += 1;
                    }
                }
                None => {
                    if opts.xx {
                        continue;
                    }
                    let new = norm(score);
                    self.zs_put_member(&mut batch, key, version, member, new);
                    pending.insert(member, new);
                    out.score = Some(new);
                    out.added += 1;
                    out.changed += 1;
                    rec.metadata.size += 1;
                }
            }
        }
        if out.changed > 0 {
            self.put_record(&mut batch, key, &rec);
            self.storage().write(batch)?;
        }
        Ok(out)
    }

    /// ZINCRBY: the new score.
    pub fn zincrby(&self, key: &[u8], delta: f64, member: &[u8]) -> Result<f64> {
        let opts = ZAddOptions {
            incr: true,
            ..Default::default()
        };
        let out = self.zadd(key, opts, &[(delta, member)])?;
        // Without NX/XX/GT/LT the element is always written.
        Ok(out.score.unwrap_or(delta))
    }

    pub fn zcard(&self, key: &[u8]) -> Result<u64> {
        Ok(self.zs_read_zset(key)?.map_or(0, |r| r.metadata.size))
    }

    pub fn zscore(&self, key: &[u8], member: &[u8]) -> Result<Option<f64>> {
        match self.zs_read_zset(key)? {
            Some(r) => self.zs_member_score(key, r.metadata.version, member),
            None => Ok(None),
        }
    }

    pub fn zmscore(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<Option<f64>>> {
        let Some(r) = self.zs_read_zset(key)? else {
            return Ok(vec![None; members.len()]);
        };
        members
            .iter()
            .map(|m| self.zs_member_score(key, r.metadata.version, m))
            .collect()
    }

    pub fn zrem(&self, key: &[u8], members: &[&[u8]]) -> Result<u64> {
        let _guard = self.storage().locks().lock(key);
        let Some(mut rec) = self.zs_read_zset(key)? else {
            return Ok(0);
        };
        let version = rec.metadata.version;
        let mut batch = WriteBatch::default();
        let mut seen = HashSet::new();
        let mut removed = 0;
        for &m in members {
            if !seen.insert(m) {
                continue;
            }
            if let Some(score) = self.zs_member_score(key, version, m)? {
                self.zs_del_member(&mut batch, key, version, m, score);
                removed += 1;
            }
        }
        if removed > 0 {
            rec.metadata.size = rec.metadata.size.saturating_sub(removed);
            self.put_record(&mut batch, key, &rec);
            self.storage().write(batch)?;
        }
        Ok(removed)
    }

    /// ZRANK/ZREVRANK: the rank and score of `member`. Counts the index
    /// entries before it, so O(rank).
    pub fn zrank(&self, key: &[u8], member: &[u8], rev: bool) -> Result<Option<(u64, f64)>> {
        let Some(r) = self.zs_read_zset(key)? else {
            return Ok(None);
        };
        let version = r.metadata.version;
        let Some(score) = self.zs_member_score(key, version, member)? else {
            return Ok(None);
        };
        let target = self.zs_index_key(key, version, score, member);
        let prefix = self.subkey_prefix(key, version);
        let mut rank = 0u64;
        if rev {
            let upper = prefix_upper_bound(&prefix);
            let mut it =
                self.storage()
                    .iter(ColumnFamily::ZSetScore, Some(&target), upper.as_deref());
            it.seek(&target);
            if it.valid() {
                // Skip the member's own entry.
                it.next();
            }
            while it.valid() {
                rank += 1;
                it.next();
            }
            it.status().map_err(EngineError::from)?;
        } else {
            let mut it = self
                .storage()
                .iter(ColumnFamily::ZSetScore, Some(&prefix), Some(&target));
            it.seek(&prefix);
            while it.valid() {
                rank += 1;
                it.next();
            }
            it.status().map_err(EngineError::from)?;
        }
        Ok(Some((rank, score)))
    }

    /// The selected elements in reply order (ascending, or descending with
    /// `rev`).
    pub fn zrange(&self, key: &[u8], spec: &RangeSpec, rev: bool) -> Result<Vec<ScoredMember>> {
        match self.zs_read_zset(key)? {
            Some(r) => self.zs_range_of(key, &r, spec, rev),
            None => Ok(Vec::new()),
        }
    }

    /// ZCOUNT/ZLEXCOUNT: how many elements a range selects.
    pub fn zcount(&self, key: &[u8], spec: &RangeSpec) -> Result<u64> {
        let Some(r) = self.zs_read_zset(key)? else {
            return Ok(0);
        };
        let mut n = 0u64;
        self.zs_walk(key, &r, spec, false, |_, _| n += 1)?;
        Ok(n)
    }

    fn zs_range_of(
        &self,
        key: &[u8],
        rec: &Record,
        spec: &RangeSpec,
        rev: bool,
    ) -> Result<Vec<ScoredMember>> {
        let mut out = Vec::new();
        self.zs_walk(key, rec, spec, rev, |m, s| out.push((m.to_vec(), s)))?;
        Ok(out)
    }

    /// Calls `f` for each selected element, in order.
    fn zs_walk(
        &self,
        key: &[u8],
        rec: &Record,
        spec: &RangeSpec,
        rev: bool,
        mut f: impl FnMut(&[u8], f64),
    ) -> Result<()> {
        let version = rec.metadata.version;
        match spec {
            RangeSpec::Rank { start, stop } => {
                let len = rec.metadata.size as i64;
                let mut start = if *start < 0 { start + len } else { *start };
                let mut stop = if *stop < 0 { stop + len } else { *stop };
                start = start.max(0);
                if start > stop || start >= len {
                    return Ok(());
                }
                if stop >= len {
                    stop = len - 1;
                }
                let page = Page::new(start, stop - start + 1);
                self.zs_walk_index(key, version, rev, None, page, |_, _| true, &mut f)
            }
            RangeSpec::Score {
                min,
                max,
                offset,
                count,
            } => {
                let (min, max) = (*min, *max);
                let seek = if rev { max.value() } else { min.value() };
                self.zs_walk_index(
                    key,
                    version,
                    rev,
                    Some(seek),
                    Page::new(*offset, *count),
                    |s, skipping| {
                        // While skipping, entries outside the near bound are
                        // passed over; afterwards the far bound ends the walk.
                        if skipping {
                            if rev {
                                max.allows_below(s)
                            } else {
                                min.allows_above(s)
                            }
                        } else if rev {
                            min.allows_above(s)
                        } else {
                            max.allows_below(s)
                        }
                    },
                    &mut f,
                )
            }
            RangeSpec::Lex {
                min,
                max,
                offset,
                count,
            } => self.zs_walk_lex(key, version, min, max, rev, Page::new(*offset, *count), f),
        }
    }

    /// Walks the score index. `seek` positions at that score (the first
    /// entry with it, or the last one when reversed). `accept(score,
    /// entering)` is asked first with `entering = true` to pass over leading
    /// entries outside the range, then with `false` to find its end.
    #[allow(clippy::too_many_arguments)]
    fn zs_walk_index(
        &self,
        key: &[u8],
        version: u64,
        rev: bool,
        seek: Option<f64>,
        page: Page,
        accept: impl Fn(f64, bool) -> bool,
        f: &mut impl FnMut(&[u8], f64),
    ) -> Result<()> {
        if page.empty || page.take == Some(0) {
            return Ok(());
        }
        let (mut it, prefix) = self.zs_bounded_iter(ColumnFamily::ZSetScore, key, version);
        match (seek, rev) {
            (None, false) => match &page.start {
                Some(start) => it.seek(start),
                None => it.seek_to_first(),
            },
            (None, true) => match &page.start {
                Some(start) => it.seek_for_prev(start),
                None => it.seek_to_last(),
            },
            (Some(s), false) => {
                let mut target = prefix.clone();
                target.extend_from_slice(&encode_double(s));
                it.seek(&target);
            }
            (Some(s), true) => {
                let mut target = prefix.clone();
                target.extend_from_slice(&encode_double(s));
                match prefix_upper_bound(&target) {
                    Some(after) => it.seek_for_prev(&after),
                    None => it.seek_to_last(),
                }
            }
        }
        // Leading entries outside the near bound: exclusive bounds, and
        // the seek landing on the neighbouring score.
        take_page(
            it,
            &prefix,
            rev,
            &page,
            |s, _| accept(s, true),
            |s, _| accept(s, false),
            f,
        )
    }

    /// Lexicographic ranges walk the score index, as Redis walks its
    /// skiplist: pass over entries outside the near bound, then take entries
    /// until one falls outside the far bound. Redis defines lex ranges only
    /// for sets whose scores are all equal; then (first and last score
    /// equal) the walk seeks straight to `score ‖ bound`, O(log N). With
    /// mixed scores the walk starts at the end of the index, O(N), and
    /// agrees with Redis for `-`/`+` bounds; other mixed-score results are
    /// unspecified in Redis too.
    #[allow(clippy::too_many_arguments)]
    fn zs_walk_lex(
        &self,
        key: &[u8],
        version: u64,
        min: &LexBound,
        max: &LexBound,
        rev: bool,
        page: Page,
        mut f: impl FnMut(&[u8], f64),
    ) -> Result<()> {
        if page.empty || page.take == Some(0) {
            return Ok(());
        }
        let (mut it, prefix) = self.zs_bounded_iter(ColumnFamily::ZSetScore, key, version);
        it.seek_to_first();
        let first = score_entry(&it, &prefix)?.map(|e| e.0);
        it.seek_to_last();
        let last = score_entry(&it, &prefix)?.map(|e| e.0);
        let (Some(first), Some(last)) = (first, last) else {
            return Ok(());
        };
        let near = if rev { max } else { min };
        match near {
            LexBound::Inclusive(x) | LexBound::Exclusive(x) if first == last => {
                let mut target = prefix.clone();
                target.extend_from_slice(&encode_double(first));
                target.extend_from_slice(x);
                if rev {
                    it.seek_for_prev(&target)
                } else {
                    it.seek(&target)
                }
            }
            // `+` as a minimum or `-` as a maximum selects nothing.
            LexBound::Max if !rev => return Ok(()),
            LexBound::Min if rev => return Ok(()),
            _ if rev => it.seek_to_last(),
            _ => it.seek_to_first(),
        }
        let (near, far) = if rev { (max, min) } else { (min, max) };
        let inside = move |bound: &LexBound, m: &[u8], below: bool| {
            if below {
                bound.allows_below(m)
            } else {
                bound.allows_above(m)
            }
        };
        take_page(
            it,
            &prefix,
            rev,
            &page,
            |_, m| inside(near, m, rev),
            |_, m| inside(far, m, !rev),
            &mut f,
        )
    }

    /// ZREMRANGEBYRANK/SCORE/LEX: removes what `spec` selects.
    pub fn zremrange(&self, key: &[u8], spec: &RangeSpec) -> Result<u64> {
        let _guard = self.storage().locks().lock(key);
        let Some(mut rec) = self.zs_read_zset(key)? else {
            return Ok(0);
        };
        let victims = self.zs_range_of(key, &rec, spec, false)?;
        self.zs_remove_all(key, &mut rec, &victims)?;
        Ok(victims.len() as u64)
    }

    fn zs_remove_all(&self, key: &[u8], rec: &mut Record, victims: &[ScoredMember]) -> Result<()> {
        if victims.is_empty() {
            return Ok(());
        }
        let version = rec.metadata.version;
        let mut batch = WriteBatch::default();
        for (m, s) in victims {
            self.zs_del_member(&mut batch, key, version, m, *s);
        }
        rec.metadata.size = rec.metadata.size.saturating_sub(victims.len() as u64);
        self.put_record(&mut batch, key, rec);
        Ok(self.storage().write(batch)?)
    }

    /// ZPOPMIN/ZPOPMAX: removes and returns up to `count` lowest (highest)
    /// scored elements.
    pub fn zpop(&self, key: &[u8], count: u64, max: bool) -> Result<Vec<ScoredMember>> {
        let _guard = self.storage().locks().lock(key);
        let Some(mut rec) = self.zs_read_zset(key)? else {
            return Ok(Vec::new());
        };
        if count == 0 {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        let hint_prefix = self.subkey_prefix(key, rec.metadata.version);
        let page = Page {
            skip: 0,
            take: Some(count),
            empty: false,
            start: self.pop_hints().get(&hint_prefix, max),
        };
        self.zs_walk_index(
            key,
            rec.metadata.version,
            max,
            None,
            page,
            |_, _| true,
            &mut |m, s| out.push((m.to_vec(), s)),
        )?;
        self.zs_remove_all(key, &mut rec, &out)?;
        if let Some((m, s)) = out.last() {
            // The last popped entry bounds what is left: everything live
            // is after it (ZPOPMIN) or before it (ZPOPMAX).
            let mut bound = self.zs_index_key(key, rec.metadata.version, *s, m);
            if !max {
                bound.push(0);
            }
            self.pop_hints().set(&hint_prefix, max, bound);
        }
        Ok(out)
    }

    /// ZRANGESTORE: replaces `dst` (whatever its type) with the selected
    /// elements of `src`; an empty selection deletes `dst`.
    pub fn zrangestore(&self, dst: &[u8], src: &[u8], spec: &RangeSpec, rev: bool) -> Result<u64> {
        let _guard = self.storage().locks().lock_many(&[dst, src]);
        let items = self.zrange(src, spec, rev)?;
        self.zs_store_zset(dst, &items)?;
        Ok(items.len() as u64)
    }

    fn zs_store_zset(&self, dst: &[u8], items: &[ScoredMember]) -> Result<()> {
        let mut batch = WriteBatch::default();
        self.put_new_zset(&mut batch, dst, items, 0);
        Ok(self.storage().write(batch)?)
    }

    /// Writes a new sorted set generation holding `items` under `key`
    /// (ZRANGESTORE & co., RESTORE): the new version hides whatever `key`
    /// held before; no items deletes the key.
    pub(crate) fn put_new_zset(
        &self,
        batch: &mut WriteBatch,
        key: &[u8],
        items: &[ScoredMember],
        expire_ms: u64,
    ) {
        let mut rec = Record::new_collection(RedisType::ZSet, expire_ms);
        let version = rec.metadata.version;
        for (m, s) in items {
            self.zs_put_member(batch, key, version, m, *s);
        }
        rec.metadata.size = items.len() as u64;
        self.put_record(batch, key, &rec);
    }

    /// Every member with its score, in score order (DUMP).
    pub(crate) fn zset_members(&self, key: &[u8], record: &Record) -> Result<Vec<ScoredMember>> {
        self.zs_range_of(key, record, &RangeSpec::Rank { start: 0, stop: -1 }, false)
    }

    /// ZSCAN over members in byte order. `after` is the last member a
    /// previous call returned; the result's first field is the member to
    /// continue after, `None` when the walk is complete.
    pub fn zscan(
        &self,
        key: &[u8],
        after: Option<&[u8]>,
        count: usize,
        pattern: Option<&[u8]>,
    ) -> Result<(Option<Vec<u8>>, Vec<ScoredMember>)> {
        let Some(r) = self.zs_read_zset(key)? else {
            return Ok((None, Vec::new()));
        };
        let (mut it, prefix) = self.zs_bounded_iter(ColumnFamily::Default, key, r.metadata.version);
        match after {
            Some(a) => {
                let mut target = prefix.clone();
                target.extend_from_slice(a);
                it.seek(&target);
                if it.valid() && it.key() == Some(target.as_slice()) {
                    it.next();
                }
            }
            None => it.seek_to_first(),
        }
        let mut out = Vec::new();
        let mut last = None;
        let mut examined = 0;
        while it.valid() && examined < count.max(1) {
            let k = it.key().ok_or_else(corrupt)?;
            let m = k.get(prefix.len()..).ok_or_else(corrupt)?;
            let s = decode_score(it.value().ok_or_else(corrupt)?)?;
            if pattern.is_none_or(|p| basalt_glob::glob_match(p, m, false)) {
                out.push((m.to_vec(), s));
            }
            last = Some(m.to_vec());
            examined += 1;
            it.next();
        }
        it.status().map_err(EngineError::from)?;
        let next = if it.valid() { last } else { None };
        Ok((next, out))
    }

    /// One ZUNION/ZINTER/ZDIFF input: a sorted set, or a plain set whose
    /// members all score 1 (Redis accepts both). `None` when missing.
    fn zs_load_source(&self, key: &[u8]) -> Result<Option<HashMap<Vec<u8>, f64>>> {
        let Some(r) = self.read(key)? else {
            return Ok(None);
        };
        let is_zset = match r.metadata.kind {
            RedisType::ZSet => true,
            RedisType::Set => false,
            _ => return Err(Error::WrongType),
        };
        let (mut it, prefix) = self.zs_bounded_iter(ColumnFamily::Default, key, r.metadata.version);
        it.seek_to_first();
        let mut out = HashMap::new();
        while it.valid() {
            let k = it.key().ok_or_else(corrupt)?;
            let m = k.get(prefix.len()..).ok_or_else(corrupt)?;
            let s = if is_zset {
                decode_score(it.value().ok_or_else(corrupt)?)?
            } else {
                1.0
            };
            out.insert(m.to_vec(), s);
            it.next();
        }
        it.status().map_err(EngineError::from)?;
        Ok(Some(out))
    }

    /// WRONGTYPE unless every key is missing, a sorted set or a set. Redis
    /// checks this before it parses the options that follow the keys.
    pub fn zsetop_check_types(&self, keys: &[&[u8]]) -> Result<()> {
        for k in keys {
            match self.type_of(k)? {
                None | Some(RedisType::ZSet) | Some(RedisType::Set) => {}
                Some(_) => return Err(Error::WrongType),
            }
        }
        Ok(())
    }

    /// ZUNION/ZINTER/ZDIFF over whole inputs loaded into memory, O(total
    /// input size); the result in score order. `weights` has one entry per
    /// key (ignored for DIFF, which keeps the first input's scores).
    pub fn zsetop(
        &self,
        op: SetOp,
        keys: &[&[u8]],
        weights: &[f64],
        agg: Aggregate,
    ) -> Result<Vec<ScoredMember>> {
        let mut srcs = Vec::with_capacity(keys.len());
        for (i, k) in keys.iter().enumerate() {
            srcs.push((
                self.zs_load_source(k)?,
                weights.get(i).copied().unwrap_or(1.0),
            ));
        }
        let weighted = |w: f64, s: f64| {
            let v = w * s;
            // inf * 0: Redis's convention is 0.
            if v.is_nan() {
                0.0
            } else {
                v
            }
        };
        let mut acc: HashMap<Vec<u8>, f64> = HashMap::new();
        match op {
            SetOp::Union => {
                for (src, w) in srcs.iter() {
                    for (m, s) in src.iter().flatten() {
                        let v = weighted(*w, *s);
                        acc.entry(m.clone())
                            .and_modify(|t| *t = agg.apply(*t, v))
                            .or_insert(v);
                    }
                }
            }
            SetOp::Inter => {
                if srcs
                    .iter()
                    .any(|(s, _)| s.as_ref().is_none_or(|s| s.is_empty()))
                {
                    return Ok(Vec::new());
                }
                // Redis walks the smallest input and aggregates in size order.
                srcs.sort_by_key(|(s, _)| s.as_ref().map_or(0, |s| s.len()));
                if let Some(((Some(first), w0), rest)) = srcs.split_first() {
                    'members: for (m, s) in first {
                        let mut t = weighted(*w0, *s);
                        for (other, w) in rest {
                            match other.as_ref().and_then(|o| o.get(m)) {
                                Some(s2) => t = agg.apply(t, weighted(*w, *s2)),
                                None => continue 'members,
                            }
                        }
                        acc.insert(m.clone(), t);
                    }
                }
            }
            SetOp::Diff => {
                if let Some((Some(first), _)) = srcs.first() {
                    for (m, s) in first {
                        let elsewhere = srcs[1..]
                            .iter()
                            .any(|(o, _)| o.as_ref().is_some_and(|o| o.contains_key(m)));
                        if !elsewhere {
                            acc.insert(m.clone(), *s);
                        }
                    }
                }
            }
        }
        let mut out: Vec<ScoredMember> = acc.into_iter().map(|(m, s)| (m, norm(s))).collect();
        out.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        Ok(out)
    }

    /// The STORE forms: replaces `dst` with the result.
    pub fn zsetop_store(
        &self,
        dst: &[u8],
        op: SetOp,
        keys: &[&[u8]],
        weights: &[f64],
        agg: Aggregate,
    ) -> Result<u64> {
        let mut all: Vec<&[u8]> = keys.to_vec();
        all.push(dst);
        let _guard = self.storage().locks().lock_many(&all);
        let items = self.zsetop(op, keys, weights, agg)?;
        self.zs_store_zset(dst, &items)?;
        Ok(items.len() as u64)
    }

    /// ZINTERCARD: the intersection's size, counting stopped at `limit`
    /// (0 = no limit).
    pub fn zintercard(&self, keys: &[&[u8]], limit: u64) -> Result<u64> {
        let n = self.zsetop(SetOp::Inter, keys, &[], Aggregate::Sum)?.len() as u64;
        Ok(if limit > 0 { n.min(limit) } else { n })
    }

    /// Every element in score order; for ZRANDMEMBER, which samples from it
    /// (O(N)).
    pub fn zall(&self, key: &[u8]) -> Result<Vec<ScoredMember>> {
        self.zrange(key, &RangeSpec::Rank { start: 0, stop: -1 }, false)
    }

    /// ZRANDMEMBER with a count: `count >= 0` distinct elements (at most
    /// the whole set), a negative count that many picks with repetition.
    /// Loads the whole set, so O(N).
    pub fn zrandmember(&self, key: &[u8], count: i64) -> Result<Vec<ScoredMember>> {
        let mut all = self.zall(key)?;
        if all.is_empty() {
            return Ok(all);
        }
        if count >= 0 {
            let n = usize::try_from(count).unwrap_or(usize::MAX).min(all.len());
            // A partial Fisher-Yates shuffle: the first n slots end up a
            // uniform sample in random order.
            for i in 0..n {
                let j = rand::random_range(i..all.len());
                all.swap(i, j);
            }
            all.truncate(n);
            Ok(all)
        } else {
            let n = count.unsigned_abs();
            Ok((0..n)
                .map(|_| all[rand::random_range(0..all.len())].clone())
                .collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::test_support::open;

    #[test]
    fn pops_see_inserts_made_after_earlier_pops() {
        let t = open();
        let db = &t.db;
        add(
            db,
            b"q",
            &[(1.0, "a"), (2.0, "b"), (3.0, "c"), (4.0, "d"), (5.0, "e")],
        );
        assert_eq!(
            db.zpop(b"q", 2, false).unwrap(),
            vec![(b"a".to_vec(), 1.0), (b"b".to_vec(), 2.0)]
        );
        assert_eq!(db.zpop(b"q", 1, true).unwrap(), vec![(b"e".to_vec(), 5.0)]);
        // Inserts on both sides of what was popped must be seen by the next
        // pops, whatever bound the earlier pops recorded.
        add(db, b"q", &[(0.5, "low"), (9.0, "high")]);
        assert_eq!(
            db.zpop(b"q", 1, false).unwrap(),
            vec![(b"low".to_vec(), 0.5)]
        );
        assert_eq!(
            db.zpop(b"q", 1, true).unwrap(),
            vec![(b"high".to_vec(), 9.0)]
        );
        // A member re-scored below the bound is found too.
        assert_eq!(db.zincrby(b"q", -10.0, b"d").unwrap(), -6.0);
        assert_eq!(
            db.zpop(b"q", 1, false).unwrap(),
            vec![(b"d".to_vec(), -6.0)]
        );
        assert_eq!(db.zpop(b"q", 5, false).unwrap(), vec![(b"c".to_vec(), 3.0)]);
        assert!(db.zpop(b"q", 1, false).unwrap().is_empty());
        // A new generation of the key starts without bounds.
        add(db, b"q", &[(7.0, "x")]);
        assert_eq!(db.zpop(b"q", 1, true).unwrap(), vec![(b"x".to_vec(), 7.0)]);
    }

    fn add(db: &Database, key: &[u8], items: &[(f64, &str)]) -> ZAddOutcome {
        let items: Vec<(f64, &[u8])> = items.iter().map(|(s, m)| (*s, m.as_bytes())).collect();
        db.zadd(key, ZAddOptions::default(), &items).unwrap()
    }

    fn names(v: &[ScoredMember]) -> Vec<String> {
        v.iter()
            .map(|(m, _)| String::from_utf8_lossy(m).into_owned())
            .collect()
    }

    #[test]
    fn add_score_rank_and_ranges() {
        let t = open();
        let db = &t.db;
        let out = add(db, b"z", &[(1.0, "a"), (2.0, "b"), (-3.5, "c"), (2.0, "b")]);
        assert_eq!((out.added, out.changed), (3, 3));
        assert_eq!(db.zcard(b"z").unwrap(), 3);
        assert_eq!(db.zscore(b"z", b"c").unwrap(), Some(-3.5));
        assert_eq!(db.zrank(b"z", b"a", false).unwrap(), Some((1, 1.0)));
        assert_eq!(db.zrank(b"z", b"a", true).unwrap(), Some((1, 1.0)));
        assert_eq!(db.zrank(b"z", b"c", true).unwrap(), Some((2, -3.5)));
        let all = db.zall(b"z").unwrap();
        assert_eq!(names(&all), ["c", "a", "b"]);
        let spec = RangeSpec::Score {
            min: ScoreBound::Exclusive(-3.5),
            max: ScoreBound::Inclusive(f64::INFINITY),
            offset: 0,
            count: -1,
        };
        assert_eq!(names(&db.zrange(b"z", &spec, false).unwrap()), ["a", "b"]);
        assert_eq!(names(&db.zrange(b"z", &spec, true).unwrap()), ["b", "a"]);
        assert_eq!(db.zcount(b"z", &spec).unwrap(), 2);
        let rank = RangeSpec::Rank { start: -2, stop: 5 };
        assert_eq!(names(&db.zrange(b"z", &rank, true).unwrap()), ["a", "c"]);
    }

    #[test]
    fn options_incr_and_nan() {
        let t = open();
        let db = &t.db;
        add(db, b"z", &[(1.0, "a")]);
        let gt = ZAddOptions {
            gt: true,
            ..Default::default()
        };
        let out = db.zadd(b"z", gt, &[(0.5, b"a".as_slice())]).unwrap();
        assert_eq!(out.changed, 0);
        assert_eq!(db.zscore(b"z", b"a").unwrap(), Some(1.0));
        assert_eq!(
            db.zincrby(b"z", f64::INFINITY, b"a").unwrap(),
            f64::INFINITY
        );
        assert!(matches!(
            db.zincrby(b"z", f64::NEG_INFINITY, b"a"),
            Err(Error::ScoreNan)
        ));
        assert_eq!(db.zincrby(b"z", -0.0, b"n").unwrap().to_bits(), 0);
        let xx = ZAddOptions {
            xx: true,
            ..Default::default()
        };
        assert_eq!(
            db.zadd(b"missing", xx, &[(1.0, b"a".as_slice())])
                .unwrap()
                .added,
            0
        );
        assert!(db.read(b"missing").unwrap().is_none());
    }

    #[test]
    fn lex_ranges_pop_and_remove() {
        let t = open();
        let db = &t.db;
        add(db, b"z", &[(0.0, "a"), (0.0, "b"), (0.0, "c"), (0.0, "d")]);
        let lex = |min, max| RangeSpec::Lex {
            min,
            max,
            offset: 0,
            count: -1,
        };
        let spec = lex(
            LexBound::Exclusive(b"a".to_vec()),
            LexBound::Inclusive(b"c".to_vec()),
        );
        assert_eq!(names(&db.zrange(b"z", &spec, false).unwrap()), ["b", "c"]);
        assert_eq!(names(&db.zrange(b"z", &spec, true).unwrap()), ["c", "b"]);
        assert!(db
            .zrange(b"z", &lex(LexBound::Max, LexBound::Min), false)
            .unwrap()
            .is_empty());
        assert_eq!(db.zremrange(b"z", &spec).unwrap(), 2);
        assert_eq!(names(&db.zpop(b"z", 1, true).unwrap()), ["d"]);
        assert_eq!(db.zrem(b"z", &[b"a", b"a", b"x"]).unwrap(), 1);
        assert!(db.read(b"z").unwrap().is_none());
    }

    #[test]
    fn wrong_type_and_store() {
        let t = open();
        let db = &t.db;
        db.set(b"s", b"v", Default::default()).unwrap();
        assert!(matches!(db.zcard(b"s"), Err(Error::WrongType)));
        add(db, b"z", &[(1.0, "a"), (2.0, "b")]);
        let n = db
            .zrangestore(b"s", b"z", &RangeSpec::Rank { start: 1, stop: 1 }, false)
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(names(&db.zall(b"s").unwrap()), ["b"]);
        let (next, page) = db.zscan(b"z", None, 1, None).unwrap();
        assert_eq!(
            (next.as_deref(), names(&page)),
            (Some(b"a".as_slice()), vec!["a".to_string()])
        );
        let (next, page) = db.zscan(b"z", Some(b"a"), 10, None).unwrap();
        assert_eq!((next, names(&page)), (None, vec!["b".to_string()]));
    }

    #[test]
    fn set_operations() {
        let t = open();
        let db = &t.db;
        add(db, b"a", &[(1.0, "x"), (2.0, "y")]);
        add(db, b"b", &[(10.0, "y"), (f64::INFINITY, "z")]);
        let keys: [&[u8]; 2] = [b"a", b"b"];
        let union = db
            .zsetop(SetOp::Union, &keys, &[1.0, 0.0], Aggregate::Sum)
            .unwrap();
        assert_eq!(names(&union), ["z", "x", "y"]);
        assert_eq!(union[0].1, 0.0, "inf * 0 counts as 0");
        let inter = db.zsetop(SetOp::Inter, &keys, &[], Aggregate::Max).unwrap();
        assert_eq!(inter, vec![(b"y".to_vec(), 10.0)]);
        let diff = db.zsetop(SetOp::Diff, &keys, &[], Aggregate::Sum).unwrap();
        assert_eq!(names(&diff), ["x"]);
        assert_eq!(db.zintercard(&keys, 0).unwrap(), 1);
        assert_eq!(
            db.zsetop_store(b"d", SetOp::Inter, &[b"a", b"missing"], &[], Aggregate::Sum)
                .unwrap(),
            0
        );
        assert!(db.read(b"d").unwrap().is_none());
    }
}
