//! The command table as the dispatcher, cluster routing and ACL read it:
//! key positions (subcommands' own included), how each key is used, ACL
//! categories, and the flags that replaced name lists.

use basalt_commands::{flags, table, KeyAccess, KeyFinder};
use basalt_core::syntax::{parse, Arg, ArgType};
use bytes::Bytes;

fn args(words: &[&str]) -> Vec<Bytes> {
    words.iter().map(|w| Bytes::from(w.to_string())).collect()
}

fn access(words: &[&str]) -> Vec<(usize, KeyAccess)> {
    let a = args(words);
    let (_, c) = table().lookup(&a[0]).expect("command exists");
    c.key_access(&a)
}

#[test]
fn subcommands_have_their_own_key_positions() {
    let a = args(&["OBJECT", "ENCODING", "k"]);
    let (_, c) = table().lookup(&a[0]).unwrap();
    assert_eq!(c.key_indices(&a), vec![2]);
    let help = args(&["OBJECT", "HELP"]);
    assert!(c.key_indices(&help).is_empty());
}

#[test]
fn each_key_is_read_written_or_both() {
    use KeyAccess::*;
    assert_eq!(access(&["GET", "k"]), vec![(1, Read)]);
    assert_eq!(access(&["INCR", "k"]), vec![(1, ReadWrite)]);
    assert_eq!(
        access(&["SUNIONSTORE", "d", "a", "b"]),
        vec![(1, Write), (2, Read), (3, Read)]
    );
    assert_eq!(
        access(&["ZUNIONSTORE", "d", "2", "a", "b"]),
        vec![(1, Write), (3, Read), (4, Read)]
    );
    assert_eq!(
        access(&["SORT", "k", "BY", "w_*", "STORE", "d"]),
        vec![(1, Read), (5, Write)]
    );
    assert_eq!(access(&["COPY", "s", "d"]), vec![(1, Read), (2, Write)]);
    // As Redis's ACL reads key specs: LMOVE's destination is only
    // inserted into, SET without GET only overwritten, DEL only deleted.
    assert_eq!(
        access(&["LMOVE", "s", "d", "LEFT", "RIGHT"]),
        vec![(1, ReadWrite), (2, Write)]
    );
    assert_eq!(access(&["SET", "k", "v"]), vec![(1, Write)]);
    assert_eq!(access(&["SET", "k", "v", "GET"]), vec![(1, ReadWrite)]);
    assert_eq!(access(&["DEL", "a", "b"]), vec![(1, Write), (2, Write)]);
    assert_eq!(access(&["LPUSH", "k", "x"]), vec![(1, Write)]);
    assert_eq!(access(&["EXISTS", "k"]), vec![(1, Read)]);
    assert_eq!(
        access(&["RENAME", "a", "b"]),
        vec![(1, ReadWrite), (2, Write)]
    );
    assert_eq!(
        access(&["EVAL", "s", "2", "a", "b"]),
        vec![(3, ReadWrite), (4, ReadWrite)]
    );
    assert_eq!(access(&["EVAL_RO", "s", "1", "a"]), vec![(3, Read)]);
    // Shard channels route like keys but are not keys to ACL.
    assert_eq!(access(&["SPUBLISH", "ch", "m"]), vec![]);
}

#[test]
fn acl_categories_follow_flags_and_groups() {
    let cats = |name: &str| {
        let (_, c) = table().lookup(name.as_bytes()).unwrap();
        c.acl_categories()
    };
    for (name, expected) in [
        ("get", &["read", "string", "fast"][..]),
        ("set", &["write", "string", "slow"]),
        ("hset", &["write", "hash", "fast"]),
        ("keys", &["read", "keyspace", "slow", "dangerous"]),
        ("flushall", &["write", "keyspace", "slow", "dangerous"]),
        ("config", &["slow"]),
        ("blpop", &["write", "blocking", "list", "slow"]),
        ("multi", &["transaction", "fast"]),
    ] {
        let got = cats(name);
        for cat in expected {
            assert!(got.contains(cat), "{name}: {got:?} lacks {cat}");
        }
    }
    assert!(!cats("get").contains(&"slow"));
    // A container is only @slow, as in Redis; its subcommands carry the
    // categories of what they do.
    assert_eq!(cats("config"), vec!["slow"]);
    let (_, config) = table().lookup(b"config").unwrap();
    let set = config.subcommands.iter().find(|s| s.name == "set").unwrap();
    let sub = config.sub_acl_categories(set);
    for cat in ["admin", "dangerous", "slow"] {
        assert!(sub.contains(&cat), "config|set: {sub:?} lacks {cat}");
    }
}

