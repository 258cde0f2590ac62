//! Redis 7 key specs: where a command's keys are (a begin search, then a
//! find) and how each is used (flags). COMMAND INFO shows them, COMMAND
//! GETKEYSANDFLAGS, ACL key permissions and cluster routing read them.
//! The specs of a command are derived from its declaration (key range or
//! key finder, plus one set of flags per spec), never written twice.

use bytes::Bytes;

/// Key spec flags, named as COMMAND INFO and GETKEYSANDFLAGS report them.
pub mod key_flags {
    /// Read-only: the key's value is not modified.
    pub const RO: u32 = 1 << 0;
    /// Read-write: the value is modified, and its old content matters.
    pub const RW: u32 = 1 << 1;
    /// Overwrite: the value is replaced without reading it.
    pub const OW: u32 = 1 << 2;
    /// Removed: the key is deleted.
    pub const RM: u32 = 1 << 3;
    /// The value (or part of it) is returned to the user or copied.
    pub const ACCESS: u32 = 1 << 4;
    /// The value is updated or overwritten.
    pub const UPDATE: u32 = 1 << 5;
    /// Data is added; nothing existing is changed.
    pub const INSERT: u32 = 1 << 6;
    /// Data is removed from the value.
    pub const DELETE: u32 = 1 << 7;
    /// A name hashed like a key without being one (shard channels).
    pub const NOT_KEY: u32 = 1 << 8;
    /// The spec may not find every key (MIGRATE's KEYS).
    pub const INCOMPLETE: u32 = 1 << 9;
    /// The flags depend on the arguments (SET with or without GET).
    pub const VARIABLE_FLAGS: u32 = 1 << 10;

    pub const NAMES: &[(u32, &str)] = &[
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];

    /// Exactly one of these is set on every spec.
    pub const ACCESS_TYPES: u32 = RO | RW | OW | RM;

    /// The flag names set in `bits`, in Redis's order.
    pub fn names(bits: u32) -> Vec<&'static str> {
        NAMES
            .iter()
            .filter(|(b, _)| bits & b != 0)
            .map(|(_, n)| *n)
            .collect()
    }
}

/// Where the search for a spec's keys starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeginSearch {
    /// At this argument index.
    Index(usize),
    /// Right after `keyword`, searched from `start_from` (negative: from
    /// the end, backwards).
    Keyword {
        keyword: &'static str,
        start_from: i32,
    },
    /// Only the command's own key procedure knows (SORT's STORE).
    Unknown,
}

/// How the keys are found from where the search begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindKeys {
    /// Keys up to `last` (relative to the begin; negative counts from the
    /// end of the arguments), every `step`; `limit` > 1 takes only the
    /// first 1/limit of the rest (XREAD's keys before their IDs).
    Range {
        last: i32,
        step: usize,
        limit: usize,
    },
    /// A count at `begin + count_at`, then that many keys from
    /// `begin + first`, every `step`.
    Keynum {
        count_at: usize,
        first: usize,
        step: usize,
    },
    Unknown,
}

/// A spec's shape: its begin search and find, without flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub begin: BeginSearch,
    pub find: FindKeys,
}

impl Shape {
    /// One key at `at`.
    pub const fn key_at(at: usize) -> Shape {
        Shape {
            begin: BeginSearch::Index(at),
            find: FindKeys::Range {
                last: 0,
                step: 1,
                limit: 0,
            },
        }
    }

    /// A `numkeys` count at `at`, the keys right after it.
    pub const fn numkeys_at(at: usize) -> Shape {
        Shape {
            begin: BeginSearch::Index(at),
            find: FindKeys::Keynum {
                count_at: 0,
                first: 1,
                step: 1,
            },
        }
    }

    pub const UNKNOWN: Shape = Shape {
        begin: BeginSearch::Unknown,
        find: FindKeys::Unknown,
    };

    /// A plain index-and-range shape, the only kind the legacy
    /// first/last/step triple can describe.
    pub fn is_range(&self) -> bool {
        matches!(
            (self.begin, self.find),
            (BeginSearch::Index(_), FindKeys::Range { .. })
        )
    }
}

/// A key spec: shape plus flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeySpec {
    pub shape: Shape,
    pub flags: u32,
}

