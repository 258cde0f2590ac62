//! The replicas in a full sync from this master, as far as it can tell:
//! a replica's `_fetch_meta` comes on the connection of its handshake
//! (after `REPLCONF listening-port` and the refused PSYNC), so its address
//! is known then; its file transfers come on other connections, which do
//! not say whose they are. A replica counts as syncing from its
//! `_fetch_meta` until its next PSYNC is accepted, or until nobody has
//! fetched from the checkpoint for `GIVEN_UP_AFTER` (it gave up, or died).
//! CLUSTER SHARDS shows such a replica's health as `loading`.

use parking_lot::Mutex;
use std::time::{Duration, Instant};

/// A full sync with no file fetched for this long is over.
const GIVEN_UP_AFTER: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct FullSyncs {
    /// Address (as the replica announced it) and when it asked.
    entries: Mutex<Vec<(String, u16, Instant)>>,
}

impl FullSyncs {
    /// `_fetch_meta` from the replica at `ip:port`.
    pub fn began(&self, ip: String, port: u16) {
        let mut entries = self.entries.lock();
        entries.retain(|(i, p, _)| !(*i == ip && *p == port));
        entries.push((ip, port, Instant::now()));
    }

    /// A PSYNC from `ip:port` was accepted: it streams now.
    pub fn ended(&self, ip: &str, port: u16) {
        self.entries
            .lock()
            .retain(|(i, p, _)| !(i == ip && *p == port));
    }

    /// The replicas still syncing; `idle` is how long nobody fetched a
    /// checkpoint file (`None` while a transfer runs).
    pub fn list(&self, idle: Option<Duration>) -> Vec<(String, u16)> {
        let mut entries = self.entries.lock();
        let fetching = idle.is_none_or(|d| d < GIVEN_UP_AFTER);
        entries.retain(|(_, _, at)| fetching || at.elapsed() < GIVEN_UP_AFTER);
        entries.iter().map(|(i, p, _)| (i.clone(), *p)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sync_lasts_until_its_psync_or_until_fetches_stop() {
        let syncs = FullSyncs::default();
        syncs.began("10.0.0.2".into(), 6667);
        syncs.began("10.0.0.3".into(), 6667);
        assert_eq!(syncs.list(None).len(), 2);
        syncs.ended("10.0.0.2", 6667);
        assert_eq!(syncs.list(None), vec![("10.0.0.3".to_string(), 6667)]);
        // Recent: kept even with no transfer for a long time yet.
        assert_eq!(syncs.list(Some(Duration::from_secs(3600))).len(), 1);
    }
}
