//! The Redis Cluster commands. Until cluster mode exists (`cluster-enabled`
//! is `no`, the only value accepted), they answer as a Redis started without
//! cluster support does, so clients that probe for a cluster (CLUSTER INFO,
//! READONLY) learn they talk to a standalone server. The subcommand table is
//! already Redis's: COMMAND lists it, scripts are refused CLUSTER RESET.

use super::flags::*;
use super::{Command, SubCommand};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use bytes::Bytes;

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
    cluster_cmd("cluster", -2, 0, disabled)
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
    cluster_cmd("readonly", 1, FAST | LOADING | STALE, disabled)
        .since("3.0.0")
        .summary("Enables read-only queries for a connection to a Redis Cluster replica node."),
    cluster_cmd("readwrite", 1, FAST | LOADING | STALE, disabled)
        .since("3.0.0")
        .summary("Enables read-write queries for a connection to a Redis Cluster replica node."),
    cluster_cmd("asking", 1, FAST, disabled)
        .since("3.0.0")
        .summary("Signals that a cluster client is following an -ASK redirect."),
];

fn disabled(_ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Err(CommandError::ClusterDisabled)
}
