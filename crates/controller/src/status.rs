//! What the controller knows beyond the stored model: the health of every
//! node (from the probe loop), the failover history, the migration jobs and
//! whether this controller is the leader. One place, so the API, the
//! metrics and the dashboard read the same numbers the loops write.
//!
//! Health and migrations live in memory (a new leader re-probes within a
//! few intervals); the failover history is kept in the metadata store under
//! `/basalt/history/<ns>/<cluster>` so it survives a restart and is shared
//! by every controller on etcd.

use crate::meta::MetaError;
use crate::store::MetaStore;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// Failover records kept per cluster; older ones are dropped.
pub const HISTORY_LIMIT: usize = 100;

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The last probe of one node.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NodeHealth {
    pub id: String,
    pub addr: String,
    /// "master" or "slave", as the model says.
    pub role: String,
    pub shard: usize,
    pub healthy: bool,
    /// Consecutive failed probes.
    pub failures: u32,
    /// Replication offset (`master_repl_offset` / `slave_repl_offset`).
    pub offset: i64,
    pub used_memory: u64,
    pub used_disk: u64,
    pub loading: bool,
    /// `CLUSTERX VERSION` seen on the node.
    pub version: i64,
    pub last_probe_ms: u64,
    /// Why the last probe failed, empty when it succeeded.
    pub error: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailoverKind {
    Auto,
    Manual,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FailoverRecord {
    pub shard: usize,
    pub kind: FailoverKind,
    pub old_master: String,
    pub new_master: String,
    pub started_ms: u64,
    pub finished_ms: u64,
    pub ok: bool,
    /// The reason it failed, or a note ("promoted replica at offset N").
    pub message: String,
    /// Cluster version after the failover.
    pub version: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MigrationState {
    Pending,
    Running,
    Success,
    Failed,
}

/// One slot-migration job, as the API, metrics and dashboard show it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MigrationJob {
    pub id: u64,
    /// "a-b" or "a".
    pub slots: String,
    pub source: usize,
    pub target: usize,
    pub state: MigrationState,
    /// Keys and bytes moved so far, as the source's CLUSTER INFO reports.
    pub keys: u64,
    pub bytes: u64,
    /// Source-side phase name (snapshot, wal, cutover, ...).
    pub phase: String,
    pub started_ms: u64,
    pub finished_ms: u64,
    pub message: String,
}

/// Whether this controller acts. The embedded store has one controller,
/// always the leader; the etcd store flips it with its election.
#[derive(Debug)]
pub struct Leadership {
    leader: AtomicBool,
    /// HTTP address of the current leader, for redirects.
    leader_addr: RwLock<Option<String>>,
}

impl Leadership {
    pub fn always() -> Leadership {
        Leadership {
            leader: AtomicBool::new(true),
            leader_addr: RwLock::new(None),
        }
    }

    pub fn follower() -> Leadership {
        Leadership {
            leader: AtomicBool::new(false),
            leader_addr: RwLock::new(None),
        }
    }

    pub fn is_leader(&self) -> bool {
        self.leader.load(Ordering::Acquire)
    }

    pub fn set(&self, leader: bool, leader_addr: Option<String>) {
        *self.leader_addr.write().unwrap_or_else(|e| e.into_inner()) = leader_addr;
        self.leader.store(leader, Ordering::Release);
    }

    pub fn leader_addr(&self) -> Option<String> {
        self.leader_addr
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

type ClusterKey = (String, String);

pub struct Status {
    store: Arc<dyn MetaStore>,
    health: Mutex<BTreeMap<ClusterKey, Vec<NodeHealth>>>,
    migrations: Mutex<BTreeMap<ClusterKey, Vec<MigrationJob>>>,
    safe_mode: AtomicBool,
    pub leadership: Leadership,
}

fn history_key(ns: &str, cluster: &str) -> String {
    format!("/basalt/history/{ns}/{cluster}")
}

fn key(ns: &str, cluster: &str) -> ClusterKey {
    (ns.to_string(), cluster.to_string())
}

impl Status {
    pub fn new(store: Arc<dyn MetaStore>, leadership: Leadership) -> Status {
        Status {
            store,
            health: Mutex::default(),
            migrations: Mutex::default(),
            safe_mode: AtomicBool::new(false),
            leadership,
        }
    }

    pub fn set_health(&self, ns: &str, cluster: &str, nodes: Vec<NodeHealth>) {
        lock(&self.health).insert(key(ns, cluster), nodes);
    }

    pub fn health(&self, ns: &str, cluster: &str) -> Vec<NodeHealth> {
        lock(&self.health)
            .get(&key(ns, cluster))
            .cloned()
            .unwrap_or_default()
    }

    pub fn forget_cluster(&self, ns: &str, cluster: &str) {
        lock(&self.health).remove(&key(ns, cluster));
        lock(&self.migrations).remove(&key(ns, cluster));
    }

    pub fn safe_mode(&self) -> bool {
        self.safe_mode.load(Ordering::Acquire)
    }

    pub fn set_safe_mode(&self, on: bool) {
        self.safe_mode.store(on, Ordering::Release);
    }

    /// Appends a failover to the cluster's stored history (newest last).
    pub fn record_failover(
        &self,
        ns: &str,
        cluster: &str,
        record: FailoverRecord,
    ) -> Result<(), MetaError> {
        let mut all = self.failovers(ns, cluster)?;
        all.push(record);
        if all.len() > HISTORY_LIMIT {
            all.drain(..all.len() - HISTORY_LIMIT);
        }
        self.store
            .set(&history_key(ns, cluster), &serde_json::to_string(&all)?)?;
        Ok(())
    }

    pub fn failovers(&self, ns: &str, cluster: &str) -> Result<Vec<FailoverRecord>, MetaError> {
        match self.store.get(&history_key(ns, cluster))? {
            Some(doc) => Ok(serde_json::from_str(&doc)?),
            None => Ok(Vec::new()),
        }
    }

    /// Adds a job or replaces the one with the same id.
    pub fn upsert_migration(&self, ns: &str, cluster: &str, job: MigrationJob) {
        let mut all = lock(&self.migrations);
        let jobs = all.entry(key(ns, cluster)).or_default();
        match jobs.iter_mut().find(|j| j.id == job.id) {
            Some(j) => *j = job,
            None => jobs.push(job),
        }
    }

    pub fn migrations(&self, ns: &str, cluster: &str) -> Vec<MigrationJob> {
        lock(&self.migrations)
            .get(&key(ns, cluster))
            .cloned()
            .unwrap_or_default()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FileStore;

    fn record(shard: usize) -> FailoverRecord {
        FailoverRecord {
            shard,
            kind: FailoverKind::Auto,
            old_master: "127.0.0.1:1".into(),
            new_master: "127.0.0.1:2".into(),
            started_ms: 1,
            finished_ms: 2,
            ok: true,
            message: String::new(),
            version: 2,
        }
    }

    #[test]
    fn failover_history_is_stored_and_capped() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn MetaStore> = Arc::new(FileStore::open(dir.path()).unwrap());
        let status = Status::new(store.clone(), Leadership::always());
        for i in 0..HISTORY_LIMIT + 5 {
            status.record_failover("ns", "c", record(i)).unwrap();
        }
        let again = Status::new(store, Leadership::always());
        let all = again.failovers("ns", "c").unwrap();
        assert_eq!(all.len(), HISTORY_LIMIT);
        assert_eq!(all[0].shard, 5);
        assert!(again.failovers("ns", "other").unwrap().is_empty());
    }
}
