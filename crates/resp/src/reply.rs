//! The reply tree a command produces, independent of protocol version.

use std::borrow::Cow;

use bytes::Bytes;

/// The protocol version a connection speaks (`HELLO 2` / `HELLO 3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Resp2,
    Resp3,
}

/// One reply. Types that exist only in RESP3 are written to a RESP2 client
/// the way Redis downgrades them; see each variant.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// `+OK`. A CR or LF in the text is written as a space, so a reply can
    /// never break the framing.
    Simple(Cow<'static, str>),
    /// The full error text including its code, e.g. `ERR syntax error` or
    /// `WRONGTYPE Operation against a key holding the wrong kind of value`.
    /// A CR or LF in the text is written as a space, as Redis does. A text
    /// that already starts with `-` gets no second one.
    Error(Cow<'static, str>),
    Integer(i64),
    Bulk(Bytes),
    /// A missing string: RESP2 `$-1`, RESP3 `_`.
    Null,
    /// A missing aggregate (e.g. BLPOP timing out): RESP2 `*-1`, RESP3 `_`.
    NullArray,
    Array(Vec<Reply>),
    /// RESP3 `%n`; RESP2 a flat array of 2n elements, key then value.
    Map(Vec<(Reply, Reply)>),
    /// RESP3 `~n`; RESP2 an array.
    Set(Vec<Reply>),
    /// RESP3 `,<d>`; RESP2 a bulk string. Both use [`format_double`](crate::format_double).
    Double(f64),
    /// RESP3 `#t`/`#f`; RESP2 `:1`/`:0`.
    Bool(bool),
    /// RESP3 `=len\r\nfmt:text` where the format (`txt`, `mkd`) is cut or
    /// space-padded to exactly 3 bytes; RESP2 a plain bulk string of the text.
    Verbatim(Cow<'static, str>, Bytes),
    /// RESP3 `>n` out-of-band data (pub/sub messages); RESP2 an array.
    Push(Vec<Reply>),
    /// Bytes that are already RESP, written as they are. The caller answers
    /// for them being valid for the connection's protocol.
    Raw(Bytes),
}

impl Reply {
    /// `+OK`.
    pub fn ok() -> Reply {
        Reply::Simple(Cow::Borrowed("OK"))
    }

    /// A simple string reply.
    pub fn simple(text: impl Into<Cow<'static, str>>) -> Reply {
        Reply::Simple(text.into())
    }

    /// An error reply; `msg` is the full text including the code, e.g.
    /// `"ERR syntax error"`.
    pub fn error(msg: impl Into<Cow<'static, str>>) -> Reply {
        Reply::Error(msg.into())
    }

    /// A bulk string reply.
    pub fn bulk(b: impl Into<Bytes>) -> Reply {
        Reply::Bulk(b.into())
    }
}