/// What a search found: the keys' argument indices, or that the spec
/// cannot say (unknown shape, a bad count, or an incomplete spec) and the
/// command's own key procedure must.
pub enum Found {
    Keys(Vec<usize>),
    Invalid,
}

impl KeySpec {
    /// Redis's key-spec search (`getKeysUsingKeySpecs`) for this spec.
    /// Positions past the end are skipped: a variadic command's arity is
    /// checked by the command itself.
    pub fn find(&self, args: &[Bytes]) -> Found {
        let argc = args.len();
        let first = match self.shape.begin {
            BeginSearch::Index(at) => at,
            BeginSearch::Keyword {
                keyword,
                start_from,
            } => match keyword_position(args, keyword, start_from) {
                Some(at) => at + 1,
                None => return Found::Keys(Vec::new()),
            },
            BeginSearch::Unknown => return Found::Invalid,
        };
        let (first, last, step) = match self.shape.find {
            FindKeys::Range { last, step, limit } => {
                let last = if last >= 0 {
                    first as i64 + last as i64
                } else if limit <= 1 {
                    argc as i64 + last as i64
                } else {
                    first as i64 + ((argc as i64 - first as i64) / limit as i64 + last as i64)
                };
                (first, last, step)
            }
            FindKeys::Keynum {
                count_at,
                first: from,
                step,
            } => {
                let Some(count) = args
                    .get(first + count_at)
                    .and_then(|a| std::str::from_utf8(a).ok())
                    .and_then(|s| s.parse::<i64>().ok())
                    .filter(|&n| n >= 0)
                else {
                    return Found::Invalid;
                };
                let start = first + from;
                // A client's count may be as large as i64 allows.
                (start, (start as i64).saturating_add(count) - 1, step)
            }
            FindKeys::Unknown => return Found::Invalid,
        };
        // Out of bounds: the arguments are malformed (a count larger than
        // what follows, or none at all), and only the command can say.
        if last >= argc as i64 || last < first as i64 || first >= argc {
            return Found::Invalid;
        }
        if self.flags & key_flags::INCOMPLETE != 0 {
            return Found::Invalid;
        }
        Found::Keys(positions(first, last, step, argc))
    }
}

fn positions(first: usize, last: i64, step: usize, argc: usize) -> Vec<usize> {
    if last < first as i64 {
        return Vec::new();
    }
    (first..=last as usize)
        .step_by(step.max(1))
        .take_while(|&i| i < argc)
        .collect()
}

/// The index of `keyword`, searched forwards from `start_from` up to the
/// last argument but one, or, when negative, backwards from
/// `argc + start_from` down to the second argument (Redis's bounds).
fn keyword_position(args: &[Bytes], keyword: &str, start_from: i32) -> Option<usize> {
    let argc = args.len() as i64;
    let matches = |i: i64| args[i as usize].eq_ignore_ascii_case(keyword.as_bytes());
    if start_from > 0 {
        (start_from as i64..argc - 1).find(|&i| matches(i))
    } else {
        let start = argc + start_from as i64;
        (2..=start.min(argc - 1)).rev().find(|&i| matches(i))
    }
    .map(|i| i as usize)
}

/// Redis's legacy first/last/step from the specs
/// (`populateCommandLegacyRangeSpec`): the consecutive step-1 index/range
/// specs glued together, and whether the command has keys the triple
/// cannot describe (`movablekeys`).
pub fn legacy_range(specs: &[KeySpec]) -> ((i32, i32, i32), bool) {
    if specs.is_empty() {
        return ((0, 0, 0), false);
    }
    let range = |s: &KeySpec| match (s.shape.begin, s.shape.find) {
        (BeginSearch::Index(at), FindKeys::Range { last, step, .. }) => {
            Some((at as i32, last, step))
        }
        _ => None,
    };
    if let [only] = specs {
        if let Some((at, last, step)) = range(only) {
            let last = if last >= 0 { at + last } else { last };
            let incomplete = only.flags & key_flags::INCOMPLETE != 0;
            return ((at, last, step as i32), incomplete);
        }
    }
    let mut movable = false;
    let (mut first, mut last_abs, mut prev_last) = (i32::MAX, 0i32, 0i32);
    for spec in specs {
        let Some((at, last, step)) = range(spec) else {
            movable = true;
            continue;
        };
        if step != 1 || (prev_last != 0 && prev_last != at - 1) {
            movable = true;
            continue;
        }
        if spec.flags & key_flags::INCOMPLETE != 0 {
            movable = true;
        }
        first = first.min(at);
        let abs = if last >= 0 { last + at } else { last };
        // Redis compares as unsigned, so a negative (to-the-end) last wins.
        last_abs = if (abs as u32) > (last_abs as u32) {
            abs
        } else {
            last_abs
        };
        prev_last = last_abs;
    }
    if first == i32::MAX {
        return ((0, 0, 0), true);
    }
    ((first, last_abs, 1), movable)
}