#[test]
fn behaviour_by_command_is_in_flags() {
    let has = |name: &str, flag: u32| table().lookup(name.as_bytes()).unwrap().1.has(flag);
    for name in ["exec", "discard", "multi", "watch", "quit", "reset"] {
        assert!(has(name, flags::TXN_CONTROL), "{name}");
    }
    for name in [
        "subscribe",
        "unsubscribe",
        "psubscribe",
        "punsubscribe",
        "ping",
        "quit",
        "reset",
    ] {
        assert!(has(name, flags::SUBSCRIBED_OK), "{name}");
    }
    assert!(!has("get", flags::SUBSCRIBED_OK));
    assert!(has("flushdb", flags::ALL_KEYS) && has("flushall", flags::ALL_KEYS));
    assert!(has("lrange", flags::SCANS) && !has("lpush", flags::SCANS));
    assert!(has("keys", flags::WHOLE_KEYSPACE));
}

#[test]
fn the_table_is_consistent() {
    let mut names = std::collections::HashSet::new();
    for c in table().all() {
        assert!(names.insert(c.name), "{} declared twice", c.name);
        assert!(
            !(c.has(flags::WRITE) && c.has(flags::READONLY)),
            "{} is both write and readonly",
            c.name
        );
        assert_eq!(c.name, c.name.to_ascii_lowercase());
    }
}

#[test]
fn key_specs_agree_with_the_declared_key_positions_and_flags() {
    use basalt_commands::key_flags::*;
    for c in table().all() {
        let specs = c.key_specs();
        let ((first, last, step), movable) = c.legacy_keys();
        assert_eq!(
            (first, last, step),
            (c.first_key, c.last_key, c.step),
            "{}: declared key range differs from its key specs",
            c.name
        );
        assert_eq!(
            movable,
            matches!(
                c.key_finder,
                Some(KeyFinder::Specs(_) | KeyFinder::Proc(..))
            ),
            "{}: movablekeys and its key finder disagree",
            c.name
        );
        assert!(
            c.key_flags.len() <= 1 || c.key_flags.len() == specs.len(),
            "{}: {} key flag sets for {} specs",
            c.name,
            c.key_flags.len(),
            specs.len()
        );
        if c.has(flags::WRITE) && !specs.is_empty() {
            assert!(
                !c.key_flags.is_empty(),
                "{}: a write command must say how it uses its keys",
                c.name
            );
            // XREADGROUP is Redis's one exception: it changes only a
            // group's bookkeeping, so its key is RO and a `%R~` user may
            // read through a group.
            assert!(
                specs.iter().any(|s| s.flags & RO == 0) || c.name == "xreadgroup",
                "{}: a write command that only reads its keys",
                c.name
            );
        }
        let subs = c.subcommands.iter().map(|s| (s.flags, s.key_specs()));
        for (cmd_flags, specs) in std::iter::once((c.flags, specs.clone())).chain(subs) {
            for spec in &specs {
                // Shard channels (NOT_KEY) have no access type.
                if spec.flags & NOT_KEY == 0 {
                    assert_eq!(
                        (spec.flags & ACCESS_TYPES).count_ones(),
                        1,
                        "{}: each key spec is exactly one of RO, RW, OW, RM",
                        c.name
                    );
                }
                // A read-only command that may replicate writes what it
                // caches (PFCOUNT, as in Redis).
                if cmd_flags & flags::READONLY != 0 && cmd_flags & flags::MAY_REPLICATE == 0 {
                    assert!(
                        spec.flags & (RO | NOT_KEY) != 0,
                        "{}: a read-only command writes a key",
                        c.name
                    );
                }
                if spec.flags & RO != 0 {
                    assert_eq!(spec.flags & (UPDATE | INSERT | DELETE), 0, "{}", c.name);
                }
            }
        }
    }
}

