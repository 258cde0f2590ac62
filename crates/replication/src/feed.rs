//! The master's side of a partial sync: `PSYNC [replid] <next-seq>` is
//! accepted when the backlog or the WAL still holds a batch starting at
//! exactly that sequence (or it is the next one to be written); the
//! connection is then taken over by a feed thread that sends every batch
//! from there on as a RESP bulk string of RocksDB's raw batch bytes, and a
//! bulk `ping` when idle. A second thread reads what the replica sends back on the same
//! socket: `REPLCONF ACK <seq>`, the newest sequence it applied.

use crate::wire::{Wire, WireError};
use crate::{Announce, Replication};
use basalt_core::context::{Action, ClientState, TakeOver};
use basalt_core::error::CommandError;
use basalt_core::notify::Notifier;
use basalt_core::shared::Shared;
use basalt_engine::backlog::{BacklogUse, Lookup};
use basalt_resp::Reply;
use bytes::Bytes;
use parking_lot::Mutex;
use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Batches are packed into one socket write up to about this much.
const PACK_BYTES: usize = 256 * 1024;
/// Waiting for RocksDB's WAL: look again after this long.
const IDLE_NAP: Duration = Duration::from_millis(2);
/// Caught up: the longest wait for a new batch before looking again (a
/// write wakes the feed at once).
const IDLE_WAIT: Duration = Duration::from_millis(100);
/// After a send of less than this from the backlog, the feed waits
/// `COALESCE` before it looks again. Each send costs the master a wake-up
/// of this thread, a WAL buffer flush and a socket write, and brings back
/// an acknowledgement that wakes the ack thread: with the master on one
/// CPU, every wake-up also takes it from a worker. At 500 µs the feed
/// cost a master about 15% more CPU per SET than without a replica, at
/// 2 ms about 8% (docs/benchmarks.md). The first batch after a pause is
/// sent at once (the feed waits on the backlog then), so this adds lag
/// only under a steady load, and never more than `COALESCE`.
const COALESCE_BELOW: usize = 64 * 1024;
const COALESCE: Duration = Duration::from_millis(2);
/// How long a batch written but not in the backlog is waited for before
/// it is read from the WAL.
const UNRECORDED_GRACE: Duration = Duration::from_millis(20);
/// A bulk `ping` after this long without sending anything.
const PING_EVERY: Duration = Duration::from_secs(1);
/// How long a write to a replica may block.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// A sequence the WAL should hold but does not show even after flushing
/// RocksDB's WAL buffer, for this long, means it is gone.
const MISSING_FOR: Duration = Duration::from_secs(5);

/// One replica being fed.
pub struct Peer {
    pub ip: String,
    pub port: u16,
    /// The newest sequence sent.
    pub sent: AtomicU64,
    /// The newest sequence the replica acknowledged (0: none yet).
    pub acked: AtomicU64,
    pub last_ack: Mutex<Option<Instant>>,
    pub since: Instant,
    /// When the feed last wrote to the replica, in ms after `since`.
    sent_at_ms: AtomicU64,
    /// It raises keyspace notifications, or feeds a replica that does
    /// (`REPLCONF keyspace-events`).
    wants_events: AtomicBool,
    stop: AtomicBool,
    socket: TcpStream,
}

impl Peer {
    fn wants_events(&self) -> bool {
        self.wants_events.load(Ordering::Acquire)
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.socket.shutdown(Shutdown::Both);
    }

    /// Seconds since the replica last acknowledged. A replica that never
    /// does (Kvrocks before 2.14): seconds since the feed last wrote to it
    /// (batches, or a ping every second when idle), which grows once its
    /// socket stops taking what is sent.
    pub fn lag_secs(&self) -> u64 {
        match *self.last_ack.lock() {
            Some(t) => t.elapsed().as_secs(),
            None => {
                let sent = Duration::from_millis(self.sent_at_ms.load(Ordering::Acquire));
                self.since.elapsed().saturating_sub(sent).as_secs()
            }
        }
    }

    /// Notes that everything up to `seq` was written to the replica.
    fn mark_sent(&self, seq: u64) {
        self.sent.store(seq, Ordering::Release);
        self.mark_written();
    }

    fn mark_written(&self) {
        let ms = self.since.elapsed().as_millis() as u64;
        self.sent_at_ms.store(ms, Ordering::Release);
    }

