//! The replica's full sync: `_fetch_meta` gives the files of the master's
//! checkpoint; they are fetched into `<dir>/sync_checkpoint` over one
//! connection, or four when there are more than twenty files, each sending
//! `_fetch_file f1,f2,...`. Every file is written as `<name>.part-<size>`
//! and renamed when whole. A transfer this link started and lost is
//! resumed (Kvrocks' resumption, per whole file, extended): SST and blob
//! files already whole are kept, one cut in the middle is fetched from
//! where it stopped (`_fetch_file <name> <offset>`), and the rest (CURRENT,
//! MANIFEST, OPTIONS, WAL copies, which may differ between two checkpoints
//! under one name) is fetched again. A transfer an earlier process (or an
//! earlier link) began from the same address keeps its whole SST files
//! only: files are known by name, SST numbers repeat across databases, and
//! the master at that address may be another database now. Kept files (of
//! either kind) are checked against the fetched MANIFEST
//! (`verify_table_files`) before the swap; if one is not the master's, all
//! are fetched again. Then the checkpoint takes the place of `<dir>/db`
//! under the dataset's exclusive lock (commands answer LOADING meanwhile);
//! if it does not open, the old database comes back. With
//! `slave-empty-db-before-fullsync yes` the old database is replaced by
//! an empty one before the files are fetched, as Kvrocks does.

use crate::link::{self, Link};
use crate::wire::{Wire, WireError, WireResult};
use crate::Replication;
use basalt_core::shared::Shared;
use basalt_engine::{EngineError, Storage};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Making a checkpoint of a large database takes a while.
const META_TIMEOUT: Duration = Duration::from_secs(600);
/// How long a file transfer may stall.
const FILE_TIMEOUT: Duration = Duration::from_secs(60);
/// Kvrocks' rule: four connections for more than twenty files.
const PARALLEL_ABOVE: usize = 20;
const CONNECTIONS: usize = 4;

static PLACEHOLDERS: AtomicU64 = AtomicU64::new(0);

pub fn run(
    shared: &Arc<Shared>,
    repl: &Arc<Replication>,
    link: &Arc<Link>,
    mut wire: Wire,
) -> WireResult<()> {
    link.sync_total.store(0, Ordering::Release);
    link.sync_read.store(0, Ordering::Release);
    wire.send(&[b"_fetch_meta"])?;
    let line = wire.line(link.stop_flag(), META_TIMEOUT)?;
    link.touch();
    drop(wire);
    if line.first() == Some(&b'-') || line.is_empty() {
        return Err(WireError::Protocol(format!(
            "the master cannot serve a full sync: {}",
            String::from_utf8_lossy(&line)
        )));
    }
    let files: Vec<String> = String::from_utf8_lossy(&line)
        .split(',')
        .map(str::to_string)
        .collect();
    if let Some(bad) = files.iter().find(|f| !plain_name(f)) {
        return Err(WireError::Protocol(format!(
            "bad file name {bad:?} from the master"
        )));
    }
    let data_dir = shared.data().storage.dir().to_path_buf();
    let target = data_dir.join("sync_checkpoint");
    let source_file = data_dir.join(SOURCE);
    let source = format!("{}:{}\n", link.host, link.port);
    let this_link = link.fetched_before.load(Ordering::Acquire);
    let same_address = std::fs::read_to_string(&source_file).is_ok_and(|s| s == source);
    if !this_link && !same_address && target.exists() {
        std::fs::remove_dir_all(&target)?;
    }
    std::fs::write(&source_file, &source)?;
    if shared.config.read().slave_empty_db_before_fullsync {
        // Kvrocks' `slave-empty-db-before-fullsync`: the old data goes
        // now, so that it and the master's never fill the disk together.
        empty_database(shared, repl)
            .map_err(|e| WireError::Protocol(format!("cannot empty the database: {e}")))?;
        tracing::info!("replication: emptied the database before the full sync");
    }
    let todo = keep_fetched(&target, &files, this_link)?;
    tracing::info!(
        "replication: full sync from {}:{}: {} files, {} to fetch",
        link.host,
        link.port,
        files.len(),
        todo.len()
    );
    // Set only now: a failure above leaves the next attempt to judge the
    // files again, not to take them for this link's.
    link.fetched_before.store(true, Ordering::Release);
    fetch_all(shared, link, &target, &todo)?;
    // Files known by name: even this link's may be another database's, if
    // the master at that address was replaced meanwhile.
    if todo.len() < files.len() {
        let options = shared.data().storage.options().clone();
        if let Err(e) = basalt_engine::verify_table_files(&target, &options) {
            std::fs::remove_dir_all(&target)?;
            return Err(WireError::Protocol(format!(
                "files kept from an earlier transfer are not the master's ({e}); \
                 fetching every file again"
            )));
        }
        tracing::info!("replication: the files kept from an earlier transfer are the master's");
    }
    tracing::info!(
        "replication: fetched {} bytes; loading the checkpoint",
        link.sync_read.load(Ordering::Acquire)
    );
    restore(shared, repl, link, &target)
        .map_err(|e| WireError::Protocol(format!("cannot load the master's checkpoint: {e}")))?;
    let _ = std::fs::remove_file(&source_file);
    tracing::info!(
        "replication: full sync done at sequence {}",
        shared.data().storage.latest_sequence_number()
    );
    Ok(())
}

