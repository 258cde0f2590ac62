//! The metadata store: a small key-value interface (the operations
//! kvrocks-controller asks of etcd or ZooKeeper) so that another backend
//! can slot in later, and the embedded implementation on local disk.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("metadata store I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("metadata store file {path} is corrupt: {source}")]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(transparent)]
    Etcd(#[from] crate::etcd::EtcdError),
    #[error("this controller is no longer the leader: write refused")]
    NotLeader,
}

pub trait MetaStore: Send + Sync {
    fn get(&self, key: &str) -> Result<Option<String>, StoreError>;
    fn set(&self, key: &str, value: &str) -> Result<(), StoreError>;
    fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Every key starting with `prefix`, with its value, in key order.
    fn list(&self, prefix: &str) -> Result<Vec<(String, String)>, StoreError>;
}

/// All keys in one JSON file in the data directory, rewritten whole on
/// every change: write a temporary file, fsync it, rename it over the old
/// one, fsync the directory. A crash leaves the old or the new file, never
/// half of one. The model is small (a few documents per cluster), so
/// rewriting everything costs nothing worth a log-structured store.
pub struct FileStore {
    path: PathBuf,
    map: Mutex<BTreeMap<String, String>>,
}

const FILE_NAME: &str = "meta.json";

impl FileStore {
    pub fn open(dir: &Path) -> Result<FileStore, StoreError> {
        let io = |source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let path = dir.join(FILE_NAME);
        let map = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| StoreError::Corrupt {
                path: path.clone(),
                source,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        Ok(FileStore {
            path,
            map: Mutex::new(map),
        })
    }

    fn persist(&self, map: &BTreeMap<String, String>) -> Result<(), StoreError> {
        let tmp = self.path.with_extension("json.tmp");
        let io = |source| StoreError::Io {
            path: tmp.clone(),
            source,
        };
        let bytes = serde_json::to_vec_pretty(map).expect("a string map serialises");
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
        drop(f);
        std::fs::rename(&tmp, &self.path).map_err(io)?;
        if let Some(dir) = self.path.parent() {
            // The rename is durable only once the directory is.
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io)?;
        }
        Ok(())
    }

    /// Applies `change` and persists; in memory only once on disk.
    fn update(&self, change: impl FnOnce(&mut BTreeMap<String, String>)) -> Result<(), StoreError> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = map.clone();
        change(&mut next);
        self.persist(&next)?;
        *map = next;
        Ok(())
    }
}

impl MetaStore for FileStore {
    fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        Ok(map.get(key).cloned())
    }

    fn set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.update(|m| {
            m.insert(key.to_string(), value.to_string());
        })
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.update(|m| {
            m.remove(key);
        })
    }

    fn list(&self, prefix: &str) -> Result<Vec<(String, String)>, StoreError> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        Ok(map
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_reopen_and_lists_by_prefix() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = FileStore::open(dir.path()).unwrap();
            s.set("/a/1", "x").unwrap();
            s.set("/a/2", "y").unwrap();
            s.set("/b/1", "z").unwrap();
            s.delete("/a/2").unwrap();
        }
        let s = FileStore::open(dir.path()).unwrap();
        assert_eq!(s.get("/a/1").unwrap().as_deref(), Some("x"));
        assert_eq!(s.get("/a/2").unwrap(), None);
        assert_eq!(s.list("/a/").unwrap(), vec![("/a/1".into(), "x".into())]);
        assert!(!dir.path().join("meta.json.tmp").exists());
    }
}