    /// What the replica is known to have: its acknowledgement, or what was
    /// sent when it does not acknowledge.
    pub fn offset(&self) -> u64 {
        match self.acked.load(Ordering::Acquire) {
            0 => self.sent.load(Ordering::Acquire),
            n => n,
        }
    }
}

/// How long writes go on recording their keyspace notifications after the
/// last replica that raises them lost its link: one that comes back within
/// this time catches up (from the backlog or the WAL) with the events of
/// what it missed. One that comes back later misses those events, as it
/// does after a full sync.
pub const KEEP_RECORDING: Duration = Duration::from_secs(60);

/// The replicas this node feeds.
#[derive(Default)]
pub struct Replicas {
    peers: Mutex<Vec<Arc<Peer>>>,
    /// Told each time a replica acknowledges (WAIT listens).
    pub acked: Arc<tokio::sync::Notify>,
    /// Until when writes record their events with no replica attached
    /// that raises them (`KEEP_RECORDING`).
    recording_until: Mutex<Option<Instant>>,
}

impl Replicas {
    pub fn list(&self) -> Vec<Arc<Peer>> {
        self.peers.lock().clone()
    }

    pub fn disconnect_all(&self) {
        for peer in self.peers.lock().drain(..) {
            peer.stop();
        }
    }

    /// Also tells `notify` whether writes must record their events (under
    /// the lock, so that the last word is right).
    fn add(&self, peer: Arc<Peer>, notify: &Notifier) {
        let mut peers = self.peers.lock();
        peers.push(peer);
        self.tell_notify(&peers, notify, false);
    }

    fn remove(&self, peer: &Arc<Peer>, notify: &Notifier) {
        let mut peers = self.peers.lock();
        peers.retain(|p| !Arc::ptr_eq(p, peer));
        // A replica that goes away may come back and catch up: keep its
        // events for it a while.
        self.tell_notify(&peers, notify, peer.wants_events());
        drop(peers);
        // A WAIT counting this replica must count again.
        self.acked.notify_waiters();
    }

    /// A replica now says whether it raises keyspace notifications (it
    /// said so itself: nothing is kept for it).
    fn set_wants_events(&self, peer: &Peer, wants: bool, notify: &Notifier) {
        let peers = self.peers.lock();
        peer.wants_events.store(wants, Ordering::Release);
        self.tell_notify(&peers, notify, false);
    }

    /// Ends the recording kept for replicas that went away, once
    /// `KEEP_RECORDING` has passed (the replication housekeeping thread
    /// calls this).
    pub fn expire_recording(&self, notify: &Notifier) {
        let peers = self.peers.lock();
        self.tell_notify(&peers, notify, false);
    }

    /// Tells `notify` whether writes must record their events (under the
    /// peers' lock, so that the last word is right). `left`: a replica
    /// that raises them just went away.
    fn tell_notify(&self, peers: &[Arc<Peer>], notify: &Notifier, left: bool) {
        let mut until = self.recording_until.lock();
        if peers.iter().any(|p| p.wants_events()) {
            *until = None;
            notify.set_for_replicas(true);
            return;
        }
        if left {
            *until = Some(Instant::now() + KEEP_RECORDING);
        }
        match *until {
            Some(t) if Instant::now() < t => notify.set_for_replicas(true),
            _ => {
                *until = None;
                notify.set_for_replicas(false);
            }
        }
    }

    /// Whether a replica fed from here raises keyspace notifications (a
    /// replica tells its own master so, for them).
    pub fn any_wants_events(&self) -> bool {
        self.peers.lock().iter().any(|p| p.wants_events())
    }

    /// How many replicas acknowledged `seq` or later (Redis's
    /// `replicationCountAcksByOffset`). A replica that never acknowledges
    /// (a Kvrocks replica) counts only for `seq` 0.
    pub fn count_acked(&self, seq: u64) -> usize {
        self.peers
            .lock()
            .iter()
            .filter(|p| p.acked.load(Ordering::Acquire) >= seq)
            .count()
    }

    /// How many replicas acknowledged within the last `max_lag` seconds
    /// (Redis's good replicas, for `min-replicas-to-write`).
    pub fn good(&self, max_lag: u64) -> usize {
        self.peers
            .lock()
            .iter()
            .filter(|p| {
                p.last_ack
                    .lock()
                    .is_some_and(|t| t.elapsed().as_secs() <= max_lag)
            })
            .count()
    }
}