/// Keys and flags as redis-server 7.0.15 reports them for the same calls
/// (COMMAND GETKEYSANDFLAGS), the flags' names joined by spaces.
#[test]
fn keys_and_flags_match_redis() {
    use basalt_commands::key_flags;
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("SET k1 v1", &[("k1", "OW update")]),
        ("SET k1 v1 NX GET", &[("k1", "RW access update")]),
        (
            "MSET k1 v1 k2 v2",
            &[("k1", "OW update"), ("k2", "OW update")],
        ),
        (
            "LMOVE k1 k2 left right",
            &[("k1", "RW access delete"), ("k2", "RW insert")],
        ),
        (
            "SORT k1 STORE k2",
            &[("k1", "RO access"), ("k2", "OW update")],
        ),
        (
            "SORT k by p get g store d store e",
            &[("k", "RO access"), ("e", "OW update")],
        ),
        (
            "ZUNIONSTORE d 2 a b WEIGHTS 1 2",
            &[("d", "OW update"), ("a", "RO access"), ("b", "RO access")],
        ),
        (
            "LMPOP 3 a b left",
            &[
                ("a", "RW access delete"),
                ("b", "RW access delete"),
                ("left", "RW access delete"),
            ],
        ),
        ("EVAL s 1 k a", &[("k", "RW access update")]),
        ("EVAL s 0", &[]),
        ("EVAL s 3 a", &[]),
        ("MIGRATE h p k 0 5", &[("k", "RW access delete")]),
        (
            "MIGRATE h p  0 5 KEYS a b",
            &[("a", "RW access delete"), ("b", "RW access delete")],
        ),
        ("EXISTS a b", &[("a", "RO"), ("b", "RO")]),
        ("OBJECT ENCODING k", &[("k", "RO")]),
        ("MEMORY USAGE k", &[("k", "RO")]),
        ("DEL a", &[("a", "RM delete")]),
        (
            "SUNIONSTORE d a b",
            &[("d", "OW update"), ("a", "RO access"), ("b", "RO access")],
        ),
        ("SINTERSTORE d a", &[("d", "RW update"), ("a", "RO access")]),
        (
            "RENAMENX a b",
            &[("a", "RW access delete"), ("b", "OW insert")],
        ),
        ("COPY a b", &[("a", "RO access"), ("b", "OW update")]),
        (
            "BLPOP a b 0",
            &[("a", "RW access delete"), ("b", "RW access delete")],
        ),
        ("BLMPOP 0 1 a left", &[("a", "RW access delete")]),
        ("LCS a a", &[("a", "RO access"), ("a", "RO access")]),
        ("HSETNX h f v", &[("h", "RW insert")]),
        ("GETEX k", &[("k", "RW access update")]),
        ("EXPIRE k 1", &[("k", "RW update")]),
        ("PFADD h a b", &[("h", "RW insert")]),
        // RedisJSON's key specs (its commands.rs): RW or RO, nothing more.
        ("JSON.SET k $ 1", &[("k", "RW")]),
        ("JSON.MGET a b $", &[("a", "RO"), ("b", "RO")]),
        ("JSON.MSET a $ 1 b $ 2", &[("a", "RW"), ("b", "RW")]),
        ("JSON.DEBUG MEMORY k", &[("k", "RO")]),
        // RW as Redis: PFCOUNT of one key caches the count in the value.
        ("PFCOUNT a b", &[("a", "RW access"), ("b", "RW access")]),
        (
            "PFMERGE d a b",
            &[
                ("d", "RW access insert"),
                ("a", "RO access"),
                ("b", "RO access"),
            ],
        ),
    ];
    for (line, expected) in cases {
        // A word may be empty (MIGRATE's key with KEYS).
        let a: Vec<Bytes> = line
            .split(' ')
            .map(|w| Bytes::from(w.to_string()))
            .collect();
        let (_, c) = table().lookup(&a[0]).unwrap();
        let got: Vec<(String, String)> = c
            .key_refs(&a)
            .into_iter()
            .map(|k| {
                (
                    String::from_utf8_lossy(&a[k.index]).into_owned(),
                    key_flags::names(k.flags).join(" "),
                )
            })
            .collect();
        let want: Vec<(String, String)> = expected
            .iter()
            .map(|(k, f)| (k.to_string(), f.to_string()))
            .collect();
        assert_eq!(got, want, "{line}");
    }
}

