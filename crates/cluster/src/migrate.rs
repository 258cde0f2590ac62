//! The source side of a slot migration (CLUSTERX MIGRATE), Kvrocks'
//! algorithm in its raw-key-value mode (`slot_migrate.cc`): one job at a
//! time, on a thread of its own:
//!
//! 1. `CLUSTER IMPORT <ranges> 0` to the destination (it clears the slots);
//! 2. every record of the slots, in every user-data column family, under
//!    one RocksDB snapshot, sent as `APPLYBATCH` write batches;
//! 3. the WAL's records in the slots since the snapshot, in rounds, until
//!    the job is at most `migrate-sequence-gap` behind;
//! 4. writes to the slots are forbidden (`TRYAGAIN`), with no write in
//!    flight, and the last delta is sent;
//! 5. `CLUSTER IMPORT <ranges> 1`: the destination serves the slots, and
//!    this node answers MOVED to it until the new topology arrives, then
//!    deletes the slots' data.
//!
//! Any failure (the destination gone, FLUSHALL/FLUSHDB seen in the WAL,
//! an error reply) ends the job with state `fail`: writes are allowed
//! again, this node keeps serving the slots, and the destination is told
//! `CLUSTER IMPORT <ranges> 2` (or sees the link drop) and throws the
//! partial data away.
//!
//! Raw records move every type with its expiry, where Kvrocks' default
//! redis-command mode skips JSON, Bloom and HyperLogLog keys.

use crate::link::Link;
use crate::slots::SlotRange;
use basalt_core::shared::Shared;
use basalt_engine::migration::{slot_records, RawBatch, SlotKeyRanges, SlotSnapshot};
use basalt_engine::{ColumnFamily, Storage};
use parking_lot::{Condvar, Mutex, RwLock};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Kvrocks' bound on WAL catch-up rounds before writes are forbidden.
const MAX_CATCH_UP_ROUNDS: usize = 10;

/// How long the job waits for the commands in flight to end before it
/// forbids writes; a MIGRATE ... SYNC waiting on this node holds the data
/// too, so then the job falls back to waiting for the WAL to go quiet.
const EXCLUSIVE_WAIT: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MigrateState {
    None,
    Start,
    Success,
    Fail,
}

impl MigrateState {
    fn name(self) -> &'static str {
        match self {
            MigrateState::None => "none",
            MigrateState::Start => "start",
            MigrateState::Success => "success",
            MigrateState::Fail => "fail",
        }
    }
}

/// Where the slots go.
#[derive(Clone, Debug)]
pub struct Destination {
    pub id: String,
    pub host: String,
    pub port: u16,
}

struct Status {
    state: MigrateState,
    ranges: Vec<SlotRange>,
    destination: Option<Destination>,
    phase: &'static str,
    keys: u64,
    bytes: u64,
    error: String,
}

pub struct Migrator {
    status: Mutex<Status>,
    ended: Condvar,
    /// Slots whose writes get TRYAGAIN: the last delta is on its way.
    forbidden: RwLock<Vec<SlotRange>>,
    /// Slots moved to a destination, answered with MOVED to it until the
    /// topology stops giving them to this node.
    migrated: RwLock<Vec<(SlotRange, Destination)>>,
    stop: AtomicBool,
}

impl Default for Migrator {
    fn default() -> Self {
        Migrator {
            status: Mutex::new(Status {
                state: MigrateState::None,
                ranges: Vec::new(),
                destination: None,
                phase: "none",
                keys: 0,
                bytes: 0,
                error: String::new(),
            }),
            ended: Condvar::new(),
            forbidden: RwLock::new(Vec::new()),
            migrated: RwLock::new(Vec::new()),
            stop: AtomicBool::new(false),
        }
    }
}

fn overlaps(a: &SlotRange, b: &SlotRange) -> bool {
    a.start <= b.end && b.start <= a.end
}

