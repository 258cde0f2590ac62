//! The replica's link to its master, on a thread of its own: connect, the
//! handshake (`AUTH <masterauth>`, `_db_name`, `REPLCONF listening-port
//! [ip-address]`, Basalt's `REPLCONF keyspace-events <0|1>`), then `PSYNC <replid> <latest-seq + 1>` (the
//! replication id of its newest batch; `PSYNC <latest-seq + 1>` when it
//! has none, or the master knows no ids). `+OK` starts the
//! stream: every bulk string but `ping` is a WAL batch, applied as it is,
//! and the replica answers `REPLCONF ACK <latest-seq>` once it applied all
//! it received, and every second. Any
//! other answer means a full sync (`full_sync.rs`), after which the link
//! connects again and resumes with PSYNC. Any failure: wait a second,
//! start over.

use crate::effects::Effects;
use crate::wire::{self, Wire, WireError, WireResult};
use crate::Replication;
use basalt_core::shared::Shared;
use parking_lot::Mutex;
use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the master may stay silent in the handshake.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the stream may stay silent (the master pings every second),
/// as Redis's `repl-timeout`.
const STREAM_TIMEOUT: Duration = Duration::from_secs(60);
const ACK_EVERY: Duration = Duration::from_secs(1);
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// The largest batch accepted from a master.
const MAX_BATCH: usize = 1 << 30;
/// Batches already received are applied together up to about this much.
const GROUP_BYTES: usize = 4 << 20;

/// Where the link is, as ROLE names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum LinkState {
    Connect = 0,
    Connecting = 1,
    Handshake = 2,
    Sync = 3,
    Connected = 4,
}

impl LinkState {
    pub fn name(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Sync => "sync",
            LinkState::Connected => "connected",
        }
    }

    fn from_u8(v: u8) -> LinkState {
        match v {
            1 => LinkState::Connecting,
            2 => LinkState::Handshake,
            3 => LinkState::Sync,
            4 => LinkState::Connected,
            _ => LinkState::Connect,
        }
    }
}

pub struct Link {
    pub host: String,
    pub port: u16,
    stop: AtomicBool,
    state: AtomicU8,
    last_io: Mutex<Instant>,
    down_since: Mutex<Option<Instant>>,
    /// Full sync progress: bytes announced so far, bytes received.
    pub sync_total: AtomicU64,
    pub sync_read: AtomicU64,
    /// The connection now, to cut it when the link stops.
    socket: Mutex<Option<TcpStream>>,
    /// The master refused `PSYNC <replid> <seq>` as a wrong number of
    /// arguments (a master older than replication ids): the old form next.
    old_psync: AtomicBool,
    /// Shared with the role gate: the state is `Connected`.
    up: Arc<AtomicBool>,
    /// Files in `sync_checkpoint` were fetched by this link from this
    /// master (see `full_sync::keep_fetched`).
    pub(crate) fetched_before: AtomicBool,
}

