//! RedisJSON's filter operators that RFC 9535 lacks, rewritten into RFC
//! expressions before `serde_json_path` parses the path:
//!
//! - `L =~ R` (regular expression found anywhere in the string, as
//!   RedisJSON's `Regex::is_match`) becomes `search(L, R)`;
//! - `L in [a, b]` becomes `(L == a || L == b)`, `L nin [a, b]` becomes
//!   `(L != a && L != b)` for a literal array of scalars; against a query
//!   (`L in $.allowed`, `L nin @.seen`) they become `basalt_in(L, Q)` and
//!   `!basalt_in(L, Q)`, a function registered below (RFC 9535 has no
//!   membership test).
//!
//! Operands are found by scanning for their ends (brackets, parentheses and
//! quotes balanced); text that does not fit is left as it is, so the
//! JSONPath parser reports it.

use serde_json_path::functions::{LogicalType, ValueType};

/// The path with every `=~`, `in` and `nin` outside quotes rewritten.
pub fn rewrite(path: &str) -> String {
    let mut text = path.to_string();
    // Each round rewrites the first operator left; bounded by the count.
    for _ in 0..64 {
        match rewrite_first(&text) {
            Some(next) => text = next,
            None => break,
        }
    }
    text
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Regex,
    In,
    NotIn,
}

