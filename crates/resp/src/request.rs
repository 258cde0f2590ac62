//! Parsing client requests from the read buffer.

use bytes::{Buf, Bytes, BytesMut};

use crate::inline::split_args;
use crate::number::parse_i64;
use crate::ProtocolError;

/// How far ahead of the bytes already received the parser asks the buffer
/// to grow while a large bulk argument arrives. Growing by the declared
/// length instead would let one header line claim 512 MiB per connection.
const RESERVE_AHEAD: usize = 1024 * 1024;

/// Redis preallocates at most this many argument slots, whatever `*N` says.
const ARGV_PREALLOC: usize = 1024;

/// Redis's caps for a client that still has to authenticate, so that a
/// stranger cannot make the server buffer large requests.
const UNAUTH_MAX_MULTIBULK: i64 = 10;
const UNAUTH_MAX_BULK: i64 = 16384;

/// Size limits on requests, Redis's config values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `proto-max-bulk-len`: the longest accepted argument. Default 512 MiB.
    pub max_bulk_len: usize,
    /// The most arguments in one multibulk request. Default `i32::MAX`,
    /// Redis 7's `INT_MAX` (Redis 6 and older capped it at 1024*1024).
    pub max_multibulk_len: usize,
    /// `PROTO_INLINE_MAX_SIZE`: the longest inline request line, and the
    /// longest `*N`/`$N` header line. Default 64 KiB.
    pub max_inline_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_multibulk_len: i32::MAX as usize,
            max_inline_len: 64 * 1024,
        }
    }
}

/// A multibulk request whose header has been read but not all its arguments.
#[derive(Debug)]
struct Multibulk {
    /// Arguments still to come.
    remaining: usize,
    args: Vec<Bytes>,
    /// Total length of `args`.
    args_len: usize,
    /// Length of the argument whose `$len` line has been read, if any.
    bulk_len: Option<usize>,
}

/// Reads requests off a connection's read buffer, one at a time.
///
/// Feed it the same `BytesMut` on every call, appending newly read bytes to
/// the end and never touching bytes already there: the parser takes the
/// bytes of a complete request out of the buffer, and may take the bytes of
/// an incomplete multibulk request too, keeping what it has read so far, so
/// each call costs time for the new bytes only. A 500 MB argument arriving
/// in 16 KB reads is checked in O(1) per read, not rescanned.
///
/// Multibulk arguments are zero-copy slices of the buffer. Inline arguments
/// are copied, since quotes and escapes rewrite them.
///
/// After a [`ProtocolError`] the stream cannot be resynchronised: reply
/// with the error (see [`ProtocolError::to_reply`]) and close the connection,
/// as Redis does.
#[derive(Debug, Default)]
pub struct RequestParser {
    pending: Option<Multibulk>,
    /// Bytes at the front of the buffer known to hold no line end, so a long
    /// line trickling in is not searched from its start on every call.
    scanned: usize,
    auth_required: bool,
}

