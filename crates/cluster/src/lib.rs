//! Cluster mode, Kvrocks' model (see docs/cluster.md and
//! docs/architecture.md): no gossip; an operator or a controller pushes
//! the whole topology to every node with `CLUSTERX SETNODES` (or changes
//! one slot's owner with `CLUSTERX SETSLOT`), and each node
//!
//! - keeps it (`topology`), in `nodes.conf` too (`nodes_file`), and the
//!   slot moves it does not show yet in `slot-moves.conf` (`moves_file`);
//! - follows its master, or stops following, as the topology says, through
//!   the replication layer's own REPLICAOF functions;
//! - routes every command from its key positions in the command table: the
//!   router gate (`router`) answers MOVED, CROSSSLOT or CLUSTERDOWN for
//!   what it does not serve, and ends the wait of a blocked client whose
//!   slot it stops serving with the same redirect;
//! - describes the cluster in Redis 7's formats (`views`);
//! - moves slots with their data to another master (`migrate`, the source
//!   side of CLUSTERX MIGRATE) and takes them in (`import`, Kvrocks'
//!   internal CLUSTER IMPORT and APPLYBATCH).

mod error;
pub mod import;
mod link;
pub mod migrate;
mod moves_file;
mod nodes_file;
mod router;
pub mod slots;
pub mod topology;
pub mod views;

pub use error::ClusterError;
pub use import::ImportState;
pub use migrate::MigrateState;
pub use router::ScriptScope;
pub use slots::{key_slot, parse_slot_ranges, SlotRange, SLOTS};
pub use topology::{Node, Role, Topology, NODE_ID_LEN};

use import::Importer;
use migrate::{Destination, Migrator};

use basalt_core::shared::Shared;
use parking_lot::{Mutex, RwLock, RwLockReadGuard};
use std::path::PathBuf;
use std::sync::Arc;

/// The cluster state of this node.
pub struct Cluster {
    topology: RwLock<Topology>,
    /// Held across a whole change: the topology, the replication role it
    /// implies and the file, so two changes never interleave.
    change: Mutex<()>,
    migrator: Arc<Migrator>,
    importer: Arc<Importer>,
}

impl Cluster {
    pub fn new() -> Arc<Cluster> {
        Arc::new(Cluster {
            topology: RwLock::new(Topology::default()),
            change: Mutex::new(()),
            migrator: Arc::new(Migrator::default()),
            importer: Arc::new(Importer::default()),
        })
    }

    /// The gate for `Gates.router`.
    pub fn gate(self: &Arc<Self>) -> Box<dyn basalt_core::dispatch::Gate> {
        Box::new(router::Router {
            cluster: self.clone(),
        })
    }

