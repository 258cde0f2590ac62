//! The master's side of a full sync. `_fetch_meta` makes a RocksDB
//! checkpoint in `<dir>/checkpoint` (or reuses the one there while it is
//! fresh and still inside the WAL window, so a replica restored from it
//! can go on with a partial sync) and answers the comma-separated list of
//! its files and CRLF. `_fetch_file f1,f2,...` answers, for each file,
//! `<size>\r\n` and its bytes. Both then close the connection, as Kvrocks
//! does. Basalt's own extension, for a transfer cut in the middle of a
//! file: `_fetch_file <file> <offset>` answers `<size - offset>\r\n` and
//! the bytes from `offset` on (a Kvrocks master refuses the extra
//! argument, and the replica fetches the whole file instead). The checkpoint is deleted once nobody fetched from it for
//! `UNUSED_FOR`.

use crate::Replication;
use basalt_core::context::{Action, ClientState, TakeOver};
use basalt_core::shared::Shared;
use basalt_engine::Storage;
use basalt_resp::Reply;
use bytes::Bytes;
use parking_lot::Mutex;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Files are sent in pieces of this size, paced by `max-replication-mb`.
const PACE_CHUNK: u64 = 256 * 1024;
/// A checkpoint nobody fetched from for this long is deleted.
const UNUSED_FOR: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct Checkpoint {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// When it was made, and the latest sequence just before.
    made: Option<(Instant, u64)>,
    /// `_fetch_file` transfers running.
    fetchers: usize,
    last_access: Option<Instant>,
}

fn checkpoint_dir(storage: &Storage) -> PathBuf {
    storage.dir().join("checkpoint")
}

/// A checkpoint may serve replicas for half the WAL's TTL, between ten
/// minutes and an hour, as in Kvrocks.
fn share_window(wal_ttl_seconds: u64) -> Duration {
    Duration::from_secs((wal_ttl_seconds / 2).clamp(600, 3600))
}

/// A checkpoint left by an earlier run: its age is unknown, so it goes.
pub fn remove_leftovers(storage: &Storage) {
    let dir = checkpoint_dir(storage);
    if dir.exists() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

impl Checkpoint {
    /// The checkpoint's file names, making it first when needed.
    fn prepare(&self, shared: &Shared) -> Result<Vec<String>, String> {
        let storage = shared.data().storage.clone();
        let dir = checkpoint_dir(&storage);
        let mut state = self.state.lock();
        if dir.exists() {
            let window = share_window(shared.config.read().rocksdb.wal_ttl_seconds);
            let fresh = state.made.is_some_and(|(at, seq)| {
                at.elapsed() < window && storage.wal_starts_at(seq.saturating_add(1))
            });
            if !fresh {
                if state.fetchers > 0 {
                    return Err("the previous checkpoint is still being fetched".into());
                }
                std::fs::remove_dir_all(&dir).map_err(|e| e.to_string())?;
                state.made = None;
            }
        }
        if !dir.exists() {
            let seq = storage.latest_sequence_number();
            storage.checkpoint(&dir).map_err(|e| e.to_string())?;
            state.made = Some((Instant::now(), seq));
            tracing::info!("replication: made a checkpoint at sequence {seq} for a full sync");
        }
        state.last_access = Some(Instant::now());
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .map_err(|e| e.to_string())?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        files.sort();
        Ok(files)
    }

    /// How long since a replica last fetched from the checkpoint; `None`
    /// while a transfer runs.
    pub fn idle(&self) -> Option<Duration> {
        let state = self.state.lock();
        if state.fetchers > 0 {
            return None;
        }
        Some(state.last_access.map_or(Duration::MAX, |t| t.elapsed()))
    }

    /// Deletes the checkpoint when it has been unused for a while.
    pub fn expire(&self, storage: &Storage) {
        let dir = checkpoint_dir(storage);
        let mut state = self.state.lock();
        if state.fetchers > 0 || !dir.exists() {
            return;
        }
        let unused = state.last_access.is_none_or(|t| t.elapsed() > UNUSED_FOR);
        if unused {
            let _ = std::fs::remove_dir_all(&dir);
            state.made = None;
            state.last_access = None;
        }
    }
}

/// `_fetch_meta`: the reply is written by the thread that makes the
/// checkpoint, which can take a while.
pub fn fetch_meta(
    shared: &Arc<Shared>,
    repl: &Arc<Replication>,
    client: &ClientState,
) -> (Reply, Option<Action>) {
    repl.counters.sync_full.fetch_add(1, Ordering::Relaxed);
    // Sent on the handshake's connection: whose sync this is is known.
    let announce = repl.take_announce(client.handle.id);
    if let Some(port) = announce.port {
        let ip = announce
            .ip
            .unwrap_or_else(|| client.handle.addr.ip().to_string());
        repl.full_syncs.began(ip, port);
    }
    let (shared, repl) = (shared.clone(), repl.clone());
    let take_over = TakeOver(Box::new(move |stream, _| {
        let Ok(mut stream) = stream.into_std() else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("repl-meta".into())
            .spawn(move || {
                let _ = stream.set_nonblocking(false);
                let reply = match repl.checkpoint.prepare(&shared) {
                    Ok(files) => format!("{}\r\n", files.join(",")),
                    Err(e) => {
                        tracing::warn!("replication: cannot make a checkpoint: {e}");
                        "-ERR can't create db checkpoint\r\n".to_string()
                    }
                };
                let _ = stream.write_all(reply.as_bytes());
            });
    }));
    (Reply::Raw(Bytes::new()), Some(Action::TakeOver(take_over)))
}

/// A file name a replica may ask for: a plain name inside the checkpoint.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains('/') && !name.contains('\0')
}

