//! The wire protocol, byte for byte: inline commands, pipelining, split
//! requests, malformed input, the connection limits and RESP3.
//!
//! The raw RESP client and the option-aware server start defined here are
//! shared with `connection.rs` and `server_cmds.rs`.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread::sleep;
use std::time::{Duration, Instant};

use basalt_tests::{against_redis, Server};

// ---------------------------------------------------------------------------
// Helpers shared by the connection-level test files
// ---------------------------------------------------------------------------

/// A parsed reply, enough to look inside RESP2 and RESP3 answers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum R {
    /// `+...` simple string.
    Simple(String),
    /// `-...` error (also `!` bulk error).
    Err(String),
    Int(i64),
    Bulk(Vec<u8>),
    /// `$-1`, `*-1` or RESP3 `_`.
    Nil,
    Arr(Vec<R>),
    Map(Vec<(R, R)>),
    Set(Vec<R>),
    /// `=` verbatim string: (format, text).
    Verbatim(String, String),
    /// Any other scalar (`#`, `,`, `(`) with its text.
    Other(char, String),
}

impl R {
    /// The text of a simple, bulk or verbatim string; panics otherwise.
    pub(crate) fn text(&self) -> String {
        match self {
            R::Simple(s) | R::Verbatim(_, s) => s.clone(),
            R::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("expected a string reply, got {other:?}"),
        }
    }

    pub(crate) fn int(&self) -> i64 {
        match self {
            R::Int(i) => *i,
            other => panic!("expected an integer reply, got {other:?}"),
        }
    }

    pub(crate) fn arr(&self) -> &[R] {
        match self {
            R::Arr(a) | R::Set(a) => a,
            other => panic!("expected an array reply, got {other:?}"),
        }
    }

    /// Key/value pairs of a RESP3 map or of a flat RESP2 array of pairs.
    pub(crate) fn pairs(&self) -> Vec<(String, R)> {
        match self {
            R::Map(m) => m.iter().map(|(k, v)| (k.text(), v.clone())).collect(),
            R::Arr(a) => {
                assert!(a.len() % 2 == 0, "odd-length pair array: {a:?}");
                a.chunks(2).map(|p| (p[0].text(), p[1].clone())).collect()
            }
            other => panic!("expected a map reply, got {other:?}"),
        }
    }

    /// The value for `key` in a map (or flat pair array); panics if absent.
    pub(crate) fn get(&self, key: &str) -> R {
        self.pairs()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no field {key:?} in {self:?}"))
    }
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|p| from + p)
}

/// Parses one reply at `buf[pos..]`; `None` while it is incomplete.
fn parse(buf: &[u8], pos: usize) -> Option<(R, usize)> {
    let end = find_crlf(buf, pos)?;
    let kind = buf[pos];
    let line = String::from_utf8_lossy(&buf[pos + 1..end]).into_owned();
    let next = end + 2;
    let len = || -> i64 {
        line.parse()
            .unwrap_or_else(|_| panic!("bad length line {line:?}"))
    };
    let items = |n: i64, mut at: usize| -> Option<(Vec<R>, usize)> {
        let mut v = Vec::new();
        for _ in 0..n {
            let (r, nx) = parse(buf, at)?;
            v.push(r);
            at = nx;
        }
        Some((v, at))
    };
    Some(match kind {
        b'+' => (R::Simple(line), next),
        b'-' => (R::Err(line), next),
        b':' => (R::Int(len()), next),
        b'_' => (R::Nil, next),
        b'#' | b',' | b'(' => (R::Other(kind as char, line), next),
        b'$' | b'=' | b'!' => {
            let n = len();
            if n < 0 {
                return Some((R::Nil, next));
            }
            let stop = next + n as usize;
            if buf.len() < stop + 2 {
                return None;
            }
            assert_eq!(&buf[stop..stop + 2], b"\r\n", "bulk not CRLF-terminated");
            let data = buf[next..stop].to_vec();
            let r = match kind {
                b'$' => R::Bulk(data),
                b'!' => R::Err(String::from_utf8_lossy(&data).into_owned()),
                _ => {
                    let s = String::from_utf8_lossy(&data).into_owned();
                    let (fmt, text) = s.split_at(s.len().min(4));
                    R::Verbatim(fmt.trim_end_matches(':').to_string(), text.to_string())
                }
            };
            (r, stop + 2)
        }
        b'*' | b'~' | b'>' => {
            let n = len();
            if n < 0 {
                return Some((R::Nil, next));
            }
            let (v, at) = items(n, next)?;
            (if kind == b'~' { R::Set(v) } else { R::Arr(v) }, at)
        }
        b'%' => {
            let (v, at) = items(2 * len(), next)?;
            let mut it = v.into_iter();
            let mut m = Vec::new();
            while let (Some(k), Some(val)) = (it.next(), it.next()) {
                m.push((k, val));
            }
            (R::Map(m), at)
        }
        other => panic!(
            "unexpected reply type byte {:?} in {:?}",
            other as char,
            String::from_utf8_lossy(&buf[pos..])
        ),
    })
}