pub(crate) fn ranges_text(ranges: &[SlotRange]) -> String {
    ranges
        .iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn key_ranges(storage: &Storage, ranges: &[SlotRange]) -> SlotKeyRanges {
    let pairs: Vec<(u16, u16)> = ranges.iter().map(|r| (r.start, r.end)).collect();
    SlotKeyRanges::new(storage, &pairs)
}

impl Migrator {
    pub fn state(&self) -> MigrateState {
        self.status.lock().state
    }

    /// Whether a write to `slot` must wait (TRYAGAIN).
    pub fn is_forbidden(&self, slot: u16) -> bool {
        self.forbidden.read().iter().any(|r| r.contains(slot))
    }

    /// The destination `slot` moved to, while the topology still gives it
    /// to this node.
    pub fn moved_to(&self, slot: u16) -> Option<Destination> {
        self.migrated
            .read()
            .iter()
            .find(|(r, _)| r.contains(slot))
            .map(|(_, d)| d.clone())
    }

    /// The running job's slots and destination id (CLUSTER NODES marks
    /// them); `None` when no job runs.
    pub fn running(&self) -> Option<(Vec<SlotRange>, String)> {
        let s = self.status.lock();
        if s.state != MigrateState::Start {
            return None;
        }
        let dst = s.destination.as_ref()?.id.clone();
        Some((s.ranges.clone(), dst))
    }

    /// The slots handed over whose new owner the topology does not show yet.
    pub(crate) fn migrated(&self) -> Vec<(SlotRange, Destination)> {
        self.migrated.read().clone()
    }

    /// Takes back the handed-over slots a restart read from disk.
    pub(crate) fn restore(&self, migrated: Vec<(SlotRange, Destination)>) {
        *self.migrated.write() = migrated;
    }

    /// Refuses a job while another runs or over slots already moved
    /// (Kvrocks' errors), then marks it started.
    pub(crate) fn begin(
        &self,
        ranges: &[SlotRange],
        destination: &Destination,
    ) -> Result<(), String> {
        let mut s = self.status.lock();
        if s.state == MigrateState::Start {
            return Err("ERR There is already a migrating job".into());
        }
        let migrated = self.migrated.read();
        if migrated
            .iter()
            .any(|(m, _)| ranges.iter().any(|r| overlaps(m, r)))
        {
            return Err("ERR Can't migrate slot which has been migrated".into());
        }
        self.stop.store(false, Ordering::Release);
        *s = Status {
            state: MigrateState::Start,
            ranges: ranges.to_vec(),
            destination: Some(destination.clone()),
            phase: "start",
            keys: 0,
            bytes: 0,
            error: String::new(),
        };
        Ok(())
    }

    /// Asks a running job to fail (shutdown).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
    }

    /// Waits until the running job ends (MIGRATE ... SYNC); `None` waits
    /// without a bound. Returns the state it ended in, or `Start` on a
    /// timeout, with the failure's reason.
    pub fn wait(&self, timeout: Option<Duration>) -> (MigrateState, String) {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut s = self.status.lock();
        while s.state == MigrateState::Start {
            match deadline {
                Some(d) => {
                    if self.ended.wait_until(&mut s, d).timed_out() {
                        break;
                    }
                }
                None => self.ended.wait(&mut s),
            }
        }
        (s.state, s.error.clone())
    }

    fn set_phase(&self, phase: &'static str) {
        self.status.lock().phase = phase;
    }

    fn add_progress(&self, keys: u64, bytes: u64) {
        let mut s = self.status.lock();
        s.keys += keys;
        s.bytes += bytes;
    }

    fn finish(&self, result: &Result<(), String>) {
        let mut s = self.status.lock();
        match result {
            Ok(()) => {
                s.state = MigrateState::Success;
                s.phase = "success";
            }
            Err(e) => {
                s.state = MigrateState::Fail;
                s.phase = "fail";
                s.error = e.clone();
            }
        }
        self.ended.notify_all();
    }

    /// Kvrocks' CLUSTER INFO lines (with its space after the colon, which
    /// kvrocks-controller matches), plus Basalt's progress.
    pub fn info(&self) -> String {
        let s = self.status.lock();
        if s.state == MigrateState::None {
            return String::new();
        }
        let dst = s.destination.as_ref().map(|d| d.id.as_str()).unwrap_or("");
        let mut out = format!(
            "migrating_slot(s): {}\r\ndestination_node: {dst}\r\nmigrating_state: {}\r\n\
             migrating_phase: {}\r\nmigrating_keys: {}\r\nmigrating_bytes: {}\r\n",
            ranges_text(&s.ranges),
            s.state.name(),
            s.phase,
            s.keys,
            s.bytes,
        );
        if !s.error.is_empty() {
            out.push_str(&format!(
                "migrating_error:{}\r\n",
                s.error.replace(['\r', '\n'], " ")
            ));
        }
        out
    }

    /// After a topology change: the moved slots this node no longer owns
    /// lose their data here, and are no longer tracked.
    /// Returns whether anything changed.
    pub(crate) fn topology_changed(
        &self,
        shared: &Shared,
        still_mine: impl Fn(u16) -> bool,
    ) -> bool {
        let gone: Vec<SlotRange> = {
            let mut migrated = self.migrated.write();
            let (gone, kept): (Vec<_>, Vec<_>) = migrated
                .drain(..)
                .partition(|(r, _)| !(r.start..=r.end).any(&still_mine));
            *migrated = kept;
            gone.into_iter().map(|(r, _)| r).collect()
        };
        if gone.is_empty() {
            return false;
        }
        let storage = shared.data().storage.clone();
        // On disk before the caller forgets the move (slot-moves.conf):
        // a delete lost in a crash would leave the slots' data here for good.
        let deleted = storage
            .delete_slots(&key_ranges(&storage, &gone))
            .and_then(|()| storage.sync_wal());
        match deleted {
            Ok(()) => tracing::info!(
                "[migrate] deleted the data of the migrated slot(s) {}",
                ranges_text(&gone)
            ),
            Err(e) => tracing::error!(
                "[migrate] cannot delete the data of the migrated slot(s) {}: {e}",
                ranges_text(&gone)
            ),
        }
        true
    }
}

