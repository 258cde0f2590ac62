use super::*;
use proptest::prelude::*;

fn m(pattern: &str, string: &str) -> bool {
    glob_match(pattern.as_bytes(), string.as_bytes(), false)
}

fn mi(pattern: &str, string: &str) -> bool {
    glob_match(pattern.as_bytes(), string.as_bytes(), true)
}

#[test]
fn literals_and_wildcards() {
    assert!(m("", ""));
    assert!(!m("", "a"));
    assert!(!m("a", ""));
    assert!(m("abc", "abc"));
    assert!(!m("abc", "abd"));
    assert!(!m("abc", "abcd"));
    // Redis 7.2 quirk: the main loop needs a non-empty string, so no pattern
    // but "" matches "". KEYS and SCAN never see it: they treat a bare "*"
    // as match-all without calling the matcher.
    assert!(!m("*", ""));
    assert!(!m("?", ""));
    assert!(m("*", "anything"));
    assert!(m("**", "x"));
    assert!(m("a*", "a"));
    assert!(m("a**", "a"));
    assert!(m("*b", "ab"));
    assert!(m("a*c", "abbbc"));
    assert!(!m("a*c", "abbbd"));
    assert!(m("h?llo", "hello"));
    assert!(m("h?llo", "hallo"));
    assert!(!m("h?llo", "hllo"));
    assert!(m("h*llo", "hllo"));
    assert!(m("h*llo", "heeeello"));
    assert!(m("*a*b*", "xxaxxbxx"));
    assert!(!m("*a*b*", "xxbxxaxx"));
}

/// The examples of the KEYS documentation page.
#[test]
fn redis_keys_doc_examples() {
    assert!(m("h[ae]llo", "hello"));
    assert!(m("h[ae]llo", "hallo"));
    assert!(!m("h[ae]llo", "hillo"));
    assert!(m("h[^e]llo", "hallo"));
    assert!(m("h[^e]llo", "hbllo"));
    assert!(!m("h[^e]llo", "hello"));
    assert!(m("h[a-b]llo", "hallo"));
    assert!(m("h[a-b]llo", "hbllo"));
    assert!(!m("h[a-b]llo", "hcllo"));
}

/// keyspace.tcl: "KEYS with pattern" and "KEYS to get all keys".
#[test]
fn redis_keyspace_keys_with_pattern() {
    let keys = ["key_x", "key_y", "key_z", "foo_a", "foo_b", "foo_c"];
    let hits = |p: &str| -> Vec<&str> { keys.iter().copied().filter(|k| m(p, k)).collect() };
    assert_eq!(hits("foo*"), ["foo_a", "foo_b", "foo_c"]);
    assert_eq!(hits("*"), keys);
    assert_eq!(hits("key_?"), ["key_x", "key_y", "key_z"]);
    assert_eq!(hits("*_[ax]"), ["key_x", "foo_a"]);
}

/// keyspace.tcl: "Regression for pattern matching long nested loops".
#[test]
fn redis_long_nested_loops_finish() {
    let key = "a".repeat(40);
    assert!(!m("a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", &key));
    // Without the skip optimisation this is ~40^20 steps; with it, instant.
    let key = "a".repeat(4000);
    let pattern = "a*".repeat(300) + "b";
    assert!(!m(&pattern, &key));
}

/// keyspace.tcl: "Regression for pattern matching very long nested loops":
/// the nesting limit makes Redis give up instead of recursing 50000 deep.
#[test]
fn redis_very_long_nested_loops_give_up() {
    let key = "a".repeat(50000);
    let pattern = "*?".repeat(50000);
    assert!(!m(&pattern, &key));
    // Below the limit the same shape matches.
    assert!(m(&"*?".repeat(900), &"a".repeat(900)));
    // Above it Redis reports no match even though one exists.
    assert!(!m(&"*?".repeat(1100), &"a".repeat(1100)));
}

