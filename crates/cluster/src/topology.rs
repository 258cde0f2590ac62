//! The topology a controller pushes with CLUSTERX: every node, its role,
//! and which master serves each slot, under a version. Parsing and
//! validation follow Kvrocks' `Cluster::parseClusterNodes` and its version
//! rules, error for error.

use crate::error::ClusterError;
use crate::slots::{parse_node_slots, ranges_of, SlotRange, SLOTS};

/// The length of every node id.
pub const NODE_ID_LEN: usize = 40;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Master,
    Replica,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub id: String,
    pub host: String,
    pub port: u16,
    pub role: Role,
    /// The master's id for a replica, `-` for a master.
    pub master_id: String,
}

impl Node {
    pub fn is_master(&self) -> bool {
        self.role == Role::Master
    }
}

/// The whole cluster as this node knows it.
#[derive(Clone, Debug)]
pub struct Topology {
    /// -1 until a topology is set.
    pub version: i64,
    /// This node's id; empty until set or found.
    pub myid: String,
    /// In the order they were listed.
    nodes: Vec<Node>,
    /// For each slot, the index in `nodes` of the master serving it.
    owner: Vec<Option<u16>>,
}

impl Default for Topology {
    fn default() -> Self {
        Topology {
            version: -1,
            myid: String::new(),
            nodes: Vec::new(),
            owner: vec![None; SLOTS],
        }
    }
}

/// What `set_nodes` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    /// The same version again: nothing changed (Kvrocks answers OK).
    Unchanged,
    Replaced,
}

/// SETNODES lines, parsed: the nodes and the owner of each slot.
pub(crate) struct Parsed {
    nodes: Vec<Node>,
    owner: Vec<Option<u16>>,
}

/// Kvrocks splits on any run of the separator, dropping empty pieces.
fn split(text: &str, sep: char) -> impl Iterator<Item = &str> {
    text.split(sep).filter(|p| !p.is_empty())
}

pub(crate) fn parse_nodes(text: &str) -> Result<Parsed, ClusterError> {
    let lines: Vec<&str> = split(text, '\n').collect();
    // The slot table indexes nodes with a u16.
    if lines.is_empty() || lines.len() > usize::from(u16::MAX) {
        return Err(ClusterError::InvalidNodesInfo);
    }
    let mut nodes: Vec<Node> = Vec::new();
    let mut owner = vec![None; SLOTS];
    for line in lines {
        let fields: Vec<&str> = split(line, ' ').collect();
        if fields.len() < 5 {
            return Err(ClusterError::InvalidNodesInfo);
        }
        let id = fields[0];
        if id.len() != NODE_ID_LEN {
            return Err(ClusterError::InvalidNodeId);
        }
        let host = fields[1];
        let port: u16 = fields[2].parse().map_err(|_| ClusterError::InvalidPort)?;
        let role = if fields[3].eq_ignore_ascii_case("master") {
            Role::Master
        } else if fields[3].eq_ignore_ascii_case("slave")
            || fields[3].eq_ignore_ascii_case("replica")
        {
            Role::Replica
        } else {
            return Err(ClusterError::InvalidRole);
        };
        let master_id = fields[4];
        if (role == Role::Master && master_id != "-")
            || (role == Role::Replica && master_id.len() != NODE_ID_LEN)
        {
            return Err(ClusterError::InvalidNodeId);
        }
        if role == Role::Replica && fields.len() != 5 {
            // A node id where a slot should be: two lines run together.
            if fields[5..].iter().any(|f| f.len() == NODE_ID_LEN) {
                return Err(ClusterError::MissingNewline);
            }
            return Err(ClusterError::InvalidNodesInfo);
        }
        // A node listed twice keeps its first place, with the last
        // definition (Kvrocks keeps the last one in its map).
        let index = match nodes.iter().position(|n| n.id == id) {
            Some(i) => i,
            None => {
                nodes.push(Node {
                    id: id.to_string(),
                    host: String::new(),
                    port: 0,
                    role,
                    master_id: String::new(),
                });
                nodes.len() - 1
            }
        };
        nodes[index] = Node {
            id: id.to_string(),
            host: host.to_string(),
            port,
            role,
            master_id: master_id.to_string(),
        };
        for token in &fields[5..] {
            if token.len() == NODE_ID_LEN {
                return Err(ClusterError::MissingNewline);
            }
            let range = parse_node_slots(token)?;
            for slot in range.start..=range.end {
                let entry = &mut owner[slot as usize];
                if entry.is_some() {
                    return Err(ClusterError::SlotOverlapped);
                }
                *entry = Some(index as u16);
            }
        }
    }
    Ok(Parsed { nodes, owner })
}

