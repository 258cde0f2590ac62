//! Each subcommand: the requests it sends, in order, and the text it prints.

use crate::client::{Client, CtlError};
use crate::render::{self, field};
use crate::request;
use crate::wait;
use crate::{Cli, ClusterCmd, Command, NamespaceCmd, NodeCmd, ShardCmd};
use basalt_controller::model::Cluster;
use basalt_controller::status::{MigrationJob, MigrationState, NodeHealth};
use serde_json::Value;

/// Runs the command and gives what to print on success.
pub fn run(cli: &Cli) -> Result<String, CtlError> {
    let client = Client::new(&cli.controller);
    let ns = cli.namespace.as_str();
    let out = Output { json: cli.json };
    match &cli.command {
        Command::Namespace(cmd) => namespace(&client, &out, cmd),
        Command::Cluster(cmd) => cluster(&client, &out, ns, cmd),
        Command::Shard(ShardCmd::Add {
            cluster,
            nodes,
            password,
        }) => {
            let data = client.call(&request::add_shard(ns, &cluster.cluster, nodes, password))?;
            out.or(&data, || {
                let index = data["shard"].as_i64().unwrap_or(-1);
                Ok(format!(
                    "shard {index} added to cluster {} (no slots yet: move some with \
                     `basalt-ctl migrate` or `basalt-ctl rebalance`)\n",
                    cluster.cluster
                ))
            })
        }
        Command::Shard(ShardCmd::Remove { cluster, shard }) => {
            let data = client.call(&request::remove_shard(ns, &cluster.cluster, *shard))?;
            out.or(&data, || {
                Ok(format!(
                    "shard {shard} removed from cluster {}\n",
                    cluster.cluster
                ))
            })
        }
        Command::Node(NodeCmd::Add {
            cluster,
            shard,
            addr,
            role,
            password,
        }) => {
            let data = client.call(&request::add_node(
                ns,
                &cluster.cluster,
                *shard,
                addr,
                role,
                password,
            ))?;
            out.or(&data, || {
                let id = data["node"]["id"].as_str().unwrap_or("");
                Ok(format!(
                    "node {addr} ({}) added to shard {shard} of cluster {} as {role}\n",
                    render::short_id(id),
                    cluster.cluster
                ))
            })
        }
        Command::Node(NodeCmd::Remove {
            cluster,
            shard,
            node,
        }) => {
            let c = get_cluster(&client, ns, &cluster.cluster)?;
            let (shard, id, addr) = resolve_node(&c, *shard, node)?;
            let data = client.call(&request::remove_node(ns, &cluster.cluster, shard, &id))?;
            out.or(&data, || {
                Ok(format!(
                    "node {addr} ({}) removed from shard {shard} of cluster {}\n",
                    render::short_id(&id),
                    cluster.cluster
                ))
            })
        }
        Command::Failover(a) => {
            let preferred = match &a.to {
                Some(to) => {
                    let c = get_cluster(&client, ns, &a.cluster.cluster)?;
                    Some(resolve_node(&c, Some(a.shard), to)?.1)
                }
                None => None,
            };
            let data = client.call(&request::failover(
                ns,
                &a.cluster.cluster,
                a.shard,
                preferred.as_deref(),
            ))?;
            out.or(&data, || {
                Ok(format!(
                    "shard {}: new master {} ({})\n",
                    a.shard,
                    data["new_master"].as_str().unwrap_or("?"),
                    render::short_id(data["new_master_id"].as_str().unwrap_or("?"))
                ))
            })
        }
        Command::Migrate(a) => {
            let c = &a.cluster.cluster;
            let data = client.call(&request::migrate(ns, c, a.target, &a.slot, a.slot_only))?;
            if a.slot_only && data.get("migration").is_none() {
                // Nothing ran: only the topology changed.
                return out.or(&data, || {
                    Ok(format!(
                        "slots {} now belong to shard {} (topology only, no data moved)\n",
                        a.slot, a.target
                    ))
                });
            }
            let job: MigrationJob = field(&data, "migration")?;
            let jobs = if a.no_wait || a.slot_only || render::is_done(&job) {
                vec![job]
            } else {
                wait::wait_for_jobs(&client, ns, c, &[job.id])?
            };
            finish_jobs(&out, jobs)
        }
        Command::Rebalance(a) => {
            let c = &a.cluster.cluster;
            let data = client.call(&request::rebalance(ns, c))?;
            let jobs: Vec<MigrationJob> = field(&data, "migrations")?;
            if jobs.is_empty() && !out.json {
                return Ok(format!(
                    "cluster {c}: slots are already spread evenly, nothing to move\n"
                ));
            }
            let jobs = if a.no_wait {
                jobs
            } else {
                let ids: Vec<u64> = jobs.iter().map(|j| j.id).collect();
                wait::wait_for_jobs(&client, ns, c, &ids)?
            };
            finish_jobs(&out, jobs)
        }
        Command::Migrations(a) => {
            let data = client.call(&request::migrations(ns, &a.cluster))?;
            out.or(&data, || {
                Ok(render::migrations(&field::<Vec<MigrationJob>>(
                    &data,
                    "migrations",
                )?))
            })
        }
        Command::History(a) => {
            let data = client.call(&request::failovers(ns, &a.cluster))?;
            out.or(&data, || {
                Ok(render::history(&field::<Vec<_>>(&data, "failovers")?))
            })
        }
        Command::Health(a) => {
            let data = client.call(&request::health(ns, &a.cluster))?;
            out.or(&data, || {
                let nodes: Vec<NodeHealth> = field(&data, "nodes")?;
                Ok(render::health(
                    &nodes,
                    data["safe_mode"].as_bool().unwrap_or(false),
                ))
            })
        }
    }
}

