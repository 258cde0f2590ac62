//! Group commit of the WAL buffer across connections.
//!
//! RocksDB runs with `manual_wal_flush`: a write lands in RocksDB's WAL
//! buffer, and a connection hands that buffer to the OS (one write(2))
//! before it sends the replies that acknowledge its writes. With one request
//! per connection in flight (pipeline 1) that was one write(2) per request,
//! where Redis writes its AOF once per event-loop turn for every client it
//! served. Here the first connection that needs a flush becomes the leader:
//! it yields once so that the other connections with requests already
//! received run theirs, then flushes everything written so far in one call;
//! the others wait for that flush instead of making their own. A reply still
//! goes out only after its writes are in the OS, so what survives a crash is
//! unchanged.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::sync::Notify;

#[derive(Default)]
pub struct WalGroupCommit {
    /// Tickets handed out. A connection takes one after its writes are in
    /// RocksDB's buffer, so a flush that starts after ticket `t` was taken
    /// covers the writes behind every ticket up to `t`.
    issued: AtomicU64,
    /// Every ticket up to this one is flushed.
    flushed: AtomicU64,
    leader: AtomicBool,
    done: Notify,
    /// Flushes made; with `issued`, INFO shows how many batches one covers.
    flushes: AtomicU64,
}

impl WalGroupCommit {
    /// Returns once the writes this task made before calling are in the OS;
    /// `flush` hands RocksDB's WAL buffer over (write(2), no fsync).
    pub async fn flush_own_writes<E>(
        &self,
        flush: impl FnOnce() -> Result<(), E>,
    ) -> Result<(), E> {
        let ticket = self.issued.fetch_add(1, Ordering::AcqRel) + 1;
        let mut flush = Some(flush);
        loop {
            let done = self.done.notified();
            tokio::pin!(done);
            // Registered before the checks below, so a leader that finishes
            // in between still wakes this task.
            done.as_mut().enable();
            if self.flushed.load(Ordering::Acquire) >= ticket {
                return Ok(());
            }
            if !self.leader.swap(true, Ordering::AcqRel) {
                let _leading = Leading(self);
                // Let the connections whose requests are already read run
                // them first, so this flush carries their writes too.
                tokio::task::yield_now().await;
                let upto = self.issued.load(Ordering::Acquire);
                let run = flush.take().expect("a task leads at most once");
                run()?;
                self.flushes.fetch_add(1, Ordering::Relaxed);
                self.flushed.fetch_max(upto, Ordering::AcqRel);
                return Ok(());
            }
            done.await;
        }
    }

    /// Tickets issued so far (one per batch of replies that acknowledged
    /// writes).
    pub fn batches(&self) -> u64 {
        self.issued.load(Ordering::Relaxed)
    }

    /// Flushes made for those batches.
    pub fn flushes(&self) -> u64 {
        self.flushes.load(Ordering::Relaxed)
    }
}

/// Hands leadership back and wakes the waiters, also when the leading task
/// is dropped mid-flush (its connection closed): otherwise every writer
/// would wait for a leader that is gone.
struct Leading<'a>(&'a WalGroupCommit);

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        self.0.leader.store(false, Ordering::Release);
        self.0.done.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test(flavor = "current_thread")]
    async fn concurrent_writers_share_one_flush() {
        let commit = Arc::new(WalGroupCommit::default());
        let calls = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let commit = commit.clone();
            let calls = calls.clone();
            tasks.push(tokio::spawn(async move {
                commit
                    .flush_own_writes(|| {
                        calls.fetch_add(1, Ordering::SeqCst);
                        Ok::<(), ()>(())
                    })
                    .await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        // All ten were runnable when the first one led: its flush covered
        // them all.
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(commit.batches(), 10);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_failed_flush_is_reported_and_the_next_writer_retries() {
        let commit = WalGroupCommit::default();
        assert_eq!(
            commit.flush_own_writes(|| Err("disk full")).await,
            Err("disk full")
        );
        assert_eq!(commit.flush_own_writes(|| Ok::<(), &str>(())).await, Ok(()));
        assert_eq!(commit.flushes(), 1);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_dropped_leader_does_not_strand_the_others() {
        let commit = Arc::new(WalGroupCommit::default());
        let leader = {
            let commit = commit.clone();
            tokio::spawn(async move {
                commit
                    .flush_own_writes(|| -> Result<(), ()> {
                        unreachable!("aborted before flushing")
                    })
                    .await
            })
        };
        // The leader has taken its ticket and yielded; abort it there.
        tokio::task::yield_now().await;
        leader.abort();
        let _ = leader.await;
        let flushed = Arc::new(AtomicBool::new(false));
        let f = flushed.clone();
        commit
            .flush_own_writes(|| {
                f.store(true, Ordering::SeqCst);
                Ok::<(), ()>(())
            })
            .await
            .unwrap();
        assert!(flushed.load(Ordering::SeqCst));
    }
}