/// Beside `sync_checkpoint`: the master address its files came from.
const SOURCE: &str = "sync_checkpoint.source";

fn plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains('/') && !name.contains('\0')
}

/// A file whose transfer was cut keeps what arrived in
/// `<name>.part-<size>`, `size` being the whole file's as the master
/// announced it.
const PART: &str = ".part-";

/// Files that never change once written: RocksDB numbers an SST or blob
/// file once in a database's life. Others (CURRENT, MANIFEST, OPTIONS,
/// copies of the WAL) may hold other bytes under the same name in the
/// master's next checkpoint, so they are always fetched again.
fn immutable(name: &str) -> bool {
    name.ends_with(".sst") || name.ends_with(".blob")
}

/// One file to fetch, and what a cut transfer left of it: (bytes
/// received, whole size).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Todo {
    name: String,
    resume: Option<(u64, u64)>,
}

/// Deletes what `target` holds that the master's list does not name (and
/// every file that may change between checkpoints, and unfinished files
/// that cannot be resumed); returns the files to fetch, with the part
/// already received of those cut in the middle. Of a transfer this link
/// did not fetch only whole SST files stay, the files RocksDB can check
/// (`verify_table_files`): not a part, whose first bytes nobody checks,
/// nor a blob file.
fn keep_fetched(target: &Path, files: &[String], this_link: bool) -> WireResult<Vec<Todo>> {
    std::fs::create_dir_all(target)?;
    let wanted: HashSet<&str> = files.iter().map(String::as_str).collect();
    let mut have = HashSet::new();
    let mut parts: HashMap<String, (u64, u64, std::path::PathBuf)> = HashMap::new();
    for entry in std::fs::read_dir(target)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if let Some((file, size)) = name.rsplit_once(PART) {
            let got = entry.metadata()?.len();
            let size = size.parse::<u64>().ok().filter(|&s| got > 0 && got < s);
            if let Some(size) = size {
                if this_link
                    && wanted.contains(file)
                    && immutable(file)
                    && !parts.contains_key(file)
                {
                    parts.insert(file.to_string(), (got, size, path));
                    continue;
                }
            }
        }
        let keep = wanted.contains(name.as_str())
            && immutable(&name)
            && (this_link || name.ends_with(".sst"));
        if name == "CURRENT" || !keep {
            if path.is_dir() {
                std::fs::remove_dir_all(&path)?;
            } else {
                std::fs::remove_file(&path)?;
            }
        } else {
            have.insert(name);
        }
    }
    for (file, (_, _, path)) in &parts {
        if have.contains(file) {
            std::fs::remove_file(path)?;
        }
    }
    Ok(files
        .iter()
        .filter(|f| !have.contains(f.as_str()))
        .map(|f| Todo {
            name: f.clone(),
            resume: parts.get(f).map(|&(got, size, _)| (got, size)),
        })
        .collect())
}