/// PSYNC: see the module comment. Kvrocks' errors, so that a Kvrocks
/// replica falls back to a full sync as it does with a Kvrocks master.
pub fn psync(
    shared: &Arc<Shared>,
    repl: &Arc<Replication>,
    client: &ClientState,
    args: &[Bytes],
) -> Result<(Reply, Option<Action>), CommandError> {
    if args.len() > 3 {
        return Err(CommandError::WrongArity("psync".into()));
    }
    let seq_arg = &args[args.len() - 1];
    let next: u64 = std::str::from_utf8(seq_arg)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            CommandError::other("ERR value is not an unsigned long long or out of range")
        })?;
    if args.len() == 3 && args[1].len() != 16 {
        return Err(CommandError::other("ERR Wrong replication id length"));
    }
    let storage = shared.data().storage.clone();
    // Batches still in RocksDB's WAL buffer are not in the file that
    // `get_updates_since` reads.
    let _ = storage.flush_wal_buffer();
    // Kvrocks' check of the replication id: the replica's newest batch
    // and this node's batch at the same sequence must belong to the same
    // history. Beyond Kvrocks: at our newest sequence, whose batch a WAL
    // without retention may have dropped, the stored id stands for it
    // (the newest batch always carries the stored id: a new id is stored
    // by a batch that carries it). Where the WAL no longer holds an older
    // batch, the sequence is out of range below anyway; a batch with no
    // id (data written before ids) lets only the sequence be checked.
    if args.len() == 3 {
        let theirs = String::from_utf8_lossy(&args[1]);
        let at = next.saturating_sub(1);
        let ours = storage.replication_id_at(at).or_else(|| {
            (at > 0 && at == storage.latest_sequence_number())
                .then(|| storage.stored_replication_id())
                .flatten()
        });
        if let Some(ours) = ours {
            if ours != theirs {
                repl.counters
                    .sync_partial_err
                    .fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    "replication: replica {} asked for sequence {next} after a batch of history {theirs}, ours is {ours}: full sync",
                    client.handle.addr,
                );
                return Err(CommandError::other(
                    "ERR wrong replication id of the last log",
                ));
            }
        }
    }
    if !storage.backlog().starts_at(next) && !storage.wal_starts_at(next) {
        repl.counters
            .sync_partial_err
            .fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            "replication: replica {} asked for sequence {next}, outside the WAL (latest {}): full sync",
            client.handle.addr,
            storage.latest_sequence_number()
        );
        return Err(CommandError::other(
            "ERR sequence out of range, please use fullsync",
        ));
    }
    repl.counters
        .sync_partial_ok
        .fetch_add(1, Ordering::Relaxed);
    let announce = repl.take_announce(client.handle.id);
    let (shared, repl) = (shared.clone(), repl.clone());
    let addr = client.handle.addr;
    let take_over = TakeOver(Box::new(move |stream, unread| {
        let stream = match stream.into_std() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("replication: cannot take over {addr}: {e}");
                return;
            }
        };
        start(shared, repl, stream, &unread, next, announce, addr);
    }));
    Ok((Reply::ok(), Some(Action::TakeOver(take_over))))
}

