//! The edits and measures of the JSON.* commands on one node, with
//! RedisJSON's rules (index normalization, number arithmetic, merge).

use super::error::JsonError;
use serde_json::{Map, Number, Value};

/// RedisJSON's type names (JSON.TYPE).
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumOp {
    Incr,
    Mult,
}

/// Parses NUMINCRBY's / NUMMULTBY's argument: a JSON number.
pub fn parse_number(arg: &[u8]) -> Result<Number, JsonError> {
    match super::parse(arg)? {
        Value::Number(n) => Ok(n),
        _ => Err(JsonError::BadNumber),
    }
}

/// Applies `op` to the number `v`: integers stay integers while both sides
/// are integers and the result fits 64 bits; otherwise a float.
pub fn num_op(v: &mut Value, by: &Number, op: NumOp) -> Result<Number, JsonError> {
    let Value::Number(cur) = v else {
        return Err(JsonError::Expected("number"));
    };
    let int = |n: &Number| n.as_i64().map(i128::from).or(n.as_u64().map(i128::from));
    let result = match (int(cur), int(by)) {
        (Some(a), Some(b)) => {
            let r = match op {
                NumOp::Incr => a.checked_add(b),
                NumOp::Mult => a.checked_mul(b),
            }
            .ok_or(JsonError::NumericOverflow)?;
            if let Ok(i) = i64::try_from(r) {
                Number::from(i)
            } else if let Ok(u) = u64::try_from(r) {
                Number::from(u)
            } else {
                return Err(JsonError::NumericOverflow);
            }
        }
        _ => {
            let (a, b) = (cur.as_f64().unwrap_or(0.0), by.as_f64().unwrap_or(0.0));
            let r = match op {
                NumOp::Incr => a + b,
                NumOp::Mult => a * b,
            };
            if !r.is_finite() {
                return Err(JsonError::NumericOverflow);
            }
            Number::from_f64(r).ok_or(JsonError::NotANumber)?
        }
    };
    *cur = result.clone();
    Ok(result)
}

/// Appends to a string node; its new length in bytes.
pub fn str_append(v: &mut Value, suffix: &str) -> Result<usize, JsonError> {
    match v {
        Value::String(s) => {
            s.push_str(suffix);
            Ok(s.len())
        }
        _ => Err(JsonError::Expected("string")),
    }
}

/// RedisJSON's `normalize_arr_start_index`.
fn start_index(start: i64, len: i64) -> i64 {
    if start < 0 {
        (len + start).max(0)
    } else {
        start.min(len - 1)
    }
}

/// JSON.ARRINSERT: inserts `items` before `index` (negative from the end;
/// `len` appends); the new length.
pub fn arr_insert(arr: &mut Vec<Value>, index: i64, items: &[Value]) -> Result<usize, JsonError> {
    let len = arr.len() as i64;
    let at = if index < 0 { len + index } else { index };
    if !(0..=len).contains(&at) {
        return Err(JsonError::IndexOutOfBounds);
    }
    let at = at as usize;
    arr.splice(at..at, items.iter().cloned());
    Ok(arr.len())
}

/// JSON.ARRPOP: removes the item at `index` (clamped into the array);
/// `None` for an empty array.
pub fn arr_pop(arr: &mut Vec<Value>, index: i64) -> Option<Value> {
    if arr.is_empty() {
        return None;
    }
    let at = start_index(index, arr.len() as i64) as usize;
    Some(arr.remove(at))
}

/// JSON.ARRTRIM: keeps `start..=stop` (Redis's LTRIM rules); the new length.
pub fn arr_trim(arr: &mut Vec<Value>, start: i64, stop: i64) -> usize {
    let len = arr.len() as i64;
    let norm = |i: i64| {
        if i < 0 {
            (len + i).max(0)
        } else {
            i.min(len - 1)
        }
    };
    let stop = norm(stop);
    let start = if start < 0 || start < len {
        norm(start)
    } else {
        stop + 1
    };
    if start > stop || len == 0 {
        arr.clear();
    } else {
        arr.truncate((stop + 1) as usize);
        arr.drain(..start as usize);
    }
    arr.len()
}