/// Byte positions of the characters outside string literals.
fn unquoted(text: &str) -> Vec<bool> {
    let b = text.as_bytes();
    let mut out = vec![true; b.len()];
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\'' || b[i] == b'"' {
            let q = b[i];
            let start = i;
            i += 1;
            while i < b.len() && b[i] != q {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            for flag in out.iter_mut().take((i + 1).min(b.len())).skip(start) {
                *flag = false;
            }
        }
        i += 1;
    }
    out
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The first operator outside quotes: (start, end, op).
fn find_op(text: &str, free: &[bool]) -> Option<(usize, usize, Op)> {
    let b = text.as_bytes();
    for i in 0..b.len() {
        if !free[i] {
            continue;
        }
        if b[i..].starts_with(b"=~") {
            return Some((i, i + 2, Op::Regex));
        }
        // A word operator stands between spaces (RedisJSON's literal path
        // names may hold letters, so `@.ain` is a name).
        if i > 0 && b[i - 1].is_ascii_whitespace() {
            for (word, op) in [(&b"nin"[..], Op::NotIn), (&b"in"[..], Op::In)] {
                let end = i + word.len();
                if b[i..].starts_with(word) && b.get(end).is_none_or(|&c| !is_word(c)) {
                    return Some((i, end, op));
                }
            }
        }
    }
    None
}

/// Where the operand ending just before `end` starts.
fn left_operand(b: &[u8], free: &[bool], end: usize) -> Option<usize> {
    let mut i = end;
    while i > 0 && b[i - 1].is_ascii_whitespace() {
        i -= 1;
    }
    let stop = i;
    let mut depth = 0i32;
    while i > 0 {
        let c = b[i - 1];
        if free[i - 1] {
            match c {
                b')' | b']' => depth += 1,
                b'(' | b'[' if depth == 0 => break,
                b'(' | b'[' => depth -= 1,
                b'?' | b'&' | b'|' | b'!' | b',' if depth == 0 => break,
                c if c.is_ascii_whitespace() && depth == 0 => break,
                _ => {}
            }
        }
        i -= 1;
    }
    (i < stop).then_some(i)
}

/// Where the operand starting at or after `start` ends (exclusive), with
/// the index its text begins at.
fn right_operand(b: &[u8], free: &[bool], start: usize) -> Option<(usize, usize)> {
    let mut i = start;
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    let begin = i;
    let mut depth = 0i32;
    while i < b.len() {
        let c = b[i];
        if free[i] {
            match c {
                b'(' | b'[' => depth += 1,
                b')' | b']' if depth == 0 => break,
                b')' | b']' => {
                    depth -= 1;
                    if depth == 0 && b[begin] == b'[' {
                        i += 1;
                        break;
                    }
                }
                b'&' | b'|' | b',' if depth == 0 => break,
                c if c.is_ascii_whitespace() && depth == 0 => break,
                _ => {}
            }
        }
        i += 1;
    }
    (i > begin).then_some((begin, i))
}

/// A literal list of scalars as RFC literals, `None` if it is not one.
fn list_items(text: &str) -> Option<Vec<String>> {
    let items: serde_json::Value = serde_json::from_str(text)
        .ok()
        .or_else(|| serde_json::from_str(&text.replace('\'', "\"")).ok())?;
    let serde_json::Value::Array(items) = items else {
        return None;
    };
    items
        .iter()
        .map(|v| match v {
            serde_json::Value::Array(_) | serde_json::Value::Object(_) => None,
            v => Some(v.to_string()),
        })
        .collect()
}

fn rewrite_first(text: &str) -> Option<String> {
    let free = unquoted(text);
    let (op_start, op_end, op) = find_op(text, &free)?;
    let b = text.as_bytes();
    let left = left_operand(b, &free, op_start)?;
    let (right_begin, right_end) = right_operand(b, &free, op_end)?;
    let l = text[left..op_start].trim_end();
    let r = &text[right_begin..right_end];
    let replacement = match op {
        Op::Regex => format!("search({l}, {r})"),
        Op::In | Op::NotIn if r.starts_with(['$', '@']) => {
            let not = if op == Op::NotIn { "!" } else { "" };
            format!("{not}basalt_in({l}, {r})")
        }
        Op::In | Op::NotIn => {
            let items = list_items(r)?;
            let (cmp, join, empty) = match op {
                Op::In => ("==", " || ", "1 == 2"),
                _ => ("!=", " && ", "1 == 1"),
            };
            if items.is_empty() {
                format!("({empty})")
            } else {
                let parts: Vec<String> = items.iter().map(|v| format!("{l} {cmp} {v}")).collect();
                format!("({})", parts.join(join))
            }
        }
    };
    Some(format!(
        "{}{}{}",
        &text[..left],
        replacement,
        &text[right_end..]
    ))
}

/// `L in Q`: whether the array `Q` selects holds a value equal to `L`
/// (numbers by value, as `==` compares them); false when either side
/// selects nothing or `Q` is not an array.
#[serde_json_path::function(name = "basalt_in")]
fn basalt_in(value: ValueType, list: ValueType) -> LogicalType {
    match (value.as_value(), list.as_value()) {
        (Some(v), Some(serde_json::Value::Array(items))) => {
            items.iter().any(|item| same_value(item, v)).into()
        }
        _ => LogicalType::False,
    }
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn same_value(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value::*;
    match (a, b) {
        (Number(x), Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Array(x), Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_value(x, y))
        }
        (Object(x), Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn operators_become_rfc_expressions() {
        assert_eq!(
            rewrite(r#"$[?(@.name =~ "^A.*")]"#),
            r#"$[?(search(@.name, "^A.*"))]"#
        );
        assert_eq!(
            rewrite(r#"$..[?@.a=~'x' && @.b > 1]"#),
            r#"$..[?search(@.a, 'x') && @.b > 1]"#
        );
        assert_eq!(
            rewrite(r#"$[?(@.n in [1, "two", null])]"#),
            r#"$[?((@.n == 1 || @.n == "two" || @.n == null))]"#
        );
        assert_eq!(
            rewrite(r#"$[?@['k'] nin ['a','b']]"#),
            r#"$[?(@['k'] != "a" && @['k'] != "b")]"#
        );
        assert_eq!(rewrite("$[?@.x in []]"), "$[?(1 == 2)]");
        assert_eq!(
            rewrite("$[?@.x in $.ok && @.y nin @.seen]"),
            "$[?basalt_in(@.x, $.ok) && !basalt_in(@.y, @.seen)]"
        );
        // Inside a quoted name or a value the words stay.
        assert_eq!(rewrite(r#"$['a in b']"#), r#"$['a in b']"#);
        assert_eq!(rewrite(r#"$[?@.s == "x =~ y"]"#), r#"$[?@.s == "x =~ y"]"#);
        assert_eq!(rewrite("$.main"), "$.main");
    }
}