fn start(
    shared: Arc<Shared>,
    repl: Arc<Replication>,
    stream: TcpStream,
    unread: &[u8],
    next: u64,
    announce: Announce,
    addr: std::net::SocketAddr,
) {
    let (socket, reader) = match (stream.try_clone(), stream.try_clone()) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return,
    };
    let peer = Arc::new(Peer {
        ip: announce.ip.unwrap_or_else(|| addr.ip().to_string()),
        port: announce.port.unwrap_or(0),
        sent: AtomicU64::new(next.saturating_sub(1)),
        acked: AtomicU64::new(0),
        last_ack: Mutex::new(None),
        since: Instant::now(),
        sent_at_ms: AtomicU64::new(0),
        wants_events: AtomicBool::new(announce.events.unwrap_or(false)),
        stop: AtomicBool::new(false),
        socket,
    });
    repl.full_syncs.ended(&peer.ip, peer.port);
    repl.feed.add(peer.clone(), &shared.notify);
    tracing::info!(
        "replication: feeding replica {}:{} ({addr}) from sequence {next}",
        peer.ip,
        peer.port
    );
    let acks = match Wire::new(reader, unread) {
        Ok(w) => w,
        Err(_) => return,
    };
    let p = peer.clone();
    let (s, r) = (shared.clone(), repl.clone());
    let _ = std::thread::Builder::new()
        .name("repl-acks".into())
        .spawn(move || read_acks(acks, &p, &s, &r.feed));
    let p = peer.clone();
    let spawned = std::thread::Builder::new()
        .name("repl-feed".into())
        .spawn(move || {
            if let Err(e) = feed(&shared, stream, next, &p) {
                tracing::info!("replication: stopped feeding {}:{}: {e}", p.ip, p.port);
            }
            p.stop();
            repl.feed.remove(&p, &shared.notify);
        });
    if spawned.is_err() {
        peer.stop();
    }
}

/// Sends the batches from `next` on until the replica goes away or the
/// feed is stopped: from the engine's in-memory backlog of recent batches
/// while it holds `next` (the usual case: see `basalt_engine::backlog` for
/// why not the WAL), from the WAL when the replica is further behind (a
/// partial sync after a while away, or a slow replica), until it catches
/// up with the backlog.
fn feed(
    shared: &Shared,
    mut stream: TcpStream,
    mut next: u64,
    peer: &Peer,
) -> Result<(), WireError> {
    stream.set_nonblocking(false)?;
    stream.set_nodelay(true)?;
    // A replica that stops reading is dropped, as Redis's repl-timeout does.
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let mut out = Vec::with_capacity(PACK_BYTES);
    let mut last_send = Instant::now();
    let mut missing_since: Option<Instant> = None;
    let mut unrecorded_since: Option<Instant> = None;
    // Keeps the backlog recording while this feed runs; taken again if the
    // storage is replaced.
    let mut hold: Option<BacklogUse> = None;
    // When `repl-backlog-size` was last looked at (it is live).
    let mut limit_read: Option<Instant> = None;
    while !peer.stop.load(Ordering::Acquire) && !shared.is_shutting_down() {
        let storage = shared.data().storage.clone();
        let backlog = storage.backlog().clone();
        if !hold
            .as_ref()
            .is_some_and(|h| Arc::ptr_eq(h.backlog(), &backlog))
        {
            hold = Some(backlog.use_it());
            limit_read = None;
        }
        if limit_read.is_none_or(|t: Instant| t.elapsed() >= PING_EVERY) {
            let bytes = shared.config.read().repl_backlog_size;
            backlog.set_limit(usize::try_from(bytes).unwrap_or(usize::MAX));
            limit_read = Some(Instant::now());
        }
        out.clear();
        match backlog.read(next, PACK_BYTES, |entry| push_bulk(&mut out, &entry.data)) {
            Lookup::Batches(after) => {
                // A writer pushes its batch after RocksDB took it, but it
                // may still be in RocksDB's WAL buffer, which its
                // connection writes out a moment later: a master killed
                // meanwhile would lose what its replica has, and the
                // replica, ahead of it, would need a full sync. So what is
                // sent is in the WAL file first (nothing to do, usually).
                let _ = storage.flush_wal_buffer();
                drop(storage);
                next = after;
                unrecorded_since = None;
                missing_since = None;
                stream.write_all(&out)?;
                peer.mark_sent(next - 1);
                last_send = Instant::now();
                if out.len() < COALESCE_BELOW {
                    // Chasing the writers one batch at a time costs a
                    // wake-up of this thread (a futex call in the writer
                    // that wakes it) and a socket write per batch: let a
                    // few gather first (see `COALESCE_BELOW`).
                    std::thread::sleep(COALESCE);
                }
                continue;
            }
            Lookup::NotYet if next > storage.latest_sequence_number() => {
                drop(storage);
                unrecorded_since = None;
                if last_send.elapsed() >= PING_EVERY {
                    stream.write_all(b"$4\r\nping\r\n")?;
                    peer.mark_written();
                    last_send = Instant::now();
                }
                // Woken by the next write that lands in the backlog.
                backlog.wait_past(next, IDLE_WAIT);
                continue;
            }
            Lookup::NotYet => {
                // Written but not in the backlog (yet): a writer between
                // its write and its push, which a moment settles, or a
                // write that raced with the backlog's start, which only the
                // WAL has.
                let since = *unrecorded_since.get_or_insert_with(Instant::now);
                if since.elapsed() < UNRECORDED_GRACE {
                    drop(storage);
                    backlog.wait_past(next, Duration::from_millis(1));
                    continue;
                }
            }
            Lookup::Older => {}
        }
        unrecorded_since = None;
        let start = next;
        // One iterator for as long as it has batches: RocksDB finds the
        // start of a new one by reading the WAL file from its beginning,
        // so one per pack would cost a read of the whole file per 256 KiB
        // sent, and a replica would fall behind a busy master. It stops
        // where the backlog takes over.
        if let Ok(batches) = storage.wal_from(next) {
            for batch in batches {
                let batch =
                    batch.map_err(|e| WireError::Protocol(format!("reading the WAL: {e}")))?;
                if batch.next_sequence() <= next {
                    continue;
                }
                if batch.sequence != next {
                    return Err(WireError::Protocol(format!(
                        "the WAL skips from sequence {next} to {}",
                        batch.sequence
                    )));
                }
                push_bulk(&mut out, &batch.data);
                next = batch.next_sequence();
                if out.len() >= PACK_BYTES {
                    if peer.stop.load(Ordering::Acquire) || shared.is_shutting_down() {
                        return Ok(());
                    }
                    stream.write_all(&out)?;
                    out.clear();
                    peer.mark_sent(next - 1);
                    last_send = Instant::now();
                    if backlog.starts_at(next) {
                        break;
                    }
                }
            }
        }
        if next == start {
            // Written but still in RocksDB's WAL buffer, or gone.
            let _ = storage.flush_wal_buffer();
            drop(storage);
            let since = *missing_since.get_or_insert_with(Instant::now);
            if since.elapsed() > MISSING_FOR {
                return Err(WireError::Protocol(format!(
                    "sequence {next} is no longer in the WAL"
                )));
            }
            std::thread::sleep(IDLE_NAP);
            continue;
        }
        drop(storage);
        missing_since = None;
        if !out.is_empty() {
            stream.write_all(&out)?;
            peer.mark_sent(next - 1);
            last_send = Instant::now();
        }
    }
    Ok(())
}

