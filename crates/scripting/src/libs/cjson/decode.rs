//! cjson.decode: lua-cjson's tokenizer and parser, so that what it
//! accepts (strtod's numbers, a NUL ending the text) and its errors
//! ("Expected value but found T_END at character 1") are the same.

use super::config::Config;
use super::null;
use crate::libs::err;
use mlua::{Lua, Table, Value};

/// Deeper than this the decoder stops whatever `decode_max_depth` says;
/// see the encoder's limit.
const NESTING_LIMIT: i64 = 1000;

#[derive(Debug)]
enum Token {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str(Vec<u8>),
    Number(f64),
    Bool(bool),
    Null,
    Colon,
    Comma,
    End,
    /// A bad token: what was wrong ("invalid token", "invalid number" ...).
    Error(&'static str),
}

impl Token {
    /// How lua-cjson names what it found in a syntax error.
    fn found(&self) -> &'static str {
        match self {
            Token::ObjBegin => "T_OBJ_BEGIN",
            Token::ObjEnd => "T_OBJ_END",
            Token::ArrBegin => "T_ARR_BEGIN",
            Token::ArrEnd => "T_ARR_END",
            Token::Str(_) => "T_STRING",
            Token::Number(_) => "T_NUMBER",
            Token::Bool(_) => "T_BOOLEAN",
            Token::Null => "T_NULL",
            Token::Colon => "T_COLON",
            Token::Comma => "T_COMMA",
            Token::End => "T_END",
            Token::Error(why) => why,
        }
    }
}

pub fn decode(
    lua: &Lua,
    cfg: &Config,
    array_mt: Option<&Table>,
    text: &[u8],
) -> mlua::Result<Value> {
    // JSON text starts with ASCII; a NUL among the first two bytes means
    // UTF-16 or UTF-32 (RFC 4627, section 3).
    if text.len() >= 2 && (text[0] == 0 || text[1] == 0) {
        return err("JSON parser does not support UTF-16 or UTF-32");
    }
    let mut p = Parser {
        lua,
        cfg,
        array_mt,
        data: text,
        pos: 0,
        depth: 0,
    };
    let (token, at) = p.next_token();
    let v = p.value(token, at)?;
    let (token, at) = p.next_token();
    if !matches!(token, Token::End) {
        return syntax("the end", &token, at);
    }
    Ok(v)
}

fn syntax<T>(expected: &str, found: &Token, at: usize) -> mlua::Result<T> {
    err(format!(
        "Expected {expected} but found {} at character {}",
        found.found(),
        at + 1
    ))
}

struct Parser<'a> {
    lua: &'a Lua,
    cfg: &'a Config,
    array_mt: Option<&'a Table>,
    data: &'a [u8],
    pos: usize,
    depth: i64,
}

