//! The topology as CLUSTER INFO, NODES, SLOTS, SHARDS and REPLICAS show it,
//! in Redis 7's formats (NODES lines as Kvrocks writes them, which are
//! Redis's).

use crate::slots::{SlotRange, SLOTS};
use crate::topology::{Node, Role, Topology};
use basalt_resp::Reply;
use bytes::Bytes;
use std::time::{SystemTime, UNIX_EPOCH};

fn bulk(text: impl Into<String>) -> Reply {
    Reply::Bulk(Bytes::from(text.into()))
}

fn verbatim(text: String) -> Reply {
    Reply::Verbatim("txt".into(), Bytes::from(text))
}

/// CLUSTER INFO: `cluster_state` is `ok` only when every slot is served
/// (Redis's rule with full coverage required); epochs are the topology
/// version, as in Kvrocks.
/// `migration` holds the migration and import lines (Kvrocks' fields).
pub fn info(t: &Topology, migration: &str) -> Reply {
    let assigned = t.assigned_slots();
    let state = if assigned == SLOTS { "ok" } else { "fail" };
    let text = format!(
        "cluster_state:{state}\r\n\
         cluster_slots_assigned:{assigned}\r\n\
         cluster_slots_ok:{assigned}\r\n\
         cluster_slots_pfail:0\r\n\
         cluster_slots_fail:0\r\n\
         cluster_known_nodes:{}\r\n\
         cluster_size:{}\r\n\
         cluster_current_epoch:{v}\r\n\
         cluster_my_epoch:{v}\r\n\
         cluster_stats_messages_sent:0\r\n\
         cluster_stats_messages_received:0\r\n\
         total_cluster_links_buffer_limit_exceeded:0\r\n{migration}",
        t.nodes().len(),
        t.size(),
        v = t.version,
    );
    verbatim(text)
}

