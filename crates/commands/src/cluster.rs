//! The Redis Cluster commands (CLUSTER, READONLY, READWRITE, ASKING) and
//! Kvrocks' CLUSTERX, over the cluster layer (`basalt-cluster`). Without
//! `cluster-enabled yes` they answer as a Redis started without cluster
//! support does (CLUSTERX as Kvrocks does), so clients that probe for a
//! cluster learn they talk to a standalone server.
//!
//! The topology comes only from CLUSTERX (Kvrocks' model, no gossip): the
//! CLUSTER subcommands that would change it in Redis (ADDSLOTS, MEET,
//! SETSLOT, FAILOVER, ...) are refused with a pointer to CLUSTERX.

use super::args::{int, is, lower, text};
use super::flags::*;
use super::{Command, SubCommand};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use basalt_cluster::{views, Cluster, ClusterError};
use basalt_resp::Reply;
use bytes::Bytes;
use std::sync::Arc;

const fn cluster_cmd(
    name: &'static str,
    arity: i32,
    flags: u32,
    handler: super::Handler,
) -> Command {
    Command::new(name, arity, flags, handler).group("cluster")
}

const fn sub(name: &'static str, arity: i32, flags: u32, summary: &'static str) -> SubCommand {
    SubCommand::new(name, arity, flags, summary)
}

