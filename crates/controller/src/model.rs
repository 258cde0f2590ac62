//! The controller's model, as kvrocks-controller stores it: a cluster is a
//! versioned list of shards, each owning slot ranges and holding one master
//! and its replicas. Serialised with kvrocks-controller's field names so its
//! users' scripts read our JSON unchanged.

use rand::Rng;
use serde::{Deserialize, Serialize};
use std::fmt;

pub const SLOTS: u16 = 16384;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotRange {
    pub start: u16,
    pub stop: u16,
}

/// `"a-b"` (or `"a"` for one slot) in JSON, as kvrocks-controller writes it.
impl Serialize for SlotRange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SlotRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        SlotRange::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid slot range {text:?}")))
    }
}

impl SlotRange {
    pub fn parse(text: &str) -> Option<SlotRange> {
        let (a, b) = text.split_once('-').unwrap_or((text, text));
        let (start, stop) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        (start <= stop && stop < SLOTS).then_some(SlotRange { start, stop })
    }
}

impl fmt::Display for SlotRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.stop {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.stop)
        }
    }
}

/// The slots split evenly over `shards`, the last shard taking the rest
/// (kvrocks-controller's `SpiltSlotRange`, and `redis-cli --cluster create`).
pub fn split_slots(shards: usize) -> Vec<SlotRange> {
    let per = SLOTS as usize / shards;
    (0..shards)
        .map(|i| {
            let start = i * per;
            let stop = if i + 1 == shards {
                SLOTS as usize - 1
            } else {
                start + per - 1
            };
            SlotRange {
                start: start as u16,
                stop: stop as u16,
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Master,
    Slave,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Node {
    pub id: String,
    pub addr: String,
    pub role: Role,
    #[serde(default)]
    pub password: String,
    /// Unix seconds.
    #[serde(default)]
    pub created_at: u64,
}

impl Node {
    pub(crate) fn new(addr: &str, role: Role, password: &str) -> Node {
        Node {
            id: random_id(),
            addr: addr.to_string(),
            role,
            password: password.to_string(),
            created_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        }
    }
}

/// 40 characters, as CLUSTERX SETNODEID wants.
fn random_id() -> String {
    const HEX: &[u8] = b"0123456789abcdef";
    let mut rng = rand::rng();
    (0..40)
        .map(|_| HEX[rng.random_range(0..16)] as char)
        .collect()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Shard {
    pub nodes: Vec<Node>,
    pub slot_ranges: Vec<SlotRange>,
    /// -1: none (slot migration is a later slice; kept for the JSON shape).
    #[serde(default = "none_slot")]
    pub migrating_slot: i64,
    #[serde(default = "none_slot")]
    pub import_slot: i64,
}

fn none_slot() -> i64 {
    -1
}

impl Shard {
    pub fn master(&self) -> Option<&Node> {
        self.nodes.iter().find(|n| n.role == Role::Master)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cluster {
    pub name: String,
    pub version: i64,
    pub shards: Vec<Shard>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ModelError {
    #[error("{0}")]
    Invalid(String),
}

impl Cluster {
    /// Consecutive groups of `replicas` nodes form a shard whose first node
    /// is the master: kvrocks-controller's meaning of `replicas` (nodes per
    /// shard, master included).
    pub fn create(
        name: &str,
        nodes: &[String],
        replicas: usize,
        password: &str,
    ) -> Result<Cluster, ModelError> {
        let invalid = |m: &str| Err(ModelError::Invalid(m.to_string()));
        if name.is_empty() {
            return invalid("the cluster name should not be empty");
        }
        if nodes.is_empty() {
            return invalid("the cluster nodes should not be empty");
        }
        let replicas = replicas.max(1);
        if !nodes.len().is_multiple_of(replicas) {
            return invalid("the number of nodes should be a multiple of replicas");
        }
        for (i, addr) in nodes.iter().enumerate() {
            if split_addr(addr).is_none() {
                return Err(ModelError::Invalid(format!(
                    "invalid node address {addr:?}"
                )));
            }
            if nodes[..i].contains(addr) {
                return Err(ModelError::Invalid(format!(
                    "duplicate node address {addr:?}"
                )));
            }
        }
        let shard_count = nodes.len() / replicas;
        if shard_count > SLOTS as usize {
            return invalid("too many shards");
        }
        let shards = nodes
            .chunks(replicas)
            .zip(split_slots(shard_count))
            .map(|(group, range)| Shard {
                nodes: group
                    .iter()
                    .enumerate()
                    .map(|(i, addr)| {
                        let role = if i == 0 { Role::Master } else { Role::Slave };
                        Node::new(addr, role, password)
                    })
                    .collect(),
                slot_ranges: vec![range],
                migrating_slot: -1,
                import_slot: -1,
            })
            .collect();
        Ok(Cluster {
            name: name.to_string(),
            version: 1,
            shards,
        })
    }

    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.shards.iter().flat_map(|s| s.nodes.iter())
    }

    /// The `CLUSTERX SETNODES` text: `id host port master - slots...` for a
    /// master, `id host port slave master-id` for a replica.
    pub fn setnodes_lines(&self) -> String {
        let mut text = String::new();
        for shard in &self.shards {
            let master_id = shard.master().map(|m| m.id.as_str()).unwrap_or("-");
            for node in &shard.nodes {
                let (host, port) = split_addr(&node.addr).unwrap_or((&node.addr, 0));
                match node.role {
                    Role::Master => {
                        let slots: Vec<String> =
                            shard.slot_ranges.iter().map(|r| r.to_string()).collect();
                        text.push_str(&format!(
                            "{} {host} {port} master - {}\n",
                            node.id,
                            slots.join(" ")
                        ));
                    }
                    Role::Slave => {
                        text.push_str(&format!("{} {host} {port} slave {master_id}\n", node.id));
                    }
                }
            }
        }
        text
    }
}

/// `host:port` (the last colon, so bracketless IPv6 hosts still split).
pub fn split_addr(addr: &str) -> Option<(&str, u16)> {
    let (host, port) = addr.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    (!host.is_empty() && port != 0).then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("127.0.0.1:{}", 7001 + i)).collect()
    }

    #[test]
    fn slots_split_evenly_and_cover_everything() {
        let r = split_slots(3);
        assert_eq!(r[0].to_string(), "0-5460");
        assert_eq!(r[1].to_string(), "5461-10921");
        assert_eq!(r[2].to_string(), "10922-16383");
    }

    #[test]
    fn replicas_means_nodes_per_shard() {
        let c = Cluster::create("c", &addrs(6), 2, "").unwrap();
        assert_eq!(c.shards.len(), 3);
        for s in &c.shards {
            assert_eq!(s.nodes[0].role, Role::Master);
            assert_eq!(s.nodes[1].role, Role::Slave);
        }
        let lines = c.setnodes_lines();
        assert_eq!(lines.lines().count(), 6);
        let m = &c.shards[0].nodes[0].id;
        assert!(lines.contains(&format!("{m} 127.0.0.1 7001 master - 0-5460\n")));
        assert!(lines.contains(&format!("127.0.0.1 7002 slave {m}\n")));
        assert_eq!(
            Cluster::create("c", &addrs(5), 2, "").unwrap_err(),
            ModelError::Invalid("the number of nodes should be a multiple of replicas".into())
        );
    }

    #[test]
    fn json_uses_kvrocks_controller_shape() {
        let c = Cluster::create("c", &addrs(1), 1, "pw").unwrap();
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["shards"][0]["slot_ranges"][0], "0-16383");
        assert_eq!(v["shards"][0]["nodes"][0]["role"], "master");
        assert_eq!(v["shards"][0]["nodes"][0]["id"].as_str().unwrap().len(), 40);
        let back: Cluster = serde_json::from_value(v).unwrap();
        assert_eq!(
            back.shards[0].slot_ranges[0],
            SlotRange {
                start: 0,
                stop: 16383
            }
        );
    }
}
