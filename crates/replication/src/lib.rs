//! Master→replica replication, speaking Kvrocks' protocol (see
//! docs/replication.md and docs/architecture.md).
//!
//! Owns the master's side (the PSYNC feed of RocksDB WAL batches, the
//! checkpoint a full sync fetches, the replicas it feeds), the replica's
//! side (the link to its master: handshake, partial or full sync, the
//! stream of batches applied as they are) and the role gate that keeps a
//! replica read-only. It reaches the data only through the engine's small
//! replication interface (`basalt_engine::replication`) and the dataset
//! slot of `basalt-core`; it knows no command but its own protocol's, and
//! never touches a client's socket except those handed to it by
//! `Action::TakeOver`.

mod checkpoint;
mod effects;
mod failover;
mod feed;
mod full_sync;
mod gate;
mod link;
mod report;
mod syncing;
mod wait;
mod wire;

pub use failover::{FailoverError, Request as FailoverRequest};
pub use report::{info_section, role_reply, stats_lines};

use basalt_core::shared::Shared;
use link::Link;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The replication state of this node.
pub struct Replication {
    /// `Some` while this node follows a master.
    role: Mutex<Option<Arc<Link>>>,
    /// Mirrors `role.is_some()` for the gate, read on every command.
    replica: Arc<AtomicBool>,
    /// Whether the link streams from the master now (for the gate).
    link_up: Arc<AtomicBool>,
    /// Held by the link while it applies a batch, and by a role change
    /// while it stops the link: once REPLICAOF returns, the old link
    /// applies nothing more.
    apply: Mutex<()>,
    feed: Arc<feed::Replicas>,
    failover: failover::Failover,
    checkpoint: checkpoint::Checkpoint,
    /// Replicas in a full sync from this node (CLUSTER SHARDS).
    full_syncs: syncing::FullSyncs,
    counters: Counters,
    /// What replicas said in REPLCONF, by client id, until their PSYNC.
    announced: Mutex<HashMap<u64, Announce>>,
    /// Clients blocked in WAIT now (INFO blocked_clients).
    waiting: Arc<std::sync::atomic::AtomicUsize>,
    /// While the link applies a batch: the sequence before it (else
    /// `u64::MAX`). See [`Replication::shown_offset`].
    applying_from: AtomicU64,
}

/// Kvrocks' INFO counters.
#[derive(Default)]
pub struct Counters {
    pub sync_full: AtomicU64,
    pub sync_partial_ok: AtomicU64,
    pub sync_partial_err: AtomicU64,
}

/// A replica's REPLCONF: the port it serves on, the address to show, and
/// whether it raises keyspace notifications (Basalt's `keyspace-events`:
/// then this node's writes record theirs for it).
#[derive(Clone, Default)]
pub struct Announce {
    pub port: Option<u16>,
    pub ip: Option<String>,
    pub events: Option<bool>,
}

impl Replication {
    pub fn new() -> Arc<Replication> {
        Arc::new(Replication {
            role: Mutex::new(None),
            replica: Arc::new(AtomicBool::new(false)),
            link_up: Arc::new(AtomicBool::new(false)),
            apply: Mutex::new(()),
            feed: Default::default(),
            failover: Default::default(),
            checkpoint: Default::default(),
            full_syncs: Default::default(),
            counters: Default::default(),
            announced: Mutex::new(HashMap::new()),
            waiting: Default::default(),
            applying_from: AtomicU64::new(u64::MAX),
        })
    }

    /// The gate for `Gates.role`.
    pub fn gate(&self) -> Box<dyn basalt_core::dispatch::Gate> {
        Box::new(gate::RoleGate {
            replica: self.replica.clone(),
            link_up: self.link_up.clone(),
            feed: self.feed.clone(),
        })
    }

    pub fn is_replica(&self) -> bool {
        self.replica.load(Ordering::Acquire)
    }

    /// Whether a replica streams from this node now (PUBLISH writes its
    /// message for replicas only then).
    pub fn feeds_replicas(&self) -> bool {
        !self.feed.list().is_empty()
    }

    /// Each replica this node feeds: its address as INFO shows it, and the
    /// sequence it is known to have (CLUSTER SHARDS shows it).
    pub fn replica_offsets(&self) -> Vec<(String, u16, u64)> {
        self.feed
            .list()
            .iter()
            .map(|p| (p.ip.clone(), p.port, p.offset()))
            .collect()
    }

    /// The replicas (address as they announced it) in a full sync from
    /// this node now (see `syncing`).
    pub fn full_sync_replicas(&self) -> Vec<(String, u16)> {
        self.full_syncs.list(self.checkpoint.idle())
    }

    /// Whether this node is a replica in a full sync from its master.
    pub fn in_full_sync(&self) -> bool {
        self.link()
            .is_some_and(|l| l.state() == link::LinkState::Sync)
    }

