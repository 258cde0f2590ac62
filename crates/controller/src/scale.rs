//! Scaling changes on the model: shards and nodes added and removed, slots
//! moved between shards, and the rebalance plan. Pure functions on a
//! `Cluster`; the API stores and pushes what they return. Every change
//! bumps the version, so nodes accept the pushed topology.

use crate::model::{split_addr, Cluster, Node, Role, Shard, SlotRange, SLOTS};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScaleError {
    #[error("{0}")]
    Invalid(String),
    #[error("shard {0} not found")]
    NoShard(usize),
    #[error("node {0:?} not found in the shard")]
    NoNode(String),
    #[error("shard {0} still owns slots: migrate them away first")]
    ShardHasSlots(usize),
    #[error("node {0:?} is the shard's master: fail over first")]
    IsMaster(String),
    #[error("node {0:?} is already in the cluster")]
    NodeExists(String),
    #[error("slot {0} is not owned by a single shard")]
    NotOneOwner(String),
    #[error("the slots {0} already belong to shard {1}")]
    SameShard(String, usize),
    #[error("shard {0} has no master")]
    NoMaster(usize),
}

impl Cluster {
    fn shard_mut(&mut self, i: usize) -> Result<&mut Shard, ScaleError> {
        self.shards.get_mut(i).ok_or(ScaleError::NoShard(i))
    }

    pub fn shard(&self, i: usize) -> Result<&Shard, ScaleError> {
        self.shards.get(i).ok_or(ScaleError::NoShard(i))
    }

    fn check_new_addr(&self, addr: &str) -> Result<(), ScaleError> {
        if split_addr(addr).is_none() {
            return Err(ScaleError::Invalid(format!(
                "invalid node address {addr:?}"
            )));
        }
        if self.nodes().any(|n| n.addr == addr) {
            return Err(ScaleError::NodeExists(addr.to_string()));
        }
        Ok(())
    }

    /// Appends a shard without slots: the first address is its master.
    /// Returns its index.
    pub fn add_shard(&mut self, addrs: &[String], password: &str) -> Result<usize, ScaleError> {
        if addrs.is_empty() {
            return Err(ScaleError::Invalid(
                "the shard nodes should not be empty".into(),
            ));
        }
        for (i, addr) in addrs.iter().enumerate() {
            self.check_new_addr(addr)?;
            if addrs[..i].contains(addr) {
                return Err(ScaleError::Invalid(format!(
                    "duplicate node address {addr:?}"
                )));
            }
        }
        let nodes = addrs
            .iter()
            .enumerate()
            .map(|(i, addr)| {
                let role = if i == 0 { Role::Master } else { Role::Slave };
                Node::new(addr, role, password)
            })
            .collect();
        self.shards.push(Shard {
            nodes,
            slot_ranges: Vec::new(),
            migrating_slot: -1,
            import_slot: -1,
        });
        self.version += 1;
        Ok(self.shards.len() - 1)
    }

    /// Drops a shard that owns no slots (kvrocks-controller's rule); its
    /// nodes simply leave the topology. Later shards shift down by one.
    pub fn remove_shard(&mut self, i: usize) -> Result<Shard, ScaleError> {
        if !self.shard(i)?.slot_ranges.is_empty() {
            return Err(ScaleError::ShardHasSlots(i));
        }
        let shard = self.shards.remove(i);
        self.version += 1;
        Ok(shard)
    }

    /// Adds a replica to shard `i`; it follows the master once the new
    /// topology is pushed.
    pub fn add_replica(
        &mut self,
        i: usize,
        addr: &str,
        password: &str,
    ) -> Result<Node, ScaleError> {
        self.shard(i)?;
        self.check_new_addr(addr)?;
        let node = Node::new(addr, Role::Slave, password);
        self.shard_mut(i)?.nodes.push(node.clone());
        self.version += 1;
        Ok(node)
    }

    /// Drops a replica of shard `i`; a master stays (fail over first).
    pub fn remove_node(&mut self, i: usize, id: &str) -> Result<Node, ScaleError> {
        let shard = self.shard_mut(i)?;
        let pos = shard
            .nodes
            .iter()
            .position(|n| n.id == id)
            .ok_or_else(|| ScaleError::NoNode(id.to_string()))?;
        if shard.nodes[pos].role == Role::Master {
            return Err(ScaleError::IsMaster(id.to_string()));
        }
        let node = shard.nodes.remove(pos);
        self.version += 1;
        Ok(node)
    }