/// Starts the job on its own thread.
pub(crate) fn spawn(
    shared: Arc<Shared>,
    migrator: Arc<Migrator>,
    ranges: Vec<SlotRange>,
    destination: Destination,
) -> Result<(), String> {
    migrator.begin(&ranges, &destination)?;
    let m = migrator.clone();
    let spawned = std::thread::Builder::new()
        .name("slot-migrate".into())
        .spawn(move || {
            let text = ranges_text(&ranges);
            tracing::info!(
                "[migrate] start migrating slot(s) {text} to {} ({}:{})",
                destination.id,
                destination.host,
                destination.port
            );
            let mut job = Job {
                shared: &shared,
                migrator: &m,
                ranges: &ranges,
                destination: &destination,
                link: None,
            };
            let result = job.run();
            // Writes come back before the destination is told, so a
            // client that retries finds this node serving again.
            m.forbidden.write().clear();
            match &result {
                Ok(()) => tracing::info!("[migrate] succeeded migrating slot(s) {text}"),
                Err(e) => {
                    tracing::error!("[migrate] failed migrating slot(s) {text}: {e}");
                    if let Some(link) = &mut job.link {
                        let _ = link.call(&[b"CLUSTER", b"IMPORT", text.as_bytes(), b"2"]);
                    }
                }
            }
            // Kept on disk before MIGRATE ... SYNC hears of the success.
            if result.is_ok() {
                if let Some(cluster) = crate::of(&shared) {
                    cluster.moves_changed(&shared);
                }
            }
            m.finish(&result);
        });
    if let Err(e) = spawned {
        let why = format!("cannot start the migration thread: {e}");
        migrator.finish(&Err(why.clone()));
        return Err(format!("ERR {why}"));
    }
    Ok(())
}

struct Job<'a> {
    shared: &'a Arc<Shared>,
    migrator: &'a Migrator,
    ranges: &'a [SlotRange],
    destination: &'a Destination,
    link: Option<Link>,
}

