//! Key positions that depend on the arguments ("movablekeys" in Redis):
//! a `numkeys` count followed by that many keys, or options naming a key.
//! MULTI/EXEC locks, WATCH invalidation and COMMAND GETKEYS use these.

use bytes::Bytes;

pub type KeyFinder = fn(&[Bytes]) -> Vec<usize>;

fn count_at(args: &[Bytes], at: usize) -> usize {
    args.get(at)
        .and_then(|a| std::str::from_utf8(a).ok())
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(0)
}

/// `numkeys` at `AT`, the keys right after it (LMPOP, ZUNION, EVAL, ...).
pub fn numkeys<const AT: usize>(args: &[Bytes]) -> Vec<usize> {
    let n = count_at(args, AT);
    (AT + 1..args.len()).take(n).collect()
}

/// A destination key at 1, then `numkeys` at 2 (ZUNIONSTORE & co.).
pub fn dest_then_numkeys(args: &[Bytes]) -> Vec<usize> {
    let mut keys = vec![1];
    keys.extend(numkeys::<2>(args));
    keys
}

/// SORT's key and its STORE destination (the last STORE wins, as in the
/// command itself).
pub fn sort(args: &[Bytes]) -> Vec<usize> {
    let mut keys = vec![1];
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
    keys.extend(store);
    keys.retain(|&k| k < args.len());
    keys
}

/// SORT_RO: only its key, but like SORT it reads keys named by BY/GET
/// patterns that no key position can describe, so Redis marks it
/// `movablekeys`; a key finder is how the table says so.
pub fn sort_ro(_args: &[Bytes]) -> Vec<usize> {
    vec![1]
}

/// MIGRATE's key at 3, or in the KEYS form the keys after KEYS (the key
/// argument must then be empty; if it is not, the command fails and has
/// no keys). AUTH and AUTH2 take arguments that are skipped, so a
/// password spelled "keys" is not taken for the keyword, as in Redis's
/// `migrateGetKeys`.
pub fn migrate(args: &[Bytes]) -> Vec<usize> {
    let mut i = 6;
    while i < args.len() {
        let a = &args[i];
        if a.eq_ignore_ascii_case(b"keys") {
            if args.get(3).is_some_and(|k| !k.is_empty()) {
                return Vec::new();
            }
            return (i + 1..args.len()).collect();
        }
        i += if a.eq_ignore_ascii_case(b"auth") {
            2
        } else if a.eq_ignore_ascii_case(b"auth2") {
            3
        } else {
            1
        };
    }
    vec![3]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<Bytes> {
        s.split(' ')
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect()
    }

    #[test]
    fn finds_movable_keys() {
        assert_eq!(numkeys::<1>(&args("lmpop 2 a b left")), vec![2, 3]);
        assert_eq!(numkeys::<2>(&args("eval s 1 k arg")), vec![3]);
        assert_eq!(numkeys::<1>(&args("zunion 5 a")), vec![2]);
        assert_eq!(numkeys::<1>(&args("zunion x a")), Vec::<usize>::new());
        assert_eq!(
            dest_then_numkeys(&args("zunionstore d 2 a b")),
            vec![1, 3, 4]
        );
        assert_eq!(sort(&args("sort k by w_* get # store dst")), vec![1, 7]);
        assert_eq!(sort(&args("sort k limit 0 store")), vec![1]);
        assert_eq!(sort(&args("sort abc store a store b store c")), vec![1, 7]);
        assert_eq!(migrate(&args("migrate h 1 k 0 5 copy")), vec![3]);
        assert_eq!(
            migrate(&args("migrate h 1 x 0 5 keys a")),
            Vec::<usize>::new()
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
        assert_eq!(migrate(&empty_key), vec![9]);
    }
}