/// The fewest and most arguments a syntax accepts (None: unbounded).
fn arg_counts(args: &[Arg]) -> (usize, Option<usize>) {
    let mut min = 0;
    let mut max = Some(0);
    for a in args {
        let (lo, hi) = one_arg_counts(a);
        if !a.optional {
            min += lo;
        }
        max = match (max, hi, a.multiple) {
            (Some(m), Some(h), false) => Some(m + h),
            _ => None,
        };
    }
    (min, max)
}

fn one_arg_counts(a: &Arg) -> (usize, Option<usize>) {
    let token = usize::from(a.token.is_some() && a.kind != ArgType::PureToken);
    let (lo, hi) = match a.kind {
        ArgType::Block => arg_counts(&a.args),
        ArgType::OneOf => {
            let each: Vec<_> = a.args.iter().map(one_arg_counts).collect();
            let lo = each.iter().map(|c| c.0).min().unwrap_or(0);
            let hi = each
                .iter()
                .map(|c| c.1)
                .try_fold(0, |m, h| h.map(|h| m.max(h)));
            (lo, hi)
        }
        _ => (1, Some(1)),
    };
    (lo + token, hi.map(|h| h + token))
}

/// Every command and subcommand declares its arguments in a syntax string
/// that parses, and that agrees with its arity: a fixed arity takes
/// exactly that many arguments, a minimum at least that many.
#[test]
fn every_syntax_parses_and_agrees_with_the_arity() {
    let mut failures = Vec::new();
    let mut check = |name: String, syntax: &str, arity: i32, specs: usize, words_before: usize| {
        let args = match parse(syntax, specs) {
            Ok(args) => args,
            Err(e) => return failures.push(format!("{name}: {e:?}")),
        };
        let (min, max) = arg_counts(&args);
        let (min, max) = (min + words_before, max.map(|m| m + words_before));
        let fits = if arity > 0 {
            (min, max) == (arity as usize, Some(arity as usize))
        } else {
            // Extra arguments must be declared, unless ignored (QUIT).
            min == (-arity) as usize && (max != Some(min) || syntax.is_empty())
        };
        if !fits {
            failures.push(format!(
                "{name}: {syntax:?} takes {min}..{max:?} words, arity {arity}"
            ));
        }
        // Key arguments point at real key specs.
        fn keys(args: &[Arg], out: &mut Vec<usize>) {
            for a in args {
                out.extend(a.key_spec_index);
                keys(&a.args, out);
            }
        }
        let mut indices = Vec::new();
        keys(&args, &mut indices);
        if indices.iter().any(|&i| i >= specs) {
            failures.push(format!("{name}: key spec index out of range"));
        }
    };
    for c in table().all() {
        if c.subcommands.is_empty() {
            check(
                c.name.to_string(),
                c.syntax,
                c.arity,
                c.key_specs().len(),
                1,
            );
        } else {
            assert!(
                c.syntax.is_empty(),
                "{}: a container has no arguments",
                c.name
            );
        }
        for s in c.subcommands {
            let name = format!("{}|{}", c.name, s.name);
            check(name, s.syntax, s.arity, s.key_specs().len(), 2);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
