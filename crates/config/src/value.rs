//! Value parsers and the config-line tokenizer.
//!
//! Error texts are Redis 7.2's (`src/config.c`), because `CONFIG SET` sends
//! them to clients verbatim and client test suites match on them; file
//! errors reuse the same texts so there is one wording per mistake.

use std::borrow::Cow;

pub(crate) fn parse_bool(s: &str) -> Result<bool, String> {
    if s.eq_ignore_ascii_case("yes") {
        Ok(true)
    } else if s.eq_ignore_ascii_case("no") {
        Ok(false)
    } else {
        Err("argument must be 'yes' or 'no'".into())
    }
}

pub(crate) fn format_bool(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

pub(crate) fn parse_int(s: &str) -> Result<i64, String> {
    s.parse::<i64>()
        .map_err(|_| "argument couldn't be parsed into an integer".into())
}

/// Redis's `memtoll`: an integer with an optional unit, case-insensitive:
/// `b`, `k` (1000), `kb` (1024), `m`, `mb`, `g`, `gb`.
pub(crate) fn parse_memory(s: &str) -> Result<i64, String> {
    let bad = || "argument must be a memory value".to_string();
    let digits_end = s
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
        .map_or(s.len(), |(i, _)| i);
    let (number, unit) = s.split_at(digits_end);
    let multiplier: i64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return Err(bad()),
    };
    let n: i64 = number.parse().map_err(|_| bad())?;
    n.checked_mul(multiplier).ok_or_else(bad)
}

pub(crate) fn check_range(v: i64, min: i64, max: i64) -> Result<i64, String> {
    if (min..=max).contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "argument must be between {min} and {max} inclusive"
        ))
    }
}

pub(crate) fn parse_enum(s: &str, names: &[&str]) -> Result<usize, String> {
    names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(s))
        .ok_or_else(|| {
            format!(
                "argument(s) must be one of the following: {}",
                names.join(", ")
            )
        })
}

/// Splits a config line into words like Redis's `sdssplitargs`, plus
/// comments: a word starting with `#` ends the line, so both whole-line and
/// trailing comments (`port 6666 # the default`) work, while `pass#word`
/// stays one word.
///
/// `"..."` quotes allow spaces and the escapes `\" \\ \n \r \t \b \a \xHH`;
/// `'...'` quotes allow spaces and `\'`. A closing quote must end the word.
/// Returns an empty list for blank and comment lines.
pub(crate) fn split_args(line: &str) -> Result<Vec<String>, String> {
    let b = line.as_bytes();
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == b.len() || b[i] == b'#' {
            return Ok(args);
        }
        let mut word = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                match b.get(i) {
                    None => return Err("unbalanced quotes in configuration line".into()),
                    Some(b'\\') if b.get(i + 1) == Some(&b'x') && hex(b, i + 2).is_some() => {
                        word.push(hex(b, i + 2).unwrap_or(0));
                        i += 3;
                    }
                    Some(b'\\') if i + 1 < b.len() => {
                        i += 1;
                        word.push(match b[i] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 0x08,
                            b'a' => 0x07,
                            other => other,
                        });
                    }
                    Some(b'"') => {
                        if b.get(i + 1).is_some_and(|c| !c.is_ascii_whitespace()) {
                            return Err("closing quote must be followed by a space".into());
                        }
                        i += 1;
                        break;
                    }
                    Some(&c) => word.push(c),
                }
            } else if in_sq {
                match b.get(i) {
                    None => return Err("unbalanced quotes in configuration line".into()),
                    Some(b'\\') if b.get(i + 1) == Some(&b'\'') => {
                        i += 1;
                        word.push(b'\'');
                    }
                    Some(b'\'') => {
                        if b.get(i + 1).is_some_and(|c| !c.is_ascii_whitespace()) {
                            return Err("closing quote must be followed by a space".into());
                        }
                        i += 1;
                        break;
                    }
                    Some(&c) => word.push(c),
                }
            } else {
                match b.get(i) {
                    None => break,
                    Some(c) if c.is_ascii_whitespace() => break,
                    Some(b'"') => in_dq = true,
                    Some(b'\'') => in_sq = true,
                    Some(&c) => word.push(c),
                }
            }
            i += 1;
        }
        let word = String::from_utf8(word).map_err(|_| "value is not valid UTF-8".to_string())?;
        args.push(word);
    }
}

fn hex(b: &[u8], i: usize) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16);
    let hi = digit(*b.get(i)?)?;
    let lo = digit(*b.get(i + 1)?)?;
    u8::try_from(hi * 16 + lo).ok()
}

