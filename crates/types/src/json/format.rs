//! Printing documents as RedisJSON prints them. Without options the text
//! is compact; INDENT, NEWLINE and SPACE follow RedisJSON's formatter: a
//! new line (plus one indent per level) before each member or item and
//! before the closing bracket of a non-empty container, SPACE after `:`.
//! Numbers are serde_json's (integers as integers, floats in their
//! shortest round-trip form, `1.0` keeping its `.0`), as RedisJSON's.

use serde::Serialize;
use serde_json::ser::Formatter;
use serde_json::Value;
use std::io;

/// JSON.GET's INDENT, NEWLINE and SPACE strings.
#[derive(Clone, Debug, Default)]
pub struct Style {
    pub indent: Option<Vec<u8>>,
    pub newline: Option<Vec<u8>>,
    pub space: Option<Vec<u8>>,
}

struct RedisJsonFormatter<'a> {
    style: &'a Style,
    depth: usize,
    has_value: bool,
}

impl RedisJsonFormatter<'_> {
    fn new_line<W: ?Sized + io::Write>(&self, w: &mut W) -> io::Result<()> {
        if let Some(n) = &self.style.newline {
            w.write_all(n)?;
        }
        if let Some(i) = &self.style.indent {
            for _ in 0..self.depth {
                w.write_all(i)?;
            }
        }
        Ok(())
    }
}

impl Formatter for RedisJsonFormatter<'_> {
    // RedisJSON's serde_json prints floats with ryu (`1e20`); newer
    // serde_json releases print `1e+20`.
    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        if value.is_finite() {
            w.write_all(ryu::Buffer::new().format_finite(value).as_bytes())
        } else {
            w.write_all(b"null")
        }
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(b"[")
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.new_line(w)?;
        }
        w.write_all(b"]")
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        self.new_line(w)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(b"{")
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.new_line(w)?;
        }
        w.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        self.new_line(w)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b":")?;
        if let Some(s) = &self.style.space {
            w.write_all(s)?;
        }
        Ok(())
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// `value` as text in `style` (the default style is compact).
pub fn to_text<T: Serialize + ?Sized>(value: &T, style: &Style) -> Vec<u8> {
    let mut out = Vec::new();
    let formatter = RedisJsonFormatter {
        style,
        depth: 0,
        has_value: false,
    };
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Writing into a Vec fails only for non-string map keys, which a
    // Value never has.
    let _ = value.serialize(&mut ser);
    out
}

/// `value` as compact text.
pub fn compact(value: &Value) -> Vec<u8> {
    to_text(value, &Style::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compact_numbers_as_redisjson() {
        let v: Value =
            serde_json::from_str(r#"[1, 1.0, 2.5, 1e20, 12345678901234567890]"#).unwrap();
        assert_eq!(
            String::from_utf8(compact(&v)).unwrap(),
            "[1,1.0,2.5,1e20,12345678901234567890]"
        );
    }

    #[test]
    fn indent_newline_space() {
        let v = json!({"a": [1, {}], "b": {"c": []}});
        let style = Style {
            indent: Some(b"\t".to_vec()),
            newline: Some(b"\n".to_vec()),
            space: Some(b" ".to_vec()),
        };
        assert_eq!(
            String::from_utf8(to_text(&v, &style)).unwrap(),
            "{\n\t\"a\": [\n\t\t1,\n\t\t{}\n\t],\n\t\"b\": {\n\t\t\"c\": []\n\t}\n}"
        );
    }
}
