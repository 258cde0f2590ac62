//! MONITOR: every command the server runs, as one line to each monitoring
//! client, in Redis's format (`+<secs>.<usecs> [0 <addr>|lua] "arg" ...`).
//!
//! Lines go through the monitor's outbox (`crate::outbox`) like pub/sub
//! messages, so a slow monitor costs memory up to its output limit, never
//! the time of the client whose command it watches.

use crate::clients::ClientHandle;
use basalt_config::BufferLimit;
use bytes::Bytes;
use parking_lot::RwLock;
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Default)]
pub struct Monitors {
    clients: RwLock<Vec<Arc<ClientHandle>>>,
    /// So that every command checks one atomic, not the lock.
    count: AtomicUsize,
}

/// Who ran a command: a client at an address, or a script (`lua`).
pub enum Source<'a> {
    Client(&'a ClientHandle),
    Script,
}

thread_local! {
    /// Set while a script runs on this thread: the commands it calls are
    /// shown as `lua`, as Redis shows them.
    static IN_SCRIPT: Cell<bool> = const { Cell::new(false) };
}

/// Marks the current thread as running a script until dropped.
pub struct ScriptScope(bool);

impl ScriptScope {
    pub fn enter() -> ScriptScope {
        ScriptScope(IN_SCRIPT.with(|s| s.replace(true)))
    }
}

impl Drop for ScriptScope {
    fn drop(&mut self) {
        IN_SCRIPT.with(|s| s.set(self.0));
    }
}

pub fn in_script() -> bool {
    IN_SCRIPT.with(Cell::get)
}

impl Monitors {
    /// Adds a monitor (a second MONITOR changes nothing).
    pub fn add(&self, client: &Arc<ClientHandle>) {
        let mut clients = self.clients.write();
        if !clients.iter().any(|c| c.id == client.id) {
            clients.push(client.clone());
            self.count.store(clients.len(), Relaxed);
        }
    }

    pub fn remove(&self, id: u64) {
        let mut clients = self.clients.write();
        clients.retain(|c| c.id != id);
        self.count.store(clients.len(), Relaxed);
    }

    pub fn active(&self) -> bool {
        self.count.load(Relaxed) > 0
    }

    /// Sends one command line to every monitor.
    pub fn feed(&self, source: Source<'_>, args: &[Bytes], limit: BufferLimit) {
        if !self.active() {
            return;
        }
        let line = Bytes::from(format_line(source, &redact(args)));
        for monitor in self.clients.read().iter() {
            monitor.push(line.clone(), limit);
        }
    }
}

/// Secrets never reach a monitor: AUTH's arguments, HELLO's AUTH pair and
/// MIGRATE's AUTH/AUTH2 credentials read `(redacted)`, as in Redis.
fn redact(args: &[Bytes]) -> Vec<Bytes> {
    let hidden = Bytes::from_static(b"(redacted)");
    let mut out = args.to_vec();
    let name = args[0].to_ascii_lowercase();
    match &name[..] {
        b"auth" => out[1..].iter_mut().for_each(|a| *a = hidden.clone()),
        b"hello" => {
            if let Some(i) = args.iter().position(|a| a.eq_ignore_ascii_case(b"auth")) {
                for a in out.iter_mut().skip(i + 1).take(2) {
                    *a = hidden.clone();
                }
            }
        }
        b"migrate" => {
            let mut i = 6;
            while i < args.len() {
                if args[i].eq_ignore_ascii_case(b"keys") {
                    break;
                }
                let secrets = if args[i].eq_ignore_ascii_case(b"auth") {
                    1
                } else if args[i].eq_ignore_ascii_case(b"auth2") {
                    2
                } else {
                    0
                };
                for a in out.iter_mut().skip(i + 1).take(secrets) {
                    *a = hidden.clone();
                }
                i += 1 + secrets;
            }
        }
        _ => {}
    }
    out
}

fn format_line(source: Source<'_>, args: &[Bytes]) -> Vec<u8> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut line = format!("+{}.{:06} ", now.as_secs(), now.subsec_micros()).into_bytes();
    match source {
        Source::Script => line.extend_from_slice(b"[0 lua] "),
        Source::Client(c) => line.extend_from_slice(format!("[0 {}] ", c.addr).as_bytes()),
    }
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            line.push(b' ');
        }
        quote(arg, &mut line);
    }
    line.extend_from_slice(b"\r\n");
    line
}

/// Redis's `sdscatrepr`: a double-quoted string with C escapes.
fn quote(arg: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in arg {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            c if c.is_ascii_graphic() || c == b' ' => out.push(c),
            c => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(items: &[&str]) -> Vec<Bytes> {
        items
            .iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    #[test]
    fn quotes_like_sdscatrepr() {
        let mut out = Vec::new();
        quote(b"a \"b\"\\\n\x01\xff", &mut out);
        assert_eq!(out, b"\"a \\\"b\\\"\\\\\\n\\x01\\xff\"");
    }

    #[test]
    fn secrets_are_redacted() {
        assert_eq!(
            redact(&b(&["AUTH", "u", "p"])),
            b(&["AUTH", "(redacted)", "(redacted)"])
        );
        assert_eq!(
            redact(&b(&["hello", "3", "AUTH", "u", "p", "SETNAME", "n"])),
            b(&[
                "hello",
                "3",
                "AUTH",
                "(redacted)",
                "(redacted)",
                "SETNAME",
                "n"
            ])
        );
        assert_eq!(
            redact(&b(&[
                "migrate", "h", "1", "k", "0", "5", "AUTH2", "u", "p", "KEYS", "AUTH"
            ])),
            b(&[
                "migrate",
                "h",
                "1",
                "k",
                "0",
                "5",
                "AUTH2",
                "(redacted)",
                "(redacted)",
                "KEYS",
                "AUTH"
            ])
        );
        assert_eq!(redact(&b(&["get", "auth"])), b(&["get", "auth"]));
    }
}
