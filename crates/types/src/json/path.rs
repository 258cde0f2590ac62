//! JSON.* paths: JSONPath (`$...`, RFC 9535 as `serde_json_path` parses
//! it, plus RedisJSON's `=~`, `in` and `nin` filters, see `filter_ext`) and
//! RedisJSON 1.x "legacy" paths (`.a.b`, `a`, `.`), which RedisJSON
//! rewrites to JSONPath and answers with a single value instead of a list.

use super::error::JsonError;
use serde_json::Value;
use serde_json_path::{JsonPath, PathElement};
use std::cmp::Ordering;

/// One step from a node to a child.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// Where a node sits in a document: the steps from the root.
pub type Location = Vec<Step>;

/// A parsed path.
#[derive(Debug)]
pub struct Path {
    original: String,
    /// The JSONPath text (a legacy path rewritten).
    normalized: String,
    query: JsonPath,
    legacy: bool,
}

impl Path {
    /// RedisJSON's reading of a path argument: `$` alone or followed by
    /// `.` or `[` is JSONPath, anything else a legacy path.
    pub fn parse(text: &[u8]) -> Result<Path, JsonError> {
        let original = String::from_utf8_lossy(text).into_owned();
        let b = original.as_bytes();
        let jsonpath = b.first() == Some(&b'$') && matches!(b.get(1), None | Some(b'.' | b'['));
        let normalized = if jsonpath {
            original.clone()
        } else if original == "." {
            "$".to_string()
        } else if original.starts_with('.') || original.starts_with('[') {
            format!("${original}")
        } else {
            format!("$.{original}")
        };
        let query = JsonPath::parse(&super::filter_ext::rewrite(&normalized))
            .map_err(|e| JsonError::PathSyntax(e.position(), e.message().to_string()))?;
        Ok(Path {
            original,
            normalized,
            query,
            legacy: !jsonpath,
        })
    }

    /// The legacy root `.`, what commands use when no path is given.
    pub fn legacy_root() -> Path {
        // "$" always parses.
        Path {
            original: ".".into(),
            normalized: "$".into(),
            query: JsonPath::default(),
            legacy: true,
        }
    }

    pub fn is_legacy(&self) -> bool {
        self.legacy
    }

    pub fn is_root(&self) -> bool {
        self.normalized == "$"
    }

    /// The path as the client wrote it (JSON.GET's multi-path object keys).
    pub fn original(&self) -> &str {
        &self.original
    }

    /// The nodes the path selects, in document order.
    pub fn values<'a>(&self, doc: &'a Value) -> Vec<&'a Value> {
        self.query.query(doc).all()
    }

    /// The locations of the selected nodes, without duplicates.
    pub fn locate(&self, doc: &Value) -> Vec<Location> {
        let mut out: Vec<Location> = Vec::new();
        for node in self.query.query_located(doc).iter() {
            let loc: Location = node
                .location()
                .iter()
                .map(|e| match e {
                    PathElement::Name(n) => Step::Key((*n).to_string()),
                    PathElement::Index(i) => Step::Index(*i),
                })
                .collect();
            if !out.contains(&loc) {
                out.push(loc);
            }
        }
        out
    }

    /// For JSON.SET of a path that selects nothing: where a new member
    /// would go. RedisJSON only adds through a "static" path (no
    /// wildcard, filter, slice, union or descent) whose last step is a
    /// member name.
    pub fn add_target(&self) -> Result<AddTarget, JsonError> {
        if !is_static(&self.normalized) {
            return Err(JsonError::WrongStaticPath);
        }
        let text = &self.normalized;
        if text == "$" {
            return Err(JsonError::PathMustEndWithKey);
        }
        if let Some((parent, key)) = split_last_name(text) {
            let parent = JsonPath::parse(parent)
                .map_err(|e| JsonError::PathSyntax(e.position(), e.message().to_string()))?;
            return Ok(AddTarget::Member { parent, key });
        }
        Ok(AddTarget::Index)
    }
}