impl RequestParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the client must still authenticate (Redis's `authRequired`).
    /// While set, a multibulk request may have at most 10 arguments of at
    /// most 16384 bytes each; larger ones fail with
    /// [`ProtocolError::UnauthenticatedMultibulkLength`] or
    /// [`ProtocolError::UnauthenticatedBulkLength`]. Off by default.
    pub fn set_auth_required(&mut self, required: bool) {
        self.auth_required = required;
    }

    /// True while part of a multibulk request has been read and taken out
    /// of the buffer.
    pub fn is_mid_request(&self) -> bool {
        self.pending.is_some()
    }

    /// Bytes of arguments of the incomplete request held by the parser (no
    /// longer in the buffer); add it to the buffer's length to account for
    /// a client's whole query buffer.
    pub fn pending_args_len(&self) -> usize {
        self.pending.as_ref().map_or(0, |m| m.args_len)
    }

    /// Parses one complete request from the front of `buf`, consuming its
    /// bytes. `Ok(None)` means more bytes are needed.
    ///
    /// Empty inline lines and `*0`/`*-1` multibulks are skipped, as Redis
    /// skips them: the result is the request after them, or `None`.
    pub fn parse(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let result = self.parse_inner(buf, limits);
        if result.is_err() {
            self.pending = None;
            self.scanned = 0;
        }
        result
    }

    fn parse_inner(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        loop {
            if self.pending.is_some() {
                return self.parse_bulks(buf, limits);
            }
            match buf.first() {
                None => return Ok(None),
                Some(b'*') => {
                    if !self.parse_multibulk_header(buf, limits)? {
                        return Ok(None);
                    }
                }
                Some(_) => match self.parse_inline(buf, limits)? {
                    Inline::Incomplete => return Ok(None),
                    Inline::Empty => {}
                    Inline::Request(args) => return Ok(Some(args)),
                },
            }
        }
    }

    /// Finds the first `target` byte not preceded by a NUL.
    ///
    /// Redis looks for line ends with `strchr` on its NUL-terminated buffer,
    /// so a NUL hides everything after it and the line never ends; the
    /// client then waits until the size limit closes the connection. We do
    /// the same rather than accept lines Redis would not.
    fn find_line_end(&mut self, buf: &[u8], target: u8) -> Option<usize> {
        // A shorter buffer than before means the caller broke the append-only
        // contract; starting over keeps the answer right for the new bytes.
        let start = if self.scanned <= buf.len() {
            self.scanned
        } else {
            0
        };
        let rest = buf.get(start..).unwrap_or_default();
        match rest.iter().position(|&b| b == target || b == 0) {
            Some(i) => {
                let pos = start + i;
                self.scanned = pos;
                (buf.get(pos) == Some(&target)).then_some(pos)
            }
            None => {
                self.scanned = buf.len();
                None
            }
        }
    }

    fn consume(&mut self, buf: &mut BytesMut, n: usize) {
        buf.advance(n.min(buf.len()));
        self.scanned = 0;
    }

    /// Reads a `*N\r\n` line. Returns false when the line is incomplete.
    fn parse_multibulk_header(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<bool, ProtocolError> {
        let Some(cr) = self.find_line_end(buf, b'\r') else {
            if buf.len() > limits.max_inline_len {
                return Err(ProtocolError::TooBigMbulkCountString);
            }
            return Ok(false);
        };
        // Redis needs one byte after the CR and skips it unchecked; it need
        // not be LF.
        if cr + 2 > buf.len() {
            return Ok(false);
        }
        let count = buf
            .get(1..cr)
            .and_then(parse_i64)
            .ok_or(ProtocolError::InvalidMultibulkLength)?;
        if count > clamp_i64(limits.max_multibulk_len) {
            return Err(ProtocolError::InvalidMultibulkLength);
        }
        if self.auth_required && count > UNAUTH_MAX_MULTIBULK {
            return Err(ProtocolError::UnauthenticatedMultibulkLength);
        }
        self.consume(buf, cr + 2);
        if count > 0 {
            let count =
                usize::try_from(count).map_err(|_| ProtocolError::InvalidMultibulkLength)?;
            self.pending = Some(Multibulk {
                remaining: count,
                args: Vec::with_capacity(count.min(ARGV_PREALLOC)),
                args_len: 0,
                bulk_len: None,
            });
        }
        Ok(true)
    }

    /// Reads `$len\r\n<bytes>\r\n` elements until the request is complete or
    /// the buffer runs out.
    fn parse_bulks(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        loop {
            let bulk_len = match self.pending.as_ref().and_then(|m| m.bulk_len) {
                Some(len) => len,
                None => match self.parse_bulk_header(buf, limits)? {
                    Some(len) => len,
                    None => return Ok(None),
                },
            };
            let needed = bulk_len.saturating_add(2);
            if buf.len() < needed {
                buf.reserve((needed - buf.len()).min(RESERVE_AHEAD));
                return Ok(None);
            }
            let arg = buf.split_to(bulk_len).freeze();
            // Like Redis, the two bytes after the data are skipped unchecked.
            self.consume(buf, 2);
            let Some(m) = self.pending.as_mut() else {
                return Ok(None);
            };
            m.args_len += arg.len();
            m.args.push(arg);
            m.bulk_len = None;
            m.remaining -= 1;
            if m.remaining == 0 {
                return Ok(self.pending.take().map(|m| m.args));
            }
        }
    }

    /// Reads a `$len\r\n` line, recording the length in the pending request.
    fn parse_bulk_header(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<usize>, ProtocolError> {
        let Some(cr) = self.find_line_end(buf, b'\r') else {
            if buf.len() > limits.max_inline_len {
                return Err(ProtocolError::TooBigBulkCountString);
            }
            return Ok(None);
        };
        if cr + 2 > buf.len() {
            return Ok(None);
        }
        match buf.first() {
            Some(b'$') => {}
            Some(&other) => return Err(ProtocolError::ExpectedDollar(other)),
            None => return Ok(None),
        }
        let len = buf
            .get(1..cr)
            .and_then(parse_i64)
            .ok_or(ProtocolError::InvalidBulkLength)?;
        if len < 0 || len > clamp_i64(limits.max_bulk_len) {
            return Err(ProtocolError::InvalidBulkLength);
        }
        if self.auth_required && len > UNAUTH_MAX_BULK {
            return Err(ProtocolError::UnauthenticatedBulkLength);
        }
        let len = usize::try_from(len).map_err(|_| ProtocolError::InvalidBulkLength)?;
        self.consume(buf, cr + 2);
        if let Some(m) = self.pending.as_mut() {
            m.bulk_len = Some(len);
        }
        Ok(Some(len))
    }

    fn parse_inline(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Inline, ProtocolError> {
        let Some(lf) = self.find_line_end(buf, b'\n') else {
            if buf.len() > limits.max_inline_len {
                return Err(ProtocolError::TooBigInlineRequest);
            }
            return Ok(Inline::Incomplete);
        };
        let end = if lf > 0 && buf.get(lf - 1) == Some(&b'\r') {
            lf - 1
        } else {
            lf
        };
        let line = buf.get(..end).unwrap_or_default();
        let args = split_args(line).ok_or(ProtocolError::UnbalancedQuotes)?;
        self.consume(buf, lf + 1);
        if args.is_empty() {
            return Ok(Inline::Empty);
        }
        Ok(Inline::Request(args.into_iter().map(Bytes::from).collect()))
    }
}

enum Inline {
    Incomplete,
    Empty,
    Request(Vec<Bytes>),
}

fn clamp_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use bytes::{Bytes, BytesMut};

    use super::{Limits, RequestParser};
    use crate::ProtocolError;

    type Parsed = Result<Option<Vec<Bytes>>, ProtocolError>;

    fn args(list: &[&[u8]]) -> Vec<Bytes> {
        list.iter().map(|a| Bytes::copy_from_slice(a)).collect()
    }

    /// Parses everything in `input`, stopping at the first error.
    fn parse_all(input: &[u8]) -> (Vec<Vec<Bytes>>, Option<ProtocolError>, BytesMut) {
        let mut p = RequestParser::new();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        loop {
            match p.parse(&mut buf, &Limits::default()) {
                Ok(Some(req)) => out.push(req),
                Ok(None) => return (out, None, buf),
                Err(e) => return (out, Some(e), buf),
            }
        }
    }

    fn one(input: &[u8]) -> Parsed {
        RequestParser::new().parse(&mut BytesMut::from(input), &Limits::default())
    }

    fn err(input: &[u8]) -> ProtocolError {
        let (_, e, _) = parse_all(input);
        e.unwrap_or_else(|| panic!("{:?} should fail", String::from_utf8_lossy(input)))
    }

    #[test]
    fn single_multibulk() {
        assert_eq!(
            one(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n"),
            Ok(Some(args(&[b"SET", b"k", b"value"])))
        );
    }

    #[test]
    fn consumes_exactly_one_request() {
        let mut buf = BytesMut::from(&b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPI"[..]);
        let mut p = RequestParser::new();
        let l = Limits::default();
        assert_eq!(p.parse(&mut buf, &l), Ok(Some(args(&[b"PING"]))));
        assert_eq!(&buf[..], b"*1\r\n$4\r\nPI");
        assert_eq!(p.parse(&mut buf, &l), Ok(None));
        assert!(p.is_mid_request());
        buf.extend_from_slice(b"NG\r\n");
        assert_eq!(p.parse(&mut buf, &l), Ok(Some(args(&[b"PING"]))));
        assert!(buf.is_empty());
        assert!(!p.is_mid_request());
    }

    #[test]
    fn pipelined() {
        let input = b"*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nECHO \"a b\"\n";
        let (reqs, e, rest) = parse_all(input);
        assert_eq!(e, None);
        assert!(rest.is_empty());
        assert_eq!(
            reqs,
            vec![
                args(&[b"PING"]),
                args(&[b"PING"]),
                args(&[b"ECHO", b"hi"]),
                args(&[b"ECHO", b"a b"]),
            ]
        );
    }

    #[test]
    fn byte_at_a_time() {
        let input: &[u8] =
            b"*2\r\n$4\r\nECHO\r\n$5\r\nhe\r\no\r\nSET a 'b c'\r\n\r\n*0\r\n*1\r\n$0\r\n\r\n";
        let mut p = RequestParser::new();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for &b in input {
            buf.extend_from_slice(&[b]);
            while let Some(req) = p.parse(&mut buf, &Limits::default()).unwrap() {
                out.push(req);
            }
        }
        assert_eq!(
            out,
            vec![
                args(&[b"ECHO", b"he\r\no"]),
                args(&[b"SET", b"a", b"b c"]),
                args(&[b""]),
            ]
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn binary_safe_bulks() {
        let mut input = b"*2\r\n$3\r\nSET\r\n$256\r\n".to_vec();
        let all: Vec<u8> = (0..=255).collect();
        input.extend_from_slice(&all);
        input.extend_from_slice(b"\r\n");
        assert_eq!(one(&input), Ok(Some(args(&[b"SET", &all]))));
        // NUL, CR and LF inside a bulk are data, and so is a '*' or '$'.
        assert_eq!(
            one(b"*1\r\n$6\r\n\0\r\n*$\n\r\n"),
            Ok(Some(args(&[b"\0\r\n*$\n"])))
        );
    }

    #[test]
    fn arguments_share_the_read_buffer() {
        let mut buf = BytesMut::from(&b"*1\r\n$5\r\nhello\r\n"[..]);
        let base = buf.as_ptr() as usize;
        let req = RequestParser::new()
            .parse(&mut buf, &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!(req[0].as_ptr() as usize, base + 8);
    }

    #[test]
    fn empty_requests_are_skipped() {
        assert_eq!(one(b"*0\r\n"), Ok(None));
        assert_eq!(one(b"*-1\r\n"), Ok(None));
        assert_eq!(one(b"*-5\r\n"), Ok(None));
        assert_eq!(one(b"\r\n"), Ok(None));
        assert_eq!(one(b"\n"), Ok(None));
        assert_eq!(one(b"   \t \r\n"), Ok(None));
        let (reqs, e, rest) = parse_all(b"*0\r\n\r\n*-1\r\n\n  \nPING\r\n");
        assert_eq!((reqs, e), (vec![args(&[b"PING"])], None));
        assert!(rest.is_empty());
    }

    #[test]
    fn empty_bulk_argument() {
        assert_eq!(
            one(b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"),
            Ok(Some(args(&[b"ECHO", b""])))
        );
    }

    #[test]
    fn inline_requests() {
        assert_eq!(one(b"PING\r\n"), Ok(Some(args(&[b"PING"]))));
        assert_eq!(one(b"PING\n"), Ok(Some(args(&[b"PING"]))));
        assert_eq!(one(b"PING"), Ok(None));
        assert_eq!(one(b"PING\r"), Ok(None));
        assert_eq!(
            one(b"SET k \"a\\x00b\\n\" 'it\\'s'\r\n"),
            Ok(Some(args(&[b"SET", b"k", b"a\0b\n", b"it's"])))
        );
        // Only one CR before the LF is part of the line end.
        assert_eq!(one(b"ECHO a\r\r\n"), Ok(Some(args(&[b"ECHO", b"a"]))));
        // An empty quoted argument is kept, as Redis 7 keeps it.
        assert_eq!(one(b"ECHO \"\"\r\n"), Ok(Some(args(&[b"ECHO", b""]))));
        // A CR inside the line separates arguments.
        assert_eq!(
            one(b"ECHO a\rb\r\n"),
            Ok(Some(args(&[b"ECHO", b"a", b"b"])))
        );
    }

    #[test]
    fn byte_after_cr_is_not_checked() {
        // Redis skips two bytes after a header's CR and after bulk data
        // without looking at them.
        assert_eq!(one(b"*1\rX$4\r\nPING\r\n"), Ok(Some(args(&[b"PING"]))));
        assert_eq!(one(b"*1\r\n$4\rXPING\r\n"), Ok(Some(args(&[b"PING"]))));
        assert_eq!(one(b"*1\r\n$4\r\nPINGXY"), Ok(Some(args(&[b"PING"]))));
        // But it must have arrived.
        assert_eq!(one(b"*1\r"), Ok(None));
        assert_eq!(one(b"*1\r\n$4\r"), Ok(None));
        assert_eq!(one(b"*1\r\n$4\r\nPING\r"), Ok(None));
    }

    #[test]
    fn nul_in_a_line_hides_its_end() {
        // Redis's strchr stops at the NUL: the line never ends, and the
        // client waits until the size limit.
        assert_eq!(one(b"ECHO a\0b\r\nPING\r\n"), Ok(None));
        assert_eq!(one(b"*1\0\r\n$4\r\nPING\r\n"), Ok(None));
        assert_eq!(one(b"*1\r\n$4\0\r\nPING\r\n"), Ok(None));
        let mut big = b"ECHO \0".to_vec();
        big.resize(64 * 1024 + 1, b'a');
        assert_eq!(err(&big), ProtocolError::TooBigInlineRequest);
    }

    #[test]
    fn invalid_multibulk_length() {
        for bad in [
            &b"*\r\n"[..],
            b"*x\r\n",
            b"*+1\r\n",
            b"*01\r\n",
            b"*-0\r\n",
            b"*1 \r\n",
            b"* 1\r\n",
            b"*1.0\r\n",
            b"*2147483648\r\n",
            b"*9223372036854775807\r\n",
            b"*99999999999999999999\r\n",
            b"*-9223372036854775809\r\n",
        ] {
            assert_eq!(
                err(bad),
                ProtocolError::InvalidMultibulkLength,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // Redis 7's limit is INT_MAX; the count alone does not allocate.
        assert_eq!(one(b"*2147483647\r\n"), Ok(None));
        let small = Limits {
            max_multibulk_len: 3,
            ..Limits::default()
        };
        let mut p = RequestParser::new();
        assert_eq!(
            p.parse(&mut BytesMut::from(&b"*4\r\n"[..]), &small),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(
            p.parse(&mut BytesMut::from(&b"*3\r\n"[..]), &small),
            Ok(None)
        );
    }

    #[test]
    fn invalid_bulk_length() {
        for bad in [
            &b"*1\r\n$\r\n"[..],
            b"*1\r\n$-1\r\n",
            b"*1\r\n$-0\r\n",
            b"*1\r\n$04\r\n",
            b"*1\r\n$+4\r\n",
            b"*1\r\n$4 \r\n",
            b"*1\r\n$x\r\n",
            b"*1\r\n$536870913\r\n",
            b"*1\r\n$9223372036854775807\r\n",
            b"*1\r\n$-9223372036854775808\r\n",
            b"*1\r\n$99999999999999999999999\r\n",
        ] {
            assert_eq!(
                err(bad),
                ProtocolError::InvalidBulkLength,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(one(b"*1\r\n$536870912\r\n"), Ok(None));
        let small = Limits {
            max_bulk_len: 4,
            ..Limits::default()
        };
        assert_eq!(
            RequestParser::new().parse(&mut BytesMut::from(&b"*1\r\n$5\r\nhello\r\n"[..]), &small),
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(
            RequestParser::new().parse(&mut BytesMut::from(&b"*1\r\n$4\r\nPING\r\n"[..]), &small),
            Ok(Some(args(&[b"PING"])))
        );
    }

    #[test]
    fn expected_dollar() {
        assert_eq!(err(b"*1\r\n:4\r\n"), ProtocolError::ExpectedDollar(b':'));
        assert_eq!(err(b"*1\r\n\r\n"), ProtocolError::ExpectedDollar(b'\r'));
        assert_eq!(err(b"*1\r\n\xff\r\n"), ProtocolError::ExpectedDollar(0xff));
        assert_eq!(
            err(b"*2\r\n$1\r\na\r\n*1\r\n"),
            ProtocolError::ExpectedDollar(b'*')
        );
        // Only judged once the whole line is in.
        assert_eq!(one(b"*1\r\nx"), Ok(None));
        assert_eq!(one(b"*1\r\nxyz\r"), Ok(None));
    }

    #[test]
    fn too_big_header_lines() {
        let mut count = b"*".to_vec();
        count.resize(64 * 1024, b'1');
        assert_eq!(one(&count), Ok(None));
        count.push(b'1');
        assert_eq!(err(&count), ProtocolError::TooBigMbulkCountString);

        let mut bulk = b"*1\r\n$".to_vec();
        bulk.resize(4 + 64 * 1024, b'1');
        assert_eq!(one(&bulk), Ok(None));
        bulk.push(b'1');
        assert_eq!(err(&bulk), ProtocolError::TooBigBulkCountString);

        // The size is judged before the line's first byte.
        let mut junk = b"*1\r\n".to_vec();
        junk.resize(70_000, b'X');
        assert_eq!(err(&junk), ProtocolError::TooBigBulkCountString);

        // Once its CR is in, a long line is judged on its value.
        let mut long = b"*".to_vec();
        long.resize(70_000, b'1');
        long.extend_from_slice(b"\r\n");
        assert_eq!(err(&long), ProtocolError::InvalidMultibulkLength);
    }

    #[test]
    fn too_big_inline() {
        let mut line = vec![b'a'; 64 * 1024];
        assert_eq!(one(&line), Ok(None));
        line.push(b'a');
        assert_eq!(err(&line), ProtocolError::TooBigInlineRequest);
        // A long line whose newline is already here is accepted.
        let mut whole = vec![b'a'; 70_000];
        whole.push(b'\n');
        assert_eq!(one(&whole).unwrap().unwrap()[0].len(), 70_000);
        let small = Limits {
            max_inline_len: 4,
            ..Limits::default()
        };
        assert_eq!(
            RequestParser::new().parse(&mut BytesMut::from(&b"PING!"[..]), &small),
            Err(ProtocolError::TooBigInlineRequest)
        );
    }

    #[test]
    fn unbalanced_quotes() {
        assert_eq!(err(b"ECHO \"abc\r\n"), ProtocolError::UnbalancedQuotes);
        assert_eq!(err(b"ECHO \"a\"b\r\n"), ProtocolError::UnbalancedQuotes);
        assert_eq!(err(b"ECHO 'a\r\n"), ProtocolError::UnbalancedQuotes);
        // Not judged before the line is complete.
        assert_eq!(one(b"ECHO \"abc"), Ok(None));
    }

    #[test]
    fn requests_before_an_error_are_returned() {
        let (reqs, e, _) = parse_all(b"PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$-2\r\n");
        assert_eq!(reqs, vec![args(&[b"PING"]), args(&[b"PING"])]);
        assert_eq!(e, Some(ProtocolError::InvalidBulkLength));
    }

    #[test]
    fn huge_declared_bulk_does_not_allocate_it() {
        let mut buf = BytesMut::from(&b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$500000000\r\nabc"[..]);
        let mut p = RequestParser::new();
        assert_eq!(p.parse(&mut buf, &Limits::default()), Ok(None));
        assert!(buf.capacity() <= 2 * 1024 * 1024, "{}", buf.capacity());
        assert_eq!(p.pending_args_len(), 4);
    }

    #[test]
    fn huge_declared_count_does_not_allocate_it() {
        let mut buf = BytesMut::from(&b"*2147483647\r\n$1\r\na\r\n"[..]);
        let mut p = RequestParser::new();
        assert_eq!(p.parse(&mut buf, &Limits::default()), Ok(None));
        let pending = p.pending.as_ref().unwrap();
        assert!(pending.args.capacity() <= 1024);
        assert_eq!(pending.remaining, 2147483646);
    }

    #[test]
    fn big_bulk_in_small_reads() {
        let len = 3 * 1024 * 1024 + 17;
        let mut input = format!("*2\r\n$3\r\nSET\r\n${len}\r\n").into_bytes();
        input.extend((0..len).map(|i| (i % 251) as u8));
        input.extend_from_slice(b"\r\n");
        let mut p = RequestParser::new();
        let mut buf = BytesMut::new();
        let mut got = None;
        for chunk in input.chunks(16 * 1024) {
            buf.extend_from_slice(chunk);
            if let Some(req) = p.parse(&mut buf, &Limits::default()).unwrap() {
                assert!(got.is_none());
                got = Some(req);
            }
        }
        let req = got.unwrap();
        assert_eq!(req.len(), 2);
        assert_eq!(req[1].len(), len);
        assert!(req[1]
            .iter()
            .enumerate()
            .all(|(i, &b)| b == (i % 251) as u8));
        assert!(buf.is_empty());
    }

    #[test]
    fn trickled_line_is_not_rescanned() {
        // Not a timing test: checks that the remembered scan position stays
        // correct while a line and then its end arrive byte by byte.
        let mut p = RequestParser::new();
        let mut buf = BytesMut::new();
        for &b in b"SET key value".iter() {
            buf.extend_from_slice(&[b]);
            assert_eq!(p.parse(&mut buf, &Limits::default()), Ok(None));
        }
        buf.extend_from_slice(b"\r");
        assert_eq!(p.parse(&mut buf, &Limits::default()), Ok(None));
        buf.extend_from_slice(b"\n");
        assert_eq!(
            p.parse(&mut buf, &Limits::default()),
            Ok(Some(args(&[b"SET", b"key", b"value"])))
        );
    }

    #[test]
    fn caller_clearing_the_buffer_does_not_panic() {
        let mut p = RequestParser::new();
        let mut buf = BytesMut::from(&b"SET key val"[..]);
        assert_eq!(p.parse(&mut buf, &Limits::default()), Ok(None));
        buf.clear();
        buf.extend_from_slice(b"PING\r\n");
        assert_eq!(
            p.parse(&mut buf, &Limits::default()),
            Ok(Some(args(&[b"PING"])))
        );
    }

    #[test]
    fn unauthenticated_limits() {
        let parse = |input: &[u8], limits: &Limits| {
            let mut p = RequestParser::new();
            p.set_auth_required(true);
            p.parse(&mut BytesMut::from(input), limits)
        };
        let l = Limits::default();
        assert_eq!(parse(b"*10\r\n", &l), Ok(None));
        assert_eq!(
            parse(b"*11\r\n", &l),
            Err(ProtocolError::UnauthenticatedMultibulkLength)
        );
        assert_eq!(parse(b"*1\r\n$16384\r\n", &l), Ok(None));
        assert_eq!(
            parse(b"*1\r\n$16385\r\n", &l),
            Err(ProtocolError::UnauthenticatedBulkLength)
        );
        // The general checks come first, as in Redis.
        assert_eq!(
            parse(b"*2147483648\r\n", &l),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(
            parse(b"*1\r\n$536870913\r\n", &l),
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(
            parse(b"*1\r\n$-1\r\n", &l),
            Err(ProtocolError::InvalidBulkLength)
        );
        // Inline requests are not capped beyond the line length.
        assert_eq!(
            parse(b"a b c d e f g h i j k l\r\n", &l)
                .unwrap()
                .unwrap()
                .len(),
            12
        );
        let mut p = RequestParser::new();
        p.set_auth_required(true);
        p.set_auth_required(false);
        assert_eq!(p.parse(&mut BytesMut::from(&b"*11\r\n"[..]), &l), Ok(None));
    }

    #[test]
    fn parser_is_reset_after_an_error() {
        let mut p = RequestParser::new();
        let mut buf = BytesMut::from(&b"*2\r\n$1\r\na\r\n:x\r\n"[..]);
        assert_eq!(
            p.parse(&mut buf, &Limits::default()),
            Err(ProtocolError::ExpectedDollar(b':'))
        );
        assert!(!p.is_mid_request());
        let mut fresh = BytesMut::from(&b"PING\r\n"[..]);
        assert_eq!(
            p.parse(&mut fresh, &Limits::default()),
            Ok(Some(args(&[b"PING"])))
        );
    }
}
