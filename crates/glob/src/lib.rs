//! Redis glob-style pattern matching (`KEYS`, `SCAN MATCH`, `PSUBSCRIBE`,
//! `CONFIG GET`, ...).
//!
//! [`glob_match`] is a line-by-line port of Redis 7.2's `stringmatchlen`
//! (`src/util.c`), so a pattern matches exactly the keys it matches in Redis,
//! including the odd corners clients never rely on on purpose but can hit by
//! accident (unterminated `[`, reversed ranges, a trailing `\`). It keeps
//! Redis's two guards against abusive patterns:
//!
//! * *skip longer matches*: once the rest of a pattern after a `*` failed to
//!   match at every position of the remaining string, no earlier `*` can make
//!   it match either, so the whole search stops. This turns `a*a*a*...*b`
//!   against `aaaa...` from exponential into polynomial time.
//! * a nesting limit of 1000 `*` levels, beyond which the match fails, so a
//!   pattern like `*?*?*?...` cannot exhaust the stack.
//!
//! [`literal_prefix`] and [`literal`] help a caller bound a scan: every key a
//! pattern matches (case-sensitively) starts with the pattern's literal
//! prefix, and a pattern without wildcards matches only itself.
//!
//! This crate owns matching only; it knows nothing of keys, storage or RESP.

#![forbid(unsafe_code)]

use std::borrow::Cow;

/// Redis gives up (reports "no match") beyond this many nested `*`.
const MAX_NESTING: u32 = 1000;

/// Matches `string` against the Redis glob `pattern`.
///
/// * `*` any run of bytes (also empty), `?` any single byte;
/// * `[abc]` one of the set, `[^abc]` none of the set, `[a-z]` a range (the
///   ends may be given in either order), `\x` inside a set a literal `x`;
/// * `\x` outside a set the literal `x`;
/// * `nocase` folds ASCII `A`-`Z` only, like Redis in the C locale.
///
/// As in Redis, the empty string matches only the empty pattern: even `*`
/// does not match `""`. Redis's KEYS and SCAN treat a bare `*` as "all keys"
/// without calling the matcher; callers should do the same.
///
/// Bytes are compared as C `char`s on x86-64, i.e. *signed*: inside a range
/// the bytes 0x80-0xFF sort below 0x00. This only matters for ranges with
/// non-ASCII ends, and matches what a real `redis-server` answers.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer_matches = false;
    match_impl(pattern, string, nocase, &mut skip_longer_matches, 0)
}

/// The byte at `i`, or 0 past the end. Redis patterns are NUL-terminated
/// `sds` strings and `stringmatchlen` peeks one byte beyond the pattern in a
/// few places (`pattern[1]` after a final `*`, the trailing `*` loop); reading
/// a 0 there reproduces that behaviour without reading out of bounds.
#[inline]
fn at(bytes: &[u8], i: usize) -> u8 {
    bytes.get(i).copied().unwrap_or(0)
}

/// `tolower` in the C locale on a (possibly negative) C `char` value.
#[inline]
fn lower(c: i32) -> i32 {
    if (i32::from(b'A')..=i32::from(b'Z')).contains(&c) {
        c + 32
    } else {
        c
    }
}

/// A byte as the signed C `char` Redis compares in ranges.
#[inline]
fn signed(b: u8) -> i32 {
    i32::from(b as i8)
}