/// Where JSON.SET adds a node that does not exist yet.
pub enum AddTarget {
    /// A new member `key` in each object the parent path selects.
    Member { parent: JsonPath, key: String },
    /// The path ends with an array index: arrays never grow by JSON.SET.
    Index,
}

impl AddTarget {
    /// The locations of the parents of a member to add.
    pub fn parents(parent: &JsonPath, doc: &Value) -> Vec<Location> {
        let mut out: Vec<Location> = Vec::new();
        for node in parent.query_located(doc).iter() {
            let loc: Location = node
                .location()
                .iter()
                .map(|e| match e {
                    PathElement::Name(n) => Step::Key((*n).to_string()),
                    PathElement::Index(i) => Step::Index(*i),
                })
                .collect();
            if !out.contains(&loc) {
                out.push(loc);
            }
        }
        out
    }
}

/// Whether a JSONPath text names single children only: no `*`, `?`, `:`,
/// `,` or `..` outside quoted names.
fn is_static(text: &str) -> bool {
    let b = text.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) => {
                if c == b'\\' {
                    i += 1;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                b'\'' | b'"' => quote = Some(c),
                b'*' | b'?' | b':' | b',' | b'(' => return false,
                b'.' if b.get(i + 1) == Some(&b'.') => return false,
                _ => {}
            },
        }
        i += 1;
    }
    true
}

/// Splits `$.a.b` / `$.a['b']` into the parent text and the last member
/// name; `None` when the last step is an index.
fn split_last_name(text: &str) -> Option<(&str, String)> {
    if let Some(inner) = text.strip_suffix(']') {
        let quote = inner.chars().last()?;
        if quote != '\'' && quote != '"' {
            return None;
        }
        let body = &inner[..inner.len() - 1];
        // The opening `[` + quote of this last name: the rightmost one whose
        // contents parse as a single quoted name.
        let mut search = body.len();
        while let Some(open) = body[..search].rfind(['\'', '"']) {
            if body[..open].ends_with('[') && body.as_bytes()[open] == quote as u8 {
                let literal = &text[open..text.len() - 1];
                let name = unquote(literal)?;
                return Some((&text[..open - 1], name));
            }
            search = open;
        }
        return None;
    }
    let dot = text.rfind('.')?;
    let name = &text[dot + 1..];
    if name.is_empty() || name.contains('[') {
        return None;
    }
    Some((&text[..dot], name.to_string()))
}

/// A quoted JSONPath name literal's text (`'a'` or `"a"`, with escapes).
fn unquote(literal: &str) -> Option<String> {
    let inner = literal.get(1..literal.len().checked_sub(1)?)?;
    if literal.starts_with('"') {
        serde_json::from_str(literal).ok()
    } else {
        // Single quotes: RFC 9535 allows \' inside; reuse JSON's escapes.
        let swapped = inner.replace("\\'", "'").replace('"', "\\\"");
        serde_json::from_str(&format!("\"{swapped}\"")).ok()
    }
}

/// The node at `loc`.
pub fn get<'a>(doc: &'a Value, loc: &[Step]) -> Option<&'a Value> {
    loc.iter().try_fold(doc, |v, step| match step {
        Step::Key(k) => v.as_object()?.get(k),
        Step::Index(i) => v.as_array()?.get(*i),
    })
}

/// The node at `loc`, for editing.
pub fn get_mut<'a>(doc: &'a mut Value, loc: &[Step]) -> Option<&'a mut Value> {
    loc.iter().try_fold(doc, |v, step| match step {
        Step::Key(k) => v.as_object_mut()?.get_mut(k),
        Step::Index(i) => v.as_array_mut()?.get_mut(*i),
    })
}