fn fetch_all(shared: &Shared, link: &Link, target: &Path, todo: &[Todo]) -> WireResult<()> {
    if todo.is_empty() {
        return Ok(());
    }
    let connections = if todo.len() > PARALLEL_ABOVE {
        CONNECTIONS
    } else {
        1
    };
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..connections)
            .map(|i| {
                let mine: Vec<&Todo> = todo.iter().skip(i).step_by(connections).collect();
                scope.spawn(move || fetch_files(shared, link, target, &mine))
            })
            .collect();
        let mut result = Ok(());
        for worker in workers {
            let r = worker
                .join()
                .unwrap_or_else(|_| Err(WireError::Protocol("a fetch thread panicked".into())));
            if result.is_ok() {
                result = r;
            }
        }
        result
    })
}

/// One connection's share of the files (and one connection more for each
/// file cut in the middle before).
fn fetch_files(shared: &Shared, link: &Link, target: &Path, files: &[&Todo]) -> WireResult<()> {
    let mut whole: Vec<&str> = Vec::new();
    for todo in files {
        match todo.resume {
            Some((got, size)) if resume(shared, link, target, &todo.name, got, size)? => {}
            _ => whole.push(&todo.name),
        }
    }
    if whole.is_empty() {
        return Ok(());
    }
    let mut wire = link::connect(shared, link)?;
    wire.send(&[b"_fetch_file", whole.join(",").as_bytes()])?;
    for name in whole {
        let line = wire.line(link.stop_flag(), FILE_TIMEOUT)?;
        let size: u64 = std::str::from_utf8(&line)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                WireError::Protocol(format!(
                    "cannot fetch {name}: {}",
                    String::from_utf8_lossy(&line)
                ))
            })?;
        link.sync_total.fetch_add(size, Ordering::AcqRel);
        let part = target.join(format!("{name}{PART}{size}"));
        let mut file = std::fs::File::create(&part)?;
        receive(&mut wire, link, size, &mut file)?;
        drop(file);
        std::fs::rename(&part, target.join(name))?;
    }
    Ok(())
}

/// Fetches the rest of a file cut in the middle (`_fetch_file <name>
/// <offset>`, Basalt's extension). `false` when the master cannot (a
/// Kvrocks master, or a file that is not the one begun): the part goes and
/// the whole file is fetched.
fn resume(
    shared: &Shared,
    link: &Link,
    target: &Path,
    name: &str,
    got: u64,
    size: u64,
) -> WireResult<bool> {
    let part = target.join(format!("{name}{PART}{size}"));
    let mut wire = link::connect(shared, link)?;
    wire.send(&[b"_fetch_file", name.as_bytes(), got.to_string().as_bytes()])?;
    let line = wire.line(link.stop_flag(), FILE_TIMEOUT)?;
    let rest = std::str::from_utf8(&line)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|&rest| got.checked_add(rest) == Some(size));
    let Some(rest) = rest else {
        tracing::info!(
            "replication: cannot resume {name} at byte {got} ({}); fetching it whole",
            String::from_utf8_lossy(&line)
        );
        std::fs::remove_file(&part)?;
        return Ok(false);
    };
    tracing::info!("replication: resuming {name} at byte {got} of {size}");
    link.sync_total.fetch_add(rest, Ordering::AcqRel);
    let mut file = std::fs::OpenOptions::new().append(true).open(&part)?;
    receive(&mut wire, link, rest, &mut file)?;
    drop(file);
    std::fs::rename(&part, target.join(name))?;
    Ok(true)
}

/// Copies `len` bytes of a file's transfer into `file`, durably.
fn receive(wire: &mut Wire, link: &Link, len: u64, file: &mut std::fs::File) -> WireResult<()> {
    wire.copy_exact(len, file, link.stop_flag(), FILE_TIMEOUT, |n| {
        link.sync_read.fetch_add(n, Ordering::AcqRel);
        link.touch();
    })?;
    file.sync_all()?;
    Ok(())
}

/// Serves whoever looks at the dataset while the old one is closed and
/// the files move (commands wait or answer LOADING). A new directory each
/// time: RocksDB locks a path for as long as anyone holds it open.
fn placeholder(
    options: &basalt_engine::EngineOptions,
) -> Result<(Arc<Storage>, std::path::PathBuf), EngineError> {
    let n = PLACEHOLDERS.fetch_add(1, Ordering::Relaxed);
    let dir = options
        .dir
        .join(format!("sync_placeholder-{}-{n}", std::process::id()));
    let mut placeholder_options = options.clone();
    placeholder_options.dir = dir.clone();
    placeholder_options.block_cache_bytes = 1 << 20;
    let placeholder = Arc::new(Storage::open(&placeholder_options)?);
    placeholder.set_fenced(true);
    Ok((placeholder, dir))
}

