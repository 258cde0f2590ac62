//! `GET /metrics`: the controller's view in Prometheus' text exposition
//! format (version 0.0.4). It reads the stored model and `Status` only, so
//! the numbers are the ones the API and the dashboard show. Written by hand:
//! a dozen gauge families do not need a metrics registry, and building the
//! text from a snapshot on each scrape cannot drift from the model.

use crate::api::{blocking, App, Reply};
use crate::api_status::health_view;
use crate::meta::{Meta, MetaError};
use crate::model::Cluster;
use crate::status::Status;
use crate::status::{FailoverKind, FailoverRecord, MigrationJob, MigrationState, NodeHealth};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::fmt::Write;
use std::sync::Arc;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub fn routes() -> Router<Arc<App>> {
    Router::new().route("/metrics", get(metrics))
}

/// What one scrape sees of one cluster.
pub struct ClusterSnapshot {
    pub namespace: String,
    pub cluster: Cluster,
    /// One entry per node of the model (see `health_view`).
    pub health: Vec<NodeHealth>,
    pub failovers: Vec<FailoverRecord>,
    pub migrations: Vec<MigrationJob>,
}

pub struct Snapshot {
    pub clusters: Vec<ClusterSnapshot>,
    pub safe_mode: bool,
    pub leader: bool,
}

/// Reads every cluster; one deleted meanwhile is left out, not an error.
pub fn snapshot(meta: &Meta, status: &Status) -> Result<Snapshot, MetaError> {
    let mut clusters = Vec::new();
    for (ns, name) in meta.all_clusters()? {
        let cluster = match meta.cluster(&ns, &name) {
            Ok(c) => c,
            Err(MetaError::ClusterNotFound(_) | MetaError::NamespaceNotFound(_)) => continue,
            Err(e) => return Err(e),
        };
        clusters.push(ClusterSnapshot {
            health: health_view(&cluster, &status.health(&ns, &name)),
            failovers: status.failovers(&ns, &name)?,
            migrations: status.migrations(&ns, &name),
            namespace: ns,
            cluster,
        });
    }
    Ok(Snapshot {
        clusters,
        safe_mode: status.safe_mode(),
        leader: status.leadership.is_leader(),
    })
}

async fn metrics(State(app): State<Arc<App>>) -> Reply {
    let (meta, status) = (app.meta.clone(), app.status.clone());
    let snap = blocking(move || snapshot(&meta, &status)).await?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        render(&snap),
    )
        .into_response())
}

/// Label values escaped as the format asks: backslash, quote, newline.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Accumulates families; each family's samples are written together, after
/// its `# HELP` and `# TYPE` lines, as the format requires.
struct Text(String);

impl Text {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{k}=\"{}\"", escape(v));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }
}

const P: &str = "basalt_controller_";

fn kind_name(kind: FailoverKind) -> &'static str {
    match kind {
        FailoverKind::Auto => "auto",
        FailoverKind::Manual => "manual",
    }
}

fn state_name(state: MigrationState) -> &'static str {
    match state {
        MigrationState::Pending => "pending",
        MigrationState::Running => "running",
        MigrationState::Success => "success",
        MigrationState::Failed => "failed",
    }
}

/// A family read per item: name suffix, help text, value.
type Family<T> = (&'static str, &'static str, fn(&T) -> u64);

