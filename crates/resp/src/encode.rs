//! Writing a [`Reply`] as RESP2 or RESP3 bytes.

use bytes::{BufMut, BytesMut};

use crate::double::DoubleText;
use crate::{Protocol, Reply};

const CRLF: &[u8] = b"\r\n";

impl Reply {
    /// Appends this reply to `out` in the given protocol version.
    ///
    /// Numbers are formatted on the stack; the only allocation is `out`
    /// growing.
    pub fn encode(&self, proto: Protocol, out: &mut BytesMut) {
        let resp3 = proto == Protocol::Resp3;
        match self {
            Reply::Simple(s) => write_line(out, b'+', s.as_bytes()),
            Reply::Error(s) => {
                let text = s.as_bytes();
                if text.first() == Some(&b'-') {
                    write_line_sanitized(out, None, text);
                } else {
                    write_line_sanitized(out, Some(b'-'), text);
                }
            }
            Reply::Integer(n) => write_int(out, b':', *n),
            Reply::Bulk(b) => write_bulk(out, b),
            Reply::Null => out.put_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" }),
            Reply::NullArray => out.put_slice(if resp3 { b"_\r\n" } else { b"*-1\r\n" }),
            Reply::Array(items) => write_aggregate(out, b'*', items, proto),
            Reply::Set(items) => {
                write_aggregate(out, if resp3 { b'~' } else { b'*' }, items, proto)
            }
            Reply::Push(items) => {
                write_aggregate(out, if resp3 { b'>' } else { b'*' }, items, proto)
            }
            Reply::Map(pairs) => {
                if resp3 {
                    write_len(out, b'%', pairs.len());
                } else {
                    write_len(out, b'*', pairs.len().saturating_mul(2));
                }
                for (k, v) in pairs {
                    k.encode(proto, out);
                    v.encode(proto, out);
                }
            }
            Reply::Double(d) => {
                let text = DoubleText::new(*d);
                if resp3 {
                    out.reserve(text.as_bytes().len() + 3);
                    out.put_u8(b',');
                    out.put_slice(text.as_bytes());
                    out.put_slice(CRLF);
                } else {
                    write_bulk(out, text.as_bytes());
                }
            }
            Reply::Bool(b) => out.put_slice(match (resp3, b) {
                (true, true) => b"#t\r\n",
                (true, false) => b"#f\r\n",
                (false, true) => b":1\r\n",
                (false, false) => b":0\r\n",
            }),
            Reply::Verbatim(format, text) => {
                if resp3 {
                    write_len(out, b'=', text.len() + 4);
                    // Redis's addReplyVerbatim: exactly three format bytes,
                    // padded with spaces when the given format is shorter.
                    let mut fmt = [b' '; 3];
                    for (slot, &b) in fmt.iter_mut().zip(format.as_bytes()) {
                        *slot = b;
                    }
                    out.reserve(4 + text.len() + 2);
                    out.put_slice(&fmt);
                    out.put_u8(b':');
                    out.put_slice(text);
                    out.put_slice(CRLF);
                } else {
                    write_bulk(out, text);
                }
            }
            Reply::Raw(b) => out.put_slice(b),
        }
    }
}

fn write_int(out: &mut BytesMut, prefix: u8, n: i64) {
    let mut ib = itoa::Buffer::new();
    let digits = ib.format(n).as_bytes();
    out.reserve(digits.len() + 3);
    out.put_u8(prefix);
    out.put_slice(digits);
    out.put_slice(CRLF);
}

fn write_len(out: &mut BytesMut, prefix: u8, n: usize) {
    let mut ib = itoa::Buffer::new();
    let digits = ib.format(n).as_bytes();
    out.reserve(digits.len() + 3);
    out.put_u8(prefix);
    out.put_slice(digits);
    out.put_slice(CRLF);
}

fn write_bulk(out: &mut BytesMut, data: &[u8]) {
    write_len(out, b'$', data.len());
    out.reserve(data.len() + 2);
    out.put_slice(data);
    out.put_slice(CRLF);
}

