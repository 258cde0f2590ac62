//! Adopting a newer topology found on a node (another controller, or an
//! operator with CLUSTERX, pushed it): read as CLUSTER NODES shows it, and
//! taken into the model only when it holds exactly the model's nodes, as
//! kvrocks-controller does. Anything else is left for an operator.

use crate::model::{Cluster, Role, Shard, SlotRange};
use std::collections::BTreeSet;

/// One line of CLUSTER NODES.
#[derive(Debug, Clone, PartialEq)]
pub struct SeenNode {
    pub id: String,
    pub addr: String,
    pub role: Role,
    /// The master's id for a replica.
    pub master_id: String,
    pub slots: Vec<SlotRange>,
}

/// `id ip:port@cport flags master ping pong epoch state slots...`; slot
/// entries in brackets (a migration under way) are skipped.
pub fn parse_cluster_nodes(text: &str) -> Result<Vec<SeenNode>, String> {
    let mut nodes = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 {
            return Err(format!("short CLUSTER NODES line {line:?}"));
        }
        let addr = f[1].split('@').next().unwrap_or("").to_string();
        let role = if f[2].split(',').any(|x| x == "master") {
            Role::Master
        } else if f[2].split(',').any(|x| x == "slave") {
            Role::Slave
        } else {
            return Err(format!("no role in CLUSTER NODES line {line:?}"));
        };
        let mut slots = Vec::new();
        for s in f.iter().skip(8).filter(|s| !s.starts_with('[')) {
            slots.push(SlotRange::parse(s).ok_or_else(|| format!("bad slot range {s:?}"))?);
        }
        nodes.push(SeenNode {
            id: f[0].to_string(),
            addr,
            role,
            master_id: f[3].to_string(),
            slots,
        });
    }
    Ok(nodes)
}

/// The model rebuilt from what a node sees at `version`: same nodes (ids
/// and addresses) with the node's roles and slots. Shards keep the model's
/// order (by where their nodes were); passwords and creation times are
/// the model's.
pub fn adopt(model: &Cluster, seen: &[SeenNode], version: i64) -> Result<Cluster, String> {
    let ours: BTreeSet<(&str, &str)> = model
        .nodes()
        .map(|n| (n.id.as_str(), n.addr.as_str()))
        .collect();
    let theirs: BTreeSet<(&str, &str)> = seen
        .iter()
        .map(|n| (n.id.as_str(), n.addr.as_str()))
        .collect();
    if ours != theirs || theirs.len() != seen.len() {
        return Err("the node's topology does not hold the same nodes as the model".into());
    }
    let mut shards: Vec<(usize, Shard)> = Vec::new();
    for master in seen.iter().filter(|n| n.role == Role::Master) {
        let members: Vec<&SeenNode> = std::iter::once(master)
            .chain(
                seen.iter()
                    .filter(|n| n.role == Role::Slave && n.master_id == master.id),
            )
            .collect();
        let rank = members
            .iter()
            .filter_map(|m| {
                model
                    .shards
                    .iter()
                    .position(|s| s.nodes.iter().any(|n| n.id == m.id))
            })
            .min()
            .unwrap_or(usize::MAX);
        let nodes = members
            .iter()
            .map(|m| {
                let mut node = model
                    .nodes()
                    .find(|n| n.id == m.id)
                    .expect("checked above")
                    .clone();
                node.role = m.role;
                node
            })
            .collect();
        shards.push((
            rank,
            Shard {
                nodes,
                slot_ranges: master.slots.clone(),
                migrating_slot: -1,
                import_slot: -1,
            },
        ));
    }
    let placed: usize = shards.iter().map(|(_, s)| s.nodes.len()).sum();
    if placed != seen.len() {
        return Err("the node's topology has replicas of unknown masters".into());
    }
    shards.sort_by_key(|(rank, _)| *rank);
    Ok(Cluster {
        name: model.name.clone(),
        version,
        shards: shards.into_iter().map(|(_, s)| s).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Cluster {
        let addrs: Vec<String> = (0..4).map(|i| format!("127.0.0.1:{}", 7001 + i)).collect();
        Cluster::create("c", &addrs, 2, "pw").unwrap()
    }

    /// CLUSTER NODES of `c` after its first shard failed over.
    fn failed_over(c: &Cluster) -> String {
        let (a, b) = (&c.shards[0].nodes[0], &c.shards[0].nodes[1]);
        let (m2, r2) = (&c.shards[1].nodes[0], &c.shards[1].nodes[1]);
        format!(
            "{} 127.0.0.1:7001@17001 slave {} 0 1 5 connected\n\
             {} 127.0.0.1:7002@17002 myself,master - 0 1 5 connected 0-8191\n\
             {} 127.0.0.1:7003@17003 master - 0 1 5 connected 8192-16383 [5->-x]\n\
             {} 127.0.0.1:7004@17004 slave {} 0 1 5 connected\n",
            a.id, b.id, b.id, m2.id, r2.id, m2.id
        )
    }

    #[test]
    fn adopts_a_failover_done_elsewhere() {
        let c = model();
        let seen = parse_cluster_nodes(&failed_over(&c)).unwrap();
        let new = adopt(&c, &seen, 5).unwrap();
        assert_eq!(new.version, 5);
        assert_eq!(new.shards.len(), 2);
        let s0 = &new.shards[0];
        assert_eq!(s0.master().unwrap().id, c.shards[0].nodes[1].id);
        assert_eq!(s0.slot_ranges, vec![SlotRange::parse("0-8191").unwrap()]);
        assert_eq!(s0.nodes[1].role, Role::Slave);
        assert_eq!(s0.nodes[1].password, "pw");
        assert_eq!(new.shards[1].master().unwrap().id, c.shards[1].nodes[0].id);
    }

    #[test]
    fn refuses_other_nodes() {
        let c = model();
        let mut seen = parse_cluster_nodes(&failed_over(&c)).unwrap();
        seen.pop();
        assert!(adopt(&c, &seen, 5).is_err());
        seen.push(SeenNode {
            id: "x".repeat(40),
            addr: "127.0.0.1:9".into(),
            role: Role::Master,
            master_id: "-".into(),
            slots: vec![],
        });
        assert!(adopt(&c, &seen, 5).is_err());
        assert!(parse_cluster_nodes("abc 1.2.3.4:5 master").is_err());
    }
}
