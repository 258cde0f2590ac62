//! SORT and SORT_RO over lists, sets and sorted sets, with Redis's BY/GET
//! pattern lookups. The sorting itself mirrors Redis's sort.c: numeric
//! scores parsed like C `strtod`, ties broken by comparing the elements
//! bytewise, missing BY keys scoring 0 (or sorting first with ALPHA).

use crate::database::Database;
use crate::error::{Error, Result};
use crate::zset::RangeSpec;
use basalt_engine::{RedisType, WriteBatch};
use std::cmp::Ordering;

/// Kvrocks' list layout: elements at `head..tail`, both starting here.

#[derive(Clone, Debug, Default)]
pub struct SortOptions {
    /// The BY pattern, when it contains a `*` (a real sort key).
    pub by: Option<Vec<u8>>,
    /// BY with a pattern without `*`: keep the collection's own order.
    pub nosort: bool,
    /// LIMIT offset count, unnormalised as the client sent them.
    pub limit: Option<(i64, i64)>,
    pub gets: Vec<Vec<u8>>,
    pub desc: bool,
    pub alpha: bool,
}

/// A sort's outcome: Redis reports unparsable scores only after loading
/// everything, as one error for the whole command.
#[derive(Debug, PartialEq)]
pub enum Sorted<T> {
    Done(T),
    BadScore,
}

/// One element to sort with its precomputed sort key.
struct Item {
    elem: Vec<u8>,
    score: f64,
    /// ALPHA with BY: the looked-up value; `None` sorts first.
    cmp: Option<Vec<u8>>,
}

/// Parses a score like C's `strtod` as Redis calls it: leading whitespace
/// is skipped, hex is accepted, and anything left over, NaN, overflow or
/// underflow is an error. The empty string is 0 (strtod consumes nothing
/// and stops on the terminating NUL).
pub fn parse_score(s: &[u8]) -> Option<f64> {
    if s.is_empty() {
        return Some(0.0);
    }
    let start = s
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))?;
    let t = std::str::from_utf8(&s[start..]).ok()?;
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let v = if body.len() > 2 && (body.starts_with("0x") || body.starts_with("0X")) {
        parse_hex(&body[2..])?
    } else {
        // Rust's float syntax is strtod's decimal one, inf/infinity/nan
        // included; a partial parse is an error for Redis anyway.
        let lower = body.to_ascii_lowercase();
        let v: f64 = lower.parse().ok()?;
        if v.is_infinite() && !lower.starts_with("inf") {
            return None; // ERANGE overflow
        }
        if v.is_finite() && v.abs() < f64::MIN_POSITIVE && mantissa_nonzero(&lower) {
            return None; // ERANGE underflow
        }
        v
    };
    if v.is_nan() {
        return None;
    }
    Some(if neg { -v } else { v })
}

fn mantissa_nonzero(s: &str) -> bool {
    s.bytes()
        .take_while(|c| *c != b'e')
        .any(|c| c.is_ascii_digit() && c != b'0')
}

