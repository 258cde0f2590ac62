//! Key positions that depend on the arguments ("movablekeys" in Redis):
//! a `numkeys` count followed by that many keys, or options naming a key.
//! Each finder carries the key-spec shapes COMMAND INFO shows; most are
//! searched generically (`crate::key_spec`), a few need the command's own
//! procedure, as in Redis (SORT, MIGRATE), and SET's key flags depend on
//! its GET option.

use crate::key_spec::{key_flags::*, BeginSearch, FindKeys, Shape};
use bytes::Bytes;

/// (argument index, index of the spec it belongs to).
pub type KeyProc = fn(&[Bytes]) -> Vec<(usize, usize)>;

#[derive(Clone, Copy)]
pub enum KeyFinder {
    /// Keys found by searching these spec shapes (counts, keywords).
    Specs(&'static [Shape]),
    /// Keys found by the command's own procedure, because a spec cannot
    /// say where they are (STORE anywhere in SORT, MIGRATE's KEYS); the
    /// shapes are what COMMAND INFO shows.
    Proc(&'static [Shape], KeyProc),
    /// Keys at the command's fixed positions whose flags depend on the
    /// arguments (a spec flagged VARIABLE_FLAGS).
    VariableFlags(fn(&[Bytes]) -> u32),
}

impl KeyFinder {
    /// The shapes it declares, when it replaces the fixed key range.
    pub fn shapes(&self) -> Option<&'static [Shape]> {
        match self {
            KeyFinder::Specs(s) | KeyFinder::Proc(s, _) => Some(s),
            KeyFinder::VariableFlags(_) => None,
        }
    }
}

/// `numkeys` at 1, the keys right after it (LMPOP, ZUNION, SINTERCARD).
pub const NUMKEYS_AT_1: KeyFinder = KeyFinder::Specs(&[Shape::numkeys_at(1)]);
/// `numkeys` at 2 (EVAL, FCALL, BLMPOP: after the script or timeout).
pub const NUMKEYS_AT_2: KeyFinder = KeyFinder::Specs(&[Shape::numkeys_at(2)]);
/// A destination key at 1, then `numkeys` at 2 (ZUNIONSTORE & co.).
pub const DEST_THEN_NUMKEYS: KeyFinder =
    KeyFinder::Specs(&[Shape::key_at(1), Shape::numkeys_at(2)]);
/// SORT: its key, keys read through BY/GET patterns (no spec can name
/// them) and the STORE destination, which may be anywhere.
pub const SORT: KeyFinder =
    KeyFinder::Proc(&[Shape::key_at(1), Shape::UNKNOWN, Shape::UNKNOWN], sort);
/// SORT_RO: its key and the keys BY/GET patterns read.
pub const SORT_RO: KeyFinder = KeyFinder::Proc(&[Shape::key_at(1), Shape::UNKNOWN], sort_ro);
/// MIGRATE: the key at 3, or the keys after KEYS (incomplete: KEYS may
/// also be a password).
pub const MIGRATE: KeyFinder = KeyFinder::Proc(
    &[
        Shape::key_at(3),
        Shape {
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
    ],
    migrate,
);

/// SET's key: read too when GET returns the old value, else overwritten.
pub fn set_flags(args: &[Bytes]) -> u32 {
    if args.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"get")) {
        RW | ACCESS | UPDATE
    } else {
        OW | UPDATE
    }
}

/// SORT's key and its STORE destination (the last STORE wins, as in the
/// command itself).
fn sort(args: &[Bytes]) -> Vec<(usize, usize)> {
    let mut keys = vec![(1, 0)];
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if a.eq_ignore_ascii_case(b"store") && i + 1 < args.len() {
            store = Some(i + 1);
        }
        // LIMIT takes two arguments, BY/GET/STORE one.
        i += if a.eq_ignore_ascii_case(b"limit") {
            3
        } else if a.eq_ignore_ascii_case(b"by")
            || a.eq_ignore_ascii_case(b"get")
            || a.eq_ignore_ascii_case(b"store")
        {
            2
        } else {
            1
        };
    }
    keys.extend(store.map(|at| (at, 2)));
    keys.retain(|&(k, _)| k < args.len());
    keys
}

/// SORT_RO: only its key (the keys its BY/GET patterns read are named by
/// the sorted values, not by the arguments).
fn sort_ro(_args: &[Bytes]) -> Vec<(usize, usize)> {
    vec![(1, 0)]
}

/// MIGRATE's key at 3, or in the KEYS form the keys after KEYS (the key
/// argument must then be empty; if it is not, the command fails and has
/// no keys). AUTH and AUTH2 take arguments that are skipped, so a
/// password spelled "keys" is not taken for the keyword, as in Redis's
/// `migrateGetKeys`.
fn migrate(args: &[Bytes]) -> Vec<(usize, usize)> {
    let mut i = 6;
    while i < args.len() {
        let a = &args[i];
        if a.eq_ignore_ascii_case(b"keys") {
            if args.get(3).is_some_and(|k| !k.is_empty()) {
                return Vec::new();
            }
            return (i + 1..args.len()).map(|k| (k, 1)).collect();
        }
        i += if a.eq_ignore_ascii_case(b"auth") {
            2
        } else if a.eq_ignore_ascii_case(b"auth2") {
            3
        } else {
            1
        };
    }
    vec![(3, 0)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<Bytes> {
        s.split(' ')
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect()
    }

    fn at(keys: Vec<(usize, usize)>) -> Vec<usize> {
        keys.into_iter().map(|(i, _)| i).collect()
    }

    #[test]
    fn finds_movable_keys() {
        assert_eq!(
            sort(&args("sort k by w_* get # store dst")),
            vec![(1, 0), (7, 2)]
        );
        assert_eq!(at(sort(&args("sort k limit 0 store"))), vec![1]);
        assert_eq!(
            at(sort(&args("sort abc store a store b store c"))),
            vec![1, 7]
        );
        assert_eq!(migrate(&args("migrate h 1 k 0 5 copy")), vec![(3, 0)]);
        assert_eq!(
            migrate(&args("migrate h 1 x 0 5 keys a")),
            Vec::<(usize, usize)>::new()
        );
        let empty_key = vec![
            Bytes::from("migrate"),
            Bytes::from("h"),
            Bytes::from("1"),
            Bytes::new(),
            Bytes::from("0"),
            Bytes::from("5"),
            Bytes::from("auth"),
            Bytes::from("keys"),
            Bytes::from("keys"),
            Bytes::from("a"),
        ];
        assert_eq!(migrate(&empty_key), vec![(9, 1)]);
        assert_eq!(set_flags(&args("set k v")), OW | UPDATE);
        assert_eq!(set_flags(&args("set k v nx get")), RW | ACCESS | UPDATE);
        assert_eq!(set_flags(&args("set k get")), OW | UPDATE);
    }
}
