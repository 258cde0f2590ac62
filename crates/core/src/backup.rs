//! SAVE and BGSAVE on a RocksDB store: a checkpoint of the database in the
//! backup dir, replacing the previous one, as Kvrocks' BGSAVE does. The
//! checkpoint is written beside it first (`<backup-dir>.tmp`) and renamed
//! into place, so a crash mid-save leaves the last good backup intact.
//! A checkpoint hard-links the SST files: it costs little disk and time.

use crate::shared::Shared;
use basalt_engine::EngineError;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub struct Backups {
    in_progress: AtomicBool,
    /// Unix seconds of the last successful save (LASTSAVE); the start time
    /// until one is made, as in Redis.
    last_save: AtomicU64,
    last_ok: AtomicBool,
    /// Seconds the last save took, -1 before any.
    last_secs: AtomicI64,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("Background save already in progress")]
    InProgress,
    #[error("{0}")]
    Failed(String),
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Default for Backups {
    fn default() -> Self {
        Backups {
            in_progress: AtomicBool::new(false),
            last_save: AtomicU64::new(unix_now()),
            last_ok: AtomicBool::new(true),
            last_secs: AtomicI64::new(-1),
        }
    }
}

impl Backups {
    pub fn in_progress(&self) -> bool {
        self.in_progress.load(Relaxed)
    }

    pub fn last_save(&self) -> u64 {
        self.last_save.load(Relaxed)
    }

    pub fn last_ok(&self) -> bool {
        self.last_ok.load(Relaxed)
    }

    pub fn last_secs(&self) -> i64 {
        self.last_secs.load(Relaxed)
    }

    fn begin(&self) -> Result<(), BackupError> {
        if self.in_progress.swap(true, Relaxed) {
            return Err(BackupError::InProgress);
        }
        Ok(())
    }

    fn end(&self, started: Instant, result: &Result<(), EngineError>) {
        self.last_secs
            .store(started.elapsed().as_secs() as i64, Relaxed);
        self.last_ok.store(result.is_ok(), Relaxed);
        if result.is_ok() {
            self.last_save.store(unix_now(), Relaxed);
        }
        self.in_progress.store(false, Relaxed);
    }
}

/// SAVE: writes the backup before returning.
pub fn save(shared: &Shared) -> Result<(), BackupError> {
    shared.backups.begin()?;
    let started = Instant::now();
    let result = write_backup(shared);
    shared.backups.end(started, &result);
    result.map_err(|e| BackupError::Failed(e.to_string()))
}

/// BGSAVE: starts the backup in a background thread.
pub fn bgsave(shared: &Arc<Shared>) -> Result<(), BackupError> {
    shared.backups.begin()?;
    let s = shared.clone();
    crate::background::spawn(shared, "bgsave", move || {
        let started = Instant::now();
        let result = write_backup(&s);
        if let Err(e) = &result {
            tracing::error!("background save failed: {e}");
        } else {
            tracing::info!("background save done in {:?}", started.elapsed());
        }
        s.backups.end(started, &result);
    });
    Ok(())
}

fn write_backup(shared: &Shared) -> Result<(), EngineError> {
    let dest = shared.config.read().backup_path();
    // Held so the dataset is not swapped (a replica's full sync) mid-copy.
    let _access = shared.dataset.access();
    let data = shared.data();
    checkpoint_into(&data.storage, &dest)
}

fn checkpoint_into(storage: &basalt_engine::Storage, dest: &Path) -> Result<(), EngineError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| EngineError::Io { path, source }
    };
    let mut tmp = dest.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    if let Some(parent) = tmp.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    storage.checkpoint(&tmp)?;
    if dest.exists() {
        std::fs::remove_dir_all(dest).map_err(io(dest))?;
    }
    std::fs::rename(&tmp, dest).map_err(io(dest))?;
    Ok(())
}