pub static COMMANDS: &[Command] = &[
    cluster_cmd("cluster", -2, 0, cluster)
        .since("3.0.0")
        .summary("A container for Redis Cluster commands.")
        .subcommands(&[
            sub(
                "addslots",
                -3,
                ADMIN | STALE,
                "Assigns new hash slots to a node.",
            ).syntax("slot:integer [slot:integer ...]"),
            sub(
                "addslotsrange",
                -4,
                ADMIN | STALE,
                "Assigns new hash slot ranges to a node.",
            ).since("7.0.0").syntax("(range: start-slot:integer end-slot:integer) ..."),
            sub(
                "bumpepoch",
                2,
                ADMIN | STALE,
                "Advances the cluster config epoch.",
            ),
            sub(
                "count-failure-reports",
                3,
                ADMIN | STALE,
                "Returns the number of active failure reports active for a node.",
            ).syntax("node-id"),
            sub(
                "countkeysinslot",
                3,
                STALE,
                "Returns the number of keys in a hash slot.",
            ).syntax("slot:integer"),
            sub(
                "delslots",
                -3,
                ADMIN | STALE,
                "Sets hash slots as unbound for a node.",
            ).syntax("slot:integer [slot:integer ...]"),
            sub(
                "delslotsrange",
                -4,
                ADMIN | STALE,
                "Sets hash slot ranges as unbound for a node.",
            ).since("7.0.0").syntax("(range: start-slot:integer end-slot:integer) ..."),
            sub(
                "failover",
                -2,
                ADMIN | STALE,
                "Forces a replica to perform a manual failover of its master.",
            ).syntax("[options: FORCE | TAKEOVER]"),
            sub(
                "flushslots",
                2,
                ADMIN | STALE,
                "Deletes all slots information from a node.",
            ),
            sub(
                "forget",
                3,
                ADMIN | STALE,
                "Removes a node from the nodes table.",
            ).syntax("node-id"),
            sub(
                "getkeysinslot",
                4,
                STALE,
                "Returns the key names in a hash slot.",
            ).syntax("slot:integer count:integer"),
            sub(
                "help",
                2,
                LOADING | STALE,
                "Returns helpful text about the different subcommands.",
            ).since("5.0.0"),
            sub(
                "import",
                4,
                ADMIN | STALE | NOSCRIPT,
                "Kvrocks' internal slot import step, sent by a migrating source: 0 start, 1 success, 2 failed.",
            ).since("2.0.0").syntax("slots state:integer"),
            sub(
                "info",
                2,
                STALE,
                "Returns information about the state of a node.",
            ),
            sub("keyslot", 3, STALE, "Returns the hash slot for a key.").syntax("key:string"),
            sub(
                "links",
                2,
                STALE,
                "Returns a list of all TCP links to and from peer nodes.",
            ).since("7.0.0"),
            sub(
                "meet",
                -4,
                ADMIN | STALE,
                "Forces a node to handshake with another node.",
            ).syntax("ip port:integer [cluster-bus-port:integer]"),
            sub("myid", 2, STALE, "Returns the ID of a node."),
            sub("myshardid", 2, STALE, "Returns the shard ID of a node.").since("7.2.0"),
            sub(
                "nodes",
                2,
                STALE,
                "Returns the cluster configuration for a node.",
            ),
            sub(
                "replicas",
                3,
                ADMIN | STALE,
                "Lists the replica nodes of a master node.",
            ).since("5.0.0").syntax("node-id"),
            sub(
                "replicate",
                3,
                ADMIN | STALE,
                "Configure a node as replica of a master node.",
            ).syntax("node-id"),
            sub("reset", -2, ADMIN | STALE | NOSCRIPT, "Resets a node.").syntax("[reset-type: HARD | SOFT]"),
            sub(
                "saveconfig",
                2,
                ADMIN | STALE,
                "Forces a node to save the cluster configuration to disk.",
            ),
            sub(
                "set-config-epoch",
                3,
                ADMIN | STALE,
                "Sets the configuration epoch for a new node.",
            ).syntax("config-epoch:integer"),
            sub("setslot", -4, ADMIN | STALE, "Binds a hash slot to a node.").syntax("slot:integer (subcommand: (importing: IMPORTING node-id) | (migrating: MIGRATING node-id) | (node: NODE node-id) | STABLE)"),
            sub(
                "shards",
                2,
                STALE,
                "Returns the mapping of cluster slots to shards.",
            ).since("7.0.0"),
            sub(
                "slaves",
                3,
                ADMIN | STALE,
                "Lists the replica nodes of a master node.",
            ).syntax("node-id"),
            sub(
                "slots",
                2,
                STALE,
                "Returns the mapping of cluster slots to nodes.",
            ),
        ]),
    cluster_cmd("applybatch", -2, ADMIN | WRITE | NOSCRIPT, applybatch)
        .since("2.0.0")
        .syntax("batch [LOWPRI]")
        .summary("Kvrocks' internal: applies a raw RocksDB write batch sent by a migrating source."),
    cluster_cmd("readonly", 1, FAST | LOADING | STALE, readonly)
        .since("3.0.0")
        .summary("Enables read-only queries for a connection to a Redis Cluster replica node."),
    cluster_cmd("readwrite", 1, FAST | LOADING | STALE, readwrite)
        .since("3.0.0")
        .summary("Enables read-write queries for a connection to a Redis Cluster replica node."),
    cluster_cmd("asking", 1, FAST, asking)
        .since("3.0.0")
        .summary("Signals that a cluster client is following an -ASK redirect."),
    cluster_cmd("clusterx", -2, 0, clusterx)
        .since("2.0.0")
        .summary("Kvrocks' cluster topology commands: the topology is pushed to every node.")
        .subcommands(&[
            sub("version", 2, ADMIN | STALE, "Returns the version of the cluster topology."),
            sub("myid", 2, ADMIN | STALE, "Returns this node's id."),
            sub("setnodeid", 3, ADMIN | STALE | NOSCRIPT, "Sets this node's id.")
                .syntax("node-id"),
            sub(
                "setnodes",
                -4,
                ADMIN | STALE | NOSCRIPT,
                "Replaces the whole cluster topology.",
            )
            .syntax("nodes version:integer [FORCE]"),
            sub(
                "setslot",
                6,
                ADMIN | STALE | NOSCRIPT,
                "Gives slots to a master, as the next topology version.",
            )
            .syntax("slots NODE node-id version:integer"),
            sub(
                "migrate",
                -4,
                ADMIN | STALE | NOSCRIPT,
                "Migrates slots with their data to another master.",
            )
            .syntax("slots node-id [ASYNC | SYNC [timeout:integer]]"),
        ]),
];

/// The cluster layer, or the error of a server without cluster mode.
fn layer(ctx: &Ctx, disabled: CommandError) -> Result<Arc<Cluster>, CommandError> {
    basalt_cluster::of(ctx.shared).ok_or(disabled)
}

fn initialized(cluster: &Cluster) -> Result<(), ClusterError> {
    if cluster.topology().is_initialized() {
        Ok(())
    } else {
        Err(ClusterError::NotInitialized)
    }
}

const HELP: &[&str] = &[
    "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "COUNTKEYSINSLOT <slot>",
    "    Return the number of keys in <slot>.",
    "GETKEYSINSLOT <slot> <count>",
    "    Return key names stored by current node in a slot.",
    "INFO",
    "    Return information about the cluster.",
    "KEYSLOT <key>",
    "    Return the hash slot for <key>.",
    "MYID",
    "    Return the node id.",
    "MYSHARDID",
    "    Return the node's shard id.",
    "NODES",
    "    Return cluster configuration seen by node.",
    "REPLICAS <node-id>",
    "    Return <node-id> replicas.",
    "RESET [HARD|SOFT]",
    "    Forget the topology (only with an empty database).",
    "SHARDS",
    "    Return information about slot range mappings and the nodes associated with them.",
    "SLOTS",
    "    Return information about slots range mappings.",
    "The topology is set with CLUSTERX SETNODEID, SETNODES and SETSLOT.",
    "HELP",
    "    Print this help.",
];

