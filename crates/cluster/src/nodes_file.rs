//! `nodes.conf` in the data directory, Kvrocks' format: `version N`,
//! `id <myid>`, then one `node <id> <host> <port> <role> <master|-> [slots]`
//! line per node. Written (to a temporary file, then renamed) after every
//! CLUSTERX change; read at startup.

use crate::error::ClusterError;
use crate::topology::{Topology, NODE_ID_LEN};
use std::path::Path;

pub const FILE_NAME: &str = "nodes.conf";

pub fn dump(topology: &Topology, path: &Path) -> std::io::Result<()> {
    let mut text = format!("version {}\nid {}\n", topology.version, topology.myid);
    for line in topology.node_lines().lines() {
        text.push_str("node ");
        text.push_str(line);
        text.push('\n');
    }
    let tmp = path.with_extension("conf.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// What a nodes.conf holds: the version, this node's id and the node
/// lines as SETNODES takes them.
pub struct Saved {
    pub version: i64,
    pub myid: String,
    pub nodes: String,
}

/// `Ok(None)` when there is no file yet.
pub fn load(path: &Path) -> Result<Option<Saved>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("error opening the file '{}': {e}", path.display())),
    };
    let mut saved = Saved {
        version: -1,
        myid: String::new(),
        nodes: String::new(),
    };
    for line in text.lines() {
        let line = line.trim();
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        let value = value.trim();
        if key.is_empty() || value.is_empty() {
            continue;
        }
        match key {
            "version" => {
                saved.version = value
                    .parse()
                    .map_err(|_| ClusterError::InvalidVersion.to_string())?
            }
            "id" => {
                if value.len() != NODE_ID_LEN {
                    return Err(ClusterError::InvalidNodeId.to_string());
                }
                saved.myid = value.to_string();
            }
            "node" => {
                saved.nodes.push_str(value);
                saved.nodes.push('\n');
            }
            other => return Err(format!("unknown key: {other}")),
        }
    }
    Ok(Some(saved))
}