    pub fn topology(&self) -> RwLockReadGuard<'_, Topology> {
        self.topology.read()
    }

    /// CLUSTERX SETNODES.
    pub fn set_nodes(
        &self,
        shared: &Arc<Shared>,
        text: &str,
        version: i64,
        force: bool,
    ) -> Result<(), ClusterError> {
        let _change = self.change.lock();
        let (port, binds) = {
            let c = shared.config.read();
            (c.port, c.bind.clone())
        };
        let applied = self.topology.write().set_nodes(text, version, force, |n| {
            n.port == port && is_listening_address(&binds, &n.host)
        })?;
        if applied == topology::Applied::Unchanged {
            return Ok(());
        }
        self.follow_topology(shared)?;
        self.slots_changed(shared);
        self.redirect_blocked(shared);
        self.persist(shared)
    }

    /// CLUSTERX SETNODEID.
    pub fn set_node_id(&self, shared: &Arc<Shared>, id: &str) -> Result<(), ClusterError> {
        let _change = self.change.lock();
        self.topology.write().set_node_id(id)?;
        self.follow_topology(shared)?;
        self.redirect_blocked(shared);
        self.persist(shared)
    }

    /// CLUSTERX SETSLOT.
    pub fn set_slots(
        &self,
        shared: &Arc<Shared>,
        ranges: &[SlotRange],
        node_id: &str,
        version: i64,
    ) -> Result<(), ClusterError> {
        let _change = self.change.lock();
        self.topology.write().set_slots(ranges, node_id, version)?;
        self.slots_changed(shared);
        self.redirect_blocked(shared);
        self.persist(shared)
    }

    /// After the topology changed: slots migrated away that this node no
    /// longer owns lose their data here; a finished import is over.
    fn slots_changed(&self, shared: &Shared) {
        let deleted = self.drop_migrated(shared);
        let imported = self.importer.topology_changed();
        if deleted || imported {
            self.persist_moves(shared);
        }
    }

    /// Deletes the data of the slots migrated away that the topology no
    /// longer gives to this node; whether there were any.
    fn drop_migrated(&self, shared: &Shared) -> bool {
        let mine: Vec<bool> = {
            let t = self.topology.read();
            let myid = t.myid.clone();
            (0..SLOTS as u16)
                .map(|s| t.owner(s).is_some_and(|o| o.id == myid))
                .collect()
        };
        self.migrator
            .topology_changed(shared, |slot| mine[usize::from(slot)])
    }

    /// After a migration handed slots over: the move is kept on disk, and
    /// the clients blocked on the slots' keys are redirected.
    pub(crate) fn moves_changed(&self, shared: &Shared) {
        self.persist_moves(shared);
        self.redirect_blocked(shared);
    }

    /// Redis's `clusterRedirectBlockedClientIfNeeded`: a client blocked on
    /// keys of a slot this node no longer serves gets `MOVED` to its owner
    /// (`CLUSTERDOWN Hash slot not served` when no one serves it). Such a
    /// client passed the router when it blocked, so a command that does not
    /// write blocked on a replica from a READONLY connection.
    fn redirect_blocked(&self, shared: &Shared) {
        if !shared.blocking.has_waiters() {
            return;
        }
        let t = self.topology.read();
        let ended = shared.blocking.end_waits(shared, |waiter| {
            let slot = key_slot(waiter.keys.first()?);
            let writes = shared
                .commands
                .lookup(&waiter.args()[0])
                .is_some_and(|(_, c)| c.has(basalt_core::command::flags::WRITE));
            match router::serve(self, &t, slot, writes, waiter.client_id, !writes) {
                Err(e @ (ClusterError::Moved { .. } | ClusterError::SlotNotServed)) => {
                    Some(basalt_resp::Reply::Error(e.to_string().into()))
                }
                // Served here, or a write forbidden for a moment while
                // a migration ends: the wait goes on.
                _ => None,
            }
        });
        if ended > 0 {
            tracing::info!("cluster: redirected {ended} blocked client(s) whose slot moved");
        }
    }

    /// Writes `slot-moves.conf`; a failure is logged (the move still holds
    /// in memory).
    fn persist_moves(&self, shared: &Shared) {
        let moves = moves_file::Moves {
            migrated: self.migrator.migrated(),
            imported: self.importer.imported_ranges(),
        };
        let path = shared.config.read().dir.join(moves_file::FILE_NAME);
        if let Err(e) = moves_file::dump(&moves, &path) {
            tracing::error!("cluster: cannot write {}: {e}", path.display());
        }
    }

    pub fn migrator(&self) -> &Migrator {
        &self.migrator
    }

    pub fn importer(&self) -> &Importer {
        &self.importer
    }

    /// CLUSTERX MIGRATE: checks the job as Kvrocks does, then starts it.
    pub fn migrate(
        &self,
        shared: &Arc<Shared>,
        ranges: &[SlotRange],
        dst_id: &str,
    ) -> Result<(), ClusterError> {
        let refuse = |m: &str| Err(ClusterError::Migration(format!("ERR {m}")));
        let destination = {
            let t = self.topology.read();
            let Some(dst) = t.node(dst_id) else {
                return refuse("Can't find the destination node id");
            };
            let Some(me) = t.myself() else {
                return refuse("Can't migrate slot which doesn't belong to me");
            };
            for r in ranges {
                if (r.start..=r.end).any(|s| t.owner(s).is_none_or(|o| o.id != me.id)) {
                    return refuse("Can't migrate slot which doesn't belong to me");
                }
            }
            if me.role != Role::Master {
                return refuse("Slave can't migrate slot");
            }
            if dst.role != Role::Master {
                return refuse("Can't migrate slot to a slave");
            }
            if dst.id == me.id {
                return refuse("Can't migrate slot to myself");
            }
            Destination {
                id: dst.id.clone(),
                host: dst.host.clone(),
                port: dst.port,
            }
        };
        migrate::spawn(
            shared.clone(),
            self.migrator.clone(),
            ranges.to_vec(),
            destination,
        )
        .map_err(ClusterError::Migration)
    }

    /// CLUSTER IMPORT ranges 0|1|2, from connection `link`.
    pub fn import(
        &self,
        shared: &Arc<Shared>,
        ranges: &[SlotRange],
        state: i64,
        link: u64,
    ) -> Result<(), ClusterError> {
        {
            let t = self.topology.read();
            let Some(me) = t.myself() else {
                return Err(ClusterError::NotInitialized);
            };
            if me.role != Role::Master {
                return Err(ClusterError::Migration(
                    "ERR Slave can't import slot".into(),
                ));
            }
            let mine = ranges
                .iter()
                .any(|r| (r.start..=r.end).any(|s| t.owner(s).is_some_and(|o| o.id == me.id)));
            if mine {
                return Err(ClusterError::Migration(
                    "ERR Can't import slot which belongs to me".into(),
                ));
            }
        }
        match state {
            0 => self.importer.start(shared, ranges, link),
            // On disk, data and state, before the source hears of it: from
            // its answer on, the source no longer serves the slots.
            1 => shared
                .data()
                .storage
                .sync_wal()
                .map_err(|e| format!("ERR {e}"))
                .and_then(|()| self.importer.succeed(ranges))
                .map(|()| self.persist_moves(shared)),
            2 => self.importer.fail(shared, ranges),
            _ => Err("ERR Invalid import state".into()),
        }
        .map_err(ClusterError::Migration)
    }

    /// APPLYBATCH on the import link: a raw write batch whose every record
    /// is in the slots being imported.
    pub fn apply_batch(
        &self,
        shared: &Shared,
        link: u64,
        data: &[u8],
    ) -> Result<i64, ClusterError> {
        if !self.importer.is_link(link) {
            return Err(ClusterError::Migration(
                "ERR APPLYBATCH is only accepted on a slot import link (CLUSTER IMPORT ... 0)"
                    .into(),
            ));
        }
        let storage = shared.data().storage.clone();
        let ranges = self.importer.ranges();
        let keys = migrate::key_ranges(&storage, &ranges);
        let bad = |e: String| ClusterError::Migration(format!("ERR invalid write batch: {e}"));
        let total = basalt_engine::replication::check_batch(data, storage.family_count())
            .map_err(|e| bad(e.to_string()))?;
        let inside = basalt_engine::migration::slot_records(data, storage.family_count(), &keys)
            .map_err(|e| bad(e.to_string()))?;
        if u64::from(inside.batch.count()) != total {
            return Err(bad("it writes outside the slots being imported".into()));
        }
        storage
            .apply_raw_batch(data)
            .map_err(|e| ClusterError::Migration(format!("ERR {e}")))?;
        self.importer.note_batch(data.len());
        Ok(data.len() as i64)
    }

    /// CLUSTER RESET, as Kvrocks: only with an empty database; the node
    /// stops following its master and forgets the topology, its id,
    /// nodes.conf and the pending slot hand-overs.
    pub fn reset(&self, shared: &Arc<Shared>) -> Result<(), ClusterError> {
        let _change = self.change.lock();
        if self.migrator.state() == MigrateState::Start
            || self.importer.state() == ImportState::Start
        {
            return Err(ClusterError::Migration(
                "ERR Can't reset cluster while migrating or importing".into(),
            ));
        }
        let empty = shared.data().db.dbsize().map(|n| n == 0).unwrap_or(false);
        if !empty {
            return Err(ClusterError::ResetNotEmpty);
        }
        if let Some(repl) = basalt_replication::of(shared) {
            if repl.is_replica() {
                repl.promote(shared);
            }
        }
        *self.topology.write() = Topology::default();
        let _ = std::fs::remove_file(nodes_path(shared));
        // Hand-overs of an old topology mean nothing in the next one.
        self.migrator.restore(Vec::new());
        self.importer.topology_changed();
        self.persist_moves(shared);
        Ok(())
    }

    /// Makes the replication role what the topology says: a replica
    /// follows its master, a master follows no one (Kvrocks'
    /// `SetMasterSlaveRepl`). A node not in the topology, or a replica
    /// whose master is not listed, is left as it is.
    fn follow_topology(&self, shared: &Arc<Shared>) -> Result<(), ClusterError> {
        enum Want {
            Master,
            Follow(String, u16),
        }
        let want = {
            let t = self.topology.read();
            let Some(me) = t.myself() else {
                return Ok(());
            };
            match me.role {
                Role::Master => Want::Master,
                // A replica of itself (a bad topology) would replicate
                // from its own port: leave it as it is.
                Role::Replica => match t.node(&me.master_id) {
                    Some(m) if m.id != me.id => Want::Follow(m.host.clone(), m.port),
                    _ => return Ok(()),
                },
            }
        };
        let Some(repl) = basalt_replication::of(shared) else {
            return Ok(());
        };
        match want {
            Want::Master => {
                if repl.is_replica() {
                    repl.promote(shared);
                    tracing::info!("cluster: this node is a master by the cluster topology");
                }
            }
            Want::Follow(host, port) => {
                let was_master = !repl.is_replica();
                if !repl.follow(shared, host.clone(), port) {
                    tracing::info!("cluster: following {host}:{port} by the cluster topology");
                }
                if was_master {
                    // As Redis's `replicationSetMaster`: what a client
                    // waits for on a master will not come on a replica.
                    shared.blocking.end_waits(shared, |_| {
                        Some(basalt_resp::Reply::Error(
                            "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)".into(),
                        ))
                    });
                }
            }
        }
        Ok(())
    }

    fn persist(&self, shared: &Shared) -> Result<(), ClusterError> {
        if !shared.config.read().persist_cluster_nodes_enabled {
            return Ok(());
        }
        nodes_file::dump(&self.topology.read(), &nodes_path(shared))
            .map_err(|e| ClusterError::Persist(e.to_string()))
    }
}

