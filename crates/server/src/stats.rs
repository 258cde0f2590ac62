//! Server counters for INFO stats and INFO commandstats.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Default)]
pub struct Stats {
    pub connections_received: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub commands_processed: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub expired_keys: AtomicU64,
    pub keyspace_hits: AtomicU64,
    pub keyspace_misses: AtomicU64,
    pub error_replies: AtomicU64,
    pub commands: Vec<CommandStats>,
}

#[derive(Default)]
pub struct CommandStats {
    pub calls: AtomicU64,
    pub usec: AtomicU64,
    pub failed: AtomicU64,
}

impl Stats {
    pub fn new(command_count: usize) -> Stats {
        Stats {
            commands: (0..command_count)
                .map(|_| CommandStats::default())
                .collect(),
            ..Default::default()
        }
    }

    pub fn record_command(&self, index: usize, usec: u64, failed: bool) {
        self.commands_processed.fetch_add(1, Relaxed);
        if let Some(c) = self.commands.get(index) {
            c.calls.fetch_add(1, Relaxed);
            c.usec.fetch_add(usec, Relaxed);
            if failed {
                c.failed.fetch_add(1, Relaxed);
            }
        }
        if failed {
            self.error_replies.fetch_add(1, Relaxed);
        }
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        for c in [
            &self.connections_received,
            &self.rejected_connections,
            &self.commands_processed,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.expired_keys,
            &self.keyspace_hits,
            &self.keyspace_misses,
            &self.error_replies,
        ] {
            c.store(0, Relaxed);
        }
        for c in &self.commands {
            c.calls.store(0, Relaxed);
            c.usec.store(0, Relaxed);
            c.failed.store(0, Relaxed);
        }
    }
}
