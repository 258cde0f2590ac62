//! basalt-ctl: the command line of basalt-controller. It only talks to the
//! controller's HTTP API (kvrocks-controller's v1 paths), so it works
//! against any controller of the cluster: followers redirect it to the
//! leader. See docs/operations.md.

mod client;
mod commands;
mod render;
mod request;
mod wait;

use clap::{Args, Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "basalt-ctl",
    version,
    about = "Manage Basalt clusters through basalt-controller"
)]
pub struct Cli {
    /// The controller's HTTP address.
    #[arg(
        long,
        global = true,
        env = "BASALT_CONTROLLER",
        default_value = "http://127.0.0.1:9379"
    )]
    pub controller: String,
    /// Namespace of the clusters (`cluster create` creates it when missing).
    #[arg(short, long, global = true, default_value = "default")]
    pub namespace: String,
    /// Print the API's JSON answer instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create, list and delete namespaces.
    #[command(subcommand)]
    Namespace(NamespaceCmd),
    /// Create, list, show and delete clusters.
    #[command(subcommand)]
    Cluster(ClusterCmd),
    /// Add a shard to a cluster, or remove an empty one.
    #[command(subcommand)]
    Shard(ShardCmd),
    /// Add or remove a node of a shard.
    #[command(subcommand)]
    Node(NodeCmd),
    /// Fail a shard over to one of its replicas (graceful: nothing is lost).
    Failover(FailoverArgs),
    /// Move slots to another shard; waits for the job with a progress bar.
    Migrate(MigrateArgs),
    /// Spread the slots evenly over the shards; waits for the jobs.
    Rebalance(RebalanceArgs),
    /// List the slot-migration jobs of a cluster.
    Migrations(ClusterArg),
    /// The failover history of a cluster.
    History(ClusterArg),
    /// The last probe of every node of a cluster, and safe mode.
    Health(ClusterArg),
}

#[derive(Subcommand, Debug)]
pub enum NamespaceCmd {
    Create { name: String },
    List,
    Delete { name: String },
}

#[derive(Subcommand, Debug)]
pub enum ClusterCmd {
    /// Create a cluster from nodes started with `--cluster-enabled yes`.
    Create(CreateClusterArgs),
    List,
    /// The shards and nodes of a cluster (with health, when known).
    Get {
        name: String,
    },
    Delete {
        name: String,
    },
}

#[derive(Args, Debug)]
pub struct CreateClusterArgs {
    pub name: String,
    /// Node addresses `ip:port`, comma separated: each group of
    /// 1 + replicas consecutive nodes forms a shard, its first node the master.
    #[arg(long, value_delimiter = ',', required = true)]
    pub nodes: Vec<String>,
    /// Replicas per master (as redis-cli's --cluster-replicas; the API's
    /// `replicas` field, nodes per shard, is this plus one).
    #[arg(long, default_value_t = 0)]
    pub replicas: usize,
    /// Password of the nodes (`requirepass`).
    #[arg(long, default_value = "")]
    pub password: String,
}

#[derive(Args, Debug)]
pub struct ClusterArg {
    /// The cluster.
    #[arg(short, long, env = "BASALT_CLUSTER")]
    pub cluster: String,
}

#[derive(Subcommand, Debug)]
pub enum ShardCmd {
    /// Add a shard (first node the master, the others its replicas); it owns
    /// no slots until `migrate` or `rebalance` moves some to it.
    Add {
        #[command(flatten)]
        cluster: ClusterArg,
        #[arg(long, value_delimiter = ',', required = true)]
        nodes: Vec<String>,
        #[arg(long, default_value = "")]
        password: String,
    },
    /// Remove a shard that owns no slots.
    Remove {
        #[command(flatten)]
        cluster: ClusterArg,
        shard: usize,
    },
}

#[derive(Subcommand, Debug)]
pub enum NodeCmd {
    /// Add a replica to a shard.
    Add {
        #[command(flatten)]
        cluster: ClusterArg,
        #[arg(long)]
        shard: usize,
        /// `ip:port` of a node started with `--cluster-enabled yes`.
        addr: String,
        #[arg(long, default_value = "slave")]
        role: String,
        #[arg(long, default_value = "")]
        password: String,
    },
    /// Remove a replica, by id, id prefix or address.
    Remove {
        #[command(flatten)]
        cluster: ClusterArg,
        /// The node's shard (found from the node when left out).
        #[arg(long)]
        shard: Option<usize>,
        node: String,
    },
}

#[derive(Args, Debug)]
pub struct FailoverArgs {
    #[command(flatten)]
    pub cluster: ClusterArg,
    #[arg(long)]
    pub shard: usize,
    /// The replica to promote (id, id prefix or address); by default the
    /// controller picks the one with the highest replication offset.
    #[arg(long)]
    pub to: Option<String>,
}

#[derive(Args, Debug)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub cluster: ClusterArg,
    /// A slot `a` or a range `a-b`.
    #[arg(long)]
    pub slot: String,
    /// Index of the shard that receives the slots.
    #[arg(long)]
    pub target: usize,
    /// Only change the owner in the topology, moving no data.
    #[arg(long)]
    pub slot_only: bool,
    /// Return once the job is queued.
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Args, Debug)]
pub struct RebalanceArgs {
    #[command(flatten)]
    pub cluster: ClusterArg,
    /// Return once the jobs are queued.
    #[arg(long)]
    pub no_wait: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(&cli) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn lists_are_comma_separated_and_cluster_comes_from_a_flag() {
        let cli = Cli::try_parse_from([
            "basalt-ctl",
            "-n",
            "ns",
            "cluster",
            "create",
            "c1",
            "--nodes",
            "127.0.0.1:7001,127.0.0.1:7002",
            "--replicas",
            "1",
        ])
        .unwrap();
        assert_eq!(cli.namespace, "ns");
        match cli.command {
            Command::Cluster(ClusterCmd::Create(a)) => {
                assert_eq!(a.nodes, ["127.0.0.1:7001", "127.0.0.1:7002"]);
                assert_eq!(a.replicas, 1);
            }
            other => panic!("{other:?}"),
        }
        let cli = Cli::try_parse_from([
            "basalt-ctl",
            "migrate",
            "-c",
            "c1",
            "--slot",
            "0-99",
            "--target",
            "2",
            "--no-wait",
        ])
        .unwrap();
        match cli.command {
            Command::Migrate(m) => {
                assert_eq!(
                    (m.cluster.cluster.as_str(), m.slot.as_str()),
                    ("c1", "0-99")
                );
                assert!(m.no_wait && !m.slot_only);
            }
            other => panic!("{other:?}"),
        }
    }
}
