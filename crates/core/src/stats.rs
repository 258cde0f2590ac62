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
    /// INFO errorstats.
    pub errors: crate::error_stats::ErrorStats,
    /// Commands per second over the last ~1.6 s, kept by the sampler.
    pub instantaneous_ops: AtomicU64,
    pub commands: Vec<CommandStats>,
}

/// How a command's reply counts in the error statistics.
#[derive(Clone, Copy, Debug)]
pub enum Failure<'a> {
    /// It succeeded.
    None,
    /// It failed with this error reply (without the "-").
    Error(&'a str),
    /// It failed with an error that was counted where it arose (a script
    /// passing on its `redis.call`'s error): a failed call, not a new error.
    Counted,
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

    pub fn record_command(&self, index: usize, usec: u64, failure: Failure<'_>) {
        self.commands_processed.fetch_add(1, Relaxed);
        let failed = !matches!(failure, Failure::None);
        if let Some(c) = self.commands.get(index) {
            c.calls.fetch_add(1, Relaxed);
            c.usec.fetch_add(usec, Relaxed);
            if failed {
                c.failed.fetch_add(1, Relaxed);
            }
        }
        if let Failure::Error(text) = failure {
            self.record_error(text);
        }
    }

    /// One error reply (`text` without the "-"): total_error_replies and
    /// errorstats.
    pub fn record_error(&self, text: &str) {
        self.error_replies.fetch_add(1, Relaxed);
        self.errors.record(text);
    }

    /// Samples the command counter every 100 ms and publishes the average
    /// rate over the last 16 samples, as Redis's `instantaneous_ops_per_sec`.
    pub fn run_sampler(&self, stop: impl Fn() -> bool) {
        const SAMPLES: usize = 16;
        let mut ring = [0u64; SAMPLES];
        let mut at = 0;
        let mut last = self.commands_processed.load(Relaxed);
        let mut last_time = std::time::Instant::now();
        while !stop() {
            std::thread::sleep(std::time::Duration::from_millis(100));
            let now = self.commands_processed.load(Relaxed);
            let elapsed = last_time.elapsed().as_secs_f64().max(1e-3);
            ring[at % SAMPLES] = (now.saturating_sub(last) as f64 / elapsed) as u64;
            at += 1;
            last = now;
            last_time = std::time::Instant::now();
            let filled = at.min(SAMPLES) as u64;
            self.instantaneous_ops
                .store(ring.iter().sum::<u64>() / filled, Relaxed);
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
        self.errors.reset();
        for c in &self.commands {
            c.calls.store(0, Relaxed);
            c.usec.store(0, Relaxed);
            c.failed.store(0, Relaxed);
        }
    }
}
