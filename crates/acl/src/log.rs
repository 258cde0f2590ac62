//! `ACL LOG`: the most recent refusals, newest first, similar ones counted
//! in one entry (Redis's `addACLLogEntry`).

use crate::check::Reason;
use std::collections::VecDeque;

/// Where the refused command came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Toplevel,
    /// Queued inside MULTI, or run by EXEC.
    Multi,
    /// Called by a script.
    Lua,
}

impl Context {
    pub fn name(self) -> &'static str {
        match self {
            Context::Toplevel => "toplevel",
            Context::Multi => "multi",
            Context::Lua => "lua",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    pub count: u64,
    pub reason: Reason,
    pub context: Context,
    /// The command, key or channel refused, or AUTH's command name.
    pub object: Vec<u8>,
    pub username: Vec<u8>,
    /// The client as CLIENT LIST describes it, at the last occurrence.
    pub client_info: String,
    pub entry_id: u64,
    /// Unix milliseconds.
    pub created_ms: u64,
    pub updated_ms: u64,
}

/// Entries within this many milliseconds of each other are grouped.
const GROUPING_MS: u64 = 60_000;
/// How many recent entries a new event is compared with.
const SCAN: usize = 10;

#[derive(Debug, Default)]
pub struct Log {
    entries: VecDeque<LogEntry>,
    next_id: u64,
}

impl Log {
    /// Records one refusal at `now_ms`, keeping at most `max_len` entries.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        reason: Reason,
        context: Context,
        object: &[u8],
        username: &[u8],
        client_info: String,
        now_ms: u64,
        max_len: usize,
    ) {
        let similar = self.entries.iter().take(SCAN).position(|e| {
            e.reason == reason
                && e.context == context
                && e.updated_ms.abs_diff(now_ms) <= GROUPING_MS
                && e.object == object
                && e.username == username
        });
        if let Some(i) = similar {
            let mut e = self.entries.remove(i).expect("position is in range");
            e.count += 1;
            e.client_info = client_info;
            e.updated_ms = now_ms;
            self.entries.push_front(e);
            return;
        }
        self.entries.push_front(LogEntry {
            count: 1,
            reason,
            context,
            object: object.to_vec(),
            username: username.to_vec(),
            client_info,
            entry_id: self.next_id,
            created_ms: now_ms,
            updated_ms: now_ms,
        });
        self.next_id += 1;
        self.entries.truncate(max_len);
    }

    /// The newest `count` entries.
    pub fn newest(&self, count: usize) -> impl Iterator<Item = &LogEntry> {
        self.entries.iter().take(count)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `ACL LOG RESET`. Entry ids go on counting, as in Redis.
    pub fn reset(&mut self) {
        self.entries.clear();
    }

    /// A lowered `acllog-max-len` applies at once.
    pub fn trim(&mut self, max_len: usize) {
        self.entries.truncate(max_len);
    }
}