fn cluster(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let sub = lower(&args[1]);
    if sub == "help" {
        return Ok(Reply::Array(
            HELP.iter().map(|l| Reply::Simple((*l).into())).collect(),
        ));
    }
    let cluster = layer(ctx, CommandError::ClusterDisabled)?;
    Ok(match sub.as_str() {
        "info" => {
            initialized(&cluster)?;
            let migration = format!("{}{}", cluster.migrator().info(), cluster.importer().info());
            views::info(&cluster.topology(), &migration)
        }
        "import" => {
            let ranges = basalt_cluster::parse_slot_ranges(&text(&args[2]))?;
            let state = match int(&args[3]) {
                Ok(n @ 0..=2) => n,
                _ => return Err(CommandError::other("ERR Invalid import state")),
            };
            cluster.import(ctx.shared, &ranges, state, ctx.client.handle.id)?;
            Reply::ok()
        }
        "nodes" => {
            initialized(&cluster)?;
            let moving = views::Moving {
                migrating: cluster.migrator().running(),
                importing: cluster.importer().importing(),
            };
            views::nodes(&cluster.topology(), &moving)
        }
        "slots" => {
            initialized(&cluster)?;
            views::slots(&cluster.topology())
        }
        "shards" => {
            initialized(&cluster)?;
            let repl = basalt_replication::of(ctx.shared);
            let known = views::Known {
                mine: ctx.data.storage.latest_sequence_number(),
                loading: repl.as_ref().is_some_and(|r| r.in_full_sync()),
                streaming: repl
                    .as_ref()
                    .map(|r| r.replica_offsets())
                    .unwrap_or_default(),
                syncing: repl
                    .as_ref()
                    .map(|r| r.full_sync_replicas())
                    .unwrap_or_default(),
            };
            views::shards(&cluster.topology(), &known)
        }
        "myid" => Reply::bulk(cluster.topology().myid.clone()),
        "myshardid" => {
            let t = cluster.topology();
            let me = t.myself().ok_or(ClusterError::NotInitialized)?;
            let master = t.master_of(me).unwrap_or(me);
            Reply::bulk(master.id.clone())
        }
        "keyslot" => Reply::Integer(basalt_cluster::key_slot(&args[2]).into()),
        "countkeysinslot" => {
            let slot = int(&args[2])?;
            if !(0..basalt_cluster::SLOTS as i64).contains(&slot) {
                return Err(ClusterError::BadSlot.into());
            }
            Reply::Integer(ctx.data.db.count_keys_in_slot(slot as u16)? as i64)
        }
        "getkeysinslot" => {
            let slot = int(&args[2])?;
            let count = int(&args[3])?;
            if !(0..basalt_cluster::SLOTS as i64).contains(&slot) || count < 0 {
                return Err(ClusterError::BadSlotOrCount.into());
            }
            let keys = ctx.data.db.keys_in_slot(slot as u16, count as usize)?;
            Reply::Array(keys.into_iter().map(Reply::bulk).collect())
        }
        "replicas" | "slaves" => {
            let t = cluster.topology();
            let id = text(&args[2]);
            let node = t.node(&id).ok_or(ClusterError::UnknownNode(id.clone()))?;
            if !node.is_master() {
                return Err(CommandError::other(
                    "ERR The specified node is not a master",
                ));
            }
            views::replicas(&t, &id)
        }
        "reset" => {
            if args.len() > 3 || (args.len() == 3 && !is(&args[2], "hard") && !is(&args[2], "soft"))
            {
                return Err(CommandError::Syntax);
            }
            cluster.reset(ctx.shared)?;
            Reply::ok()
        }
        other => {
            return Err(CommandError::other(format!(
                "ERR CLUSTER {} is not supported: the topology is set with CLUSTERX \
                 SETNODES and SETSLOT (see docs/cluster.md)",
                other.to_ascii_uppercase()
            )))
        }
    })
}