/// Appends one batch as the RESP bulk string Kvrocks sends.
fn push_bulk(out: &mut Vec<u8>, data: &[u8]) {
    out.push(b'$');
    out.extend_from_slice(itoa::Buffer::new().format(data.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Reads the replica's `REPLCONF ACK <seq>` commands; ignores anything else.
/// What a replica sends on the stream: `REPLCONF ACK <seq>`, and from a
/// Basalt replica `REPLCONF keyspace-events <0|1>` when that changes.
fn read_acks(mut wire: Wire, peer: &Peer, shared: &Shared, feed: &Replicas) {
    let acked = &feed.acked;
    let forever = Duration::from_secs(u64::MAX / 4);
    while let Ok(header) = wire.line(&peer.stop, forever) {
        let Some(count) = header
            .strip_prefix(b"*")
            .and_then(|n| std::str::from_utf8(n).ok())
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n <= 16)
        else {
            break;
        };
        let mut args = Vec::with_capacity(count);
        while args.len() < count {
            match wire.poll_bulk(&peer.stop, 1024) {
                Ok(Some(arg)) => args.push(arg),
                Ok(None) => {}
                Err(_) => {
                    peer.stop();
                    return;
                }
            }
        }
        if args.len() == 3
            && args[0].eq_ignore_ascii_case(b"replconf")
            && args[1].eq_ignore_ascii_case(b"ack")
        {
            if let Some(seq) = std::str::from_utf8(&args[2])
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
            {
                peer.acked.fetch_max(seq, Ordering::AcqRel);
                *peer.last_ack.lock() = Some(Instant::now());
                acked.notify_waiters();
            }
        } else if args.len() == 3
            && args[0].eq_ignore_ascii_case(b"replconf")
            && args[1].eq_ignore_ascii_case(b"keyspace-events")
        {
            feed.set_wants_events(peer, &args[2][..] == b"1", &shared.notify);
        }
    }
    peer.stop();
}
