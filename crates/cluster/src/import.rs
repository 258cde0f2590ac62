//! The destination side of a slot migration: Kvrocks' internal
//! `CLUSTER IMPORT <ranges> 0|1|2` (`slot_import.cc`) and the batches the
//! source sends in between (`APPLYBATCH`).
//!
//! - `0` (start): one import at a time (the same ranges again is fine);
//!   the slots' existing data here is cleared, and the connection that
//!   sent it is the import link: if it drops before the end, the import
//!   fails and its partial data is cleared.
//! - `1` (success): this node serves the slots at once, before the new
//!   topology arrives (the source answers MOVED here meanwhile).
//! - `2` (failed): the partial data is cleared.

use crate::migrate::{key_ranges, ranges_text};
use crate::slots::SlotRange;
use basalt_core::shared::Shared;
use parking_lot::Mutex;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportState {
    None,
    Start,
    Success,
    Failed,
}

impl ImportState {
    /// Kvrocks' names (`error` for a failed import).
    fn name(self) -> &'static str {
        match self {
            ImportState::None => "none",
            ImportState::Start => "start",
            ImportState::Success => "success",
            ImportState::Failed => "error",
        }
    }
}

struct Status {
    state: ImportState,
    ranges: Vec<SlotRange>,
    /// The client id of the import link.
    link: u64,
    batches: u64,
    bytes: u64,
    /// When the source was last heard from (CLUSTER IMPORT, APPLYBATCH).
    heard: Instant,
}

pub struct Importer {
    status: Mutex<Status>,
}

impl Default for Importer {
    fn default() -> Self {
        Importer {
            status: Mutex::new(Status {
                state: ImportState::None,
                ranges: Vec::new(),
                link: 0,
                batches: 0,
                bytes: 0,
                heard: Instant::now(),
            }),
        }
    }
}

/// How often the import link is checked for a drop.
const LINK_CHECK: Duration = Duration::from_millis(100);

impl Importer {
    pub fn state(&self) -> ImportState {
        self.status.lock().state
    }

    /// Whether this node serves `slot` because it imported it and the
    /// topology has not caught up yet.
    pub fn imported(&self, slot: u16) -> bool {
        let s = self.status.lock();
        s.state == ImportState::Success && s.ranges.iter().any(|r| r.contains(slot))
    }

    /// Whether `link` is the connection of the running import.
    pub fn is_link(&self, link: u64) -> bool {
        let s = self.status.lock();
        s.state == ImportState::Start && s.link == link
    }

    /// Whether a command on connection `link` for `slot` comes from the
    /// source of the running import: a Kvrocks source in its
    /// redis-command mode sends plain commands, not APPLYBATCH, and each
    /// counts as word from it (`migrate-import-timeout`).
    pub fn from_source(&self, link: u64, slot: u16) -> bool {
        let mut s = self.status.lock();
        let ours = s.state == ImportState::Start
            && s.link == link
            && s.ranges.iter().any(|r| r.contains(slot));
        if ours {
            s.heard = Instant::now();
        }
        ours
    }

    /// The slots imported whose new owner the topology does not show yet.
    pub(crate) fn imported_ranges(&self) -> Vec<SlotRange> {
        let s = self.status.lock();
        if s.state == ImportState::Success {
            s.ranges.clone()
        } else {
            Vec::new()
        }
    }

    /// Takes back an import a restart read from disk.
    pub(crate) fn restore(&self, ranges: Vec<SlotRange>) {
        if ranges.is_empty() {
            return;
        }
        let mut s = self.status.lock();
        s.state = ImportState::Success;
        s.ranges = ranges;
    }

    /// The slots of the import under way (CLUSTER NODES marks them).
    pub fn importing(&self) -> Vec<SlotRange> {
        let s = self.status.lock();
        if s.state == ImportState::Start {
            s.ranges.clone()
        } else {
            Vec::new()
        }
    }

    pub fn ranges(&self) -> Vec<SlotRange> {
        self.status.lock().ranges.clone()
    }

    pub fn note_batch(&self, bytes: usize) {
        let mut s = self.status.lock();
        s.batches += 1;
        s.bytes += bytes as u64;
        s.heard = Instant::now();
    }

    pub(crate) fn start(
        self: &Arc<Self>,
        shared: &Arc<Shared>,
        ranges: &[SlotRange],
        link: u64,
    ) -> Result<(), String> {
        let mut s = self.status.lock();
        if s.state == ImportState::Start {
            if s.ranges == ranges {
                s.link = link;
                s.heard = Instant::now();
                return Ok(());
            }
            return Err(format!(
                "ERR only one importing job is allowed, current importing: {}",
                ranges_text(&s.ranges)
            ));
        }
        clear(shared, ranges).map_err(|e| format!("ERR clear keys of slot(s) error: {e}"))?;
        *s = Status {
            state: ImportState::Start,
            ranges: ranges.to_vec(),
            link,
            batches: 0,
            bytes: 0,
            heard: Instant::now(),
        };
        tracing::info!("[import] Start importing slot(s) {}", ranges_text(ranges));
        watch_link(Arc::downgrade(self), Arc::downgrade(shared), link);
        Ok(())
    }

