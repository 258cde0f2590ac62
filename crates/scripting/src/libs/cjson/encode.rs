//! cjson.encode: lua-cjson's encoder.

use super::config::Config;
use super::type_name;
use crate::libs::err;
use mlua::{Table, Value};

/// Deeper than this the encoder stops whatever `encode_max_depth` says:
/// lua-cjson is stopped near there by the Lua stack, Basalt by its own
/// (each level is a Rust call). Redis's default limit is 1000.
const NESTING_LIMIT: i64 = 1000;

pub fn encode(cfg: &Config, array_mt: &Table, v: &Value) -> mlua::Result<Vec<u8>> {
    let mut e = Encoder {
        cfg,
        array_mt,
        out: Vec::new(),
    };
    e.value(v, 0)?;
    Ok(e.out)
}

struct Encoder<'a> {
    cfg: &'a Config,
    array_mt: &'a Table,
    out: Vec<u8>,
}

fn cannot<T>(v: &Value, why: &str) -> mlua::Result<T> {
    err(format!("Cannot serialise {}: {why}", type_name(v)))
}

impl Encoder<'_> {
    fn value(&mut self, v: &Value, depth: i64) -> mlua::Result<()> {
        match v {
            Value::Nil => self.out.extend_from_slice(b"null"),
            Value::LightUserData(p) if p.0.is_null() => self.out.extend_from_slice(b"null"),
            Value::Boolean(b) => self
                .out
                .extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Integer(n) => self.number(*n as f64, v)?,
            Value::Number(n) => self.number(*n, v)?,
            Value::String(s) => string(&s.as_bytes(), &mut self.out),
            Value::Table(t) => {
                let depth = depth + 1;
                if depth > self.cfg.encode_max_depth.get() || depth > NESTING_LIMIT {
                    return err(format!("Cannot serialise, excessive nesting ({depth})"));
                }
                self.table(t, v, depth)?;
            }
            other => return cannot(other, "type not supported"),
        }
        Ok(())
    }

    fn number(&mut self, n: f64, v: &Value) -> mlua::Result<()> {
        if !n.is_finite() {
            match self.cfg.encode_invalid_numbers.get() {
                0 => return cannot(v, "must not be NaN or Inf"),
                // Written out: "nan" (never "-nan"), "inf", "-inf".
                1 if n.is_nan() => {
                    self.out.extend_from_slice(b"nan");
                    return Ok(());
                }
                1 => {}
                _ => {
                    self.out.extend_from_slice(b"null");
                    return Ok(());
                }
            }
        }
        let precision = self.cfg.number_precision.get() as usize;
        self.out.extend_from_slice(fmt_g(n, precision).as_bytes());
        Ok(())
    }

    fn table(&mut self, t: &Table, v: &Value, depth: i64) -> mlua::Result<()> {
        if t.metatable().is_some_and(|m| m == *self.array_mt) {
            return self.array(t, t.raw_len(), depth);
        }
        match self.array_len(t, v)? {
            Some(n) if n > 0 => self.array(t, n, depth),
            _ => self.object(t, depth),
        }
    }

    /// lua-cjson's array test: every key a number k >= 1 with no fraction.
    /// Returns the highest one, or None for an object (also for an
    /// excessively sparse array when `encode_sparse_array` converts those).
    fn array_len(&self, t: &Table, v: &Value) -> mlua::Result<Option<usize>> {
        let mut max = 0usize;
        let mut items = 0usize;
        for pair in t.pairs::<Value, Value>() {
            let (k, _) = pair?;
            let k = match k {
                Value::Integer(n) => n as f64,
                Value::Number(n) => n,
                _ => return Ok(None),
            };
            // Beyond an int lua-cjson's count overflows; an object then.
            if !(k >= 1.0 && k.floor() == k && k <= i32::MAX as f64) {
                return Ok(None);
            }
            max = max.max(k as usize);
            items += 1;
        }
        let cfg = self.cfg;
        let ratio = cfg.sparse_ratio.get() as usize;
        if ratio > 0 && max > items * ratio && max > cfg.sparse_safe.get() as usize {
            if !cfg.sparse_convert.get() {
                return cannot(v, "excessively sparse array");
            }
            return Ok(None);
        }
        Ok(Some(max))
    }

    fn array(&mut self, t: &Table, n: usize, depth: i64) -> mlua::Result<()> {
        self.out.push(b'[');
        for i in 1..=n {
            if i > 1 {
                self.out.push(b',');
            }
            self.value(&t.raw_get::<Value>(i)?, depth)?;
        }
        self.out.push(b']');
        Ok(())
    }

    fn object(&mut self, t: &Table, depth: i64) -> mlua::Result<()> {
        self.out.push(b'{');
        let mut first = true;
        for pair in t.pairs::<Value, Value>() {
            let (k, v) = pair?;
            if !first {
                self.out.push(b',');
            }
            first = false;
            match &k {
                Value::String(s) => string(&s.as_bytes(), &mut self.out),
                Value::Integer(n) => {
                    self.out.push(b'"');
                    self.number(*n as f64, &k)?;
                    self.out.push(b'"');
                }
                Value::Number(n) => {
                    self.out.push(b'"');
                    self.number(*n, &k)?;
                    self.out.push(b'"');
                }
                other => return cannot(other, "table key must be a number or string"),
            }
            self.out.push(b':');
            self.value(&v, depth)?;
        }
        self.out.push(b'}');
        Ok(())
    }
}

/// A JSON string with lua-cjson's escapes: `"`, `\`, `/`, the control
/// characters and DEL; other bytes (UTF-8 or not) as they are.
fn string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            c if c < 0x20 || c == 0x7f => {
                out.extend_from_slice(format!("\\u{c:04x}").as_bytes());
            }
            c => out.push(c),
        }
    }
    out.push(b'"');
}

/// C's `%.<prec>g`.
pub fn fmt_g(n: f64, prec: usize) -> String {
    if n.is_infinite() {
        return if n < 0.0 { "-inf" } else { "inf" }.into();
    }
    if n == 0.0 {
        return if n.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let sci = format!("{:.*e}", prec - 1, n);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let m = trim_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{n:.decimals$}")).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::fmt_g;

    #[test]
    fn percent_g() {
        assert_eq!(fmt_g(1.5, 14), "1.5");
        assert_eq!(fmt_g(1e100, 14), "1e+100");
        assert_eq!(fmt_g(0.1, 14), "0.1");
        assert_eq!(fmt_g(123456789012345.0, 14), "1.2345678901234e+14");
        assert_eq!(fmt_g(100.0, 14), "100");
        assert_eq!(fmt_g(0.0001, 14), "0.0001");
        assert_eq!(fmt_g(0.00001, 14), "1e-05");
        assert_eq!(fmt_g(-2.0, 14), "-2");
        assert_eq!(fmt_g(123456789012345678.0, 3), "1.23e+17");
        assert_eq!(fmt_g(f64::NEG_INFINITY, 14), "-inf");
    }
}