/// One CLUSTER NODES line (without its newline).
fn node_line(t: &Topology, n: &Node, now_ms: u128) -> String {
    let myself = if n.id == t.myid { "myself," } else { "" };
    let role = match n.role {
        Role::Master => "master -".to_string(),
        Role::Replica => format!("slave {}", n.master_id),
    };
    let mut line = format!(
        "{} {}:{}@{} {myself}{role} {} {now_ms} {} connected",
        n.id,
        n.host,
        n.port,
        u32::from(n.port) + 10000,
        now_ms.saturating_sub(1),
        t.version
    );
    if n.role == Role::Master {
        for r in t.slots_of(&n.id) {
            line.push_str(&format!(" {r}"));
        }
    }
    line
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// Slots moving while CLUSTER NODES is asked: the running migration's
/// (this node is the source) and import's (this node is the destination).
#[derive(Default)]
pub struct Moving {
    /// The slots being migrated and the destination's id.
    pub migrating: Option<(Vec<SlotRange>, String)>,
    pub importing: Vec<SlotRange>,
}

/// Redis's markers on this node's own line, one per slot:
/// `[slot->-dst-id]` while it migrates the slot away, `[slot-<-src-id]`
/// while it imports it (the source being the slot's owner in the
/// topology, as Kvrocks finds it; a slot without owner gets none).
fn moving_markers(t: &Topology, moving: &Moving) -> String {
    let mut out = String::new();
    if let Some((ranges, dst)) = &moving.migrating {
        for slot in ranges.iter().flat_map(|r| r.start..=r.end) {
            out.push_str(&format!(" [{slot}->-{dst}]"));
        }
    }
    for slot in moving.importing.iter().flat_map(|r| r.start..=r.end) {
        if let Some(src) = t.owner(slot) {
            out.push_str(&format!(" [{slot}-<-{}]", src.id));
        }
    }
    out
}

pub fn nodes(t: &Topology, moving: &Moving) -> Reply {
    let now = now_ms();
    let mut text = String::new();
    for n in t.nodes() {
        text.push_str(&node_line(t, n, now));
        if n.id == t.myid {
            text.push_str(&moving_markers(t, moving));
        }
        text.push('\n');
    }
    verbatim(text)
}

/// CLUSTER REPLICAS / SLAVES: the replicas' NODES lines.
pub fn replicas(t: &Topology, master_id: &str) -> Reply {
    let now = now_ms();
    Reply::Array(
        t.replicas_of(master_id)
            .into_iter()
            .map(|n| bulk(node_line(t, n, now)))
            .collect(),
    )
}

/// `[ip, port, id, {}]`: Redis 7's node entry of CLUSTER SLOTS, with an
/// empty map of further endpoints.
fn slots_node(n: &Node) -> Reply {
    Reply::Array(vec![
        bulk(n.host.clone()),
        Reply::Integer(n.port.into()),
        bulk(n.id.clone()),
        Reply::Map(Vec::new()),
    ])
}

pub fn slots(t: &Topology) -> Reply {
    Reply::Array(
        t.slot_map()
            .into_iter()
            .map(|(range, master)| {
                let mut entry = vec![
                    Reply::Integer(range.start.into()),
                    Reply::Integer(range.end.into()),
                    slots_node(master),
                ];
                entry.extend(t.replicas_of(&master.id).into_iter().map(slots_node));
                Reply::Array(entry)
            })
            .collect(),
    )
}

/// What this node knows of the replication around it, for CLUSTER
/// SHARDS (there is no bus to learn more).
#[derive(Default)]
pub struct Known {
    /// This node's latest sequence.
    pub mine: u64,
    /// This node is a replica in a full sync from its master.
    pub loading: bool,
    /// The replicas streaming from this node: address as they announced
    /// it, and the sequence they acknowledged.
    pub streaming: Vec<(String, u16, u64)>,
    /// The replicas fetching a full sync from this node.
    pub syncing: Vec<(String, u16)>,
}

impl Known {
    /// Node `n`'s replication offset and health: itself, with its
    /// sequence, `loading` during its own full sync; on a replica, its
    /// master is at least as far as what it applied; on a master, each
    /// replica the topology gives it is `online` with its acknowledged
    /// sequence while it streams, `loading` during a full sync, else
    /// `fail` (not connected). Any other node: `online`, offset 0.
    fn status(&self, t: &Topology, n: &Node) -> (u64, &'static str) {
        if n.id == t.myid {
            return (self.mine, if self.loading { "loading" } else { "online" });
        }
        if t.myself().is_some_and(|me| me.master_id == n.id) {
            return (self.mine, "online");
        }
        if n.role != Role::Replica || n.master_id != t.myid {
            return (0, "online");
        }
        let at = |ip: &str, port: u16| port == n.port && ip == n.host;
        if let Some((_, _, offset)) = self.streaming.iter().find(|(ip, p, _)| at(ip, *p)) {
            return (*offset, "online");
        }
        if self.syncing.iter().any(|(ip, p)| at(ip, *p)) {
            (0, "loading")
        } else {
            (0, "fail")
        }
    }
}

/// A node of CLUSTER SHARDS.
fn shard_node(n: &Node, (offset, health): (u64, &'static str)) -> Reply {
    let pair = |k: &'static str, v: Reply| (bulk(k), v);
    Reply::Map(vec![
        pair("id", bulk(n.id.clone())),
        pair("port", Reply::Integer(n.port.into())),
        pair("ip", bulk(n.host.clone())),
        pair("endpoint", bulk(n.host.clone())),
        pair(
            "role",
            bulk(match n.role {
                Role::Master => "master",
                Role::Replica => "replica",
            }),
        ),
        pair("replication-offset", Reply::Integer(offset as i64)),
        pair("health", bulk(health)),
    ])
}

/// CLUSTER SHARDS: one shard per master, with its slots as start/end
/// pairs and the master then its replicas, each as `known` tells.
pub fn shards(t: &Topology, known: &Known) -> Reply {
    let status = |n: &Node| known.status(t, n);
    let shards = t
        .nodes()
        .iter()
        .filter(|n| n.role == Role::Master)
        .map(|master| {
            let slots = t
                .slots_of(&master.id)
                .into_iter()
                .flat_map(|r| [Reply::Integer(r.start.into()), Reply::Integer(r.end.into())])
                .collect();
            let mut nodes = vec![shard_node(master, status(master))];
            nodes.extend(
                t.replicas_of(&master.id)
                    .into_iter()
                    .map(|r| shard_node(r, status(r))),
            );
            Reply::Map(vec![
                (bulk("slots"), Reply::Array(slots)),
                (bulk("nodes"), Reply::Array(nodes)),
            ])
        })
        .collect();
    Reply::Array(shards)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> String {
        format!("{n:040}")
    }

    fn topology(myid: String) -> Topology {
        let mut t = Topology::default();
        let lines = format!(
            "{} 10.0.0.1 7001 master - 0-16383\n\
             {} 10.0.0.2 7002 slave {}\n\
             {} 10.0.0.3 7003 slave {}\n\
             {} 10.0.0.4 7004 slave {}",
            id(1),
            id(2),
            id(1),
            id(3),
            id(1),
            id(4),
            id(1)
        );
        t.set_nodes(&lines, 1, false, |_| false).unwrap();
        t.myid = myid;
        t
    }

    #[test]
    fn a_master_tells_its_replicas_health() {
        let t = topology(id(1));
        let known = Known {
            mine: 50,
            loading: false,
            streaming: vec![("10.0.0.2".into(), 7002, 42)],
            syncing: vec![("10.0.0.3".into(), 7003)],
        };
        let node = |i: u8| t.node(&id(i)).unwrap();
        assert_eq!(known.status(&t, node(1)), (50, "online"));
        assert_eq!(known.status(&t, node(2)), (42, "online"));
        assert_eq!(known.status(&t, node(3)), (0, "loading"));
        assert_eq!(known.status(&t, node(4)), (0, "fail"));
    }

    #[test]
    fn a_replica_tells_its_own_full_sync_only() {
        let t = topology(id(2));
        let known = Known {
            mine: 30,
            loading: true,
            ..Known::default()
        };
        let node = |i: u8| t.node(&id(i)).unwrap();
        assert_eq!(known.status(&t, node(2)), (30, "loading"));
        assert_eq!(known.status(&t, node(1)), (30, "online"));
        assert_eq!(known.status(&t, node(3)), (0, "online"));
    }
}