/// JSON.ARRINDEX in one array: the first index of `needle` within
/// `start..end` (0 as end = to the end, negatives from the end), or -1.
pub fn arr_index(arr: &[Value], needle: &Value, start: i64, end: i64) -> i64 {
    let len = arr.len() as i64;
    if len == 0 {
        return -1;
    }
    let start = start_index(start, len);
    let end = match end {
        0 => len,
        e if e < 0 => (len + e).max(0),
        e => e.min(len),
    };
    (start.max(0)..end)
        .find(|&i| json_equal(&arr[i as usize], needle))
        .unwrap_or(-1)
}

/// Equality as ARRINDEX needs it: numbers by value (1 equals 1.0).
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// Whether JSON.CLEAR changes this node: a non-empty container or a
/// non-zero number.
pub fn clearable(v: &Value) -> bool {
    match v {
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Number(n) => n.as_f64() != Some(0.0),
        _ => false,
    }
}

/// JSON.CLEAR on one node.
pub fn clear(v: &mut Value) {
    match v {
        Value::Array(a) => a.clear(),
        Value::Object(o) => o.clear(),
        Value::Number(n) => *n = Number::from(0),
        _ => {}
    }
}

/// JSON.MERGE: RFC 7396 merge patch (a `null` member deletes).
pub fn merge(target: &mut Value, patch: Value) {
    match patch {
        Value::Object(patch) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(map) = target {
                for (k, v) in patch {
                    if v.is_null() {
                        map.shift_remove(&k);
                    } else {
                        merge(map.entry(k).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other,
    }
}

/// An estimate of the bytes a node takes in memory (JSON.DEBUG MEMORY).
/// RedisJSON reports its own allocator's sizes; this follows the same
/// shape (a fixed cost per node, plus strings, arrays and maps).
pub fn memory(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(_) => 8,
        Value::Number(_) => 16,
        Value::String(s) => 16 + s.len(),
        Value::Array(a) => 16 + a.iter().map(memory).sum::<usize>(),
        Value::Object(o) => {
            16 + o
                .iter()
                .map(|(k, v)| 16 + k.len() + memory(v))
                .sum::<usize>()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers() {
        let mut v = json!(2);
        assert_eq!(
            num_op(&mut v, &Number::from(3), NumOp::Incr).unwrap(),
            Number::from(5)
        );
        let half = Number::from_f64(0.5).unwrap();
        assert_eq!(
            num_op(&mut v, &half, NumOp::Incr).unwrap().to_string(),
            "5.5"
        );
        let mut big = json!(i64::MAX);
        assert_eq!(
            num_op(&mut big, &Number::from(i64::MAX), NumOp::Mult),
            Err(JsonError::NumericOverflow)
        );
        let mut f = json!(1.5);
        assert_eq!(
            num_op(&mut f, &Number::from(2), NumOp::Mult)
                .unwrap()
                .to_string(),
            "3.0"
        );
    }

    #[test]
    fn arrays() {
        let mut a = vec![json!(0), json!(1), json!(2), json!(3)];
        assert_eq!(arr_trim(&mut a, 1, -2), 2);
        assert_eq!(a, vec![json!(1), json!(2)]);
        assert_eq!(arr_insert(&mut a, -1, &[json!("x")]).unwrap(), 3);
        assert_eq!(a, vec![json!(1), json!("x"), json!(2)]);
        assert_eq!(
            arr_insert(&mut a, 9, &[json!(1)]),
            Err(JsonError::IndexOutOfBounds)
        );
        assert_eq!(arr_pop(&mut a, 99), Some(json!(2)));
        assert_eq!(arr_index(&a, &json!("x"), 0, 0), 1);
        assert_eq!(arr_index(&a, &json!(1.0), 0, 0), 0);
        assert_eq!(arr_index(&a, &json!(7), 0, 0), -1);
    }

    #[test]
    fn merge_patch() {
        let mut v = json!({"a": 1, "b": {"c": 2}});
        merge(&mut v, json!({"a": null, "b": {"d": 3}, "e": [1]}));
        assert_eq!(v, json!({"b": {"c": 2, "d": 3}, "e": [1]}));
    }
}