/// Removes the node at `loc` (not the root); whether it was there.
pub fn remove(doc: &mut Value, loc: &[Step]) -> bool {
    let Some((last, parent)) = loc.split_last() else {
        return false;
    };
    match (get_mut(doc, parent), last) {
        (Some(Value::Object(map)), Step::Key(k)) => map.shift_remove(k).is_some(),
        (Some(Value::Array(items)), Step::Index(i)) if *i < items.len() => {
            items.remove(*i);
            true
        }
        _ => false,
    }
}

fn compare_steps(a: &[Step], b: &[Step]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (Step::Index(i), Step::Index(j)) => i.cmp(j),
            (Step::Key(k), Step::Key(l)) => k.cmp(l),
            (Step::Key(_), Step::Index(_)) => Ordering::Less,
            (Step::Index(_), Step::Key(_)) => Ordering::Greater,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// Orders locations so that editing one (removing or inserting array
/// items) never moves a later one: higher indices and deeper nodes first.
pub fn order_for_mutation(locs: &mut [Location]) {
    locs.sort_by(|a, b| compare_steps(b, a));
}

/// Like [`order_for_mutation`], keeping each location's position in the
/// original list (for replies in document order).
pub fn order_indexed_for_mutation(locs: &mut [(usize, Location)]) {
    locs.sort_by(|a, b| compare_steps(&b.1, &a.1));
}

/// For deletion: mutation order, without nodes inside another deleted
/// node.
pub fn prepare_for_delete(mut locs: Vec<Location>) -> Vec<Location> {
    let all = locs.clone();
    locs.retain(|l| !all.iter().any(|o| o.len() < l.len() && l.starts_with(o)));
    order_for_mutation(&mut locs);
    locs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn legacy_and_jsonpath_reading() {
        for (text, legacy, normalized) in [
            (".", true, "$"),
            ("$", false, "$"),
            (".a.b", true, "$.a.b"),
            ("a.b", true, "$.a.b"),
            ("[0]", true, "$[0]"),
            ("$.a[1]", false, "$.a[1]"),
        ] {
            let p = Path::parse(text.as_bytes()).unwrap();
            assert_eq!(p.is_legacy(), legacy, "{text}");
            assert_eq!(p.normalized, normalized, "{text}");
        }
        assert!(matches!(
            Path::parse(b"$.a[").unwrap_err(),
            JsonError::PathSyntax(..)
        ));
    }

    #[test]
    fn locations_and_edits() {
        let mut doc = json!({"a": [1, {"b": 2}], "c": {"b": 3}});
        let p = Path::parse(b"$..b").unwrap();
        let locs = p.locate(&doc);
        assert_eq!(locs.len(), 2);
        // Document order: members in insertion order, depth first.
        assert_eq!(p.values(&doc), vec![&json!(2), &json!(3)]);
        *get_mut(&mut doc, &locs[1]).unwrap() = json!(9);
        assert_eq!(doc["c"]["b"], json!(9));
        let mut all = Path::parse(b"$.a[*]").unwrap().locate(&doc);
        order_for_mutation(&mut all);
        assert_eq!(all[0], vec![Step::Key("a".into()), Step::Index(1)]);
        assert!(remove(&mut doc, &all[0]));
        assert_eq!(doc["a"], json!([1]));
    }

    #[test]
    fn add_targets() {
        let p = Path::parse(b"$.a.b").unwrap();
        match p.add_target().unwrap() {
            AddTarget::Member { key, .. } => assert_eq!(key, "b"),
            AddTarget::Index => panic!("member expected"),
        }
        let p = Path::parse(b"$['x y']").unwrap();
        match p.add_target().unwrap() {
            AddTarget::Member { key, .. } => assert_eq!(key, "x y"),
            AddTarget::Index => panic!("member expected"),
        }
        assert!(matches!(
            Path::parse(b"$.a[3]").unwrap().add_target().unwrap(),
            AddTarget::Index
        ));
        assert_eq!(
            Path::parse(b"$..a").unwrap().add_target().err(),
            Some(JsonError::WrongStaticPath)
        );
    }
}