impl Parser<'_> {
    /// The byte at `i`; lua-cjson reads a C string, so the end is a NUL.
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn starts_with(&self, s: &[u8]) -> bool {
        self.data[self.pos..].starts_with(s)
    }

    /// The next token and where it is (where it went wrong, for errors).
    fn next_token(&mut self) -> (Token, usize) {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let start = self.pos;
        let single = match self.at(start) {
            b'{' => Some(Token::ObjBegin),
            b'}' => Some(Token::ObjEnd),
            b'[' => Some(Token::ArrBegin),
            b']' => Some(Token::ArrEnd),
            b',' => Some(Token::Comma),
            b':' => Some(Token::Colon),
            0 => return (Token::End, start),
            _ => None,
        };
        if let Some(t) = single {
            self.pos += 1;
            return (t, start);
        }
        let c = self.at(start);
        if c == b'"' {
            return self.string();
        }
        let invalid_ok = self.cfg.decode_invalid_numbers.get();
        if c == b'-' || c.is_ascii_digit() {
            if !invalid_ok && self.is_invalid_number() {
                return (Token::Error("invalid number"), start);
            }
            return self.number();
        }
        for (word, token) in [
            (&b"true"[..], Token::Bool(true)),
            (b"false", Token::Bool(false)),
            (b"null", Token::Null),
        ] {
            if self.starts_with(word) {
                self.pos += word.len();
                return (token, start);
            }
        }
        // With invalid numbers allowed, only what strict JSON rejects
        // (inf, nan, hex, a leading +) is read as a number here.
        if invalid_ok && matches!(c, b'+' | b'i' | b'I' | b'n' | b'N') && self.is_invalid_number() {
            return self.number();
        }
        (Token::Error("invalid token"), start)
    }

    /// json_is_invalid_number: what strtod reads but JSON forbids.
    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        match self.at(p) {
            b'+' => return true,
            b'-' => p += 1,
            _ => {}
        }
        let c = self.at(p);
        if c == b'0' {
            let next = self.at(p + 1);
            return next | 0x20 == b'x' || next.is_ascii_digit();
        }
        if c <= b'9' {
            return false;
        }
        let word =
            |w: &[u8]| self.data.len() >= p + 3 && self.data[p..p + 3].eq_ignore_ascii_case(w);
        word(b"inf") || word(b"nan")
    }

    fn number(&mut self) -> (Token, usize) {
        let start = self.pos;
        match strtod(&self.data[start..]) {
            Some((n, len)) => {
                self.pos += len;
                (Token::Number(n), start)
            }
            None => (Token::Error("invalid number"), start),
        }
    }

    fn string(&mut self) -> (Token, usize) {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let c = self.at(self.pos);
            match c {
                b'"' => break,
                0 => return (Token::Error("unexpected end of string"), self.pos),
                b'\\' => {
                    let decoded = match self.at(self.pos + 1) {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b't' => b'\t',
                        b'n' => b'\n',
                        b'f' => 0x0c,
                        b'r' => b'\r',
                        b'u' => {
                            if !self.unicode_escape(&mut out) {
                                return (Token::Error("invalid unicode escape code"), self.pos);
                            }
                            continue;
                        }
                        _ => return (Token::Error("invalid escape code"), self.pos),
                    };
                    out.push(decoded);
                    self.pos += 2;
                }
                c => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        self.pos += 1;
        (Token::Str(out), start)
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let mut n = 0;
        for i in 0..4 {
            n = n * 16 + (self.at(at + i) as char).to_digit(16)?;
        }
        Some(n)
    }

    /// `\uXXXX`, or a surrogate pair of them, as UTF-8.
    fn unicode_escape(&mut self, out: &mut Vec<u8>) -> bool {
        let Some(mut code) = self.hex4(self.pos + 2) else {
            return false;
        };
        let mut len = 6;
        if code & 0xF800 == 0xD800 {
            // Must be a high surrogate followed by an escaped low one.
            if code & 0x400 != 0 || self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u'
            {
                return false;
            }
            let Some(low) = self.hex4(self.pos + 8) else {
                return false;
            };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            code = (((code & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            len = 12;
        }
        let mut buf = [0u8; 4];
        match char::from_u32(code) {
            Some(ch) => out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes()),
            // A lone low surrogate: lua-cjson writes its 3-byte form.
            None => out.extend_from_slice(&[
                0xE0 | (code >> 12) as u8,
                0x80 | ((code >> 6) & 0x3F) as u8,
                0x80 | (code & 0x3F) as u8,
            ]),
        }
        self.pos += len;
        true
    }

    fn value(&mut self, token: Token, at: usize) -> mlua::Result<Value> {
        Ok(match token {
            Token::Str(s) => Value::String(self.lua.create_string(s)?),
            Token::Number(n) => Value::Number(n),
            Token::Bool(b) => Value::Boolean(b),
            Token::Null => null(),
            Token::ObjBegin => self.object()?,
            Token::ArrBegin => self.array()?,
            other => return syntax("value", &other, at),
        })
    }

    fn descend(&mut self) -> mlua::Result<()> {
        self.depth += 1;
        if self.depth > self.cfg.decode_max_depth.get() || self.depth > NESTING_LIMIT {
            return err(format!(
                "Found too many nested data structures ({}) at character {}",
                self.depth, self.pos
            ));
        }
        Ok(())
    }

    fn object(&mut self) -> mlua::Result<Value> {
        self.descend()?;
        let t = self.lua.create_table()?;
        let (mut token, mut at) = self.next_token();
        if matches!(token, Token::ObjEnd) {
            self.depth -= 1;
            return Ok(Value::Table(t));
        }
        loop {
            let Token::Str(key) = token else {
                return syntax("object key string", &token, at);
            };
            let (colon, colon_at) = self.next_token();
            if !matches!(colon, Token::Colon) {
                return syntax("colon", &colon, colon_at);
            }
            let (v, v_at) = self.next_token();
            let v = self.value(v, v_at)?;
            t.raw_set(self.lua.create_string(key)?, v)?;
            let (next, next_at) = self.next_token();
            match next {
                Token::ObjEnd => {
                    self.depth -= 1;
                    return Ok(Value::Table(t));
                }
                Token::Comma => {}
                other => return syntax("comma or object end", &other, next_at),
            }
            (token, at) = self.next_token();
        }
    }

    fn array(&mut self) -> mlua::Result<Value> {
        self.descend()?;
        let t = self.lua.create_table()?;
        if let Some(mt) = self.array_mt {
            t.set_metatable(Some(mt.clone()));
        }
        let (mut token, mut at) = self.next_token();
        if matches!(token, Token::ArrEnd) {
            self.depth -= 1;
            return Ok(Value::Table(t));
        }
        for i in 1.. {
            let v = self.value(token, at)?;
            t.raw_set(i, v)?;
            let (next, next_at) = self.next_token();
            match next {
                Token::ArrEnd => break,
                Token::Comma => {}
                other => return syntax("comma or array end", &other, next_at),
            }
            (token, at) = self.next_token();
        }
        self.depth -= 1;
        Ok(Value::Table(t))
    }
}

/// C's strtod on the start of `s`: the number and how many bytes it took,
/// or None when no number starts there. Takes what strtod takes: a sign,
/// decimal with exponent, hex (with binary exponent), inf, infinity, nan.
fn strtod(s: &[u8]) -> Option<(f64, usize)> {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut i = 0;
    let negative = match at(0) {
        b'-' => {
            i = 1;
            true
        }
        b'+' => {
            i = 1;
            false
        }
        _ => false,
    };
    let sign = if negative { -1.0 } else { 1.0 };
    let word =
        |i: usize, w: &[u8]| s.len() >= i + w.len() && s[i..i + w.len()].eq_ignore_ascii_case(w);
    if word(i, b"infinity") {
        return Some((sign * f64::INFINITY, i + 8));
    }
    if word(i, b"inf") {
        return Some((sign * f64::INFINITY, i + 3));
    }
    if word(i, b"nan") {
        let mut end = i + 3;
        // nan(n-char-sequence)
        if at(end) == b'(' {
            let mut j = end + 1;
            while at(j).is_ascii_alphanumeric() || at(j) == b'_' {
                j += 1;
            }
            if at(j) == b')' {
                end = j + 1;
            }
        }
        return Some((sign * f64::NAN, end));
    }
    if at(i) == b'0' && at(i + 1) | 0x20 == b'x' {
        if let Some((n, len)) = hex(&s[i + 2..]) {
            return Some((sign * n, i + 2 + len));
        }
        // "0x" without digits: strtod reads the 0.
        return Some((sign * 0.0, i + 1));
    }
    let digits_from = |mut j: usize| {
        while at(j).is_ascii_digit() {
            j += 1;
        }
        j
    };
    let int_end = digits_from(i);
    let mut end = int_end;
    let mut frac_digits = 0;
    if at(end) == b'.' {
        let frac_end = digits_from(end + 1);
        frac_digits = frac_end - end - 1;
        end = frac_end;
    }
    if int_end == i && frac_digits == 0 {
        return None;
    }
    if at(end) | 0x20 == b'e' {
        let mut j = end + 1;
        if matches!(at(j), b'+' | b'-') {
            j += 1;
        }
        let exp_end = digits_from(j);
        if exp_end > j {
            end = exp_end;
        }
    }
    let text = std::str::from_utf8(&s[..end]).ok()?;
    // Rust's parser wants digits on both sides of the point.
    let text = text.replace(".e", ".0e").replace(".E", ".0E");
    let text = if text.ends_with('.') {
        format!("{text}0")
    } else {
        text
    };
    let n: f64 = text.parse().ok()?;
    Some((n, end))
}

/// The hex digits (with an optional point and `p` exponent) after "0x".
fn hex(s: &[u8]) -> Option<(f64, usize)> {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let digit = |c: u8| (c as char).to_digit(16);
    let mut i = 0;
    let mut n = 0.0f64;
    let mut any = false;
    while let Some(d) = digit(at(i)) {
        n = n * 16.0 + d as f64;
        i += 1;
        any = true;
    }
    if at(i) == b'.' {
        let mut scale = 1.0 / 16.0;
        let mut j = i + 1;
        while let Some(d) = digit(at(j)) {
            n += d as f64 * scale;
            scale /= 16.0;
            j += 1;
            any = true;
        }
        if any {
            i = j;
        }
    }
    if !any {
        return None;
    }
    if at(i) | 0x20 == b'p' {
        let mut j = i + 1;
        let negative = at(j) == b'-';
        if matches!(at(j), b'+' | b'-') {
            j += 1;
        }
        let start = j;
        let mut exp: i32 = 0;
        while at(j).is_ascii_digit() {
            exp = exp.saturating_mul(10).saturating_add((at(j) - b'0') as i32);
            j += 1;
        }
        if j > start {
            n *= 2f64.powi(if negative { -exp } else { exp });
            i = j;
        }
    }
    Some((n, i))
}

#[cfg(test)]
mod tests {
    use super::strtod;

    #[test]
    fn strtod_reads_what_c_reads() {
        assert_eq!(strtod(b"12abc"), Some((12.0, 2)));
        assert_eq!(strtod(b"-5e3,"), Some((-5000.0, 4)));
        assert_eq!(strtod(b"0.3e-3]"), Some((0.0003, 6)));
        assert_eq!(strtod(b"1e"), Some((1.0, 1)));
        assert_eq!(strtod(b"1.]"), Some((1.0, 2)));
        assert_eq!(strtod(b".5"), Some((0.5, 2)));
        assert_eq!(strtod(b"0x10,"), Some((16.0, 4)));
        assert_eq!(strtod(b"0x1p4"), Some((16.0, 5)));
        assert_eq!(strtod(b"0xg"), Some((0.0, 1)));
        assert_eq!(strtod(b"-Infinity"), Some((f64::NEG_INFINITY, 9)));
        assert_eq!(strtod(b"inf]"), Some((f64::INFINITY, 3)));
        assert!(strtod(b"nan").is_some_and(|(n, l)| n.is_nan() && l == 3));
        assert_eq!(strtod(b"1e400").map(|(n, _)| n), Some(f64::INFINITY));
        assert_eq!(strtod(b"-"), None);
        assert_eq!(strtod(b"."), None);
        assert_eq!(strtod(b"x"), None);
    }
}