/// Replaces `<dir>/db` with an empty database.
fn empty_database(shared: &Shared, repl: &Replication) -> Result<(), EngineError> {
    let options = shared.data().storage.options().clone();
    let db = options.dir.join("db");
    let (placeholder, placeholder_dir) = placeholder(&options)?;
    let result = shared.swap_dataset_files(placeholder.clone(), || {
        if let Err(e) = std::fs::remove_dir_all(&db) {
            tracing::warn!("replication: cannot delete {}: {e}", db.display());
        }
        match Storage::open(&options) {
            Ok(s) => {
                let s = Arc::new(s);
                s.set_fenced(repl.is_replica());
                (s, Ok(()))
            }
            Err(e) => {
                tracing::error!("replication: cannot open an empty database: {e}");
                (placeholder.clone(), Err(e))
            }
        }
    });
    drop(placeholder);
    let _ = std::fs::remove_dir_all(&placeholder_dir);
    result
}

/// Puts the fetched checkpoint in the place of `<dir>/db`.
fn restore(
    shared: &Shared,
    repl: &Replication,
    link: &Link,
    checkpoint: &Path,
) -> Result<(), EngineError> {
    let options = shared.data().storage.options().clone();
    let data_dir = options.dir.clone();
    let db = data_dir.join("db");
    let old = data_dir.join("db_old");
    let (placeholder, placeholder_dir) = placeholder(&options)?;
    let fenced = |s: Storage| {
        let s = Arc::new(s);
        s.set_fenced(repl.is_replica());
        s
    };
    let result = shared.swap_dataset_files(placeholder.clone(), || {
        let reopen_old = |error: EngineError| match Storage::open(&options) {
            Ok(s) => (fenced(s), Err(error)),
            Err(e) => {
                tracing::error!("replication: cannot reopen the old database: {e}");
                (placeholder.clone(), Err(error))
            }
        };
        if link.stopped() {
            return reopen_old(io_error(&db, "the link was stopped before the swap"));
        }
        let _ = std::fs::remove_dir_all(&old);
        if let Err(e) = std::fs::rename(&db, &old) {
            return reopen_old(io_error(&db, &e.to_string()));
        }
        if let Err(e) = std::fs::rename(checkpoint, &db) {
            let _ = std::fs::rename(&old, &db);
            return reopen_old(io_error(checkpoint, &e.to_string()));
        }
        match Storage::open(&options) {
            Ok(s) => (fenced(s), Ok(())),
            Err(e) => {
                tracing::error!("replication: the checkpoint does not open ({e}); rolling back");
                let _ = std::fs::remove_dir_all(&db);
                let _ = std::fs::rename(&old, &db);
                reopen_old(e)
            }
        }
    });
    drop(placeholder);
    let _ = std::fs::remove_dir_all(&old);
    let _ = std::fs::remove_dir_all(&placeholder_dir);
    result
}

fn io_error(path: &Path, text: &str) -> EngineError {
    EngineError::Io {
        path: path.display().to_string(),
        source: std::io::Error::other(text.to_string()),
    }
}

/// Repairs what a crash in the middle of a swap left, before the
/// database opens: `db` moved to `db_old` but the checkpoint not yet in
/// its place (the old database comes back), or both moved (the old one
/// goes).
pub fn recover_interrupted_swap(data_dir: &Path) {
    let (db, old) = (data_dir.join("db"), data_dir.join("db_old"));
    if !old.exists() {
        return;
    }
    if db.join("CURRENT").exists() {
        let _ = std::fs::remove_dir_all(&old);
    } else {
        let _ = std::fs::remove_dir_all(&db);
        if let Err(e) = std::fs::rename(&old, &db) {
            tracing::error!(
                "cannot restore {} after an interrupted full sync: {e}",
                db.display()
            );
        } else {
            tracing::warn!(
                "restored the database a full sync had moved away when it was interrupted"
            );
        }
    }
}