/// Paces what is sent: at most `migrate-speed` keys and
/// `migrate-batch-rate-limit-mb` MB per second (0: no limit).
struct Pace {
    started: Instant,
    keys: u64,
    bytes: u64,
}

impl Pace {
    fn wait(&mut self, shared: &Shared, keys: u64, bytes: u64) {
        self.keys += keys;
        self.bytes += bytes;
        let (speed, mb) = {
            let c = shared.config.read();
            (c.migrate_speed, c.migrate_batch_rate_limit_mb)
        };
        let mut due = Duration::ZERO;
        if speed > 0 {
            due = due.max(Duration::from_secs_f64(self.keys as f64 / speed as f64));
        }
        if mb > 0 {
            due = due.max(Duration::from_secs_f64(
                self.bytes as f64 / (mb as f64 * 1024.0 * 1024.0),
            ));
        }
        let elapsed = self.started.elapsed();
        if due > elapsed {
            std::thread::sleep(due - elapsed);
        }
    }
}

impl Job<'_> {
    fn link(&mut self) -> Result<&mut Link, String> {
        self.link
            .as_mut()
            .ok_or_else(|| "no connection to the destination".to_string())
    }

    fn check_stop(&self) -> Result<(), String> {
        if self.migrator.stop.load(Ordering::Acquire) || self.shared.is_shutting_down() {
            return Err("the migration was stopped".into());
        }
        Ok(())
    }

    /// Sends one batch as `APPLYBATCH`.
    fn send(&mut self, batch: RawBatch, keys: u64, pace: &mut Pace) -> Result<(), String> {
        if batch.is_empty() {
            return Ok(());
        }
        let data = batch.into_data();
        let bytes = data.len() as u64;
        self.link()?.expect_ok(&[b"APPLYBATCH", &data])?;
        self.migrator.add_progress(keys, bytes);
        pace.wait(self.shared, keys, bytes);
        Ok(())
    }

    fn run(&mut self) -> Result<(), String> {
        let text = ranges_text(self.ranges);
        let mut link = Link::connect(&self.destination.host, self.destination.port)?;
        let password = self.shared.config.read().requirepass.clone();
        if let Some(password) = password {
            // Every node shares requirepass, as in Kvrocks.
            link.expect_ok(&[b"AUTH", password.as_bytes()])?;
        }
        link.expect_ok(&[b"CLUSTER", b"IMPORT", text.as_bytes(), b"0"])?;
        self.link = Some(link);

        let storage = self.shared.data().storage.clone();
        let keys = key_ranges(&storage, self.ranges);
        self.migrator.set_phase("snapshot");
        let snapshot = storage.slot_snapshot();
        tracing::info!(
            "[migrate] sending the snapshot of slot(s) {text} (sequence {})",
            snapshot.sequence
        );
        let mut next = snapshot.sequence + 1;
        self.send_snapshot(&snapshot, &keys)?;
        drop(snapshot);

        self.migrator.set_phase("wal");
        let gap = self.shared.config.read().migrate_sequence_gap;
        let mut pace = Pace {
            started: Instant::now(),
            keys: 0,
            bytes: 0,
        };
        for _ in 0..MAX_CATCH_UP_ROUNDS {
            self.check_stop()?;
            if storage.latest_sequence_number().saturating_sub(next - 1) <= gap {
                break;
            }
            next = self.send_wal(&storage, &keys, next, &mut pace)?;
        }

        self.migrator.set_phase("forbid");
        match self.shared.dataset.exclusive_for(EXCLUSIVE_WAIT) {
            Some(_no_command_running) => {
                *self.migrator.forbidden.write() = self.ranges.to_vec();
            }
            None => {
                *self.migrator.forbidden.write() = self.ranges.to_vec();
                // Writes that passed the check before end within a few
                // milliseconds; wait until the WAL shows none for a while.
                next = self.wait_quiet(&storage, &keys, next, &mut pace)?;
            }
        }
        tracing::info!("[migrate] writes to slot(s) {text} forbidden; sending the last delta");
        next = self.send_wal(&storage, &keys, next, &mut pace)?;
        self.check_stop()?;
        self.link()?
            .expect_ok(&[b"CLUSTER", b"IMPORT", text.as_bytes(), b"1"])?;
        let mut migrated = self.migrator.migrated.write();
        for r in self.ranges {
            migrated.push((*r, self.destination.clone()));
        }
        tracing::info!(
            "[migrate] slot(s) {text} moved, up to sequence {}",
            next - 1
        );
        Ok(())
    }

    fn send_snapshot(
        &mut self,
        snapshot: &SlotSnapshot<'_>,
        keys: &SlotKeyRanges,
    ) -> Result<(), String> {
        let batch_bytes = (self.shared.config.read().migrate_batch_size_kb * 1024) as usize;
        let mut pace = Pace {
            started: Instant::now(),
            keys: 0,
            bytes: 0,
        };
        let mut batch = RawBatch::default();
        let mut batch_keys = 0u64;
        let mut failure = None;
        snapshot
            .scan(keys, |cf, k, v| {
                batch.put(cf, k, v);
                if cf == ColumnFamily::Metadata {
                    batch_keys += 1;
                }
                if batch.len() >= batch_bytes {
                    let full = std::mem::take(&mut batch);
                    let result = self
                        .check_stop()
                        .and_then(|_| self.send(full, std::mem::take(&mut batch_keys), &mut pace));
                    if let Err(e) = result {
                        failure = Some(e);
                        return false;
                    }
                }
                true
            })
            .map_err(|e| format!("reading the snapshot: {e}"))?;
        if let Some(e) = failure {
            return Err(e);
        }
        self.send(batch, batch_keys, &mut pace)
    }

    /// Sends the WAL's records in the slots from `next` on (everything
    /// written so far), the records of consecutive write batches together
    /// in batches of `migrate-batch-size-kb` (one round trip per write
    /// could not keep up with a client writing to the slots); returns the
    /// sequence to continue from.
    fn send_wal(
        &mut self,
        storage: &Storage,
        keys: &SlotKeyRanges,
        mut next: u64,
        pace: &mut Pace,
    ) -> Result<u64, String> {
        if storage.latest_sequence_number() < next {
            return Ok(next);
        }
        let wal = storage
            .wal_since(next)
            .map_err(|e| format!("reading the WAL: {e}"))?;
        let batch_bytes = (self.shared.config.read().migrate_batch_size_kb * 1024) as usize;
        let mut pending = RawBatch::default();
        let mut first = true;
        for batch in wal {
            let batch = batch.map_err(|e| format!("reading the WAL: {e}"))?;
            if first && batch.sequence > next {
                return Err(format!(
                    "the WAL no longer holds sequence {next}; the migration cannot catch up"
                ));
            }
            first = false;
            let records = slot_records(&batch.data, storage.family_count(), keys)
                .map_err(|e| format!("reading the WAL: {e}"))?;
            if records.flushed {
                return Err(
                    "the slots were flushed (FLUSHALL/FLUSHDB) during the migration".into(),
                );
            }
            next = batch.next_sequence();
            pending.append(records.batch);
            if pending.len() >= batch_bytes {
                self.check_stop()?;
                self.send(std::mem::take(&mut pending), 0, pace)?;
            }
        }
        self.send(pending, 0, pace)?;
        Ok(next)
    }

    /// Sends the WAL until it shows no new record in the slots for 200 ms.
    fn wait_quiet(
        &mut self,
        storage: &Storage,
        keys: &SlotKeyRanges,
        mut next: u64,
        pace: &mut Pace,
    ) -> Result<u64, String> {
        let mut quiet_since = Instant::now();
        while quiet_since.elapsed() < Duration::from_millis(200) {
            std::thread::sleep(Duration::from_millis(20));
            let before = self.migrator.status.lock().bytes;
            next = self.send_wal(storage, keys, next, pace)?;
            if self.migrator.status.lock().bytes != before {
                quiet_since = Instant::now();
            }
        }
        Ok(next)
    }
}
