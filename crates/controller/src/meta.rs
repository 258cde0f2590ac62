//! Namespaces and clusters over the key-value store, in kvrocks-controller's
//! key layout (`<root>/<ns>` and `<root>/<ns>/cluster/<name>`, the cluster as
//! one JSON document).

use crate::model::Cluster;
use crate::store::{MetaStore, StoreError};
use std::sync::Arc;

const ROOT: &str = "/basalt/metadata";

#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("namespace {0:?} not found")]
    NamespaceNotFound(String),
    #[error("cluster {0:?} not found")]
    ClusterNotFound(String),
    #[error("namespace {0:?} already exists")]
    NamespaceExists(String),
    #[error("cluster {0:?} already exists")]
    ClusterExists(String),
    #[error("namespace {0:?} still has clusters")]
    NamespaceNotEmpty(String),
    #[error("invalid name {0:?}: must be non-empty, without '/'")]
    InvalidName(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored cluster document is corrupt: {0}")]
    Corrupt(#[from] serde_json::Error),
}

#[derive(Clone)]
pub struct Meta {
    store: Arc<dyn MetaStore>,
}

fn check_name(name: &str) -> Result<(), MetaError> {
    if name.is_empty() || name.contains('/') {
        return Err(MetaError::InvalidName(name.to_string()));
    }
    Ok(())
}

fn ns_key(ns: &str) -> String {
    format!("{ROOT}/{ns}")
}

fn cluster_prefix(ns: &str) -> String {
    format!("{ROOT}/{ns}/cluster/")
}

impl Meta {
    pub fn new(store: Arc<dyn MetaStore>) -> Meta {
        Meta { store }
    }

    pub fn namespaces(&self) -> Result<Vec<String>, MetaError> {
        let prefix = format!("{ROOT}/");
        Ok(self
            .store
            .list(&prefix)?
            .into_iter()
            .filter_map(|(k, _)| {
                let rest = k.strip_prefix(&prefix)?;
                (!rest.contains('/')).then(|| rest.to_string())
            })
            .collect())
    }

    fn require_namespace(&self, ns: &str) -> Result<(), MetaError> {
        match self.store.get(&ns_key(ns))? {
            Some(_) => Ok(()),
            None => Err(MetaError::NamespaceNotFound(ns.to_string())),
        }
    }

    pub fn create_namespace(&self, ns: &str) -> Result<(), MetaError> {
        check_name(ns)?;
        if self.store.get(&ns_key(ns))?.is_some() {
            return Err(MetaError::NamespaceExists(ns.to_string()));
        }
        self.store.set(&ns_key(ns), "")?;
        Ok(())
    }

    pub fn clusters(&self, ns: &str) -> Result<Vec<String>, MetaError> {
        self.require_namespace(ns)?;
        let prefix = cluster_prefix(ns);
        Ok(self
            .store
            .list(&prefix)?
            .into_iter()
            .filter_map(|(k, _)| {
                let rest = k.strip_prefix(&prefix)?;
                (!rest.contains('/')).then(|| rest.to_string())
            })
            .collect())
    }

    pub fn cluster(&self, ns: &str, name: &str) -> Result<Cluster, MetaError> {
        self.require_namespace(ns)?;
        let key = format!("{}{name}", cluster_prefix(ns));
        match self.store.get(&key)? {
            Some(doc) => Ok(serde_json::from_str(&doc)?),
            None => Err(MetaError::ClusterNotFound(name.to_string())),
        }
    }

    /// Stores a new cluster; refuses to overwrite one.
    pub fn create_cluster(&self, ns: &str, cluster: &Cluster) -> Result<(), MetaError> {
        self.require_namespace(ns)?;
        check_name(&cluster.name)?;
        let key = format!("{}{}", cluster_prefix(ns), cluster.name);
        if self.store.get(&key)?.is_some() {
            return Err(MetaError::ClusterExists(cluster.name.clone()));
        }
        self.store.set(&key, &serde_json::to_string(cluster)?)?;
        Ok(())
    }

    /// Replaces a stored cluster (failover, scaling): it must exist.
    pub fn update_cluster(&self, ns: &str, cluster: &Cluster) -> Result<(), MetaError> {
        let key = format!("{}{}", cluster_prefix(ns), cluster.name);
        if self.store.get(&key)?.is_none() {
            return Err(MetaError::ClusterNotFound(cluster.name.clone()));
        }
        self.store.set(&key, &serde_json::to_string(cluster)?)?;
        Ok(())
    }

    /// Removes a cluster from the store (its nodes are not touched).
    pub fn delete_cluster(&self, ns: &str, name: &str) -> Result<(), MetaError> {
        self.require_namespace(ns)?;
        let key = format!("{}{name}", cluster_prefix(ns));
        if self.store.get(&key)?.is_none() {
            return Err(MetaError::ClusterNotFound(name.to_string()));
        }
        self.store.delete(&key)?;
        Ok(())
    }

    /// Every `(namespace, cluster)` pair, for the loops that watch them all.
    pub fn all_clusters(&self) -> Result<Vec<(String, String)>, MetaError> {
        let mut all = Vec::new();
        for ns in self.namespaces()? {
            for name in self.clusters(&ns)? {
                all.push((ns.clone(), name));
            }
        }
        Ok(all)
    }

    /// Removes an empty namespace (kvrocks-controller refuses one that
    /// still holds clusters too).
    pub fn delete_namespace(&self, ns: &str) -> Result<(), MetaError> {
        if !self.clusters(ns)?.is_empty() {
            return Err(MetaError::NamespaceNotEmpty(ns.to_string()));
        }
        self.store.delete(&ns_key(ns))?;
        Ok(())
    }
}