/// Encodes a command as a RESP array of bulk strings.
pub(crate) fn encode<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A raw TCP client that sends bytes and reads whole replies.
pub(crate) struct Raw {
    pub(crate) stream: TcpStream,
    /// Bytes received and not yet consumed as a reply.
    pub(crate) buf: Vec<u8>,
}

impl Raw {
    pub(crate) fn connect(port: u16) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        Raw {
            stream,
            buf: Vec::new(),
        }
    }

    pub(crate) fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to server");
    }

    /// Sends a command and returns its reply's exact bytes (lossy UTF-8).
    pub(crate) fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> String {
        self.send(&encode(args));
        self.reply()
    }

    /// Sends a command and returns its parsed reply.
    pub(crate) fn val<A: AsRef<[u8]>>(&mut self, args: &[A]) -> R {
        self.send(&encode(args));
        self.value()
    }

    /// The next whole reply, exact bytes.
    pub(crate) fn reply(&mut self) -> String {
        let (_, n) = self.next_frame();
        let bytes: Vec<u8> = self.buf.drain(..n).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The next whole reply, parsed.
    pub(crate) fn value(&mut self) -> R {
        let (r, n) = self.next_frame();
        self.buf.drain(..n);
        r
    }

    fn next_frame(&mut self) -> (R, usize) {
        loop {
            if !self.buf.is_empty() {
                if let Some(done) = parse(&self.buf, 0) {
                    return done;
                }
            }
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => panic!(
                    "connection closed while waiting for a reply; pending bytes: {:?}",
                    String::from_utf8_lossy(&self.buf)
                ),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) => panic!(
                    "no reply ({e}); pending bytes: {:?}",
                    String::from_utf8_lossy(&self.buf)
                ),
            }
        }
    }

    /// Reads until the server closes the connection (true) or nothing more
    /// arrives within `within` (false). Bytes read are appended to `buf`.
    pub(crate) fn closed_within(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        let mut chunk = [0u8; 64 * 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            self.stream.set_read_timeout(Some(left)).unwrap();
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return false
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // Reset, broken pipe...: the server dropped us.
                Err(_) => return true,
            }
        }
    }

    /// Asserts the server closes this connection within a few seconds.
    pub(crate) fn assert_closed(&mut self, what: &str) {
        assert!(
            self.closed_within(Duration::from_secs(5)),
            "{what}: connection still open; received {:?}",
            String::from_utf8_lossy(&self.buf)
        );
    }

    /// Asserts a fresh request still gets an answer (connection is alive).
    pub(crate) fn assert_alive(&mut self) {
        assert_eq!(self.cmd(&["PING"]), "+PONG\r\n");
    }
}

/// Starts the server with `--name value` options. Redis's harness start
/// takes no options, so against Redis they are applied with CONFIG SET.
pub(crate) fn start_opts(opts: &[(&str, &str)]) -> Server {
    if against_redis() {
        let server = Server::start();
        let mut c = Raw::connect(server.port);
        for (k, v) in opts {
            assert_eq!(c.cmd(&["CONFIG", "SET", k, v]), "+OK\r\n", "CONFIG SET {k}");
        }
        server
    } else {
        let args: Vec<String> = opts
            .iter()
            .flat_map(|(k, v)| [format!("--{k}"), v.to_string()])
            .collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        Server::start_with(&refs)
    }
}