    /// The owner of every slot (`None`: unassigned).
    pub fn slot_owners(&self) -> Vec<Option<usize>> {
        let mut owners = vec![None; SLOTS as usize];
        for (i, shard) in self.shards.iter().enumerate() {
            for r in &shard.slot_ranges {
                for slot in r.start..=r.stop {
                    owners[slot as usize] = Some(i);
                }
            }
        }
        owners
    }

    /// The shard owning every slot of `range`, if one shard owns them all.
    pub fn owner_of(&self, range: SlotRange) -> Result<usize, ScaleError> {
        let owners = self.slot_owners();
        let first = owners[range.start as usize];
        match first {
            Some(s)
                if owners[range.start as usize..=range.stop as usize]
                    .iter()
                    .all(|o| *o == Some(s)) =>
            {
                Ok(s)
            }
            _ => Err(ScaleError::NotOneOwner(range.to_string())),
        }
    }

    /// Checks a move of `range` to shard `target`: one source shard owns
    /// it all, the target exists, differs and has a master. Returns the
    /// source shard.
    pub fn check_move(&self, range: SlotRange, target: usize) -> Result<usize, ScaleError> {
        self.shard(target)?
            .master()
            .ok_or(ScaleError::NoMaster(target))?;
        let source = self.owner_of(range)?;
        if source == target {
            return Err(ScaleError::SameShard(range.to_string(), target));
        }
        self.shard(source)?
            .master()
            .ok_or(ScaleError::NoMaster(source))?;
        Ok(source)
    }

    /// Gives `range` to shard `target` and bumps the version; the shards'
    /// ranges are rebuilt from the slot map, merged and sorted.
    pub fn move_slots(&mut self, range: SlotRange, target: usize) -> Result<usize, ScaleError> {
        let source = self.check_move(range, target)?;
        let mut owners = self.slot_owners();
        for slot in range.start..=range.stop {
            owners[slot as usize] = Some(target);
        }
        for (i, shard) in self.shards.iter_mut().enumerate() {
            shard.slot_ranges = ranges_of(&owners, i);
        }
        self.version += 1;
        Ok(source)
    }
}

/// The contiguous runs of slots `owners` gives to `shard`.
fn ranges_of(owners: &[Option<usize>], shard: usize) -> Vec<SlotRange> {
    let slots: Vec<u16> = (0..owners.len())
        .filter(|&slot| owners[slot] == Some(shard))
        .map(|slot| slot as u16)
        .collect();
    runs(&slots)
}

/// One planned move of the rebalance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub range: SlotRange,
    pub source: usize,
    pub target: usize,
}

/// The moves that leave every shard with 16384/n slots (the first 16384%n
/// of the fullest shards one more). Donors give their highest slots, so
/// what a shard keeps and what it gives stay contiguous; each move is one
/// contiguous range from one donor to one receiver.
pub fn rebalance_plan(cluster: &Cluster) -> Vec<Move> {
    let n = cluster.shards.len();
    if n == 0 {
        return Vec::new();
    }
    let owners = cluster.slot_owners();
    let counts: Vec<usize> = (0..n)
        .map(|i| owners.iter().filter(|o| **o == Some(i)).count())
        .collect();
    let (base, extra) = (SLOTS as usize / n, SLOTS as usize % n);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(counts[i]), i));
    let mut want = vec![base; n];
    for &i in order.iter().take(extra) {
        want[i] += 1;
    }
    // Donors' surplus slots, highest first; receivers in shard order.
    let mut given: Vec<(usize, Vec<u16>)> = Vec::new();
    for i in 0..n {
        if counts[i] > want[i] {
            let mut slots: Vec<u16> = (0..SLOTS)
                .filter(|s| owners[*s as usize] == Some(i))
                .collect();
            let keep = want[i];
            given.push((i, slots.split_off(keep)));
        }
    }
    let mut moves = Vec::new();
    let mut receivers = (0..n)
        .filter(|&i| counts[i] < want[i])
        .map(|i| (i, want[i] - counts[i]));
    let mut current = receivers.next();
    for (donor, slots) in given {
        let mut rest = &slots[..];
        while !rest.is_empty() {
            let Some((target, need)) = current.as_mut() else {
                break;
            };
            let take = (*need).min(rest.len());
            let (chunk, tail) = rest.split_at(take);
            rest = tail;
            *need -= take;
            for run in runs(chunk) {
                moves.push(Move {
                    range: run,
                    source: donor,
                    target: *target,
                });
            }
            if *need == 0 {
                current = receivers.next();
            }
        }
    }
    moves
}