struct Output {
    json: bool,
}

impl Output {
    /// The API's `data` as JSON with `--json`, else the rendered text.
    fn or(
        &self,
        data: &Value,
        text: impl FnOnce() -> Result<String, CtlError>,
    ) -> Result<String, CtlError> {
        if self.json {
            Ok(format!(
                "{}\n",
                serde_json::to_string_pretty(data).unwrap_or_default()
            ))
        } else {
            text()
        }
    }
}

fn namespace(client: &Client, out: &Output, cmd: &NamespaceCmd) -> Result<String, CtlError> {
    match cmd {
        NamespaceCmd::Create { name } => {
            let data = client.call(&request::create_namespace(name))?;
            out.or(&data, || Ok(format!("namespace {name} created\n")))
        }
        NamespaceCmd::List => {
            let data = client.call(&request::list_namespaces())?;
            out.or(&data, || {
                Ok(render::names(&field::<Vec<_>>(&data, "namespaces")?))
            })
        }
        NamespaceCmd::Delete { name } => {
            let data = client.call(&request::delete_namespace(name))?;
            out.or(&data, || Ok(format!("namespace {name} deleted\n")))
        }
    }
}

fn cluster(client: &Client, out: &Output, ns: &str, cmd: &ClusterCmd) -> Result<String, CtlError> {
    match cmd {
        ClusterCmd::Create(a) => {
            ensure_namespace(client, ns)?;
            let data = client.call(&request::create_cluster(
                ns,
                &a.name,
                &a.nodes,
                a.replicas + 1,
                &a.password,
            ))?;
            out.or(&data, || {
                let c: Cluster = field(&data, "cluster")?;
                Ok(format!("created {}", render::cluster(ns, &c, None)))
            })
        }
        ClusterCmd::List => {
            let data = client.call(&request::list_clusters(ns))?;
            out.or(&data, || {
                Ok(render::names(&field::<Vec<_>>(&data, "clusters")?))
            })
        }
        ClusterCmd::Get { name } => {
            let data = client.call(&request::get_cluster(ns, name))?;
            out.or(&data, || {
                let c: Cluster = field(&data, "cluster")?;
                // Health is extra: a controller without the probe loop (or
                // a probe that has not run yet) still shows the topology.
                let health: Option<Vec<NodeHealth>> = client
                    .call(&request::health(ns, name))
                    .ok()
                    .and_then(|h| field(&h, "nodes").ok());
                Ok(render::cluster(ns, &c, health.as_deref()))
            })
        }
        ClusterCmd::Delete { name } => {
            let data = client.call(&request::delete_cluster(ns, name))?;
            out.or(&data, || Ok(format!("cluster {name} deleted\n")))
        }
    }
}

