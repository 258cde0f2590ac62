//! A client's queue of pushes: pub/sub messages and client-side caching
//! invalidations, encoded by whoever produced them (PUBLISH, a writer that
//! invalidated a tracked key) and written out by the client's own
//! connection task. The producer never waits on the receiver's socket.
//!
//! Every connection has one from the start, in its `ClientHandle`: a
//! tracking client may redirect its invalidations to any other client, and
//! the producer finds the receiver by its id alone.
//!
//! A queue that grows past its limit (hard, or soft for longer than the
//! soft seconds) is emptied and its client killed, so a receiver that
//! stops reading costs at most the hard limit of memory.

use crate::clients::ClientHandle;
use basalt_config::BufferLimit;
use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

#[derive(Default)]
pub struct Outbox {
    queue: Mutex<Queue>,
    ready: Notify,
}

#[derive(Default)]
struct Queue {
    frames: VecDeque<Bytes>,
    bytes: usize,
    /// When the queue last went over the soft limit, while it stays over.
    over_soft_since: Option<Instant>,
    /// Over the limit: the client is being closed, drop whatever comes.
    closed: bool,
}

impl Outbox {
    /// Queues one encoded frame for `client` (whose outbox this is).
    pub(crate) fn push(&self, client: &ClientHandle, bytes: Bytes, limit: BufferLimit) {
        let mut q = self.queue.lock();
        if q.closed {
            return;
        }
        q.bytes += bytes.len();
        q.frames.push_back(bytes);
        if let Some(reason) = over_limit(&mut q, limit) {
            q.closed = true;
            q.frames = VecDeque::new();
            q.bytes = 0;
            drop(q);
            client.omem.store(0, Relaxed);
            tracing::warn!(
                "closing client {} (id {}): pub/sub output buffer over the {reason} limit \
                 (client-output-buffer-limit pubsub)",
                client.addr,
                client.id,
            );
            client.kill();
            return;
        }
        client.omem.store(q.bytes as u64, Relaxed);
        drop(q);
        self.ready.notify_one();
    }

    /// Resolves when pushes may be waiting.
    pub async fn ready(&self) {
        self.ready.notified().await
    }

    /// Moves queued frames into `out` until it holds `max` bytes; if some
    /// remain, re-arms `ready` so the connection comes back for them.
    pub(crate) fn drain_into(&self, client: &ClientHandle, out: &mut BytesMut, max: usize) {
        let mut q = self.queue.lock();
        while out.len() < max {
            let Some(frame) = q.frames.pop_front() else {
                break;
            };
            q.bytes -= frame.len();
            out.extend_from_slice(&frame);
        }
        if q.bytes == 0 {
            q.over_soft_since = None;
        }
        client.omem.store(q.bytes as u64, Relaxed);
        if !q.frames.is_empty() {
            self.ready.notify_one();
        }
    }
}

fn over_limit(q: &mut Queue, limit: BufferLimit) -> Option<&'static str> {
    let bytes = q.bytes as u64;
    if limit.hard_bytes > 0 && bytes >= limit.hard_bytes {
        return Some("hard");
    }
    if limit.soft_bytes > 0 && bytes >= limit.soft_bytes {
        // As in Redis, reaching the soft limit only starts the clock.
        match q.over_soft_since {
            None => q.over_soft_since = Some(Instant::now()),
            Some(since) if since.elapsed() > Duration::from_secs(limit.soft_seconds) => {
                return Some("soft")
            }
            Some(_) => {}
        }
    } else {
        q.over_soft_since = None;
    }
    None
}