    /// The sequence a replica shows as applied (INFO's
    /// `slave_repl_offset`, ROLE): the storage's latest, except while the
    /// link applies a batch whose effects (a script reload, its
    /// notifications) are not done yet: then the sequence before it, so
    /// that a client that sees an offset also sees what its batches did.
    /// The acknowledgements WAIT counts are sent after the effects too.
    pub fn shown_offset(&self, storage: &basalt_engine::Storage) -> u64 {
        // Latest first: a batch written after this read is not in it, and
        // one written before has already raised the mark read next.
        let latest = storage.latest_sequence_number();
        latest.min(self.applying_from.load(Ordering::SeqCst))
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    fn link(&self) -> Option<Arc<Link>> {
        self.role.lock().clone()
    }

    /// REPLICAOF host port: follow that master (from now on this node's
    /// data changes only through it). `true` when it already did.
    ///
    /// The link resumes with a partial sync when this node's history is a
    /// prefix of the master's: its PSYNC names the replication id of its
    /// newest batch, and the master refuses (full sync) when its own batch
    /// at that sequence carries another id (Kvrocks #462/#538). Also what
    /// cluster or failover code calls when this node must follow another.
    pub fn follow(self: &Arc<Self>, shared: &Arc<Shared>, host: String, port: u16) -> bool {
        let mut role = self.role.lock();
        if let Some(link) = role.as_ref() {
            if link.host == host && link.port == port {
                return true;
            }
        }
        if let Some(old) = role.take() {
            let _applying = self.apply.lock();
            old.stop();
        }
        // Replicas of this node would follow a history that is about to
        // change: they reconnect and sync again.
        self.feed.disconnect_all();
        self.replica.store(true, Ordering::Release);
        let storage = shared.data().storage.clone();
        storage.set_fenced(true);
        // From now on this node's batches are its master's, with its id.
        storage.clear_replication_id();
        shared.config.write().slaveof = format!("{host} {port}");
        let link = Arc::new(Link::new(host, port, self.link_up.clone()));
        *role = Some(link.clone());
        drop(role);
        link::start(shared.clone(), self.clone(), link);
        false
    }

    /// REPLICAOF NO ONE: stop following and accept writes again, under a
    /// new replication id (so that a node that follows this one again
    /// later, or this node following its old master, is resumed only if
    /// neither wrote since). Also what cluster or failover code calls when
    /// this node is promoted. Nothing happens on a master.
    pub fn promote(&self, shared: &Shared) {
        let mut role = self.role.lock();
        let Some(old) = role.take() else {
            shared.data().storage.set_fenced(false);
            shared.config.write().slaveof.clear();
            return;
        };
        {
            let _applying = self.apply.lock();
            old.stop();
        }
        tracing::info!(
            "replication: stopped following {}:{}, this node is a master now",
            old.host,
            old.port
        );
        self.replica.store(false, Ordering::Release);
        let storage = shared.data().storage.clone();
        storage.set_fenced(false);
        shift_id(&storage);
        shared.config.write().slaveof.clear();
    }

    /// At startup, for a node that follows no master: a master starts a
    /// new history each time it starts (as Kvrocks), since it may have
    /// been a replica, or another node's master, before. Nothing happens
    /// on a replica.
    pub fn start_as_master(&self, shared: &Shared) {
        if !self.is_replica() {
            shift_id(&shared.data().storage);
        }
    }

    /// REPLCONF listening-port / ip-address from the client `client_id`.
    pub fn announce(&self, shared: &Shared, client_id: u64, update: Announce) {
        let mut announced = self.announced.lock();
        // Connections that left without PSYNC leave nothing behind.
        announced.retain(|id, _| shared.clients.get(*id).is_some());
        let entry = announced.entry(client_id).or_default();
        if update.port.is_some() {
            entry.port = update.port;
        }
        if update.ip.is_some() {
            entry.ip = update.ip;
        }
        if update.events.is_some() {
            entry.events = update.events;
        }
    }

    fn take_announce(&self, client_id: u64) -> Announce {
        self.announced.lock().remove(&client_id).unwrap_or_default()
    }

    /// Stops every replication thread (at shutdown).
    fn stop_all(&self) {
        if let Some(link) = self.role.lock().as_ref() {
            link.stop();
        }
        self.feed.disconnect_all();
    }
}

/// Plugs replication into a server: the role gate must already be in
/// `shared.gates` (it is set before `Shared` is shared). Starts the
/// housekeeping thread and, with `slaveof` configured, the link.
pub fn install(shared: &Arc<Shared>, replication: Arc<Replication>) {
    let _ = shared.replication.set(replication.clone());
    checkpoint::remove_leftovers(&shared.data().storage);
    full_sync::remove_placeholders(shared.data().storage.dir());
    let master = shared.config.read().slaveof.clone();
    match parse_master(&master) {
        Some((host, port)) => {
            replication.follow(shared, host, port);
        }
        // In cluster mode the topology (nodes.conf) gives the role, and
        // the cluster layer calls `start_as_master` if it is not a
        // replica's: a new id here would make a replica restarted from
        // nodes.conf look as if it had written a history of its own.
        None if shared.config.read().cluster_enabled => {}
        None => replication.start_as_master(shared),
    }
    let s = shared.clone();
    let spawned = std::thread::Builder::new()
        .name("repl-cron".into())
        .spawn(move || {
            while !s.is_shutting_down() {
                replication.checkpoint.expire(&s.data().storage);
                replication.feed.expire_recording(&s.notify);
                std::thread::sleep(Duration::from_millis(500));
            }
            replication.stop_all();
        });
    match spawned {
        Ok(t) => shared.background_threads.lock().push(t),
        Err(e) => tracing::error!("cannot start the replication housekeeping thread: {e}"),
    }
}

fn shift_id(storage: &basalt_engine::Storage) {
    match storage.shift_replication_id() {
        Ok(id) => tracing::info!("replication: new replication id {id}"),
        Err(e) => tracing::error!("replication: cannot store a new replication id: {e}"),
    }
}

/// The replication layer of a server assembled with `install`.
pub fn of(shared: &Shared) -> Option<Arc<Replication>> {
    shared
        .replication
        .get()
        .and_then(|r| r.clone().downcast::<Replication>().ok())
}

/// `<host> <port>` as the `slaveof` option holds it.
fn parse_master(text: &str) -> Option<(String, u16)> {
    let mut parts = text.split_whitespace();
    let host = parts.next()?;
    let port = parts.next()?.parse().ok().filter(|&p| p > 0)?;
    Some((host.to_string(), port))
}

pub use checkpoint::{fetch_file, fetch_meta};
pub use feed::psync;
pub use full_sync::recover_interrupted_swap;