/// A server-wide health check from a brand-new connection.
pub(crate) fn assert_server_ok(port: u16) {
    let mut c = Raw::connect(port);
    c.assert_alive();
    assert_eq!(c.cmd(&["SET", "health", "ok"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "health"]), "$2\r\nok\r\n");
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[test]
fn inline_commands() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let cases: &[(&str, &str)] = &[
        ("PING\r\n", "+PONG\r\n"),
        ("ping\n", "+PONG\r\n"),
        ("SET a \"b c\"\r\n", "+OK\r\n"),
        ("GET a\r\n", "$3\r\nb c\r\n"),
        ("ECHO 'x'\r\n", "$1\r\nx\r\n"),
        ("ECHO \"tab\\there\\x41\"\r\n", "$9\r\ntab\there\x41\r\n"),
        ("  ECHO   spaced   \r\n", "$6\r\nspaced\r\n"),
        ("SET empty \"\"\r\n", "+OK\r\n"),
        ("STRLEN empty\r\n", ":0\r\n"),
    ];
    for (req, want) in cases {
        c.send(req.as_bytes());
        assert_eq!(c.reply(), *want, "inline request {req:?}");
    }
    // Empty lines are ignored, the next command is answered.
    c.send(b"\r\n\r\nPING\r\n");
    assert_eq!(c.reply(), "+PONG\r\n");
}

#[test]
fn pipeline_of_1000_commands_in_one_write() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let mut req = Vec::new();
    let mut want = String::new();
    let mut counter = 0;
    for i in 0..1000 {
        match i % 3 {
            0 => {
                req.extend(encode(&["INCR", "n"]));
                counter += 1;
                want.push_str(&format!(":{counter}\r\n"));
            }
            // Inline and RESP requests may be mixed in one buffer.
            1 => {
                req.extend(format!("SET k{i} v{i}\r\n").into_bytes());
                want.push_str("+OK\r\n");
            }
            _ => {
                let v = format!("v{}", i - 1);
                req.extend(encode(&["GET", &format!("k{}", i - 1)]));
                want.push_str(&format!("${}\r\n{v}\r\n", v.len()));
            }
        }
    }
    c.send(&req);
    let mut got = vec![0u8; want.len()];
    c.stream.read_exact(&mut got).expect("all 1000 replies");
    assert_eq!(String::from_utf8_lossy(&got), want);
    assert!(!c.closed_within(Duration::from_millis(200)));
    assert!(
        c.buf.is_empty(),
        "extra bytes after the replies: {:?}",
        c.buf
    );
}

#[test]
fn request_split_byte_by_byte() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let mut req = encode(&["SET", "key", "value"]);
    req.extend(b"GET key\r\n");
    req.extend(encode(&["GET", "key"]));
    let (head, last) = req.split_at(req.len() - 1);
    for b in head {
        c.send(&[*b]);
        sleep(Duration::from_millis(2));
    }
    // The first two commands are complete and answered; the third is not.
    assert_eq!(c.reply(), "+OK\r\n");
    assert_eq!(c.reply(), "$5\r\nvalue\r\n");
    assert!(!c.closed_within(Duration::from_millis(200)));
    assert!(c.buf.is_empty(), "replied to an incomplete request");
    c.send(last);
    assert_eq!(c.reply(), "$5\r\nvalue\r\n");
}

