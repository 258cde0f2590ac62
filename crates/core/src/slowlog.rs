//! SLOWLOG: commands slower than `slowlog-log-slower-than`.

use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct SlowLogEntry {
    pub id: u64,
    pub unix_secs: u64,
    pub usec: u64,
    pub args: Vec<Bytes>,
    pub addr: SocketAddr,
    pub name: String,
}

#[derive(Default)]
pub struct SlowLog {
    next_id: AtomicU64,
    entries: Mutex<VecDeque<SlowLogEntry>>,
}

/// Redis keeps at most 32 arguments and 128 bytes per argument.
const MAX_ARGS: usize = 32;
const MAX_ARG_LEN: usize = 128;

impl SlowLog {
    pub fn record(
        &self,
        args: &[Bytes],
        usec: u64,
        addr: SocketAddr,
        name: String,
        max_len: usize,
    ) {
        let mut kept: Vec<Bytes> = args
            .iter()
            .take(if args.len() > MAX_ARGS {
                MAX_ARGS - 1
            } else {
                MAX_ARGS
            })
            .map(|a| {
                if a.len() > MAX_ARG_LEN {
                    let mut v = a[..MAX_ARG_LEN].to_vec();
                    v.extend_from_slice(
                        format!("... ({} more bytes)", a.len() - MAX_ARG_LEN).as_bytes(),
                    );
                    Bytes::from(v)
                } else {
                    a.clone()
                }
            })
            .collect();
        if args.len() > MAX_ARGS {
            kept.push(Bytes::from(format!(
                "... ({} more arguments)",
                args.len() - MAX_ARGS + 1
            )));
        }
        let entry = SlowLogEntry {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            unix_secs: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            usec,
            args: kept,
            addr,
            name,
        };
        let mut entries = self.entries.lock();
        entries.push_front(entry);
        entries.truncate(max_len);
    }

    pub fn with_entries<R>(&self, f: impl FnOnce(&VecDeque<SlowLogEntry>) -> R) -> R {
        f(&self.entries.lock())
    }

    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.lock().is_empty()
    }

    pub fn reset(&self) {
        self.entries.lock().clear();
    }
}