/// Sorted slots as contiguous ranges.
fn runs(slots: &[u16]) -> Vec<SlotRange> {
    let mut out: Vec<SlotRange> = Vec::new();
    for &slot in slots {
        match out.last_mut() {
            Some(r) if r.stop + 1 == slot => r.stop = slot,
            _ => out.push(SlotRange {
                start: slot,
                stop: slot,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(shards: usize) -> Cluster {
        let addrs: Vec<String> = (0..shards)
            .map(|i| format!("127.0.0.1:{}", 7001 + i))
            .collect();
        Cluster::create("c", &addrs, 1, "").unwrap()
    }

    fn range(text: &str) -> SlotRange {
        SlotRange::parse(text).unwrap()
    }

    fn counts(c: &Cluster) -> Vec<usize> {
        let owners = c.slot_owners();
        (0..c.shards.len())
            .map(|i| owners.iter().filter(|o| **o == Some(i)).count())
            .collect()
    }

    #[test]
    fn shards_and_replicas_come_and_go_with_version_bumps() {
        let mut c = cluster(2);
        let i = c
            .add_shard(&["127.0.0.1:8001".into(), "127.0.0.1:8002".into()], "")
            .unwrap();
        assert_eq!((i, c.version), (2, 2));
        assert_eq!(c.shards[2].nodes[0].role, Role::Master);
        assert_eq!(c.shards[2].nodes[1].role, Role::Slave);
        assert_eq!(
            c.add_shard(&["127.0.0.1:8001".into()], ""),
            Err(ScaleError::NodeExists("127.0.0.1:8001".into()))
        );
        assert!(c.add_shard(&[], "").is_err());
        assert_eq!(c.remove_shard(0).unwrap_err(), ScaleError::ShardHasSlots(0));
        assert_eq!(c.remove_shard(9).unwrap_err(), ScaleError::NoShard(9));

        let node = c.add_replica(0, "127.0.0.1:8003", "").unwrap();
        assert_eq!(c.version, 3);
        assert!(c.setnodes_lines().contains(&format!(
            "{} 127.0.0.1 8003 slave {}\n",
            node.id, c.shards[0].nodes[0].id
        )));
        let master = c.shards[0].nodes[0].id.clone();
        assert_eq!(
            c.remove_node(0, &master).unwrap_err(),
            ScaleError::IsMaster(master)
        );
        c.remove_node(0, &node.id).unwrap();
        assert_eq!(c.shards[0].nodes.len(), 1);
        assert_eq!(c.remove_shard(2).unwrap().nodes.len(), 2);
        assert_eq!((c.shards.len(), c.version), (2, 5));
    }

    #[test]
    fn moves_need_one_owner_and_another_target() {
        let mut c = cluster(2); // 0-8191, 8192-16383
        assert_eq!(
            c.check_move(range("8000-8300"), 1),
            Err(ScaleError::NotOneOwner("8000-8300".into()))
        );
        assert_eq!(
            c.check_move(range("10"), 0),
            Err(ScaleError::SameShard("10".into(), 0))
        );
        assert_eq!(c.check_move(range("10"), 5), Err(ScaleError::NoShard(5)));
        assert_eq!(c.move_slots(range("100-200"), 1), Ok(0));
        assert_eq!(c.version, 2);
        let text: Vec<String> = c.shards[0]
            .slot_ranges
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(text, ["0-99", "201-8191"]);
        let text: Vec<String> = c.shards[1]
            .slot_ranges
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(text, ["100-200", "8192-16383"]);
    }

    #[test]
    fn rebalance_spreads_slots_evenly_in_few_ranges() {
        let mut c = cluster(2);
        c.add_shard(&["127.0.0.1:8001".into()], "").unwrap();
        let plan = rebalance_plan(&c);
        assert_eq!(plan.len(), 2, "{plan:?}");
        assert_eq!(plan[0].range.to_string(), "5462-8191");
        assert_eq!(plan[1].range.to_string(), "13653-16383");
        for m in &plan {
            assert_eq!(m.target, 2);
            c.move_slots(m.range, m.target).unwrap();
        }
        assert_eq!(counts(&c), [5462, 5461, 5461]);
        assert!(rebalance_plan(&c).is_empty());

        // Five shards from one: every shard within one slot of the others.
        let mut c = cluster(1);
        for p in 0..4 {
            c.add_shard(&[format!("127.0.0.1:{}", 9000 + p)], "")
                .unwrap();
        }
        for m in rebalance_plan(&c) {
            c.move_slots(m.range, m.target).unwrap();
        }
        let n = counts(&c);
        assert_eq!(n.iter().sum::<usize>(), SLOTS as usize);
        assert!(
            n.iter().max().unwrap() - n.iter().min().unwrap() <= 1,
            "{n:?}"
        );
        assert!(rebalance_plan(&c).is_empty());
    }
}