pub fn render(snap: &Snapshot) -> String {
    let mut t = Text(String::new());
    let node_families: [Family<NodeHealth>; 4] = [
        (
            "node_up",
            "1 when the node's last probe succeeded, 0 when it failed or it was not probed yet.",
            |h| u64::from(h.healthy),
        ),
        (
            "node_probe_failures",
            "Consecutive failed probes of the node.",
            |h| u64::from(h.failures),
        ),
        (
            "node_repl_offset",
            "Replication offset of the node at its last probe.",
            |h| h.offset.max(0) as u64,
        ),
        (
            "node_used_memory_bytes",
            "used_memory of the node at its last probe.",
            |h| h.used_memory,
        ),
    ];
    for (suffix, help, value) in node_families {
        let name = format!("{P}{suffix}");
        t.family(&name, "gauge", help);
        for c in &snap.clusters {
            for h in &c.health {
                let shard = h.shard.to_string();
                let labels = [
                    ("namespace", c.namespace.as_str()),
                    ("cluster", c.cluster.name.as_str()),
                    ("shard", shard.as_str()),
                    ("addr", h.addr.as_str()),
                    ("role", h.role.as_str()),
                ];
                t.sample(&name, &labels, value(h));
            }
        }
    }

    let name = format!("{P}shard_slots");
    t.family(
        &name,
        "gauge",
        "Slots the shard owns in the stored topology.",
    );
    for c in &snap.clusters {
        for (i, shard) in c.cluster.shards.iter().enumerate() {
            let slots: u64 = shard
                .slot_ranges
                .iter()
                .map(|r| u64::from(r.stop - r.start) + 1)
                .sum();
            let index = i.to_string();
            let master = shard.master().map(|m| m.addr.as_str()).unwrap_or("");
            let labels = [
                ("namespace", c.namespace.as_str()),
                ("cluster", c.cluster.name.as_str()),
                ("shard", index.as_str()),
                ("master", master),
            ];
            t.sample(&name, &labels, slots);
        }
    }

    let name = format!("{P}cluster_version");
    t.family(&name, "gauge", "Version of the cluster's stored topology.");
    for c in &snap.clusters {
        let labels = [
            ("namespace", c.namespace.as_str()),
            ("cluster", c.cluster.name.as_str()),
        ];
        t.sample(&name, &labels, c.cluster.version);
    }

    let name = format!("{P}failovers_total");
    t.family(
        &name,
        "counter",
        "Failovers in the cluster's stored history (the last 100), by kind and result.",
    );
    for c in &snap.clusters {
        for kind in [FailoverKind::Auto, FailoverKind::Manual] {
            for ok in [true, false] {
                let count = c
                    .failovers
                    .iter()
                    .filter(|f| f.kind == kind && f.ok == ok)
                    .count();
                let labels = [
                    ("namespace", c.namespace.as_str()),
                    ("cluster", c.cluster.name.as_str()),
                    ("kind", kind_name(kind)),
                    ("result", if ok { "ok" } else { "failed" }),
                ];
                t.sample(&name, &labels, count);
            }
        }
    }

    let name = format!("{P}migrations");
    t.family(
        &name,
        "gauge",
        "Slot-migration jobs known to this controller, by state.",
    );
    for c in &snap.clusters {
        for state in [
            MigrationState::Pending,
            MigrationState::Running,
            MigrationState::Success,
            MigrationState::Failed,
        ] {
            let count = c.migrations.iter().filter(|j| j.state == state).count();
            let labels = [
                ("namespace", c.namespace.as_str()),
                ("cluster", c.cluster.name.as_str()),
                ("state", state_name(state)),
            ];
            t.sample(&name, &labels, count);
        }
    }

    let job_families: [Family<MigrationJob>; 2] = [
        (
            "migration_keys",
            "Keys the running migration job has moved so far.",
            |j| j.keys,
        ),
        (
            "migration_bytes",
            "Bytes the running migration job has sent so far.",
            |j| j.bytes,
        ),
    ];
    for (suffix, help, value) in job_families {
        let name = format!("{P}{suffix}");
        t.family(&name, "gauge", help);
        for c in &snap.clusters {
            for j in c
                .migrations
                .iter()
                .filter(|j| j.state == MigrationState::Running)
            {
                let (id, source, target) =
                    (j.id.to_string(), j.source.to_string(), j.target.to_string());
                let labels = [
                    ("namespace", c.namespace.as_str()),
                    ("cluster", c.cluster.name.as_str()),
                    ("job", id.as_str()),
                    ("slots", j.slots.as_str()),
                    ("source", source.as_str()),
                    ("target", target.as_str()),
                ];
                t.sample(&name, &labels, value(j));
            }
        }
    }

    let name = format!("{P}safe_mode");
    t.family(
        &name,
        "gauge",
        "1 while safe mode holds automatic failovers back (too many nodes look dead).",
    );
    t.sample(&name, &[], u8::from(snap.safe_mode));

    let name = format!("{P}leader");
    t.family(
        &name,
        "gauge",
        "1 when this controller is the leader that acts.",
    );
    t.sample(&name, &[], u8::from(snap.leader));
    t.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap() -> Snapshot {
        let addrs: Vec<String> = (0..3).map(|i| format!("127.0.0.1:{}", 7001 + i)).collect();
        let cluster = Cluster::create("c\"1", &addrs, 1, "").unwrap();
        let mut health = health_view(&cluster, &[]);
        health[1].healthy = true;
        health[1].used_memory = 1024;
        let job = |id, state| MigrationJob {
            id,
            slots: "0-9".into(),
            source: 0,
            target: 1,
            state,
            keys: 7,
            bytes: 99,
            phase: "wal".into(),
            started_ms: 0,
            finished_ms: 0,
            message: String::new(),
        };
        Snapshot {
            clusters: vec![ClusterSnapshot {
                namespace: "ns".into(),
                health,
                failovers: vec![FailoverRecord {
                    shard: 0,
                    kind: FailoverKind::Manual,
                    old_master: String::new(),
                    new_master: String::new(),
                    started_ms: 0,
                    finished_ms: 0,
                    ok: true,
                    message: String::new(),
                    version: 2,
                }],
                migrations: vec![
                    job(1, MigrationState::Success),
                    job(2, MigrationState::Running),
                ],
                cluster,
            }],
            safe_mode: false,
            leader: true,
        }
    }

    #[test]
    fn families_are_grouped_and_labels_escaped() {
        let text = render(&snap());
        assert!(text.contains(
            "basalt_controller_node_up{namespace=\"ns\",cluster=\"c\\\"1\",shard=\"1\",addr=\"127.0.0.1:7002\",role=\"master\"} 1\n"
        ));
        assert!(text.contains("shard=\"0\",addr=\"127.0.0.1:7001\",role=\"master\"} 0\n"));
        assert!(text.contains(
            "basalt_controller_failovers_total{namespace=\"ns\",cluster=\"c\\\"1\",kind=\"manual\",result=\"ok\"} 1\n"
        ));
        assert!(text.contains("state=\"running\"} 1\n"));
        assert_eq!(text.matches("basalt_controller_migration_keys{").count(), 1);
        assert!(text.contains("basalt_controller_leader 1\n"));
        // Every sample follows its own family's TYPE line, each family once.
        let mut current = String::new();
        let mut seen = std::collections::HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                current = rest.split(' ').next().unwrap().to_string();
                assert!(seen.insert(current.clone()), "{current} twice");
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                assert_eq!(name, current, "{line}");
            }
        }
        let slots: u64 = text
            .lines()
            .filter(|l| l.starts_with("basalt_controller_shard_slots{"))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(slots, 16384);
    }
}
