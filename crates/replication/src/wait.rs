//! The master's safety checks on its replicas' acknowledgements
//! (`REPLCONF ACK <seq>`, see `feed.rs`): WAIT, which waits until enough
//! replicas have a client's last write, and `min-replicas-to-write`, which
//! refuses writes while too few replicas acknowledge in time.
//!
//! Offsets are sequence numbers: a replica applies the master's batches as
//! they are, so the sequence it acknowledges is the master's. A Basalt
//! replica acknowledges right after applying what it received (and every
//! second), so WAIT needs no `REPLCONF GETACK`, which a Kvrocks replica
//! would take for a batch. A Kvrocks replica never acknowledges: WAIT does
//! not count it and it is never a good replica.

use crate::Replication;
use basalt_resp::Reply;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Counts a client as blocked for as long as its WAIT waits (a client
/// that disconnects drops the wait, and the count with it).
struct Blocked(Arc<AtomicUsize>);

impl Blocked {
    fn new(count: &Arc<AtomicUsize>) -> Blocked {
        count.fetch_add(1, Ordering::AcqRel);
        Blocked(count.clone())
    }
}

impl Drop for Blocked {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Replication {
    /// How many replicas acknowledged `seq` or later.
    pub fn count_acked(&self, seq: u64) -> usize {
        self.feed.count_acked(seq)
    }

    /// Clients blocked in WAIT now.
    pub fn waiting_clients(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    /// How many replicas acknowledged within `max_lag` seconds.
    pub fn good_replicas(&self, max_lag: u64) -> usize {
        self.feed.good(max_lag)
    }

    /// WAIT's blocking part: the number of replicas that acknowledged
    /// `seq`, once `want` of them did or `timeout` (`None`: never) passed.
    pub fn wait_for_acks(
        self: Arc<Self>,
        seq: u64,
        want: usize,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Reply> + Send + 'static {
        // A timeout too far away to be an instant is no timeout.
        let deadline = timeout.and_then(|t| tokio::time::Instant::now().checked_add(t));
        let blocked = Blocked::new(&self.waiting);
        async move {
            let _blocked = blocked;
            let acked = self.feed.acked.clone();
            loop {
                // Listening before counting: an acknowledgement between
                // the two still wakes us.
                let notified = acked.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                let count = self.count_acked(seq);
                if count >= want {
                    return Reply::Integer(count as i64);
                }
                let timeout = async {
                    match deadline {
                        Some(d) => tokio::time::sleep_until(d).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = &mut notified => {}
                    _ = timeout => return Reply::Integer(self.count_acked(seq) as i64),
                }
            }
        }
    }
}
