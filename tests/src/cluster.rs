//! What the cluster-mode tests share: node ids, starting a node in cluster
//! mode, and reading one field of every node out of CLUSTER SHARDS.

use crate::client::reply;
use crate::Server;
use redis::Connection;
use std::collections::HashMap;

/// The 40-character id the tests give node `i`.
pub fn node_id(i: usize) -> String {
    format!("{:040x}", i + 1)
}

/// A server in cluster mode, with `extra` arguments.
pub fn start_node(extra: &[&str]) -> Server {
    let mut args = vec!["--cluster-enabled", "yes"];
    args.extend_from_slice(extra);
    Server::start_with(&args)
}

/// `field` of each node in CLUSTER SHARDS, by node id (as the client
/// renders the reply: `[id,<id>,...,<field>,<value>,...]`).
pub fn shard_field(c: &mut Connection, field: &str) -> HashMap<String, String> {
    let shards = reply(c, &["CLUSTER", "SHARDS"]);
    let marker = format!("{field},");
    shards
        .split("[id,")
        .skip(1)
        .map(|node| {
            let id = node.split(',').next().unwrap().to_string();
            let value = node
                .split(marker.as_str())
                .nth(1)
                .and_then(|rest| rest.split([',', ']']).next())
                .unwrap_or_else(|| panic!("no {field} in {shards}"))
                .to_string();
            (id, value)
        })
        .collect()
}