#[test]
fn escapes() {
    assert!(m(r"a\*b", "a*b"));
    assert!(!m(r"a\*b", "axb"));
    assert!(m(r"\?", "?"));
    assert!(!m(r"\?", "x"));
    assert!(m(r"\[x]", "[x]"));
    assert!(m(r"\\", r"\"));
    assert!(m(r"\a", "a"));
    // A lone trailing backslash matches itself.
    assert!(m("a\\", "a\\"));
    assert!(!m("a\\", "a"));
    // Escapes inside a set.
    assert!(m(r"[\]]", "]"));
    assert!(m(r"[\-]", "-"));
    assert!(!m(r"[\-]", "a"));
    assert!(m(r"[\^a]", "^"));
}

#[test]
fn sets_and_ranges() {
    assert!(m("[abc]", "b"));
    assert!(!m("[abc]", "d"));
    assert!(m("[^abc]", "d"));
    assert!(!m("[^abc]", "a"));
    assert!(m("[a-z]", "q"));
    assert!(!m("[a-z]", "Q"));
    // Reversed ranges work like forward ones.
    assert!(m("[z-a]", "q"));
    assert!(m("[0-9][0-9]", "42"));
    assert!(m("[a-cx-z]", "y"));
    assert!(!m("[a-cx-z]", "m"));
    // A set consumes exactly one byte.
    assert!(!m("[ab]", "ab"));
    assert!(!m("[ab]", ""));
}

/// Redis quirks reproduced on purpose, so Basalt answers what Redis answers.
#[test]
fn redis_corner_cases() {
    // Unterminated set: the set is everything up to the end.
    assert!(m("[ab", "a"));
    assert!(!m("[ab", "c"));
    assert!(!m("a[", "a["));
    assert!(!m("a[", "a"));
    // "[^" with nothing after it negates an empty set: any one byte.
    assert!(m("[^", "x"));
    // "[a-]" is the range a..']' (reversed), and the set is unterminated.
    assert!(m("[a-]", "^"));
    assert!(m("[a-]", "a"));
    assert!(!m("[a-]", "b"));
    // "[]" is an empty set; it matches nothing.
    assert!(!m("[]", "a"));
    assert!(!m("[]a", "a"));
    // Range ends compare as signed C chars: 0xff is -1, below 'a'.
    assert!(!glob_match(b"[a-\xff]", b"b", false));
    assert!(glob_match(b"[a-\xff]", b"A", false));
    assert!(glob_match(b"[a-\xff]", b"\x00", false));
    assert!(!glob_match(b"[a-\xff]", b"\x80", false));
    // Binary bytes, including NUL, are ordinary characters.
    assert!(glob_match(b"a\x00*", b"a\x00bc", false));
    assert!(!glob_match(b"a\x00", b"a", false));
    assert!(glob_match(b"*\x00", b"xyz\x00", false));
}

#[test]
fn nocase() {
    assert!(mi("HELLO", "hello"));
    assert!(mi("H[A-Z]LLO", "hello"));
    assert!(mi("h[A-Z]llo", "hEllo"));
    assert!(mi("[ABC]", "b"));
    assert!(!m("HELLO", "hello"));
    assert!(mi("*LL?", "hello"));
    // Escaped set members compare exactly, even with nocase (as in Redis).
    assert!(!mi(r"[\A]", "a"));
    // Only ASCII letters fold.
    assert!(!glob_match("É".as_bytes(), "é".as_bytes(), true));
}

#[test]
fn prefix() {
    let cases: &[(&[u8], &[u8])] = &[
        (b"user:*", b"user:"),
        (b"a?b", b"a"),
        (b"abc", b"abc"),
        (b"[ab]c", b""),
        (b"", b""),
        (b"*", b""),
        (br"\*x*", b"*x"),
        (br"a\[b\]c?", b"a[b]c"),
        (b"ab\\", b"ab\\"),
        (br"a\\*", br"a\"),
    ];
    for (pattern, want) in cases {
        assert_eq!(
            &*literal_prefix(pattern),
            *want,
            "{:?}",
            String::from_utf8_lossy(pattern)
        );
    }
    assert!(matches!(literal_prefix(b"user:*"), Cow::Borrowed(_)));
}

#[test]
fn literal_patterns() {
    assert_eq!(literal(b"abc").as_deref(), Some(&b"abc"[..]));
    assert_eq!(literal(br"a\*").as_deref(), Some(&b"a*"[..]));
    assert_eq!(literal(b"a\\").as_deref(), Some(&b"a\\"[..]));
    assert_eq!(literal(b"").as_deref(), Some(&b""[..]));
    assert_eq!(literal(b"a*"), None);
    assert_eq!(literal(b"a?"), None);
    assert_eq!(literal(b"[a]"), None);
    assert_eq!(literal(br"a\\*"), None);
}

/// An independent matcher for well-formed patterns (no escapes, sets always
/// closed and non-empty), by dynamic programming: the port must agree with it,
/// which also shows the skip-longer-matches shortcut never loses a match.
fn reference(pattern: &[Tok], s: &[u8]) -> bool {
    if s.is_empty() {
        return pattern.is_empty(); // see `literals_and_wildcards`
    }
    let (n, k) = (pattern.len(), s.len());
    // dp[i][j]: pattern[i..] matches s[j..]
    let mut dp = vec![vec![false; k + 1]; n + 1];
    dp[n][k] = true;
    for i in (0..n).rev() {
        for j in (0..=k).rev() {
            dp[i][j] = match &pattern[i] {
                Tok::Star => dp[i + 1][j] || (j < k && dp[i][j + 1]),
                Tok::Any => j < k && dp[i + 1][j + 1],
                Tok::Byte(b) => j < k && s[j] == *b && dp[i + 1][j + 1],
                Tok::Set(not, members) => {
                    j < k && (members.contains(&s[j]) != *not) && dp[i + 1][j + 1]
                }
            };
        }
    }
    dp[0][0]
}

#[derive(Debug, Clone)]
enum Tok {
    Star,
    Any,
    Byte(u8),
    Set(bool, Vec<u8>),
}

fn render(tokens: &[Tok]) -> Vec<u8> {
    let mut out = Vec::new();
    for t in tokens {
        match t {
            Tok::Star => out.push(b'*'),
            Tok::Any => out.push(b'?'),
            Tok::Byte(b) => out.push(*b),
            Tok::Set(not, members) => {
                out.push(b'[');
                if *not {
                    out.push(b'^');
                }
                out.extend_from_slice(members);
                out.push(b']');
            }
        }
    }
    out
}

fn tok() -> impl Strategy<Value = Tok> {
    prop_oneof![
        3 => Just(Tok::Star),
        1 => Just(Tok::Any),
        4 => prop::sample::select(vec![b'a', b'b', b'c']).prop_map(Tok::Byte),
        1 => (any::<bool>(), prop::collection::vec(prop::sample::select(vec![b'a', b'b']), 1..3))
            .prop_map(|(not, members)| Tok::Set(not, members)),
    ]
}

proptest! {
    #[test]
    fn pattern_without_wildcards_matches_only_itself(
        pattern in prop::collection::vec(any::<u8>().prop_filter("literal", |b| !is_special(*b)), 0..12),
        other in prop::collection::vec(any::<u8>(), 0..12),
    ) {
        prop_assert!(glob_match(&pattern, &pattern, false));
        prop_assert_eq!(glob_match(&pattern, &other, false), pattern == other);
        let lit = literal(&pattern);
        prop_assert_eq!(lit.as_deref(), Some(&pattern[..]));
    }

    #[test]
    fn agrees_with_reference_matcher(
        tokens in prop::collection::vec(tok(), 0..10),
        s in prop::collection::vec(prop::sample::select(vec![b'a', b'b', b'c']), 0..14),
    ) {
        let pattern = render(&tokens);
        prop_assert_eq!(glob_match(&pattern, &s, false), reference(&tokens, &s));
    }

    #[test]
    fn matches_start_with_literal_prefix(
        pattern in prop::collection::vec(prop::sample::select(b"ab*?[]^-\\".to_vec()), 0..10),
        s in prop::collection::vec(prop::sample::select(b"ab*?[]^-\\".to_vec()), 0..10),
    ) {
        if glob_match(&pattern, &s, false) {
            prop_assert!(s.starts_with(&literal_prefix(&pattern)));
        }
        if let Some(lit) = literal(&pattern) {
            prop_assert_eq!(glob_match(&pattern, &s, false), s == *lit);
        }
    }

    /// Redis's own `stringmatchlen_fuzz_test`: arbitrary bytes never crash.
    #[test]
    fn arbitrary_input_never_panics(
        pattern in prop::collection::vec(any::<u8>(), 0..32),
        s in prop::collection::vec(any::<u8>(), 0..32),
        nocase in any::<bool>(),
    ) {
        let _ = glob_match(&pattern, &s, nocase);
        let _ = literal_prefix(&pattern);
    }
}
