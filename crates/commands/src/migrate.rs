//! MIGRATE: DUMP the keys here, RESTORE them on the target over a plain
//! TCP connection, and delete the ones the target acknowledged (unless
//! COPY). The exchange is Redis's: AUTH, SELECT (skipped for db 0, which a
//! new connection already has), then one RESTORE per key, pipelined, and
//! one reply line read back per command, each I/O bounded by the timeout.
//! Unlike Redis, connections are not cached between calls (INFO reports
//! `migrate_cached_sockets:0`): opening one is cheap next to a transfer,
//! and nothing has to expire them.

use super::{int, is, text};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult, MigrateStage};
use crate::notify::GENERIC;
use basalt_core::offload::off_worker;
use basalt_engine::version::now_ms;
use basalt_resp::Reply;
use basalt_types::rdb;
use basalt_types::value::Value;
use bytes::Bytes;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Longest reply line read from the target; Redis reads into 1 KiB.
const MAX_LINE: u64 = 64 << 10;

struct Request {
    host: String,
    port: Bytes,
    db: i64,
    timeout: Duration,
    copy: bool,
    replace: bool,
    /// AUTH's optional username (AUTH2) and password.
    auth: Option<(Option<Bytes>, Bytes)>,
    keys: Vec<Bytes>,
}

fn parse(args: &[Bytes]) -> Result<Request, CommandError> {
    let mut req = Request {
        host: text(&args[1]),
        port: args[2].clone(),
        db: 0,
        timeout: Duration::ZERO,
        copy: false,
        replace: false,
        auth: None,
        keys: vec![args[3].clone()],
    };
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if is(&args[j], "copy") {
            req.copy = true;
        } else if is(&args[j], "replace") {
            req.replace = true;
        } else if is(&args[j], "auth") && more >= 1 {
            req.auth = Some((None, args[j + 1].clone()));
            j += 1;
        } else if is(&args[j], "auth2") && more >= 2 {
            req.auth = Some((Some(args[j + 1].clone()), args[j + 2].clone()));
            j += 2;
        } else if is(&args[j], "keys") {
            if !args[3].is_empty() {
                return Err(CommandError::other(
                    "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
                ));
            }
            req.keys = args[j + 1..].to_vec();
            break;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    let timeout = int(&args[5])?;
    req.db = int(&args[4])?;
    // Redis's default for a timeout of 0 or less.
    req.timeout = Duration::from_millis(if timeout <= 0 { 1000 } else { timeout as u64 });
    Ok(req)
}

pub(crate) fn migrate(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let req = parse(args)?;
    let mut items = Vec::new();
    for key in &req.keys {
        if let Some((value, expire_ms)) = ctx.db().read_value(key)? {
            items.push((key.clone(), value, expire_ms));
        }
    }
    if items.is_empty() {
        return Ok(Reply::Simple("NOKEY".into()));
    }
    let (acked, error) = off_worker(|| exchange(&req, &items));
    if !req.copy {
        let keys: Vec<&[u8]> = acked.iter().map(|&i| &items[i].0[..]).collect();
        for key in ctx.db().del_keys(&keys)? {
            ctx.notify(GENERIC, "del", key);
        }
    }
    match error {
        Some(e) => Err(e),
        None => Ok(Reply::ok()),
    }
}

/// Sends the keys; returns the indices (into `items`) of those the target
/// restored, and the error to reply with, if any.
fn exchange(req: &Request, items: &[(Bytes, Value, u64)]) -> (Vec<usize>, Option<CommandError>) {
    let io = |stage| Some(CommandError::MigrateIo(stage));
    let Some(stream) = connect(req) else {
        return (Vec::new(), io(MigrateStage::Connect));
    };
    let mut out = Vec::new();
    if let Some((user, password)) = &req.auth {
        let mut argv = vec![&b"AUTH"[..]];
        argv.extend(user.as_deref());
        argv.push(password);
        command(&mut out, &argv);
    }
    let select = req.db != 0;
    if select {
        command(&mut out, &[b"SELECT", req.db.to_string().as_bytes()]);
    }
    let now = now_ms();
    let mut sent = Vec::new();
    for (i, (key, value, expire_ms)) in items.iter().enumerate() {
        let ttl = match *expire_ms {
            0 => 0,
            // Expired since it was read: not sent, and not deleted here.
            at if at <= now => continue,
            at => at - now,
        };
        let payload = rdb::dump(value);
        let ttl = ttl.to_string();
        let mut argv = vec![&b"RESTORE"[..], key, ttl.as_bytes(), &payload];
        if req.replace {
            argv.push(b"REPLACE");
        }
        command(&mut out, &argv);
        sent.push(i);
    }
    if (&stream).write_all(&out).is_err() {
        return (Vec::new(), io(MigrateStage::Write));
    }
    let mut reader = BufReader::new(&stream);
    let mut preamble_error = None;
    for _ in 0..usize::from(req.auth.is_some()) + usize::from(select) {
        match read_line(&mut reader) {
            Some(line) => preamble_error = preamble_error.or(error_text(&line)),
            None => return (Vec::new(), io(MigrateStage::Read)),
        }
    }
    let mut acked = Vec::new();
    let mut error = preamble_error.clone().map(CommandError::MigrateTarget);
    for i in sent {
        let Some(line) = read_line(&mut reader) else {
            return (acked, error.or(io(MigrateStage::Read)));
        };
        // After a failed AUTH or SELECT every RESTORE counts as failed,
        // whatever it answered, as in Redis.
        match preamble_error.clone().or(error_text(&line)) {
            Some(e) => {
                error.get_or_insert(CommandError::MigrateTarget(e));
            }
            None => acked.push(i),
        }
    }
    (acked, error)
}

fn connect(req: &Request) -> Option<TcpStream> {
    let port: u16 = std::str::from_utf8(&req.port).ok()?.parse().ok()?;
    let addrs = (req.host.as_str(), port).to_socket_addrs().ok()?;
    let stream = addrs
        .into_iter()
        .find_map(|a| TcpStream::connect_timeout(&a, req.timeout).ok())?;
    stream.set_nodelay(true).ok()?;
    stream.set_read_timeout(Some(req.timeout)).ok()?;
    stream.set_write_timeout(Some(req.timeout)).ok()?;
    Some(stream)
}

/// A command in RESP, as a client sends it.
fn command(out: &mut Vec<u8>, argv: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", argv.len()).as_bytes());
    for a in argv {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// One reply line without its CRLF; `None` on EOF, timeout or error.
fn read_line(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut line = Vec::new();
    reader.take(MAX_LINE).read_until(b'\n', &mut line).ok()?;
    if !line.ends_with(b"\n") {
        return None;
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    Some(line)
}

/// The text of an error reply line.
fn error_text(line: &[u8]) -> Option<String> {
    line.strip_prefix(b"-")
        .map(|e| String::from_utf8_lossy(e).into_owned())
}