#[test]
fn malformed_requests_get_protocol_error_and_close() {
    let server = Server::start();
    let big_inline = "A".repeat(70 * 1024);
    let cases: Vec<(String, &str)> = vec![
        ("*abc\r\n".into(), "invalid multibulk length"),
        ("*2147483648\r\n".into(), "invalid multibulk length"),
        ("*1\r\n$-5\r\n".into(), "invalid bulk length"),
        ("*1\r\n$abc\r\n".into(), "invalid bulk length"),
        // Larger than proto-max-bulk-len (512MB).
        (
            "*2\r\n$3\r\nGET\r\n$2147483648\r\n".into(),
            "invalid bulk length",
        ),
        ("*1\r\nxyz\r\n".into(), "expected '$', got 'x'"),
        ("SET a \"b\r\n".into(), "unbalanced quotes in request"),
        ("ECHO 'x\r\n".into(), "unbalanced quotes in request"),
        (big_inline, "too big inline request"),
    ];
    for (input, msg) in cases {
        let mut c = Raw::connect(server.port);
        // A good command first: the error must not disturb earlier replies.
        c.send(b"PING\r\n");
        let _ = c.stream.write_all(input.as_bytes());
        assert_eq!(c.reply(), "+PONG\r\n");
        let shown = &input[..input.len().min(40)];
        assert_eq!(
            c.reply(),
            format!("-ERR Protocol error: {msg}\r\n"),
            "input {shown:?}"
        );
        c.assert_closed(shown);
    }
    assert_server_ok(server.port);
}

/// A small deterministic PRNG (xorshift64*), so no extra dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn garbage_bytes_never_crash_the_server() {
    let server = Server::start();
    let mut bystander = Raw::connect(server.port);
    bystander.assert_alive();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // Random bytes, and random bytes behind plausible prefixes so the
    // multibulk and bulk parsers are reached too.
    let prefixes: [&[u8]; 6] = [
        b"",
        b"*",
        b"*3\r\n$",
        b"*2\r\n$3\r\nGET\r\n$",
        b"*-1\r\n*0\r\n*1\r\n",
        b"$5\r\n",
    ];
    for round in 0..60 {
        let mut c = Raw::connect(server.port);
        let mut data = prefixes[round % prefixes.len()].to_vec();
        let len = 1 + (rng.next() % 8192) as usize;
        data.extend(rng.bytes(len));
        for chunk in data.chunks(1 + (rng.next() % 700) as usize) {
            if c.stream.write_all(chunk).is_err() {
                break;
            }
        }
        // Whatever the reply, the server must not stall other clients.
        let _ = c.closed_within(Duration::from_millis(50));
        if round % 10 == 0 {
            bystander.assert_alive();
        }
    }
    bystander.assert_alive();
    assert_server_ok(server.port);
}

#[test]
fn half_sent_frames_do_not_disturb_the_server() {
    let server = Server::start();
    let halves: [&[u8]; 4] = [
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nabc",
        b"*3\r\n$3\r\nSET\r\n$1\r\nk",
        b"*3\r\n",
        b"SET k v",
    ];
    // Held open: other clients are served meanwhile.
    let mut held = Vec::new();
    for h in halves {
        let mut c = Raw::connect(server.port);
        c.send(h);
        held.push(c);
    }
    assert_server_ok(server.port);
    let mut check = Raw::connect(server.port);
    assert_eq!(check.cmd(&["GET", "k"]), "$-1\r\n");
    // Then abandoned: nothing is executed.
    drop(held);
    for h in halves {
        let mut c = Raw::connect(server.port);
        c.send(h);
        c.stream.shutdown(std::net::Shutdown::Write).unwrap();
        drop(c);
    }
    sleep(Duration::from_millis(100));
    assert_eq!(check.cmd(&["GET", "k"]), "$-1\r\n");
    assert_server_ok(server.port);
}

/// Raises the soft open-files limit to the hard one; returns the new limit.
fn raise_nofile_limit() -> libc::rlim_t {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let want = libc::rlimit {
                rlim_cur: lim.rlim_max.min(65536),
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                lim.rlim_cur = want.rlim_cur;
            }
        }
    }
    lim.rlim_cur
}

