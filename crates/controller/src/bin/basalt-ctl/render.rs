//! What basalt-ctl prints: the API's JSON turned into tables and one-line
//! summaries. Pure functions from values to text, so the tests check the
//! output of fixture answers without a controller.

use crate::client::CtlError;
use basalt_controller::model::{Cluster, Role};
use basalt_controller::status::{
    FailoverKind, FailoverRecord, MigrationJob, MigrationState, NodeHealth,
};
use comfy_table::{presets, Cell, Table};
use indicatif::{HumanBytes, HumanDuration};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// How many characters of a 40-character node id the tables show; enough
/// to tell nodes apart, and accepted back wherever a node id is asked for.
pub const ID_PREFIX: usize = 8;

/// `data[name]` as a typed value.
pub fn field<T: DeserializeOwned>(data: &Value, name: &str) -> Result<T, CtlError> {
    let v = data
        .get(name)
        .ok_or_else(|| CtlError::Protocol(format!("no {name:?} in {data}")))?;
    serde_json::from_value(v.clone()).map_err(|e| CtlError::Protocol(format!("{name}: {e}")))
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header(header.iter().map(Cell::new));
    t
}

pub fn short_id(id: &str) -> &str {
    &id[..id.len().min(ID_PREFIX)]
}

fn role(r: Role) -> &'static str {
    match r {
        Role::Master => "master",
        Role::Slave => "slave",
    }
}

/// A list of names, one a line (namespaces, clusters): easy to read and to
/// pipe into other commands.
pub fn names(list: &[String]) -> String {
    list.iter().map(|n| format!("{n}\n")).collect()
}

fn health_cell(h: &NodeHealth) -> String {
    if h.loading {
        "loading".to_string()
    } else if h.healthy {
        "up".to_string()
    } else if h.failures > 0 {
        format!("down ({} failed probes)", h.failures)
    } else {
        "down".to_string()
    }
}

/// `cluster get`: one row per node, grouped by shard. The health columns
/// appear only when the controller answered `GET .../health`.
pub fn cluster(ns: &str, c: &Cluster, health: Option<&[NodeHealth]>) -> String {
    let mut header = vec!["shard", "slots", "node", "addr", "role"];
    if health.is_some() {
        header.extend(["health", "offset", "memory"]);
    }
    let mut t = table(&header);
    for (i, shard) in c.shards.iter().enumerate() {
        let mut slots: Vec<String> = shard.slot_ranges.iter().map(|r| r.to_string()).collect();
        if slots.is_empty() {
            slots.push("-".to_string());
        }
        if shard.migrating_slot >= 0 {
            slots.push(format!("migrating {}", shard.migrating_slot));
        }
        if shard.import_slot >= 0 {
            slots.push(format!("importing {}", shard.import_slot));
        }
        for (j, node) in shard.nodes.iter().enumerate() {
            let first = j == 0;
            let mut row = vec![
                if first { i.to_string() } else { String::new() },
                if first {
                    slots.join("\n")
                } else {
                    String::new()
                },
                short_id(&node.id).to_string(),
                node.addr.clone(),
                role(node.role).to_string(),
            ];
            if let Some(health) = health {
                match health.iter().find(|h| h.id == node.id) {
                    Some(h) => row.extend([
                        health_cell(h),
                        h.offset.to_string(),
                        HumanBytes(h.used_memory).to_string(),
                    ]),
                    None => row.extend(["-".to_string(), "-".to_string(), "-".to_string()]),
                }
            }
            t.add_row(row);
        }
    }
    let nodes = c.nodes().count();
    format!(
        "cluster {} (namespace {ns}), version {}, {} shards, {nodes} nodes\n{t}\n",
        c.name,
        c.version,
        c.shards.len()
    )
}

pub fn health(nodes: &[NodeHealth], safe_mode: bool) -> String {
    let mut t = table(&[
        "shard", "node", "addr", "role", "health", "offset", "memory", "disk", "version", "error",
    ]);
    for h in nodes {
        t.add_row(vec![
            h.shard.to_string(),
            short_id(&h.id).to_string(),
            h.addr.clone(),
            h.role.clone(),
            health_cell(h),
            h.offset.to_string(),
            HumanBytes(h.used_memory).to_string(),
            HumanBytes(h.used_disk).to_string(),
            h.version.to_string(),
            h.error.clone(),
        ]);
    }
    let mode = if safe_mode {
        "safe mode: ON (too many nodes look down at once: automatic failover is paused)"
    } else {
        "safe mode: off"
    };
    if nodes.is_empty() {
        return format!("no probe results yet\n{mode}\n");
    }
    format!("{t}\n{mode}\n")
}