    fn matching(s: &Status, ranges: &[SlotRange]) -> Result<(), String> {
        if s.ranges != ranges {
            return Err(format!(
                "ERR mismatch slot, importing slot(s): {}, but got: {}",
                ranges_text(&s.ranges),
                ranges_text(ranges)
            ));
        }
        Ok(())
    }

    pub(crate) fn succeed(&self, ranges: &[SlotRange]) -> Result<(), String> {
        let mut s = self.status.lock();
        Self::matching(&s, ranges)?;
        // An import that failed meanwhile (its link dropped, or it timed
        // out) had its partial data deleted: it cannot succeed.
        if s.state != ImportState::Start {
            return Err(format!(
                "ERR the import of slot(s) {} is not in progress ({})",
                ranges_text(ranges),
                s.state.name()
            ));
        }
        s.state = ImportState::Success;
        tracing::info!(
            "[import] Mark the importing slot(s) {} as succeed ({} batches, {} bytes)",
            ranges_text(ranges),
            s.batches,
            s.bytes
        );
        Ok(())
    }

    pub(crate) fn fail(&self, shared: &Shared, ranges: &[SlotRange]) -> Result<(), String> {
        let mut s = self.status.lock();
        Self::matching(&s, ranges)?;
        s.state = ImportState::Failed;
        clear(shared, ranges).map_err(|e| format!("ERR clear keys of slot(s) error: {e}"))?;
        tracing::info!(
            "[import] Mark the importing slot(s) {} as failed",
            ranges_text(ranges)
        );
        Ok(())
    }

    /// After a topology change: an import that succeeded is over (the
    /// topology now says who serves the slots). Returns whether one was.
    pub(crate) fn topology_changed(&self) -> bool {
        let mut s = self.status.lock();
        if s.state == ImportState::Success {
            s.state = ImportState::None;
            s.ranges.clear();
            return true;
        }
        false
    }

    pub fn info(&self) -> String {
        let s = self.status.lock();
        if s.state == ImportState::None {
            return String::new();
        }
        format!(
            "importing_slot(s): {}\r\nimport_state: {}\r\nimporting_batches: {}\r\nimporting_bytes: {}\r\n",
            ranges_text(&s.ranges),
            s.state.name(),
            s.batches,
            s.bytes
        )
    }
}

fn clear(shared: &Shared, ranges: &[SlotRange]) -> Result<(), String> {
    let storage = shared.data().storage.clone();
    storage
        .delete_slots(&key_ranges(&storage, ranges))
        .map_err(|e| e.to_string())
}

/// Fails the import when its link goes away before the end (Kvrocks'
/// close callback on the importing connection), or when the source sent
/// nothing for `migrate-import-timeout` seconds: a source cut off by a
/// network partition never closes the connection, and its partial data
/// would otherwise stay until the next import.
fn watch_link(importer: Weak<Importer>, shared: Weak<Shared>, link: u64) {
    let _ = std::thread::Builder::new()
        .name("slot-import".into())
        .spawn(move || loop {
            std::thread::sleep(LINK_CHECK);
            let (Some(importer), Some(shared)) = (importer.upgrade(), shared.upgrade()) else {
                return;
            };
            let timeout = shared.config.read().migrate_import_timeout;
            let mut s = importer.status.lock();
            if s.state != ImportState::Start || s.link != link {
                return;
            }
            let gone = shared
                .clients
                .get(link)
                .is_none_or(|c| c.is_killed() || c.peer_closed());
            let silent = timeout > 0 && s.heard.elapsed() >= Duration::from_secs(timeout);
            if gone || silent {
                s.state = ImportState::Failed;
                let ranges = s.ranges.clone();
                drop(s);
                if gone {
                    tracing::warn!(
                        "[import] the import link dropped; slot(s) {} failed",
                        ranges_text(&ranges)
                    );
                } else {
                    tracing::warn!(
                        "[import] nothing from the source for {timeout} s; slot(s) {} failed",
                        ranges_text(&ranges)
                    );
                    // The source, if it comes back, must not go on.
                    if let Some(c) = shared.clients.get(link) {
                        c.kill();
                    }
                }
                if let Err(e) = clear(&shared, &ranges) {
                    tracing::error!(
                        "[import] Failed to clear slot(s) {}: {e}",
                        ranges_text(&ranges)
                    );
                }
                return;
            }
        });
}