/// `_fetch_file f1,f2,...`: see the module comment.
/// With `offset`, the first file is sent from that byte on (the command
/// checks that `list` names one file).
pub fn fetch_file(
    shared: &Arc<Shared>,
    repl: &Arc<Replication>,
    list: &[u8],
    offset: Option<u64>,
) -> (Reply, Option<Action>) {
    let files: Vec<String> = String::from_utf8_lossy(list)
        .split(',')
        .map(str::to_string)
        .collect();

    let dir = checkpoint_dir(&shared.data().storage);
    let (shared, repl) = (shared.clone(), repl.clone());
    let take_over = TakeOver(Box::new(move |stream, _| {
        let Ok(stream) = stream.into_std() else {
            return;
        };
        repl.checkpoint.state.lock().fetchers += 1;
        let spawned = std::thread::Builder::new().name("repl-file".into()).spawn({
            let repl = repl.clone();
            move || {
                let limit = || {
                    let mb = shared.config.read().max_replication_mb;
                    let fetchers = repl.checkpoint.state.lock().fetchers.max(1) as u64;
                    mb * (1 << 20) / fetchers
                };
                if let Err(e) = send_files(stream, &dir, &files, offset.unwrap_or(0), limit) {
                    tracing::info!("replication: file transfer ended: {e}");
                }
                let mut state = repl.checkpoint.state.lock();
                state.fetchers -= 1;
                state.last_access = Some(Instant::now());
            }
        });
        if spawned.is_err() {
            repl.checkpoint.state.lock().fetchers -= 1;
        }
    }));
    (Reply::Raw(Bytes::new()), Some(Action::TakeOver(take_over)))
}

/// Sends the files (the first one from byte `offset` on); `limit` gives
/// this transfer's share of `max-replication-mb` in bytes per second (0:
/// none), read as it goes so that CONFIG SET and other transfers starting
/// or ending count.
fn send_files(
    mut stream: TcpStream,
    dir: &Path,
    files: &[String],
    mut offset: u64,
    limit: impl Fn() -> u64,
) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_write_timeout(Some(crate::feed::WRITE_TIMEOUT))?;
    for name in files {
        let file = if valid_name(name) {
            std::fs::File::open(dir.join(name))
        } else {
            Err(std::io::Error::other("invalid file name"))
        };
        let mut file = match file {
            Ok(f) => f,
            Err(e) => {
                stream.write_all(format!("-ERR cannot send {name}: {e}\r\n").as_bytes())?;
                return Err(e);
            }
        };
        let whole = file.metadata()?.len();
        if offset > whole {
            stream.write_all(
                format!("-ERR offset {offset} is beyond the end of {name}\r\n").as_bytes(),
            )?;
            return Err(std::io::Error::other("offset beyond the end"));
        }
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(offset))?;
        let size = whole - offset;
        offset = 0;
        stream.write_all(format!("{size}\r\n").as_bytes())?;
        // Never more than the size announced, even if the file grew.
        let mut file = std::io::Read::take(&mut file, size);
        let mut sent = 0u64;
        let started = Instant::now();
        while sent < size {
            let n = std::io::copy(&mut std::io::Read::take(&mut file, PACE_CHUNK), &mut stream)?;
            if n == 0 {
                return Err(std::io::Error::other(format!("{name} shrank while sent")));
            }
            sent += n;
            let rate = limit();
            if rate > 0 {
                let due = Duration::from_secs_f64(sent as f64 / rate as f64);
                if let Some(early) = due.checked_sub(started.elapsed()) {
                    std::thread::sleep(early);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_are_served() {
        assert!(valid_name("000012.sst"));
        assert!(valid_name("MANIFEST-000005"));
        assert!(!valid_name("../db/CURRENT"));
        assert!(!valid_name(".."));
        assert!(!valid_name(""));
        assert!(!valid_name("a/b"));
    }

    #[test]
    fn the_share_window_is_clamped() {
        assert_eq!(share_window(10800), Duration::from_secs(3600));
        assert_eq!(share_window(0), Duration::from_secs(600));
        assert_eq!(share_window(1800), Duration::from_secs(900));
    }
}