impl Topology {
    pub fn is_initialized(&self) -> bool {
        self.version >= 0
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    fn index_of(&self, id: &str) -> Option<u16> {
        self.nodes.iter().position(|n| n.id == id).map(|i| i as u16)
    }

    pub fn myself(&self) -> Option<&Node> {
        if self.myid.is_empty() {
            return None;
        }
        self.node(&self.myid)
    }

    /// The master serving `slot`.
    pub fn owner(&self, slot: u16) -> Option<&Node> {
        self.owner[slot as usize].map(|i| &self.nodes[i as usize])
    }

    /// The master of `node`: itself for a master.
    pub fn master_of<'a>(&'a self, node: &'a Node) -> Option<&'a Node> {
        match node.role {
            Role::Master => Some(node),
            Role::Replica => self.node(&node.master_id),
        }
    }

    pub fn replicas_of(&self, master_id: &str) -> Vec<&Node> {
        self.nodes
            .iter()
            .filter(|n| n.role == Role::Replica && n.master_id == master_id)
            .collect()
    }

    /// The slots a node serves, as ranges.
    pub fn slots_of(&self, id: &str) -> Vec<SlotRange> {
        let Some(index) = self.index_of(id) else {
            return Vec::new();
        };
        ranges_of((0..SLOTS as u16).filter(|&s| self.owner[s as usize] == Some(index)))
    }

    /// Ranges of consecutive slots served by one master, in slot order.
    pub fn slot_map(&self) -> Vec<(SlotRange, &Node)> {
        let mut out: Vec<(SlotRange, &Node)> = Vec::new();
        for slot in 0..SLOTS as u16 {
            let Some(i) = self.owner[slot as usize] else {
                continue;
            };
            let node = &self.nodes[i as usize];
            match out.last_mut() {
                Some((r, n)) if r.end + 1 == slot && n.id == node.id => r.end = slot,
                _ => out.push((
                    SlotRange {
                        start: slot,
                        end: slot,
                    },
                    node,
                )),
            }
        }
        out
    }

    pub fn assigned_slots(&self) -> usize {
        self.owner.iter().filter(|o| o.is_some()).count()
    }

    /// Masters serving at least one slot (CLUSTER INFO's cluster_size).
    pub fn size(&self) -> usize {
        let mut serving = vec![false; self.nodes.len()];
        for i in self.owner.iter().flatten() {
            serving[*i as usize] = true;
        }
        serving.iter().filter(|s| **s).count()
    }

    /// CLUSTERX SETNODES: a whole new topology under `version`. A lower
    /// version is refused and the same one is a no-op, unless `force`.
    /// Without an id yet (or with `force`), this node finds itself by its
    /// port and a listening address (`is_me`).
    pub fn set_nodes(
        &mut self,
        text: &str,
        version: i64,
        force: bool,
        is_me: impl Fn(&Node) -> bool,
    ) -> Result<Applied, ClusterError> {
        if version < 0 {
            return Err(ClusterError::InvalidVersion);
        }
        if !force {
            if self.version > version {
                return Err(ClusterError::InvalidVersion);
            }
            if self.version == version {
                return Ok(Applied::Unchanged);
            }
        }
        let parsed = parse_nodes(text)?;
        self.version = version;
        self.nodes = parsed.nodes;
        self.owner = parsed.owner;
        if self.myid.is_empty() || force {
            if let Some(n) = self.nodes.iter().find(|n| is_me(n)) {
                self.myid = n.id.clone();
            }
        }
        Ok(Applied::Replaced)
    }

    /// CLUSTERX SETNODEID.
    pub fn set_node_id(&mut self, id: &str) -> Result<(), ClusterError> {
        if id.len() != NODE_ID_LEN {
            return Err(ClusterError::InvalidNodeId);
        }
        self.myid = id.to_string();
        Ok(())
    }

    /// CLUSTERX SETSLOT: gives the slots to a master; the version must be
    /// exactly the next one, as the change is relative to the current
    /// topology.
    pub fn set_slots(
        &mut self,
        ranges: &[SlotRange],
        node_id: &str,
        version: i64,
    ) -> Result<(), ClusterError> {
        if version <= 0 || version != self.version + 1 {
            return Err(ClusterError::InvalidVersion);
        }
        if node_id.len() != NODE_ID_LEN {
            return Err(ClusterError::InvalidNodeId);
        }
        let index = self.index_of(node_id).ok_or(ClusterError::NoSuchNode)?;
        if !self.nodes[index as usize].is_master() {
            return Err(ClusterError::NotMaster);
        }
        self.version = version;
        for r in ranges {
            for slot in r.start..=r.end {
                self.owner[slot as usize] = Some(index);
            }
        }
        Ok(())
    }

    /// CLUSTER RESET: forget everything but the id.
    pub fn reset(&mut self) {
        let myid = std::mem::take(&mut self.myid);
        *self = Topology {
            myid,
            ..Topology::default()
        };
    }

    /// The node lines of nodes.conf (and, without the `node ` word, of
    /// SETNODES): `id host port master - slots` or `id host port slave master-id`.
    pub fn node_lines(&self) -> String {
        let mut out = String::new();
        for n in &self.nodes {
            match n.role {
                Role::Master => {
                    out.push_str(&format!("{} {} {} master -", n.id, n.host, n.port));
                    for r in self.slots_of(&n.id) {
                        out.push_str(&format!(" {r}"));
                    }
                }
                Role::Replica => out.push_str(&format!(
                    "{} {} {} slave {}",
                    n.id, n.host, n.port, n.master_id
                )),
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const C: &str = "cccccccccccccccccccccccccccccccccccccccc";

    fn set(t: &mut Topology, text: &str, version: i64) -> Result<Applied, ClusterError> {
        t.set_nodes(text, version, false, |n| n.port == 7001)
    }

    #[test]
    fn sets_nodes_and_finds_itself() {
        let mut t = Topology::default();
        let text = format!(
            "{A} 127.0.0.1 7000 master - 0-8000\n{B} 127.0.0.1 7001 master - 8001-16383\n{C} 127.0.0.1 7002 slave {A}"
        );
        assert_eq!(set(&mut t, &text, 1).unwrap(), Applied::Replaced);
        assert_eq!(t.myid, B);
        assert_eq!(t.owner(0).unwrap().id, A);
        assert_eq!(t.owner(16383).unwrap().id, B);
        assert_eq!(t.assigned_slots(), SLOTS);
        assert_eq!(t.size(), 2);
        assert_eq!(t.replicas_of(A).len(), 1);
        assert_eq!(
            t.slots_of(B),
            vec![SlotRange {
                start: 8001,
                end: 16383
            }]
        );
        assert_eq!(set(&mut t, "garbage", 1).unwrap(), Applied::Unchanged);
        assert_eq!(
            set(&mut t, &text, 0).unwrap_err(),
            ClusterError::InvalidVersion
        );
        assert_eq!(
            t.set_nodes(&text, -1, true, |_| false).unwrap_err(),
            ClusterError::InvalidVersion
        );
        let reparsed = parse_nodes(&t.node_lines()).unwrap();
        assert_eq!(reparsed.nodes, t.nodes);
        assert_eq!(reparsed.owner, t.owner);
    }

    #[test]
    fn refuses_bad_lines_with_kvrocks_errors() {
        let cases = [
            (String::new(), ClusterError::InvalidNodesInfo),
            (
                format!("{A} 127.0.0.1 7000 master"),
                ClusterError::InvalidNodesInfo,
            ),
            (
                "abc 127.0.0.1 7000 master -".into(),
                ClusterError::InvalidNodeId,
            ),
            (
                format!("{A} 127.0.0.1 70000 master -"),
                ClusterError::InvalidPort,
            ),
            (
                format!("{A} 127.0.0.1 7000 leader -"),
                ClusterError::InvalidRole,
            ),
            (
                format!("{A} 127.0.0.1 7000 master {B}"),
                ClusterError::InvalidNodeId,
            ),
            (
                format!("{A} 127.0.0.1 7000 slave -"),
                ClusterError::InvalidNodeId,
            ),
            (
                format!("{A} 127.0.0.1 7000 slave {B} 1-2"),
                ClusterError::InvalidNodesInfo,
            ),
            (
                format!("{A} 127.0.0.1 7000 master - 16384"),
                ClusterError::SlotOutOfRange,
            ),
            (
                format!("{A} 127.0.0.1 7000 master - 9-3"),
                ClusterError::SlotOutOfRange,
            ),
            (
                format!("{A} 127.0.0.1 7000 master - 0-10\n{B} 127.0.0.1 7001 master - 10"),
                ClusterError::SlotOverlapped,
            ),
            (
                format!("{A} 127.0.0.1 7000 master - 0-10 {B} 127.0.0.1 7001 master - 11"),
                ClusterError::MissingNewline,
            ),
        ];
        for (text, err) in cases {
            assert_eq!(parse_nodes(&text).err(), Some(err), "{text}");
        }
    }

    #[test]
    fn setslot_needs_the_next_version_and_a_master() {
        let mut t = Topology::default();
        let text = format!("{A} 127.0.0.1 7000 master - 0-100\n{C} 127.0.0.1 7002 slave {A}\n{B} 127.0.0.1 7001 master -");
        set(&mut t, &text, 5).unwrap();
        let r = [SlotRange { start: 7, end: 9 }];
        assert_eq!(
            t.set_slots(&r, B, 5).unwrap_err(),
            ClusterError::InvalidVersion
        );
        assert_eq!(
            t.set_slots(&r, B, 7).unwrap_err(),
            ClusterError::InvalidVersion
        );
        assert_eq!(t.set_slots(&r, C, 6).unwrap_err(), ClusterError::NotMaster);
        let unknown = "d".repeat(40);
        assert_eq!(
            t.set_slots(&r, &unknown, 6).unwrap_err(),
            ClusterError::NoSuchNode
        );
        t.set_slots(&r, B, 6).unwrap();
        assert_eq!(t.version, 6);
        assert_eq!(t.owner(8).unwrap().id, B);
        assert_eq!(
            t.slots_of(A),
            vec![
                SlotRange { start: 0, end: 6 },
                SlotRange {
                    start: 10,
                    end: 100
                }
            ]
        );
    }
}