fn write_aggregate(out: &mut BytesMut, prefix: u8, items: &[Reply], proto: Protocol) {
    write_len(out, prefix, items.len());
    for item in items {
        item.encode(proto, out);
    }
}

fn write_line(out: &mut BytesMut, prefix: u8, text: &[u8]) {
    write_line_sanitized(out, Some(prefix), text);
}

/// A one-line reply: a CR or LF inside it would end the line early and
/// desynchronise the client, so (as Redis does for errors) they become spaces.
fn write_line_sanitized(out: &mut BytesMut, prefix: Option<u8>, text: &[u8]) {
    out.reserve(text.len() + 3);
    if let Some(p) = prefix {
        out.put_u8(p);
    }
    let mut rest = text;
    while let Some(i) = rest.iter().position(|&b| b == b'\r' || b == b'\n') {
        out.put_slice(&rest[..i]);
        out.put_u8(b' ');
        rest = &rest[i + 1..];
    }
    out.put_slice(rest);
    out.put_slice(CRLF);
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use bytes::{Bytes, BytesMut};

    use crate::{Protocol, Reply};

    fn enc(r: &Reply, proto: Protocol) -> Vec<u8> {
        let mut out = BytesMut::new();
        r.encode(proto, &mut out);
        out.to_vec()
    }

    #[track_caller]
    fn both(r: Reply, resp2: &[u8], resp3: &[u8]) {
        assert_eq!(
            enc(&r, Protocol::Resp2),
            resp2,
            "RESP2 of {r:?}: {:?}",
            String::from_utf8_lossy(&enc(&r, Protocol::Resp2))
        );
        assert_eq!(
            enc(&r, Protocol::Resp3),
            resp3,
            "RESP3 of {r:?}: {:?}",
            String::from_utf8_lossy(&enc(&r, Protocol::Resp3))
        );
    }

    #[test]
    fn simple() {
        both(Reply::ok(), b"+OK\r\n", b"+OK\r\n");
        both(Reply::simple("PONG"), b"+PONG\r\n", b"+PONG\r\n");
        both(Reply::simple(""), b"+\r\n", b"+\r\n");
        both(Reply::simple("a\r\nb"), b"+a  b\r\n", b"+a  b\r\n");
    }

    #[test]
    fn error() {
        both(
            Reply::error("ERR syntax error"),
            b"-ERR syntax error\r\n",
            b"-ERR syntax error\r\n",
        );
        both(
            Reply::error("WRONGTYPE Operation against a key holding the wrong kind of value"),
            b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
            b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        both(
            Reply::error(String::from("ERR bad\r\nthing\nhere\r")),
            b"-ERR bad  thing here \r\n",
            b"-ERR bad  thing here \r\n",
        );
        both(Reply::error("-ERR x"), b"-ERR x\r\n", b"-ERR x\r\n");
    }

    #[test]
    fn integer() {
        both(Reply::Integer(0), b":0\r\n", b":0\r\n");
        both(Reply::Integer(42), b":42\r\n", b":42\r\n");
        both(
            Reply::Integer(i64::MIN),
            b":-9223372036854775808\r\n",
            b":-9223372036854775808\r\n",
        );
        both(
            Reply::Integer(i64::MAX),
            b":9223372036854775807\r\n",
            b":9223372036854775807\r\n",
        );
    }

    #[test]
    fn bulk() {
        both(Reply::bulk("hello"), b"$5\r\nhello\r\n", b"$5\r\nhello\r\n");
        both(Reply::bulk(""), b"$0\r\n\r\n", b"$0\r\n\r\n");
        both(
            Reply::bulk(Bytes::from_static(b"a\r\n\0b")),
            b"$5\r\na\r\n\0b\r\n",
            b"$5\r\na\r\n\0b\r\n",
        );
        both(
            Reply::bulk(vec![b'x'; 1000]),
            &[&b"$1000\r\n"[..], &[b'x'; 1000], b"\r\n"].concat(),
            &[&b"$1000\r\n"[..], &[b'x'; 1000], b"\r\n"].concat(),
        );
    }

    #[test]
    fn nulls() {
        both(Reply::Null, b"$-1\r\n", b"_\r\n");
        both(Reply::NullArray, b"*-1\r\n", b"_\r\n");
    }

    #[test]
    fn array() {
        both(Reply::Array(vec![]), b"*0\r\n", b"*0\r\n");
        both(
            Reply::Array(vec![Reply::bulk("a"), Reply::Integer(1), Reply::Null]),
            b"*3\r\n$1\r\na\r\n:1\r\n$-1\r\n",
            b"*3\r\n$1\r\na\r\n:1\r\n_\r\n",
        );
        both(
            Reply::Array(vec![Reply::Array(vec![Reply::ok()]), Reply::NullArray]),
            b"*2\r\n*1\r\n+OK\r\n*-1\r\n",
            b"*2\r\n*1\r\n+OK\r\n_\r\n",
        );
    }

    #[test]
    fn map() {
        both(Reply::Map(vec![]), b"*0\r\n", b"%0\r\n");
        both(
            Reply::Map(vec![
                (Reply::bulk("a"), Reply::Integer(1)),
                (Reply::bulk("b"), Reply::Double(2.5)),
            ]),
            b"*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n$3\r\n2.5\r\n",
            b"%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n,2.5\r\n",
        );
    }

    #[test]
    fn set() {
        both(Reply::Set(vec![]), b"*0\r\n", b"~0\r\n");
        both(
            Reply::Set(vec![Reply::bulk("x"), Reply::bulk("y")]),
            b"*2\r\n$1\r\nx\r\n$1\r\ny\r\n",
            b"~2\r\n$1\r\nx\r\n$1\r\ny\r\n",
        );
    }

    #[test]
    fn double() {
        both(Reply::Double(1.5), b"$3\r\n1.5\r\n", b",1.5\r\n");
        both(Reply::Double(3.0), b"$1\r\n3\r\n", b",3\r\n");
        both(Reply::Double(-0.0), b"$2\r\n-0\r\n", b",-0\r\n");
        both(Reply::Double(1e20), b"$5\r\n1e+20\r\n", b",1e+20\r\n");
        both(
            Reply::Double(0.1 + 0.2),
            b"$19\r\n0.30000000000000004\r\n",
            b",0.30000000000000004\r\n",
        );
        both(Reply::Double(f64::INFINITY), b"$3\r\ninf\r\n", b",inf\r\n");
        both(
            Reply::Double(f64::NEG_INFINITY),
            b"$4\r\n-inf\r\n",
            b",-inf\r\n",
        );
        both(Reply::Double(f64::NAN), b"$3\r\nnan\r\n", b",nan\r\n");
    }

    #[test]
    fn bool() {
        both(Reply::Bool(true), b":1\r\n", b"#t\r\n");
        both(Reply::Bool(false), b":0\r\n", b"#f\r\n");
    }

    #[test]
    fn verbatim() {
        both(
            Reply::Verbatim(Cow::Borrowed("txt"), Bytes::from_static(b"Some string")),
            b"$11\r\nSome string\r\n",
            b"=15\r\ntxt:Some string\r\n",
        );
        both(
            Reply::Verbatim(Cow::Borrowed("md"), Bytes::from_static(b"x")),
            b"$1\r\nx\r\n",
            b"=5\r\nmd :x\r\n",
        );
        both(
            Reply::Verbatim(Cow::Borrowed("markdown"), Bytes::new()),
            b"$0\r\n\r\n",
            b"=4\r\nmar:\r\n",
        );
    }

    #[test]
    fn push() {
        both(
            Reply::Push(vec![
                Reply::bulk("message"),
                Reply::bulk("ch"),
                Reply::bulk("hi"),
            ]),
            b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
            b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
        );
    }

    #[test]
    fn raw() {
        both(
            Reply::Raw(Bytes::from_static(b"+QUEUED\r\n")),
            b"+QUEUED\r\n",
            b"+QUEUED\r\n",
        );
    }

    #[test]
    fn appends_to_existing_output() {
        let mut out = BytesMut::from(&b"+first\r\n"[..]);
        Reply::Integer(7).encode(Protocol::Resp2, &mut out);
        assert_eq!(&out[..], b"+first\r\n:7\r\n");
    }
}
