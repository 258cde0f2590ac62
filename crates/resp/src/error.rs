//! Protocol errors: a request stream that cannot be parsed.

use std::fmt;

use bytes::Bytes;

use crate::Reply;

/// Why a request stream cannot be parsed. Redis replies with the error and
/// then closes the connection; the parser cannot resynchronise after one.
///
/// `Display` gives Redis's exact text without the `ERR ` code, e.g.
/// `Protocol error: invalid bulk length`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProtocolError {
    /// `*N` where N is not a number or is above
    /// [`Limits::max_multibulk_len`](crate::Limits::max_multibulk_len).
    InvalidMultibulkLength,
    /// `$N` where N is not a number, is negative or is above
    /// [`Limits::max_bulk_len`](crate::Limits::max_bulk_len).
    InvalidBulkLength,
    /// A multibulk element that does not start with `$`; holds the byte found.
    ExpectedDollar(u8),
    /// An inline request line with no newline within
    /// [`Limits::max_inline_len`](crate::Limits::max_inline_len) bytes.
    TooBigInlineRequest,
    /// A `*N` header with no `\r` within `max_inline_len` bytes.
    TooBigMbulkCountString,
    /// A `$N` header with no `\r` within `max_inline_len` bytes.
    TooBigBulkCountString,
    /// An inline request with an unterminated quote, or a closing quote
    /// followed by something other than a space.
    UnbalancedQuotes,
    /// `*N` with N above 10 while the client must still authenticate; see
    /// [`RequestParser::set_auth_required`](crate::RequestParser::set_auth_required).
    UnauthenticatedMultibulkLength,
    /// `$N` with N above 16384 while the client must still authenticate.
    UnauthenticatedBulkLength,
}

impl ProtocolError {
    /// The exact error reply Redis sends, `-ERR Protocol error: ...\r\n`.
    ///
    /// Prefer this over building a [`Reply::Error`] from `Display`: for
    /// [`ExpectedDollar`](Self::ExpectedDollar) with a non-ASCII byte Redis
    /// sends that raw byte, which a `str` cannot carry.
    pub fn to_reply(&self) -> Reply {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(b"-ERR ");
        match self {
            ProtocolError::ExpectedDollar(b) => {
                out.extend_from_slice(b"Protocol error: expected '$', got '");
                // Redis's addReplyErrorFormat blanks CR and LF so the reply
                // stays one line; every other byte goes out as is.
                out.push(if matches!(b, b'\r' | b'\n') { b' ' } else { *b });
                out.push(b'\'');
            }
            other => out.extend_from_slice(other.static_text().as_bytes()),
        }
        out.extend_from_slice(b"\r\n");
        Reply::Raw(Bytes::from(out))
    }

    fn static_text(&self) -> &'static str {
        match self {
            ProtocolError::InvalidMultibulkLength => "Protocol error: invalid multibulk length",
            ProtocolError::InvalidBulkLength => "Protocol error: invalid bulk length",
            ProtocolError::ExpectedDollar(_) => "Protocol error: expected '$'",
            ProtocolError::TooBigInlineRequest => "Protocol error: too big inline request",
            ProtocolError::TooBigMbulkCountString => "Protocol error: too big mbulk count string",
            ProtocolError::TooBigBulkCountString => "Protocol error: too big bulk count string",
            ProtocolError::UnbalancedQuotes => "Protocol error: unbalanced quotes in request",
            ProtocolError::UnauthenticatedMultibulkLength => {
                "Protocol error: unauthenticated multibulk length"
            }
            ProtocolError::UnauthenticatedBulkLength => {
                "Protocol error: unauthenticated bulk length"
            }
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::ExpectedDollar(b) => {
                // A byte above 0x7f is shown as the Latin-1 character of the
                // same value; `to_reply` has the exact bytes.
                let shown = if matches!(b, b'\r' | b'\n') {
                    ' '
                } else {
                    char::from(*b)
                };
                write!(f, "Protocol error: expected '$', got '{shown}'")
            }
            other => f.write_str(other.static_text()),
        }
    }
}

impl std::error::Error for ProtocolError {}

#[cfg(test)]
mod tests {
    use super::ProtocolError::*;
    use crate::Reply;
    use bytes::Bytes;

    #[test]
    fn display_is_redis_text() {
        assert_eq!(
            InvalidMultibulkLength.to_string(),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            InvalidBulkLength.to_string(),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(
            ExpectedDollar(b'x').to_string(),
            "Protocol error: expected '$', got 'x'"
        );
        assert_eq!(
            ExpectedDollar(b'\r').to_string(),
            "Protocol error: expected '$', got ' '"
        );
        assert_eq!(
            TooBigInlineRequest.to_string(),
            "Protocol error: too big inline request"
        );
        assert_eq!(
            TooBigMbulkCountString.to_string(),
            "Protocol error: too big mbulk count string"
        );
        assert_eq!(
            TooBigBulkCountString.to_string(),
            "Protocol error: too big bulk count string"
        );
        assert_eq!(
            UnbalancedQuotes.to_string(),
            "Protocol error: unbalanced quotes in request"
        );
        assert_eq!(
            UnauthenticatedMultibulkLength.to_string(),
            "Protocol error: unauthenticated multibulk length"
        );
        assert_eq!(
            UnauthenticatedBulkLength.to_string(),
            "Protocol error: unauthenticated bulk length"
        );
    }

    #[test]
    fn to_reply_is_redis_bytes() {
        assert_eq!(
            InvalidBulkLength.to_reply(),
            Reply::Raw(Bytes::from_static(
                b"-ERR Protocol error: invalid bulk length\r\n"
            ))
        );
        assert_eq!(
            ExpectedDollar(0xff).to_reply(),
            Reply::Raw(Bytes::from_static(
                b"-ERR Protocol error: expected '$', got '\xff'\r\n"
            ))
        );
        assert_eq!(
            ExpectedDollar(b'\n').to_reply(),
            Reply::Raw(Bytes::from_static(
                b"-ERR Protocol error: expected '$', got ' '\r\n"
            ))
        );
    }
}