impl Link {
    pub fn new(host: String, port: u16, up: Arc<AtomicBool>) -> Link {
        up.store(false, Ordering::Release);
        Link {
            host,
            port,
            stop: AtomicBool::new(false),
            state: AtomicU8::new(LinkState::Connect as u8),
            last_io: Mutex::new(Instant::now()),
            down_since: Mutex::new(Some(Instant::now())),
            sync_total: AtomicU64::new(0),
            sync_read: AtomicU64::new(0),
            socket: Mutex::new(None),
            old_psync: AtomicBool::new(false),
            up,
            fetched_before: AtomicBool::new(false),
        }
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        if let Some(s) = self.socket.lock().take() {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    pub(crate) fn stop_flag(&self) -> &AtomicBool {
        &self.stop
    }

    pub fn state(&self) -> LinkState {
        LinkState::from_u8(self.state.load(Ordering::Acquire))
    }

    pub(crate) fn set_state(&self, state: LinkState) {
        // A stopped link no longer speaks for the node's role.
        if self.stopped() && state == LinkState::Connected {
            return;
        }
        self.state.store(state as u8, Ordering::Release);
        if !self.stopped() {
            self.up
                .store(state == LinkState::Connected, Ordering::Release);
        }
        let mut down = self.down_since.lock();
        if state == LinkState::Connected {
            *down = None;
        } else if down.is_none() {
            *down = Some(Instant::now());
        }
    }

    pub fn last_io_secs(&self) -> u64 {
        self.last_io.lock().elapsed().as_secs()
    }

    pub(crate) fn touch(&self) {
        *self.last_io.lock() = Instant::now();
    }

    pub fn down_secs(&self) -> Option<u64> {
        self.down_since.lock().map(|t| t.elapsed().as_secs())
    }

    pub(crate) fn keep_socket(&self, wire: &Wire) {
        *self.socket.lock() = wire.stream.try_clone().ok();
        // A stop that came in between must still cut this connection.
        if self.stopped() {
            let _ = wire.stream.shutdown(Shutdown::Both);
        }
    }
}

pub fn start(shared: Arc<Shared>, repl: Arc<Replication>, link: Arc<Link>) {
    let spawned = std::thread::Builder::new()
        .name("repl-link".into())
        .spawn(move || run(&shared, &repl, &link));
    // Not joined: a stopped link ends by itself within one poll interval.
    if let Err(e) = spawned {
        tracing::error!("replication: cannot start the link thread: {e}");
    }
}

fn run(shared: &Arc<Shared>, repl: &Arc<Replication>, link: &Arc<Link>) {
    tracing::info!("replication: following {}:{}", link.host, link.port);
    while !link.stopped() && !shared.is_shutting_down() {
        match session(shared, repl, link) {
            Ok(()) => {}
            Err(WireError::Stopped) => break,
            Err(e) => {
                tracing::warn!(
                    "replication: link to {}:{} failed: {e}; retrying",
                    link.host,
                    link.port
                );
                link.set_state(LinkState::Connect);
                let until = Instant::now() + RETRY_AFTER;
                while Instant::now() < until && !link.stopped() {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }
    link.set_state(LinkState::Connect);
}

/// Sends a command and reads its one-line reply.
fn ask(wire: &mut Wire, link: &Link, args: &[&[u8]]) -> WireResult<Vec<u8>> {
    wire.send(args)?;
    let line = wire.line(link.stop_flag(), REPLY_TIMEOUT)?;
    link.touch();
    Ok(line)
}

/// Connects and authenticates (what every connection to the master does,
/// file transfers included).
pub(crate) fn connect(shared: &Shared, link: &Link) -> WireResult<Wire> {
    let mut wire = Wire::connect(&link.host, link.port, CONNECT_TIMEOUT)?;
    let password = shared.config.read().masterauth.clone();
    if let Some(password) = password {
        let line = ask(&mut wire, link, &[b"AUTH", password.as_bytes()])?;
        if !wire::is_ok(&line) {
            return Err(WireError::Protocol(format!(
                "AUTH refused: {}",
                String::from_utf8_lossy(&line)
            )));
        }
    }
    Ok(wire)
}

/// One connection: handshake, then the stream or a full sync.
fn session(shared: &Arc<Shared>, repl: &Arc<Replication>, link: &Arc<Link>) -> WireResult<()> {
    link.set_state(LinkState::Connecting);
    let mut wire = connect(shared, link)?;
    link.keep_socket(&wire);
    link.set_state(LinkState::Handshake);
    let events = handshake(shared, repl, link, &mut wire)?;
    let storage = shared.data().storage.clone();
    let next = storage.latest_sequence_number() + 1;
    let replid = storage.last_replication_id();
    drop(storage);
    let next_text = next.to_string();
    let mut line = match &replid {
        Some(id) if !link.old_psync.load(Ordering::Acquire) => ask(
            &mut wire,
            link,
            &[b"PSYNC", id.as_bytes(), next_text.as_bytes()],
        )?,
        _ => ask(&mut wire, link, &[b"PSYNC", next_text.as_bytes()])?,
    };
    if replid.is_some() && line.starts_with(b"-") && contains(&line, b"wrong number of arguments") {
        tracing::info!(
            "replication: {}:{} knows no replication ids; PSYNC without",
            link.host,
            link.port
        );
        link.old_psync.store(true, Ordering::Release);
        line = ask(&mut wire, link, &[b"PSYNC", next_text.as_bytes()])?;
    }
    if wire::is_ok(&line) {
        tracing::info!(
            "replication: partial sync from {}:{} at sequence {next} (replication id {})",
            link.host,
            link.port,
            replid.as_deref().unwrap_or("none")
        );
        link.set_state(LinkState::Connected);
        return stream(shared, repl, link, wire, events);
    }
    tracing::info!(
        "replication: {}:{} refused a partial sync at {next} ({}); full sync",
        link.host,
        link.port,
        String::from_utf8_lossy(&line)
    );
    link.set_state(LinkState::Sync);
    crate::full_sync::run(shared, repl, link, wire)
}

/// Returns what the master was told with `REPLCONF keyspace-events`, if
/// it understood (a Basalt master; Kvrocks refuses the option).
fn handshake(
    shared: &Shared,
    repl: &Replication,
    link: &Link,
    wire: &mut Wire,
) -> WireResult<Option<bool>> {
    let line = ask(wire, link, &[b"_db_name"])?;
    let ours = shared.config.read().db_name.clone();
    if line.first() == Some(&b'-') || line != ours.as_bytes() {
        return Err(WireError::Protocol(format!(
            "the master's db-name is {:?}, ours {ours:?}",
            String::from_utf8_lossy(&line)
        )));
    }
    let (port, ip) = {
        let c = shared.config.read();
        let port = match c.replica_announce_port {
            0 => c.port,
            p => p,
        };
        (port.to_string(), c.replica_announce_ip.clone())
    };
    let mut args: Vec<&[u8]> = vec![b"REPLCONF", b"listening-port", port.as_bytes()];
    if !ip.is_empty() {
        args.extend([b"ip-address".as_slice(), ip.as_bytes()]);
    }
    let line = ask(wire, link, &args)?;
    if line.starts_with(b"-") && !ip.is_empty() && contains(&line, b"unknown option") {
        // An older master: once more without the address.
        ask(wire, link, &args[..3])?;
    }
    // Any other refusal is ignored, as a Kvrocks replica does: very old
    // masters have no REPLCONF.
    let wants = wants_events(shared, repl);
    let line = ask(
        wire,
        link,
        &[
            b"REPLCONF",
            b"keyspace-events",
            if wants { b"1" } else { b"0" },
        ],
    )?;
    Ok(wire::is_ok(&line).then_some(wants))
}

/// Whether this node needs its master's writes to carry their keyspace
/// notifications: it raises them itself, or feeds a replica that does.
fn wants_events(shared: &Shared, repl: &Replication) -> bool {
    shared.notify.wants(u32::MAX) || repl.feed.any_wants_events()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Applies the master's batches until the link fails or stops. `events`:
/// what the master was last told about this node's keyspace
/// notifications, if it takes that (`handshake`).
fn stream(
    shared: &Arc<Shared>,
    repl: &Replication,
    link: &Link,
    mut wire: Wire,
    mut events: Option<bool>,
) -> WireResult<()> {
    let mut last_input = Instant::now();
    let mut last_ack = Instant::now();
    let mut unflushed = false;
    let mut pending_ack: Vec<u8> = Vec::new();
    // The newest sequence put in an acknowledgement.
    let mut acked = 0;
    loop {
        match wire.poll_bulk(link.stop_flag(), MAX_BATCH)? {
            Some(bulk) => {
                last_input = Instant::now();
                link.touch();
                // Everything else already received goes with it.
                let mut batches = Vec::new();
                let mut bytes = 0;
                let mut next = Some(bulk);
                while let Some(bulk) = next {
                    if bulk != b"ping" {
                        bytes += bulk.len();
                        batches.push(bulk);
                    }
                    next = if bytes < GROUP_BYTES {
                        wire.take_bulk(MAX_BATCH)?
                    } else {
                        None
                    };
                }
                if !batches.is_empty() {
                    apply(shared, repl, link, &batches)?;
                    unflushed = true;
                }
            }
            None => {
                if last_input.elapsed() > STREAM_TIMEOUT {
                    return Err(WireError::Timeout);
                }
            }
        }
        // Handing applied batches to the OS now and then keeps what a
        // replica crash loses small; it resumes from what it kept anyway.
        if unflushed && (wire.buffered() == 0 || last_ack.elapsed() >= ACK_EVERY) {
            let _ = shared.data().storage.flush_wal_buffer();
            unflushed = false;
        }
        // A CONFIG SET of notify-keyspace-events here (or on a replica of
        // this node) changes what the master must record.
        if let Some(told) = events {
            let wants = wants_events(shared, repl);
            if wants != told {
                let value: &[u8] = if wants { b"1" } else { b"0" };
                pending_ack.extend(wire::command(&[b"REPLCONF", b"keyspace-events", value]));
                send_without_waiting(&wire.stream, &mut pending_ack)?;
                events = Some(wants);
            }
        }
        // Besides every second, as soon as everything received is
        // applied: a client's WAIT on the master returns that much sooner.
        let latest = shared.data().storage.latest_sequence_number();
        let news = latest > acked && wire.buffered() == 0 && pending_ack.is_empty();
        if news || last_ack.elapsed() >= ACK_EVERY {
            if pending_ack.is_empty() {
                pending_ack = wire::command(&[b"REPLCONF", b"ACK", latest.to_string().as_bytes()]);
                acked = latest;
            }
            send_without_waiting(&wire.stream, &mut pending_ack)?;
            last_ack = Instant::now();
        }
    }
}

/// Writes what the socket takes now and keeps the rest for later: a
/// master that never reads acknowledgements (Kvrocks before 2.14) must
/// not stall the stream once its receive buffer is full.
fn send_without_waiting(mut stream: &TcpStream, pending: &mut Vec<u8>) -> WireResult<()> {
    stream.set_nonblocking(true)?;
    let result = stream.write(pending);
    stream.set_nonblocking(false)?;
    match result {
        Ok(n) => {
            pending.drain(..n);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Applies batches received together, unless the link was stopped
/// (REPLICAOF changed the role): from then on this node's data is no
/// longer the master's. Then what each batch does beyond its data
/// (`effects`), in order. INFO and ROLE show the offset before the
/// batches until their effects are done (`Applying`).
///
/// Batches that follow one another go to RocksDB as one write (see
/// `Storage::apply_replicated_all`), which halves what applying a small
/// batch costs a replica; except while a client listens for `new` key
/// events, which must know what was missing right before each batch.
fn apply(
    shared: &Arc<Shared>,
    repl: &Replication,
    link: &Link,
    batches: &[Vec<u8>],
) -> WireResult<()> {
    if batches.len() > 1 && crate::effects::watches_new_keys(shared) {
        for batch in batches {
            apply(shared, repl, link, std::slice::from_ref(batch))?;
        }
        return Ok(());
    }
    let _shown = Applying::mark(repl, shared.data().storage.latest_sequence_number());
    // Only this thread writes on a replica: what is missing now is
    // missing right before the batch.
    let new_keys = match batches {
        [batch] => crate::effects::watch_new_keys(shared, batch),
        _ => None,
    };
    let effects = {
        let _access = shared.dataset.access();
        let _applying = repl.apply.lock();
        if link.stopped() {
            return Err(WireError::Stopped);
        }
        let data = shared.data();
        data.storage.apply_replicated_all(batches).map_err(|e| {
            WireError::Protocol(format!("cannot apply a batch from the master: {e}"))
        })?;
        let effects: Vec<Effects> = batches
            .iter()
            .map(|batch| Effects::of(shared, &data.storage, batch))
            .collect();
        // What clients built on reads of the changed keys: WATCHes and
        // client-side caches.
        if shared.watches.active() || shared.tracking.active() {
            for e in &effects {
                shared.watches.touch(&e.keys);
                shared.tracking.invalidate(shared, &e.keys, None);
            }
        }
        effects
    };
    let mut new_keys = new_keys;
    for e in effects {
        e.run(shared, new_keys.take());
    }
    Ok(())
}

/// Holds the offset INFO and ROLE show at `before` until the batch and
/// its effects are done (`Replication::shown_offset`).
struct Applying<'a>(&'a Replication);

impl<'a> Applying<'a> {
    fn mark(repl: &'a Replication, before: u64) -> Applying<'a> {
        repl.applying_from.store(before, Ordering::SeqCst);
        Applying(repl)
    }
}

impl Drop for Applying<'_> {
    fn drop(&mut self) {
        self.0.applying_from.store(u64::MAX, Ordering::SeqCst);
    }
}