/// Placeholders left by a crash in the middle of a swap.
pub fn remove_placeholders(data_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("sync_placeholder-")
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swap_cut_short_is_repaired() {
        let dir = tempfile::tempdir().unwrap();
        let (db, old) = (dir.path().join("db"), dir.path().join("db_old"));
        // Cut between the two renames: the old database comes back.
        std::fs::create_dir_all(&old).unwrap();
        std::fs::write(old.join("CURRENT"), b"MANIFEST-000001\n").unwrap();
        recover_interrupted_swap(dir.path());
        assert!(db.join("CURRENT").exists() && !old.exists());
        // Cut after both: the new one stays, the old one goes.
        std::fs::create_dir_all(&old).unwrap();
        std::fs::write(old.join("CURRENT"), b"old").unwrap();
        recover_interrupted_swap(dir.path());
        assert!(db.join("CURRENT").exists() && !old.exists());
        assert_eq!(
            std::fs::read(db.join("CURRENT")).unwrap(),
            b"MANIFEST-000001\n"
        );
    }

    #[test]
    fn an_interrupted_transfer_keeps_its_whole_files() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sync_checkpoint");
        std::fs::create_dir_all(&target).unwrap();
        for f in ["000010.sst", "000011.sst.tmp", "CURRENT", "000009.sst"] {
            std::fs::write(target.join(f), b"x").unwrap();
        }
        let files: Vec<String> = ["000010.sst", "000011.sst", "CURRENT", "MANIFEST-000005"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut todo: Vec<String> = keep_fetched(&target, &files, true)
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        todo.sort();
        assert_eq!(todo, vec!["000011.sst", "CURRENT", "MANIFEST-000005"]);
        let mut left: Vec<String> = std::fs::read_dir(&target)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, vec!["000010.sst"]);
    }

    #[test]
    fn a_file_cut_in_the_middle_is_resumed_if_it_cannot_change() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sync_checkpoint");
        std::fs::create_dir_all(&target).unwrap();
        for (f, len) in [
            ("000012.sst.part-100", 40),     // resumed from byte 40
            ("000013.sst.part-100", 0),      // nothing arrived: fetched whole
            ("000014.sst.part-10", 10),      // complete but not renamed: refetched
            ("MANIFEST-000005.part-50", 20), // may change: refetched
            ("000015.sst", 5),
            ("000015.sst.part-9", 3),    // the whole file is there already
            ("000099.sst.part-100", 40), // not wanted
        ] {
            std::fs::write(target.join(f), vec![b'x'; len]).unwrap();
        }
        let files: Vec<String> = [
            "000012.sst",
            "000013.sst",
            "000014.sst",
            "000015.sst",
            "MANIFEST-000005",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut todo = keep_fetched(&target, &files, true).unwrap();
        todo.sort();
        let t = |name: &str, resume| Todo {
            name: name.to_string(),
            resume,
        };
        assert_eq!(
            todo,
            vec![
                t("000012.sst", Some((40, 100))),
                t("000013.sst", None),
                t("000014.sst", None),
                t("MANIFEST-000005", None),
            ]
        );
        let mut left: Vec<String> = std::fs::read_dir(&target)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, vec!["000012.sst.part-100", "000015.sst"]);
    }

    #[test]
    fn an_earlier_process_leaves_only_whole_sst_files() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sync_checkpoint");
        std::fs::create_dir_all(&target).unwrap();
        for f in [
            "000010.sst",
            "000011.sst.part-100",
            "000012.blob",
            "OPTIONS-000007",
        ] {
            std::fs::write(target.join(f), vec![b'x'; 40]).unwrap();
        }
        let files: Vec<String> = ["000010.sst", "000011.sst", "000012.blob", "OPTIONS-000007"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut todo = keep_fetched(&target, &files, false).unwrap();
        todo.sort();
        let names: Vec<&str> = todo.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, vec!["000011.sst", "000012.blob", "OPTIONS-000007"]);
        assert!(todo.iter().all(|t| t.resume.is_none()));
        let left: Vec<String> = std::fs::read_dir(&target)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, vec!["000010.sst"]);
    }
}