fn nodes_path(shared: &Shared) -> PathBuf {
    shared.config.read().dir.join(nodes_file::FILE_NAME)
}

/// Whether `host` is an address this node listens on: one of the bind
/// addresses, or any local address when it binds them all (Kvrocks'
/// `MatchListeningIP`). An address is local when a socket can bind it.
fn is_listening_address(binds: &[String], host: &str) -> bool {
    if binds.iter().any(|b| b == host) {
        return true;
    }
    let wildcard = binds
        .iter()
        .any(|b| b == "0.0.0.0" || b == "::" || b == "*");
    wildcard
        && host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| std::net::UdpSocket::bind((ip, 0)).is_ok())
}

/// Plugs the cluster layer into a server whose router gate is already
/// set: loads nodes.conf (when persisting is on) and takes the replication
/// role it gives. A nodes.conf that cannot be read stops the server.
///
/// A node that nodes.conf makes a replica keeps the replication id of its
/// newest batch, so that it resumes from its master with a partial sync;
/// any other node starts a new history as a master does at startup.
pub fn install(shared: &Arc<Shared>, cluster: Arc<Cluster>) -> Result<(), String> {
    let _ = shared.cluster.set(cluster.clone());
    let loaded = load(shared, &cluster);
    // After the role is known, before anything is written.
    if let Some(repl) = basalt_replication::of(shared) {
        repl.start_as_master(shared);
    }
    if loaded? {
        // A move the saved topology already shows had its data deleted,
        // unless the node stopped first: finish that.
        if cluster.drop_migrated(shared) {
            cluster.persist_moves(shared);
        }
    }
    Ok(())
}