fn clusterx(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let sub = lower(&args[1]);
    let cluster = layer(ctx, ClusterError::NotEnabled.into())?;
    let usage = || {
        CommandError::other(
            "ERR CLUSTERX command, CLUSTERX VERSION|MYID|SETNODEID|SETNODES|SETSLOT|MIGRATE",
        )
    };
    match sub.as_str() {
        "version" => Ok(Reply::bulk(cluster.topology().version.to_string())),
        "myid" => Ok(Reply::bulk(cluster.topology().myid.clone())),
        "setnodeid" => {
            if args[2].len() != basalt_cluster::NODE_ID_LEN {
                return Err(usage());
            }
            cluster.set_node_id(ctx.shared, &text(&args[2]))?;
            Ok(Reply::ok())
        }
        "setnodes" => {
            let version = std::str::from_utf8(&args[3])
                .ok()
                .and_then(|v| v.parse::<i64>().ok())
                .ok_or(ClusterError::VersionNotInteger)?;
            let force = match args.len() {
                4 => false,
                5 if is(&args[4], "force") => true,
                5 => return Err(ClusterError::SetNodesOptions.into()),
                _ => return Err(usage()),
            };
            cluster.set_nodes(ctx.shared, &text(&args[2]), version, force)?;
            Ok(Reply::ok())
        }
        "setslot" => {
            let ranges = basalt_cluster::parse_slot_ranges(&text(&args[2]))?;
            if !is(&args[3], "node") {
                return Err(ClusterError::SetSlotOptions.into());
            }
            if args[4].len() != basalt_cluster::NODE_ID_LEN {
                return Err(ClusterError::SetSlotNodeId.into());
            }
            let version = int(&args[5])?;
            if version < 0 {
                return Err(ClusterError::VersionNotInteger.into());
            }
            cluster.set_slots(ctx.shared, &ranges, &text(&args[4]), version)?;
            Ok(Reply::ok())
        }
        "migrate" => {
            if args.len() > 6 {
                return Err(CommandError::WrongArity("clusterx|migrate".into()));
            }
            let ranges = basalt_cluster::parse_slot_ranges(&text(&args[2]))?;
            let mut sync = false;
            let mut timeout = None;
            if args.len() >= 5 {
                if is(&args[4], "async") {
                    if args.len() == 6 {
                        return Err(CommandError::other(
                            "ERR Async migration does not support timeout",
                        ));
                    }
                } else if is(&args[4], "sync") {
                    sync = true;
                    if args.len() == 6 {
                        let t = int(&args[5]).map_err(|_| {
                            CommandError::other("ERR timeout is not an integer or out of range")
                        })?;
                        if t < 0 {
                            return Err(CommandError::other("ERR timeout is negative"));
                        }
                        if t > 0 {
                            timeout = Some(std::time::Duration::from_secs(t as u64));
                        }
                    }
                } else {
                    return Err(CommandError::other("ERR Invalid sync flag"));
                }
            }
            cluster.migrate(ctx.shared, &ranges, &text(&args[3]))?;
            if !sync {
                return Ok(Reply::ok());
            }
            let (state, error) =
                basalt_core::offload::off_worker(|| cluster.migrator().wait(timeout));
            Ok(match state {
                basalt_cluster::MigrateState::Success => Reply::ok(),
                basalt_cluster::MigrateState::Start => Reply::Null,
                _ => Reply::error(format!("ERR {error}")),
            })
        }
        _ => Err(usage()),
    }
}

fn readonly(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    layer(ctx, CommandError::ClusterDisabled)?;
    ctx.client.readonly = true;
    Ok(Reply::ok())
}

fn readwrite(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    layer(ctx, CommandError::ClusterDisabled)?;
    ctx.client.readonly = false;
    Ok(Reply::ok())
}

/// Kvrocks' APPLYBATCH, taken only on a slot import link (the connection
/// that sent CLUSTER IMPORT ... 0) and only for keys of the slots it
/// imports: a raw batch elsewhere could write anything. Answers the
/// batch's size, as Kvrocks.
fn applybatch(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let cluster = layer(ctx, ClusterError::NotEnabled.into())?;
    match args.len() {
        2 => {}
        3 if is(&args[2], "lowpri") => {}
        3 => return Err(CommandError::other("ERR only support LOWPRI option")),
        _ => return Err(CommandError::WrongArity("applybatch".into())),
    }
    let size = cluster.apply_batch(ctx.shared, ctx.client.handle.id, &args[1])?;
    Ok(Reply::Integer(size))
}

/// ASKING matters only to a node importing a slot, which Basalt does not
/// do yet (no migration): it is accepted, as in Kvrocks.
fn asking(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    layer(ctx, CommandError::ClusterDisabled)?;
    Ok(Reply::ok())
}