/// A value as it must be written to a config file so that [`split_args`]
/// reads it back (words joined by single spaces) unchanged: as is when that
/// already works, otherwise double-quoted with escapes.
pub(crate) fn quote(value: &str) -> Cow<'_, str> {
    let plain = !value.is_empty()
        && !value.chars().any(|c| c.is_control())
        && split_args(value).is_ok_and(|words| words.join(" ") == value);
    if plain {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        assert_eq!(parse_bool("yes"), Ok(true));
        assert_eq!(parse_bool("YES"), Ok(true));
        assert_eq!(parse_bool("No"), Ok(false));
        assert_eq!(
            parse_bool("true"),
            Err("argument must be 'yes' or 'no'".into())
        );
        assert!(parse_bool("").is_err());
    }

    #[test]
    fn integers() {
        assert_eq!(parse_int("42"), Ok(42));
        assert_eq!(parse_int("-1"), Ok(-1));
        assert!(parse_int("4x").is_err());
        assert!(parse_int("").is_err());
        assert!(parse_int("99999999999999999999").is_err());
        assert_eq!(
            check_range(70000, 1, 65535),
            Err("argument must be between 1 and 65535 inclusive".into())
        );
    }

    #[test]
    fn memory_values() {
        assert_eq!(parse_memory("100"), Ok(100));
        assert_eq!(parse_memory("100b"), Ok(100));
        assert_eq!(parse_memory("1k"), Ok(1000));
        assert_eq!(parse_memory("1kb"), Ok(1024));
        assert_eq!(parse_memory("1KB"), Ok(1024));
        assert_eq!(parse_memory("2m"), Ok(2_000_000));
        assert_eq!(parse_memory("512mb"), Ok(536_870_912));
        assert_eq!(parse_memory("1g"), Ok(1_000_000_000));
        assert_eq!(parse_memory("1gb"), Ok(1 << 30));
        assert_eq!(parse_memory("-1"), Ok(-1));
        for bad in ["", "mb", "1tb", "1.5mb", "1 mb", "-", "9999999999gb"] {
            assert_eq!(
                parse_memory(bad),
                Err("argument must be a memory value".into()),
                "{bad}"
            );
        }
    }

    #[test]
    fn enums() {
        let names = ["always", "everysec", "no"];
        assert_eq!(parse_enum("EverySec", &names), Ok(1));
        assert_eq!(
            parse_enum("sometimes", &names),
            Err("argument(s) must be one of the following: always, everysec, no".into())
        );
    }

    fn split(s: &str) -> Vec<String> {
        split_args(s).unwrap()
    }

    #[test]
    fn tokenizer() {
        assert!(split("").is_empty());
        assert!(split("   \t ").is_empty());
        assert!(split("# comment").is_empty());
        assert!(split("   # indented comment").is_empty());
        assert_eq!(split("port 6666"), ["port", "6666"]);
        assert_eq!(split("  port\t6666  "), ["port", "6666"]);
        assert_eq!(split("port 6666 # trailing"), ["port", "6666"]);
        assert_eq!(split("requirepass pa#ss"), ["requirepass", "pa#ss"]);
        assert_eq!(split("bind 127.0.0.1 ::1"), ["bind", "127.0.0.1", "::1"]);
        assert_eq!(split(r#"a "b c" d"#), ["a", "b c", "d"]);
        assert_eq!(split(r#"a "x\"y\\z\n\x41""#), ["a", "x\"y\\z\nA"]);
        assert_eq!(split(r"a 'it\'s'"), ["a", "it's"]);
        assert_eq!(split(r#"a """#), ["a", ""]);
        assert_eq!(split(r##"a "#x""##), ["a", "#x"]);
        assert!(split_args(r#"a "open"#).is_err());
        assert!(split_args(r#"a "closed"tail"#).is_err());
        assert!(split_args("a 'open").is_err());
        assert!(split_args(r#"a "\xff""#).is_err());
    }

    #[test]
    fn quoting_round_trips() {
        for v in [
            "plain",
            "",
            "two words",
            "two  spaces",
            " lead",
            "trail ",
            "#hash",
            "a #b",
            "pa#ss",
            "q\"uote",
            "it's",
            "back\\slash",
            "new\nline",
            "tab\there",
            "bell\x07",
            "ünïcödé",
        ] {
            let line = format!("key {}", quote(v));
            let args = split_args(&line).unwrap();
            assert_eq!(args[1..].join(" "), v, "{line}");
        }
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("3600 1 300 100"), "3600 1 300 100");
        assert_eq!(quote(""), "\"\"");
    }
}