#[inline]
fn same_byte(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// `stringmatchlen_impl`. Invariant: `p <= pat.len()` and `s <= string.len()`;
/// Redis's `patternLen` is `pat.len() - p` and `stringLen` is `string.len() - s`.
/// Recursion always passes suffixes, so "past the end" means the same thing
/// in every frame.
fn match_impl(pat: &[u8], string: &[u8], nocase: bool, skip: &mut bool, nesting: u32) -> bool {
    // Protection against abusive patterns.
    if nesting > MAX_NESTING {
        return false;
    }
    let mut p = 0usize;
    let mut s = 0usize;

    while p < pat.len() && s < string.len() {
        match pat[p] {
            b'*' => {
                while p < pat.len() && at(pat, p + 1) == b'*' {
                    p += 1;
                }
                if pat.len() - p == 1 {
                    return true; // a trailing '*' matches the rest
                }
                while s < string.len() {
                    if match_impl(&pat[p + 1..], &string[s..], nocase, skip, nesting + 1) {
                        return true;
                    }
                    if *skip {
                        return false;
                    }
                    s += 1;
                }
                // The rest of the pattern matched nowhere in the rest of the
                // string, so a longer match for an earlier '*' (which only
                // moves the rest further right) cannot succeed either.
                *skip = true;
                return false;
            }
            b'?' => s += 1,
            b'[' => {
                p += 1;
                let not = at(pat, p) == b'^';
                if not {
                    p += 1;
                }
                let c = string[s];
                let mut matched = false;
                loop {
                    let rem = pat.len() - p;
                    if at(pat, p) == b'\\' && rem >= 2 {
                        p += 1;
                        if pat[p] == c {
                            matched = true;
                        }
                    } else if at(pat, p) == b']' {
                        break;
                    } else if rem == 0 {
                        // Unterminated set: step back so the `p += 1` below
                        // lands exactly on the end of the pattern.
                        p -= 1;
                        break;
                    } else if rem >= 3 && pat[p + 1] == b'-' {
                        let (mut start, mut end, mut ch) =
                            (signed(pat[p]), signed(pat[p + 2]), signed(c));
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = lower(start);
                            end = lower(end);
                            ch = lower(ch);
                        }
                        p += 2;
                        if ch >= start && ch <= end {
                            matched = true;
                        }
                    } else if same_byte(pat[p], c, nocase) {
                        matched = true;
                    }
                    p += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                s += 1;
            }
            other => {
                let mut lit = other;
                if other == b'\\' && pat.len() - p >= 2 {
                    p += 1;
                    lit = pat[p];
                }
                // A lone trailing '\' falls through and matches itself.
                if !same_byte(lit, string[s], nocase) {
                    return false;
                }
                s += 1;
            }
        }
        p += 1;
        if s == string.len() {
            while at(pat, p) == b'*' {
                p += 1;
            }
            break;
        }
    }
    p == pat.len() && s == string.len()
}

/// True for the bytes that make a pattern more than a literal string.
#[inline]
fn is_special(b: u8) -> bool {
    matches!(b, b'*' | b'?' | b'[' | b'\\')
}

/// The literal bytes every (case-sensitive) match of `pattern` starts with:
/// the pattern up to its first `*`, `?` or `[`, with `\` escapes resolved.
///
/// A `KEYS`/`SCAN MATCH` implementation can seek to this prefix and stop at
/// the first key without it. With `nocase` matching the prefix is no bound.
/// Borrows when the prefix contains no escape.
pub fn literal_prefix(pattern: &[u8]) -> Cow<'_, [u8]> {
    let first_special = pattern.iter().position(|&b| is_special(b));
    match first_special {
        None => Cow::Borrowed(pattern),
        Some(i) if pattern[i] != b'\\' => Cow::Borrowed(&pattern[..i]),
        Some(i) => {
            let mut out = pattern[..i].to_vec();
            let mut p = i;
            while p < pattern.len() {
                match pattern[p] {
                    b'*' | b'?' | b'[' => break,
                    b'\\' if p + 1 < pattern.len() => {
                        out.push(pattern[p + 1]);
                        p += 2;
                    }
                    b => {
                        // Includes a lone trailing '\', which matches itself.
                        out.push(b);
                        p += 1;
                    }
                }
            }
            Cow::Owned(out)
        }
    }
}

/// If `pattern` has no wildcard at all, the one string it matches
/// (case-sensitively), with `\` escapes resolved; otherwise `None`.
///
/// Lets `KEYS foo` or `SCAN MATCH foo` do a point lookup.
pub fn literal(pattern: &[u8]) -> Option<Cow<'_, [u8]>> {
    let prefix = literal_prefix(pattern);
    // The prefix stops only at an unescaped wildcard; find out whether it
    // consumed the whole pattern by re-walking the escapes.
    let mut p = 0;
    while p < pattern.len() {
        match pattern[p] {
            b'*' | b'?' | b'[' => return None,
            b'\\' if p + 1 < pattern.len() => p += 2,
            _ => p += 1,
        }
    }
    Some(prefix)
}

#[cfg(test)]
mod tests;