/// strtod's hex form: digits, an optional fraction and a `p` exponent.
fn parse_hex(s: &str) -> Option<f64> {
    let (mant, exp) = match s.find(['p', 'P']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    let v = v * 2f64.powi(exp);
    v.is_finite().then_some(v)
}

/// Redis's LIMIT normalisation: the inclusive `(start, end)` over `len`
/// elements; `end < start` means nothing.
fn limits(limit: Option<(i64, i64)>, len: usize) -> (i64, i64) {
    let len = len as i64;
    let (offset, count) = limit.unwrap_or((0, -1));
    let mut start = offset.max(0);
    let mut end = if count < 0 {
        len - 1
    } else {
        start.saturating_add(count) - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    (start, end)
}

impl Database {
    /// Resolves a BY/GET pattern for one element: `#` is the element,
    /// otherwise the first `*` is replaced by it and the key is read as a
    /// string, or as a hash field after `->`. Anything missing or of
    /// another type is `None`, never an error.
    fn lookup_pattern(&self, pattern: &[u8], elem: &[u8]) -> Result<Option<Vec<u8>>> {
        if pattern == b"#" {
            return Ok(Some(elem.to_vec()));
        }
        let Some(star) = pattern.iter().position(|&c| c == b'*') else {
            return Ok(None);
        };
        let after = &pattern[star + 1..];
        let field = after
            .windows(2)
            .position(|w| w == b"->")
            .filter(|&i| i + 2 < after.len());
        let (postfix, field) = match field {
            Some(i) => (&after[..i], Some(&after[i + 2..])),
            None => (after, None),
        };
        let mut key = Vec::with_capacity(pattern.len() + elem.len());
        key.extend_from_slice(&pattern[..star]);
        key.extend_from_slice(elem);
        key.extend_from_slice(postfix);
        let Some(record) = self.read(&key)? else {
            return Ok(None);
        };
        match (field, record.metadata.kind) {
            (None, RedisType::String) => Ok(Some(record.rest)),
            (Some(f), RedisType::Hash) => self.hget(&key, f),
            _ => Ok(None),
        }
    }

    /// The elements to sort. Without sorting (`nosort`), a list or sorted
    /// set keeps its own order, reversed by DESC, as Redis 7 does.
    fn sort_load(&self, key: &[u8], opts: &SortOptions, nosort: bool) -> Result<Vec<Vec<u8>>> {
        let Some(record) = self.read(key)? else {
            return Ok(Vec::new());
        };
        match record.metadata.kind {
            RedisType::List => {
                let mut all = self.lrange(key, 0, -1)?;
                if nosort && opts.desc {
                    all.reverse();
                }
                Ok(all)
            }
            RedisType::Set => self.smembers(key),
            RedisType::ZSet => {
                let spec = RangeSpec::Rank { start: 0, stop: -1 };
                let all = self.zrange(key, &spec, nosort && opts.desc)?;
                Ok(all.into_iter().map(|(m, _)| m).collect())
            }
            _ => Err(Error::WrongType),
        }
    }

    /// Sorts (or not, with `nosort`) and applies LIMIT and GET: each output
    /// entry is one element, or one GET result (`None` = nil).
    fn sort_compute(
        &self,
        key: &[u8],
        opts: &SortOptions,
        nosort: bool,
        alpha: bool,
    ) -> Result<Sorted<Vec<Option<Vec<u8>>>>> {
        let elems = self.sort_load(key, opts, nosort)?;
        let (start, end) = limits(opts.limit, elems.len());
        let mut items: Vec<Item> = elems
            .into_iter()
            .map(|elem| Item {
                elem,
                score: 0.0,
                cmp: None,
            })
            .collect();
        if !nosort {
            let mut bad = false;
            for item in &mut items {
                let byval = match &opts.by {
                    Some(p) => match self.lookup_pattern(p, &item.elem)? {
                        Some(v) => v,
                        None => continue,
                    },
                    None => item.elem.clone(),
                };
                if alpha {
                    if opts.by.is_some() {
                        item.cmp = Some(byval);
                    }
                } else {
                    match parse_score(&byval) {
                        Some(s) => item.score = s,
                        None => bad = true,
                    }
                }
            }
            if bad {
                return Ok(Sorted::BadScore);
            }
            let by = opts.by.is_some();
            // A stable sort: ties Redis leaves to qsort (ALPHA with BY)
            // keep the collection's order.
            items.sort_by(|a, b| {
                let ord = if !alpha {
                    a.score
                        .partial_cmp(&b.score)
                        .unwrap_or(Ordering::Equal)
                        .then_with(|| a.elem.cmp(&b.elem))
                } else if by {
                    match (&a.cmp, &b.cmp) {
                        (Some(x), Some(y)) => x.cmp(y),
                        (x, y) => x.is_some().cmp(&y.is_some()),
                    }
                } else {
                    a.elem.cmp(&b.elem)
                };
                if opts.desc {
                    ord.reverse()
                } else {
                    ord
                }
            });
        }
        let mut out = Vec::new();
        if end >= start && start >= 0 {
            for item in items
                .into_iter()
                .skip(start as usize)
                .take((end - start + 1) as usize)
            {
                if opts.gets.is_empty() {
                    out.push(Some(item.elem));
                    continue;
                }
                for g in &opts.gets {
                    out.push(self.lookup_pattern(g, &item.elem)?);
                }
            }
        }
        Ok(Sorted::Done(out))
    }

    /// SORT / SORT_RO without STORE.
    pub fn sort(&self, key: &[u8], opts: &SortOptions) -> Result<Sorted<Vec<Option<Vec<u8>>>>> {
        self.sort_compute(key, opts, opts.nosort, opts.alpha)
    }

    /// SORT ... STORE: replaces `dst` (whatever its type) with a new list
    /// generation holding the result (nil GETs become empty strings), or
    /// deletes it when the result is empty. Returns the stored length.
    pub fn sort_store(&self, key: &[u8], opts: &SortOptions, dst: &[u8]) -> Result<Sorted<u64>> {
        let _guard = self.storage().locks().lock_many(&[key, dst]);
        // Redis sorts an unsorted set before storing it, so that replicas
        // and the AOF see the same list.
        let mut opts = opts.clone();
        if opts.nosort && self.type_of(key)? == Some(RedisType::Set) {
            opts.nosort = false;
            opts.alpha = true;
            opts.by = None;
        }
        let result = match self.sort_compute(key, &opts, opts.nosort, opts.alpha)? {
            Sorted::Done(r) => r,
            Sorted::BadScore => return Ok(Sorted::BadScore),
        };
        let replaced = self.read(dst)?;
        let mut batch = WriteBatch::default();
        let elems = result.iter().map(|v| v.as_deref().unwrap_or(b""));
        let n = self.put_new_list(&mut batch, dst, elems, 0);
        self.storage().write(batch)?;
        if let Some(old) = replaced {
            self.reclaim(dst, &old.metadata);
        }
        Ok(Sorted::Done(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::test_support::open;
    use crate::string::SetOptions;

    fn done<T>(s: Sorted<T>) -> T {
        match s {
            Sorted::Done(v) => v,
            Sorted::BadScore => panic!("bad score"),
        }
    }

    fn strs(v: Vec<Option<Vec<u8>>>) -> Vec<String> {
        v.into_iter()
            .map(|e| e.map_or("(nil)".into(), |e| String::from_utf8(e).unwrap()))
            .collect()
    }

    #[test]
    fn score_parsing_follows_strtod() {
        assert_eq!(parse_score(b""), Some(0.0));
        assert_eq!(parse_score(b" 5"), Some(5.0));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"infinity"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"1.5e3"), Some(1500.0));
        for bad in [
            &b" "[..],
            b"5 ",
            b"nan",
            b"1e400",
            b"1e-310",
            b"abc",
            b"0x",
            b"1_0",
        ] {
            assert_eq!(parse_score(bad), None, "{:?}", bad);
        }
        assert_eq!(parse_score(b"0e-400"), Some(0.0));
    }

    #[test]
    fn limits_match_redis() {
        assert_eq!(limits(None, 4), (0, 3));
        assert_eq!(limits(Some((-1, 2)), 4), (0, 1));
        assert_eq!(limits(Some((1, -5)), 4), (1, 3));
        assert_eq!(limits(Some((10, 2)), 4), (3, 2));
        assert_eq!(limits(None, 0), (-1, -2));
        assert_eq!(limits(Some((0, i64::MAX)), 3), (0, 2));
    }

    #[test]
    fn sorts_lists_sets_and_zsets() {
        let t = open();
        let db = &t.db;
        db.list_push(
            b"l",
            crate::list::End::Right,
            &[b"3", b"1", b"10", b"2"],
            true,
        )
        .unwrap();
        let o = SortOptions::default();
        assert_eq!(
            strs(done(db.sort(b"l", &o).unwrap())),
            ["1", "2", "3", "10"]
        );
        let o = SortOptions {
            alpha: true,
            desc: true,
            limit: Some((1, 2)),
            ..Default::default()
        };
        assert_eq!(strs(done(db.sort(b"l", &o).unwrap())), ["2", "10"]);
        let o = SortOptions {
            nosort: true,
            desc: true,
            ..Default::default()
        };
        assert_eq!(
            strs(done(db.sort(b"l", &o).unwrap())),
            ["2", "10", "1", "3"]
        );

        db.sadd(b"s", &[b"b", b"a"]).unwrap();
        assert_eq!(
            db.sort(b"s", &SortOptions::default()).unwrap(),
            Sorted::BadScore
        );

        db.zadd(
            b"z",
            crate::zset::ZAddOptions::default(),
            &[(3.0, b"a".as_ref()), (1.0, b"b"), (2.0, b"c")],
        )
        .unwrap();
        let o = SortOptions {
            nosort: true,
            ..Default::default()
        };
        assert_eq!(strs(done(db.sort(b"z", &o).unwrap())), ["b", "c", "a"]);

        db.set(b"str", b"x", SetOptions::default()).unwrap();
        assert!(matches!(
            db.sort(b"str", &SortOptions::default()),
            Err(Error::WrongType)
        ));
        assert!(done(db.sort(b"missing", &SortOptions::default()).unwrap()).is_empty());
    }

    #[test]
    fn by_get_and_store() {
        let t = open();
        let db = &t.db;
        db.list_push(b"l", crate::list::End::Right, &[b"a", b"b", b"c"], true)
            .unwrap();
        db.set(b"w_a", b"3", SetOptions::default()).unwrap();
        db.set(b"w_b", b"1", SetOptions::default()).unwrap();
        db.hset(b"h_a", &[(b"f", b"ha")], false).unwrap();
        let o = SortOptions {
            by: Some(b"w_*".to_vec()),
            gets: vec![b"#".to_vec(), b"h_*->f".to_vec(), b"w_*".to_vec()],
            ..Default::default()
        };
        assert_eq!(
            strs(done(db.sort(b"l", &o).unwrap())),
            ["c", "(nil)", "(nil)", "b", "(nil)", "1", "a", "ha", "3"]
        );
        assert_eq!(done(db.sort_store(b"l", &o, b"w_a").unwrap()), 9);
        assert_eq!(
            db.lrange(b"w_a", 0, -1).unwrap(),
            [&b"c"[..], b"", b"", b"b", b"", b"1", b"a", b"ha", b"3"]
        );
        assert_eq!(done(db.sort_store(b"missing", &o, b"w_a").unwrap()), 0);
        assert_eq!(db.type_of(b"w_a").unwrap(), None);
    }
}