#[test]
fn thousands_of_concurrent_connections() {
    // Test and server both hold one descriptor per connection.
    let limit = raise_nofile_limit();
    let n = 2000.min(limit.saturating_sub(300) as usize);
    assert!(n >= 500, "open-files limit {limit} too low for this test");
    let server = Server::start();
    let mut conns: Vec<Raw> = Vec::with_capacity(n);
    while conns.len() < n {
        let batch: Vec<Raw> = (0..100.min(n - conns.len()))
            .map(|_| Raw::connect(server.port))
            .collect();
        conns.extend(batch);
        // Make sure the server has accepted them before opening more.
        let start = conns.len().saturating_sub(100);
        for c in &mut conns[start..] {
            c.send(b"PING\r\n");
        }
        for c in &mut conns[start..] {
            assert_eq!(c.reply(), "+PONG\r\n");
        }
    }
    // All open at once: every one still answers.
    for (i, c) in conns.iter_mut().enumerate() {
        c.send(&encode(&["ECHO", &i.to_string()]));
    }
    for (i, c) in conns.iter_mut().enumerate() {
        let s = i.to_string();
        assert_eq!(c.reply(), format!("${}\r\n{s}\r\n", s.len()));
    }
    let info = conns[0].val(&["INFO", "clients"]).text();
    let connected: usize = info_field(&info, "connected_clients")
        .parse()
        .expect("connected_clients");
    assert!(connected >= n, "connected_clients {connected} < {n}");
    drop(conns);
    assert_server_ok(server.port);
}

/// One `name:value` field of an INFO reply.
pub(crate) fn info_field(info: &str, name: &str) -> String {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in INFO:\n{info}"))
        .trim()
        .to_string()
}

#[test]
fn maxclients_refuses_extra_connections() {
    let server = start_opts(&[("maxclients", "5")]);
    let mut five: Vec<Raw> = (0..5).map(|_| Raw::connect(server.port)).collect();
    for c in &mut five {
        c.assert_alive();
    }
    let mut sixth = Raw::connect(server.port);
    assert_eq!(sixth.reply(), "-ERR max number of clients reached\r\n");
    sixth.assert_closed("sixth client");
    // Existing clients are unaffected; a freed slot can be reused.
    five[0].assert_alive();
    five.pop();
    sleep(Duration::from_millis(200));
    let mut again = Raw::connect(server.port);
    again.assert_alive();
}

#[test]
fn idle_timeout_closes_idle_connections() {
    let server = start_opts(&[("timeout", "1")]);
    let mut idle = Raw::connect(server.port);
    let mut busy = Raw::connect(server.port);
    idle.assert_alive();
    let t0 = Instant::now();
    // A client that keeps talking is never closed.
    while t0.elapsed() < Duration::from_millis(3500) {
        busy.assert_alive();
        sleep(Duration::from_millis(250));
    }
    assert!(
        idle.closed_within(Duration::from_secs(3)),
        "idle connection still open {:?} after its last command",
        t0.elapsed()
    );
    assert!(idle.buf.is_empty(), "idle close sent {:?}", idle.buf);
    busy.assert_alive();
}

#[test]
fn proto_max_bulk_len_limits_arguments() {
    // 1mb is the smallest value Redis (and Kvrocks) accept.
    let limit = 1024 * 1024;
    let server = start_opts(&[("proto-max-bulk-len", "1048576")]);
    let mut c = Raw::connect(server.port);
    let at_limit = vec![b'x'; limit];
    assert_eq!(c.cmd(&[&b"SET"[..], b"big", &at_limit]), "+OK\r\n");
    assert_eq!(c.cmd(&["STRLEN", "big"]), format!(":{limit}\r\n"));
    c.send(format!("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n${}\r\n", limit + 1).as_bytes());
    assert_eq!(c.reply(), "-ERR Protocol error: invalid bulk length\r\n");
    c.assert_closed("bulk over proto-max-bulk-len");
    assert_server_ok(server.port);
}

#[test]
fn client_query_buffer_limit_closes_the_client() {
    let server = start_opts(&[("client-query-buffer-limit", "1048576")]);
    let mut c = Raw::connect(server.port);
    // A request that never completes and outgrows the 1mb query buffer.
    let mut req = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4000000\r\n".to_vec();
    req.extend(vec![b'x'; 3 * 1024 * 1024]);
    let _ = c.stream.write_all(&req);
    assert!(
        c.closed_within(Duration::from_secs(10)),
        "client over client-query-buffer-limit was not closed"
    );
    let mut check = Raw::connect(server.port);
    assert_eq!(check.cmd(&["EXISTS", "k"]), ":0\r\n");
    assert_server_ok(server.port);
}