/// Reads slot-moves.conf and nodes.conf and takes the role the topology
/// gives; whether a topology was loaded.
fn load(shared: &Arc<Shared>, cluster: &Arc<Cluster>) -> Result<bool, String> {
    restore_moves(shared, cluster)?;
    if !shared.config.read().persist_cluster_nodes_enabled {
        return Ok(false);
    }
    let path = nodes_path(shared);
    let Some(saved) = nodes_file::load(&path)? else {
        tracing::info!(
            "The cluster nodes file {} is not found. Use CLUSTERX subcommands to specify it.",
            path.display()
        );
        return Ok(false);
    };
    {
        let mut t = cluster.topology.write();
        t.myid = saved.myid;
        if saved.version >= 0 && !saved.nodes.is_empty() {
            t.set_nodes(&saved.nodes, saved.version, false, |_| false)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        } else {
            t.version = saved.version;
        }
    }
    cluster.follow_topology(shared).map_err(|e| e.to_string())?;
    tracing::info!(
        "cluster: loaded topology version {} from {}",
        cluster.topology().version,
        path.display()
    );
    Ok(true)
}

/// Takes back the slot moves of `slot-moves.conf`. A file that cannot be
/// read stops the server: serving the slots again could split them.
fn restore_moves(shared: &Shared, cluster: &Cluster) -> Result<(), String> {
    let path = shared.config.read().dir.join(moves_file::FILE_NAME);
    let moves = moves_file::load(&path)?;
    for (range, d) in &moves.migrated {
        tracing::info!(
            "cluster: slot(s) {range} were migrated to {} ({}:{}) before the restart",
            d.id,
            d.host,
            d.port
        );
    }
    for range in &moves.imported {
        tracing::info!("cluster: slot(s) {range} were imported before the restart");
    }
    cluster.migrator.restore(moves.migrated);
    cluster.importer.restore(moves.imported);
    Ok(())
}

/// The cluster layer of a server in cluster mode.
pub fn of(shared: &Shared) -> Option<Arc<Cluster>> {
    shared
        .cluster
        .get()
        .and_then(|c| c.clone().downcast::<Cluster>().ok())
}