/// `cluster create` makes its namespace when it is missing, so the first
/// cluster needs one command.
fn ensure_namespace(client: &Client, ns: &str) -> Result<(), CtlError> {
    let names: Vec<String> = field(&client.call(&request::list_namespaces())?, "namespaces")?;
    if names.iter().any(|n| n == ns) {
        return Ok(());
    }
    match client.call(&request::create_namespace(ns)) {
        Ok(_) | Err(CtlError::Api { status: 409, .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

fn get_cluster(client: &Client, ns: &str, name: &str) -> Result<Cluster, CtlError> {
    field(&client.call(&request::get_cluster(ns, name))?, "cluster")
}

/// A node named by full id, id prefix (as the tables show it) or address:
/// its shard, full id and address.
fn resolve_node(
    c: &Cluster,
    shard: Option<usize>,
    wanted: &str,
) -> Result<(usize, String, String), CtlError> {
    let matches: Vec<(usize, String, String)> = c
        .shards
        .iter()
        .enumerate()
        .filter(|(i, _)| shard.is_none_or(|s| s == *i))
        .flat_map(|(i, s)| s.nodes.iter().map(move |n| (i, n)))
        .filter(|(_, n)| n.addr == wanted || (!wanted.is_empty() && n.id.starts_with(wanted)))
        .map(|(i, n)| (i, n.id.clone(), n.addr.clone()))
        .collect();
    let place = match shard {
        Some(s) => format!("shard {s} of cluster {}", c.name),
        None => format!("cluster {}", c.name),
    };
    match matches.len() {
        1 => Ok(matches.into_iter().next().expect("one match")),
        0 => Err(CtlError::Usage(format!(
            "no node {wanted:?} in {place} (give an id, an id prefix or ip:port; \
             `basalt-ctl cluster get {}` lists them)",
            c.name
        ))),
        _ => Err(CtlError::Usage(format!(
            "{wanted:?} matches {} nodes in {place}: give more of the id",
            matches.len()
        ))),
    }
}

/// The jobs' lines; any failed job makes the command fail (exit 1) after
/// saying what happened to every job.
fn finish_jobs(out: &Output, jobs: Vec<MigrationJob>) -> Result<String, CtlError> {
    let failed = jobs.iter().any(|j| j.state == MigrationState::Failed);
    let text = if out.json {
        format!(
            "{}\n",
            serde_json::to_string_pretty(&jobs).unwrap_or_default()
        )
    } else {
        jobs.iter().map(|j| render::job_line(j) + "\n").collect()
    };
    if failed {
        return Err(CtlError::Failed(format!(
            "a migration failed:\n{}",
            text.trim_end()
        )));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixture() -> Cluster {
        serde_json::from_value(json!({
            "name": "c1", "version": 2,
            "shards": [
                {"nodes": [
                    {"id": "aaaa1111111111111111111111111111111111aa", "addr": "127.0.0.1:7001", "role": "master"},
                    {"id": "aaaa2222222222222222222222222222222222aa", "addr": "127.0.0.1:7004", "role": "slave"}],
                 "slot_ranges": ["0-8191"]},
                {"nodes": [
                    {"id": "bbbb1111111111111111111111111111111111bb", "addr": "127.0.0.1:7002", "role": "master"}],
                 "slot_ranges": ["8192-16383"]}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn nodes_are_found_by_id_prefix_or_address() {
        let c = fixture();
        let (shard, id, addr) = resolve_node(&c, None, "127.0.0.1:7004").unwrap();
        assert_eq!((shard, addr.as_str()), (0, "127.0.0.1:7004"));
        assert_eq!(id, "aaaa2222222222222222222222222222222222aa");
        assert_eq!(resolve_node(&c, None, "bbbb").unwrap().0, 1);
        assert_eq!(
            resolve_node(&c, Some(0), "aaaa2").unwrap().1,
            "aaaa2222222222222222222222222222222222aa"
        );
        let e = resolve_node(&c, None, "aaaa").unwrap_err().to_string();
        assert!(e.contains("matches 2 nodes"), "{e}");
        let e = resolve_node(&c, Some(1), "127.0.0.1:7004")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no node \"127.0.0.1:7004\" in shard 1"), "{e}");
    }

    #[test]
    fn a_failed_job_fails_the_command_and_names_it() {
        let job = |id: u64, state: &str| -> MigrationJob {
            serde_json::from_value(json!({
                "id": id, "slots": "0-9", "source": 0, "target": 1, "state": state,
                "keys": 10, "bytes": 100, "phase": "", "started_ms": 1, "finished_ms": 2,
                "message": if state == "failed" { "target down" } else { "" }
            }))
            .unwrap()
        };
        let out = Output { json: false };
        let text = finish_jobs(&out, vec![job(1, "success")]).unwrap();
        assert!(text.starts_with("migration 1: slots 0-9 from shard 0 to shard 1: success"));
        let e = finish_jobs(&out, vec![job(1, "success"), job(2, "failed")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("migration 1") && e.contains("target down"),
            "{e}"
        );
    }
}