fn took(start_ms: u64, end_ms: u64) -> String {
    if end_ms < start_ms || start_ms == 0 {
        return "-".to_string();
    }
    let ms = end_ms - start_ms;
    if ms < 10_000 {
        format!("{ms} ms")
    } else {
        HumanDuration(Duration::from_millis(ms)).to_string()
    }
}

pub fn history(records: &[FailoverRecord]) -> String {
    if records.is_empty() {
        return "no failovers\n".to_string();
    }
    let mut t = table(&[
        "time (UTC)",
        "shard",
        "kind",
        "old master",
        "new master",
        "took",
        "result",
        "version",
        "message",
    ]);
    for r in records {
        t.add_row(vec![
            utc(r.started_ms),
            r.shard.to_string(),
            match r.kind {
                FailoverKind::Auto => "auto",
                FailoverKind::Manual => "manual",
            }
            .to_string(),
            r.old_master.clone(),
            r.new_master.clone(),
            took(r.started_ms, r.finished_ms),
            if r.ok { "ok" } else { "failed" }.to_string(),
            r.version.to_string(),
            r.message.clone(),
        ]);
    }
    format!("{t}\n")
}

pub fn state(s: MigrationState) -> &'static str {
    match s {
        MigrationState::Pending => "pending",
        MigrationState::Running => "running",
        MigrationState::Success => "success",
        MigrationState::Failed => "failed",
    }
}

pub fn is_done(job: &MigrationJob) -> bool {
    matches!(job.state, MigrationState::Success | MigrationState::Failed)
}

/// One line per job: what moved where, how far, and why it failed.
pub fn job_line(job: &MigrationJob) -> String {
    let mut line = format!(
        "migration {}: slots {} from shard {} to shard {}: {}",
        job.id,
        job.slots,
        job.source,
        job.target,
        state(job.state)
    );
    if !job.phase.is_empty() && !is_done(job) {
        line.push_str(&format!(" ({})", job.phase));
    }
    line.push_str(&format!(", {} keys, {}", job.keys, HumanBytes(job.bytes)));
    if is_done(job) {
        line.push_str(&format!(", took {}", took(job.started_ms, job.finished_ms)));
    }
    if !job.message.is_empty() {
        line.push_str(&format!(": {}", job.message));
    }
    line
}

pub fn migrations(jobs: &[MigrationJob]) -> String {
    if jobs.is_empty() {
        return "no migrations\n".to_string();
    }
    let mut t = table(&[
        "id", "slots", "from", "to", "state", "phase", "keys", "bytes", "took", "message",
    ]);
    for j in jobs {
        t.add_row(vec![
            j.id.to_string(),
            j.slots.clone(),
            j.source.to_string(),
            j.target.to_string(),
            state(j.state).to_string(),
            j.phase.clone(),
            j.keys.to_string(),
            HumanBytes(j.bytes).to_string(),
            if is_done(j) {
                took(j.started_ms, j.finished_ms)
            } else {
                "-".to_string()
            },
            j.message.clone(),
        ]);
    }
    format!("{t}\n")
}