#[test]
fn hello_3_returns_the_server_map() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    let id = c.cmd(&["CLIENT", "ID"]);
    c.send(&encode(&["HELLO", "3"]));
    let raw = c.reply();
    assert!(
        raw.starts_with('%'),
        "HELLO 3 must answer a RESP3 map: {raw:?}"
    );
    let map = parse(raw.as_bytes(), 0).unwrap().0;
    let keys: Vec<String> = map.pairs().into_iter().map(|(k, _)| k).collect();
    for k in [
        "server", "version", "proto", "id", "mode", "role", "modules",
    ] {
        assert!(keys.contains(&k.to_string()), "no {k} in HELLO: {raw:?}");
    }
    assert!(!map.get("server").text().is_empty());
    let version = map.get("version").text();
    assert!(version.starts_with("7."), "version {version}");
    if !against_redis() {
        assert!(version.starts_with("7.2."), "version {version}");
    }
    assert_eq!(map.get("proto"), R::Int(3));
    assert_eq!(format!(":{}\r\n", map.get("id").int()), id);
    assert_eq!(map.get("mode").text(), "standalone");
    assert_eq!(map.get("role").text(), "master");
    assert_eq!(map.get("modules"), R::Arr(vec![]));

    // HELLO 2 answers the same fields as a flat RESP2 array.
    c.send(&encode(&["HELLO", "2"]));
    let raw2 = c.reply();
    // Redis answers 7 pairs; Basalt adds basalt_version.
    let pairs = if against_redis() {
        "*14\r\n"
    } else {
        "*16\r\n"
    };
    assert!(raw2.starts_with(pairs), "HELLO 2: {raw2:?}");
    assert_eq!(parse(raw2.as_bytes(), 0).unwrap().0.get("proto"), R::Int(2));
}

#[test]
fn resp3_replies_after_hello_3() {
    let server = Server::start();
    let mut c = Raw::connect(server.port);
    assert_eq!(c.cmd(&["GET", "missing"]), "$-1\r\n");
    c.val(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["GET", "missing"]), "_\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(c.cmd(&["INCR", "n"]), ":1\r\n");
    assert_eq!(c.cmd(&["MGET", "k", "missing"]), "*2\r\n$1\r\nv\r\n_\r\n");
    let cfg = c.cmd(&["CONFIG", "GET", "maxclients"]);
    assert!(cfg.starts_with("%1\r\n$10\r\nmaxclients\r\n"), "{cfg:?}");
    // INFO is a verbatim string in RESP3.
    let info = c.cmd(&["INFO", "server"]);
    assert!(info.starts_with('=') && info.contains("txt:"), "{info:?}");
    // Back to RESP2.
    c.val(&["HELLO", "2"]);
    assert_eq!(c.cmd(&["GET", "missing"]), "$-1\r\n");
    let cfg = c.cmd(&["CONFIG", "GET", "maxclients"]);
    assert!(cfg.starts_with("*2\r\n$10\r\nmaxclients\r\n"), "{cfg:?}");
}

#[test]
fn hello_errors_auth_and_setname() {
    let server = start_opts(&[("requirepass", "pass")]);
    let mut c = Raw::connect(server.port);
    assert_eq!(
        c.cmd(&["HELLO", "4"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(
        c.cmd(&["HELLO", "abc"]),
        "-ERR Protocol version is not an integer or out of range\r\n"
    );
    let noauth = c.cmd(&["HELLO", "3"]);
    assert!(
        noauth.starts_with("-NOAUTH HELLO must be called with the client already authenticated"),
        "{noauth:?}"
    );
    assert_eq!(
        c.cmd(&["HELLO", "3", "AUTH", "default", "wrong"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(c.cmd(&["GET", "k"]), "-NOAUTH Authentication required.\r\n");
    let ok = c.val(&["HELLO", "3", "AUTH", "default", "pass", "SETNAME", "n"]);
    assert_eq!(ok.get("proto"), R::Int(3));
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), "$1\r\nn\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "_\r\n");
}
