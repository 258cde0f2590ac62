//! Splitting an inline request line into arguments, as Redis's
//! `sdssplitargs` does.

/// Redis works on a NUL-terminated copy of the line, so reading past the end
/// yields 0, and a NUL inside the line ends it.
fn at(line: &[u8], i: usize) -> u8 {
    line.get(i).copied().unwrap_or(0)
}

/// C's `isspace` in the "C" locale, which is what Redis runs under for
/// character classes.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Splits `line` into arguments, or `None` for unbalanced quotes.
///
/// The rules, all Redis's:
/// - arguments are separated by whitespace; leading whitespace is any
///   `isspace` byte, but an unquoted argument ends only at space, tab, CR,
///   LF (so `a\x0bb` is one argument);
/// - `"..."` understands `\n \r \t \b \a`, `\xHH` and `\<any>` for that
///   byte; `'...'` understands only `\'`;
/// - a quote may open in the middle of an argument (`a"b c"` is `ab c`),
///   but a closing quote must be followed by whitespace or the end of line;
/// - `""` is a valid, empty argument.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut p = 0;
    loop {
        while at(line, p) != 0 && is_space(at(line, p)) {
            p += 1;
        }
        if at(line, p) == 0 {
            return Some(args);
        }

        let mut current = Vec::new();
        let mut in_double = false;
        let mut in_single = false;
        let mut done = false;
        while !done {
            let c = at(line, p);
            if in_double {
                let hex = (c == b'\\' && at(line, p + 1) == b'x')
                    .then(|| Some((hex_value(at(line, p + 2))?, hex_value(at(line, p + 3))?)))
                    .flatten();
                if let Some((hi, lo)) = hex {
                    current.push(hi * 16 + lo);
                    p += 3;
                } else if c == b'\\' && at(line, p + 1) != 0 {
                    p += 1;
                    current.push(match at(line, p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(line, p + 1) != 0 && !is_space(at(line, p + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    current.push(c);
                }
            } else if in_single {
                if c == b'\\' && at(line, p + 1) == b'\'' {
                    p += 1;
                    current.push(b'\'');
                } else if c == b'\'' {
                    if at(line, p + 1) != 0 && !is_space(at(line, p + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    current.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    _ => current.push(c),
                }
            }
            if at(line, p) != 0 {
                p += 1;
            }
        }
        args.push(current);
    }
}

#[cfg(test)]
mod tests {
    use super::split_args;

    fn split(line: &[u8]) -> Option<Vec<Vec<u8>>> {
        split_args(line)
    }

    fn ok(line: &[u8], want: &[&[u8]]) {
        let got = split(line).unwrap_or_else(|| panic!("{line:?} should split"));
        let want: Vec<Vec<u8>> = want.iter().map(|a| a.to_vec()).collect();
        assert_eq!(got, want, "{:?}", String::from_utf8_lossy(line));
    }

    #[test]
    fn plain_words() {
        ok(b"", &[]);
        ok(b"   \t ", &[]);
        ok(b"PING", &[b"PING"]);
        ok(b"SET key value", &[b"SET", b"key", b"value"]);
        ok(b"  SET   key\tvalue  ", &[b"SET", b"key", b"value"]);
        ok(b"a\rb", &[b"a", b"b"]);
    }

    #[test]
    fn vertical_tab_and_form_feed_only_separate_at_the_start() {
        ok(b"\x0b\x0cECHO x", &[b"ECHO", b"x"]);
        ok(b"ECHO a\x0bb", &[b"ECHO", b"a\x0bb"]);
        ok(b"ECHO \x0ba", &[b"ECHO", b"a"]);
    }

    #[test]
    fn double_quotes() {
        ok(br#"SET k "hello world""#, &[b"SET", b"k", b"hello world"]);
        ok(br#"ECHO """#, &[b"ECHO", b""]);
        ok(br#""\n\r\t\b\a\\\"\q""#, &[b"\n\r\t\x08\x07\\\"q"]);
        ok(br#""\x41\x4a\x4A\x00\xff""#, &[b"AJJ\0\xff"]);
        // Not a complete hex escape: backslash-x is just x.
        ok(br#""\x4g\x""#, &[b"x4gx"]);
    }

    #[test]
    fn quote_opening_mid_word() {
        ok(br#"ECHO a"b c""#, &[b"ECHO", b"ab c"]);
        ok(b"ECHO a'b c'", &[b"ECHO", b"ab c"]);
        ok(br#"ECHO a"b" c"#, &[b"ECHO", b"ab", b"c"]);
    }

    #[test]
    fn single_quotes() {
        ok(br"ECHO 'it\'s'", &[b"ECHO", b"it's"]);
        ok(br"ECHO 'a\nb'", &[b"ECHO", br"a\nb"]);
        ok(br#"ECHO '"'"#, &[b"ECHO", b"\""]);
        ok(br#"ECHO "'""#, &[b"ECHO", b"'"]);
        ok(b"ECHO ''", &[b"ECHO", b""]);
    }

    #[test]
    fn closing_quote_followed_by_whitespace() {
        ok(b"\"a\"\x0bb", &[b"a", b"b"]);
        ok(b"\"a\"\x0c", &[b"a"]);
        ok(b"'a'\tb", &[b"a", b"b"]);
    }

    #[test]
    fn unbalanced() {
        for bad in [
            &br#"ECHO "abc"#[..],
            br#"ECHO "a"b"#,
            br#"ECHO a"b c"d"#,
            b"ECHO 'abc",
            b"ECHO 'a'b",
            br#"ECHO "a\"#,
            br"ECHO 'a\'",
            br#"""""#,
        ] {
            assert_eq!(split(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn nul_ends_the_line_like_a_c_string() {
        ok(b"ECHO a\0b", &[b"ECHO", b"a"]);
        assert_eq!(split(b"ECHO \"a\0\""), None);
    }

    #[test]
    fn high_bytes_are_ordinary() {
        ok(b"ECHO \xff\x80", &[b"ECHO", b"\xff\x80"]);
    }
}
