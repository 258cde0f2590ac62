//! The command table as the dispatcher, cluster routing and ACL read it:
//! key positions (subcommands' own included), how each key is used, ACL
//! categories, and the flags that replaced name lists.

use basalt_commands::{flags, table, KeyAccess};
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
    assert_eq!(
        access(&["LMOVE", "s", "d", "LEFT", "RIGHT"]),
        vec![(1, ReadWrite), (2, ReadWrite)]
    );
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
        ("config", &["admin", "dangerous", "slow"]),
        ("blpop", &["write", "blocking", "list", "slow"]),
        ("multi", &["transaction", "fast"]),
    ] {
        let got = cats(name);
        for cat in expected {
            assert!(got.contains(cat), "{name}: {got:?} lacks {cat}");
        }
    }
    assert!(!cats("get").contains(&"slow"));
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