/// Unix milliseconds as `YYYY-MM-DD HH:MM:SS` in UTC (days to civil date:
/// Howard Hinnant's algorithm), so the CLI needs no date crate.
pub fn utc(ms: u64) -> String {
    if ms == 0 {
        return "-".to_string();
    }
    let secs = ms / 1000;
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixture_cluster() -> Cluster {
        serde_json::from_value(json!({
            "name": "c1", "version": 4,
            "shards": [
                {"nodes": [
                    {"id": "aaaaaaaa11111111111111111111111111111111", "addr": "127.0.0.1:7001", "role": "master"},
                    {"id": "bbbbbbbb22222222222222222222222222222222", "addr": "127.0.0.1:7004", "role": "slave"}],
                 "slot_ranges": ["0-5460"], "migrating_slot": 17, "import_slot": -1},
                {"nodes": [
                    {"id": "cccccccc33333333333333333333333333333333", "addr": "127.0.0.1:7002", "role": "master"}],
                 "slot_ranges": [], "migrating_slot": -1, "import_slot": -1}
            ]
        }))
        .unwrap()
    }

    fn fixture_health() -> Vec<NodeHealth> {
        serde_json::from_value(json!([
            {"id": "aaaaaaaa11111111111111111111111111111111", "addr": "127.0.0.1:7001",
             "role": "master", "shard": 0, "healthy": true, "failures": 0, "offset": 4242,
             "used_memory": 2097152, "used_disk": 0, "loading": false, "version": 4,
             "last_probe_ms": 1, "error": ""},
            {"id": "bbbbbbbb22222222222222222222222222222222", "addr": "127.0.0.1:7004",
             "role": "slave", "shard": 0, "healthy": false, "failures": 3, "offset": 4000,
             "used_memory": 0, "used_disk": 0, "loading": false, "version": 4,
             "last_probe_ms": 1, "error": "connection refused"}
        ]))
        .unwrap()
    }

    #[test]
    fn cluster_table_shows_every_node_with_its_shard_slots_and_role() {
        let text = cluster("default", &fixture_cluster(), None);
        assert!(text.starts_with("cluster c1 (namespace default), version 4, 2 shards, 3 nodes\n"));
        for want in [
            "127.0.0.1:7001",
            "127.0.0.1:7004",
            "127.0.0.1:7002",
            "aaaaaaaa ",
            "0-5460",
            "migrating 17",
            "master",
            "slave",
        ] {
            assert!(text.contains(want), "{want:?} missing from\n{text}");
        }
        assert!(!text.contains("aaaaaaaa1"), "ids are shortened\n{text}");
        assert!(!text.contains("health"), "{text}");
        let row = text.lines().find(|l| l.contains("127.0.0.1:7004")).unwrap();
        assert!(row.contains("slave"), "{row}");
    }

    #[test]
    fn cluster_table_adds_health_offset_and_memory_when_known() {
        let health = fixture_health();
        let text = cluster("default", &fixture_cluster(), Some(&health));
        let row = |addr: &str| text.lines().find(|l| l.contains(addr)).unwrap().to_string();
        assert!(text.contains("health"), "{text}");
        let m = row("127.0.0.1:7001");
        assert!(
            m.contains("up") && m.contains("4242") && m.contains("2.00 MiB"),
            "{m}"
        );
        let r = row("127.0.0.1:7004");
        assert!(r.contains("down (3 failed probes)"), "{r}");
        // A node the probe loop has not seen yet.
        assert!(row("127.0.0.1:7002").contains(" - "), "{text}");
    }

    #[test]
    fn health_table_shows_errors_and_safe_mode() {
        let text = health(&fixture_health(), true);
        assert!(text.contains("connection refused"), "{text}");
        assert!(text.contains("safe mode: ON"), "{text}");
        assert_eq!(health(&[], false), "no probe results yet\nsafe mode: off\n");
    }

    #[test]
    fn history_table_shows_each_failover() {
        let records: Vec<FailoverRecord> = serde_json::from_value(json!([
            {"shard": 1, "kind": "auto", "old_master": "127.0.0.1:7002",
             "new_master": "127.0.0.1:7005", "started_ms": 1796000000000u64,
             "finished_ms": 1796000001234u64, "ok": true, "message": "promoted replica at offset 9",
             "version": 5}
        ]))
        .unwrap();
        let text = history(&records);
        let row = text.lines().find(|l| l.contains("127.0.0.1:7005")).unwrap();
        for want in [
            "2026-11-30 00:53:20",
            "auto",
            "127.0.0.1:7002",
            "1234 ms",
            "ok",
            "promoted",
        ] {
            assert!(row.contains(want), "{want:?} missing from {row}");
        }
        assert_eq!(history(&[]), "no failovers\n");
    }

    #[test]
    fn job_lines_say_where_slots_went() {
        let mut job: MigrationJob = serde_json::from_value(json!({
            "id": 7, "slots": "0-99", "source": 0, "target": 3, "state": "running",
            "keys": 1500, "bytes": 3072, "phase": "snapshot", "started_ms": 1000,
            "finished_ms": 0, "message": ""
        }))
        .unwrap();
        assert_eq!(
            job_line(&job),
            "migration 7: slots 0-99 from shard 0 to shard 3: running (snapshot), 1500 keys, 3.00 KiB"
        );
        job.state = MigrationState::Failed;
        job.finished_ms = 3500;
        job.message = "target refused".into();
        assert_eq!(
            job_line(&job),
            "migration 7: slots 0-99 from shard 0 to shard 3: failed, 1500 keys, 3.00 KiB, took 2500 ms: target refused"
        );
        assert!(migrations(&[job]).contains("target refused"));
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "-");
        assert_eq!(utc(86_400_000), "1970-01-02 00:00:00");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00");
        assert_eq!(utc(1_796_000_000_000), "2026-11-30 00:53:20");
    }
}