#[cfg(test)]
mod tests {
    use super::key_flags::*;
    use super::*;

    fn args(s: &str) -> Vec<Bytes> {
        s.split(' ')
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect()
    }

    fn keys(spec: KeySpec, line: &str) -> Option<Vec<usize>> {
        match spec.find(&args(line)) {
            Found::Keys(k) => Some(k),
            Found::Invalid => None,
        }
    }

    #[test]
    fn searches_as_redis_does() {
        let ro = |shape| KeySpec { shape, flags: RO };
        assert_eq!(keys(ro(Shape::key_at(1)), "get k"), Some(vec![1]));
        let mset = Shape {
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                last: -1,
                step: 2,
                limit: 0,
            },
        };
        assert_eq!(keys(ro(mset), "mset a 1 b 2"), Some(vec![1, 3]));
        let zunion = ro(Shape::numkeys_at(1));
        assert_eq!(keys(zunion, "zunion 2 a b"), Some(vec![2, 3]));
        assert_eq!(keys(zunion, "zunion 5 a"), None);
        assert_eq!(keys(zunion, "zunion x a"), None);
        assert_eq!(keys(zunion, "zunion -1 a"), None);
        assert_eq!(keys(zunion, "zunion 9223372036854775807 a"), None);
        assert_eq!(keys(ro(Shape::numkeys_at(2)), "eval s 0"), None);
        assert_eq!(
            keys(ro(Shape::numkeys_at(1)), "lmpop 2 a b left"),
            Some(vec![2, 3])
        );
        let streams = ro(Shape {
            begin: BeginSearch::Keyword {
                keyword: "STREAMS",
                start_from: 1,
            },
            find: FindKeys::Range {
                last: -1,
                step: 1,
                limit: 2,
            },
        });
        assert_eq!(
            keys(streams, "xread count 1 streams a b 0 0"),
            Some(vec![4, 5])
        );
        assert_eq!(keys(streams, "xread count 1"), Some(vec![]));
        assert_eq!(keys(streams, "xread count 1 streams"), Some(vec![]));
        let migrate_keys = KeySpec {
            shape: Shape {
                begin: BeginSearch::Keyword {
                    keyword: "KEYS",
                    start_from: -2,
                },
                find: FindKeys::Range {
                    last: -1,
                    step: 1,
                    limit: 0,
                },
            },
            flags: RW | INCOMPLETE,
        };
        assert_eq!(keys(migrate_keys, "migrate h p  0 5 keys a b"), None);
        assert_eq!(keys(ro(Shape::UNKNOWN), "sort k store d"), None);
    }

    #[test]
    fn legacy_triple_and_movablekeys() {
        let spec = |shape, flags| KeySpec { shape, flags };
        let tail = Shape {
            begin: BeginSearch::Index(2),
            find: FindKeys::Range {
                last: -1,
                step: 1,
                limit: 0,
            },
        };
        assert_eq!(
            legacy_range(&[spec(Shape::key_at(1), OW), spec(tail, RO)]),
            ((1, -1, 1), false)
        );
        assert_eq!(
            legacy_range(&[spec(Shape::key_at(1), RW), spec(Shape::key_at(2), RW)]),
            ((1, 2, 1), false)
        );
        assert_eq!(
            legacy_range(&[spec(Shape::numkeys_at(1), RO)]),
            ((0, 0, 0), true)
        );
        assert_eq!(
            legacy_range(&[spec(Shape::key_at(1), OW), spec(Shape::numkeys_at(2), RO)]),
            ((1, 1, 1), true)
        );
        assert_eq!(legacy_range(&[]), ((0, 0, 0), false));
    }
}
