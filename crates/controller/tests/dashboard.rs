//! The controller's read side as a user sees it: the status endpoints, the
//! Prometheus text at /metrics, and the web dashboard rendered by a real
//! headless Chromium (Debian's `chromium`, installed by scripts/deps.sh).

mod common;

use basalt_controller::api::{router, App};
use basalt_controller::meta::Meta;
use basalt_controller::model::Cluster;
use basalt_controller::status::{
    FailoverKind, FailoverRecord, Leadership, MigrationJob, MigrationState, NodeHealth, Status,
};
use basalt_controller::store::{FileStore, MetaStore};
use basalt_tests::{skip_on_redis, Server};
use common::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Loads `url` in headless Chromium, lets its scripts run (virtual time
/// skips the waits) and returns the DOM as the page left it. Killed after
/// 30 s so a hung browser fails the test instead of stalling it.
fn rendered_dom(url: &str) -> String {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: the dashboard test needs Debian's chromium package; \
         run scripts/deps.sh (as root it installs it)"
    );
    let tmp = tempfile::tempdir().unwrap();
    let out_path = tmp.path().join("dom.html");
    let err_path = tmp.path().join("chromium.log");
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--virtual-time-budget=10000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            tmp.path().join("profile").display()
        ))
        .args(["--dump-dom", url])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium did not finish within 30 s:\n{}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let dom = std::fs::read_to_string(&out_path).unwrap();
    assert!(
        status.success() && dom.contains("data-loaded=\"true\""),
        "chromium exited with {status}; the page never finished loading.\nDOM:\n{dom}\nlog:\n{}",
        std::fs::read_to_string(&err_path).unwrap_or_default()
    );
    dom
}

/// The opening tags `<tag ...>` whose class list holds `class`.
fn tags<'a>(dom: &'a str, tag: &str, class: &str) -> Vec<&'a str> {
    let open = format!("<{tag} ");
    dom.match_indices(&open)
        .filter_map(|(i, _)| {
            let end = i + dom[i..].find('>')?;
            let t = &dom[i..end];
            let classes = attr(t, "class")?;
            classes.split(' ').any(|c| c == class).then_some(t)
        })
        .collect()
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

/// Prometheus text parsed into `name{labels}` → value, checking on the way
/// that each sample follows its family's `# TYPE` line.
fn parse_metrics(text: &str) -> BTreeMap<String, f64> {
    let mut samples = BTreeMap::new();
    let mut family = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            family = parts.next().unwrap().to_string();
            assert!(
                matches!(parts.next(), Some("gauge" | "counter")),
                "bad TYPE line {line:?}"
            );
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let name = series.split('{').next().unwrap();
        assert_eq!(name, family, "sample outside its family: {line:?}");
        samples.insert(series.to_string(), value.parse::<f64>().unwrap());
    }
    samples
}

fn sum(samples: &BTreeMap<String, f64>, prefix: &str) -> f64 {
    samples
        .iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(_, v)| v)
        .sum()
}

fn get_text(base: &str, path: &str) -> (u16, String, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(15)))
        .build()
        .into();
    let mut r = agent.get(format!("{base}{path}")).call().unwrap();
    let kind = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        r.status().as_u16(),
        kind,
        r.body_mut().read_to_string().unwrap(),
    )
}

#[test]
fn status_endpoints_answer_for_a_cluster_and_404_otherwise() {
    skip_on_redis!();
    let nodes: Vec<Server> = (0..2).map(|_| node()).collect();
    let (_tmp, dir) = data_dir();
    let ctl = Controller::start(&dir);
    let addrs: Vec<String> = nodes.iter().map(addr).collect();
    let cluster = ctl.create_cluster("ns", "c", &addrs, 2);
    let ids: Vec<String> = cluster["shards"][0]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect();

    let (status, body) = ctl.get("/api/v1/namespaces/ns/clusters/c/health");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["safe_mode"], false);
    let health = body["data"]["nodes"].as_array().unwrap();
    assert_eq!(health.len(), 2);
    for (i, (h, role)) in health.iter().zip(["master", "slave"]).enumerate() {
        assert_eq!(h["id"], ids[i].as_str());
        assert_eq!(h["addr"], addrs[i].as_str());
        assert_eq!(h["role"], role);
        assert_eq!(h["shard"], 0);
        // Probed or not yet, every node of the model has an entry that
        // says whether it is up, and why not.
        assert!(h["healthy"].is_boolean(), "{h}");
        if h["healthy"] == false {
            assert!(!h["error"].as_str().unwrap().is_empty(), "{h}");
        }
    }
    assert_eq!(
        ctl.get("/api/v1/namespaces/ns/clusters/c/failovers"),
        (200, json!({"data": {"failovers": []}}))
    );
    assert_eq!(
        ctl.get("/api/v1/namespaces/ns/clusters/c/migrations"),
        (200, json!({"data": {"migrations": []}}))
    );
    for path in [
        "/api/v1/namespaces/ns/clusters/nope/health",
        "/api/v1/namespaces/ns/clusters/nope/failovers",
        "/api/v1/namespaces/ns/clusters/nope/migrations",
        "/api/v1/namespaces/other/clusters/c/health",
    ] {
        let (status, body) = ctl.get(path);
        assert_eq!(status, 404, "{path}: {body}");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not found"));
    }
}

#[test]
fn dashboard_in_chromium_shows_the_cluster_its_nodes_and_slot_map() {
    skip_on_redis!();
    let nodes: Vec<Server> = (0..4).map(|_| node()).collect();
    let (_tmp, dir) = data_dir();
    // A failover record in the stored history, as the failover code writes
    // it, before the controller starts on the same store.
    {
        let store: Arc<dyn MetaStore> = Arc::new(FileStore::open(&dir).unwrap());
        let status = Status::new(store, Leadership::always());
        status
            .record_failover(
                "ns",
                "c1",
                FailoverRecord {
                    shard: 1,
                    kind: FailoverKind::Manual,
                    old_master: "127.0.0.1:1".into(),
                    new_master: "127.0.0.1:2".into(),
                    started_ms: 1_700_000_000_000,
                    finished_ms: 1_700_000_000_500,
                    ok: true,
                    message: "promoted replica at offset 7".into(),
                    version: 1,
                },
            )
            .unwrap();
    }
    let ctl = Controller::start(&dir);
    let addrs: Vec<String> = nodes.iter().map(addr).collect();
    ctl.create_cluster("ns", "c1", &addrs, 2);

    for page in ["/", "/dashboard"] {
        let (status, kind, html) = get_text(&ctl.base, page);
        assert_eq!(status, 200);
        assert!(kind.starts_with("text/html"), "{kind}");
        assert!(html.contains("<title>Basalt controller</title>"));
    }

    let dom = rendered_dom(&format!("{}/dashboard", ctl.base));
    let sections = tags(&dom, "section", "cluster");
    assert_eq!(sections.len(), 1, "{dom}");
    assert_eq!(attr(sections[0], "data-cluster"), Some("c1"));
    assert_eq!(attr(sections[0], "data-namespace"), Some("ns"));
    assert_eq!(attr(sections[0], "data-version"), Some("1"));
    assert!(dom.contains("<span class=\"name\">ns / c1</span>"), "{dom}");

    // Every node, with its role, in its shard.
    let rows = tags(&dom, "tr", "node");
    assert_eq!(rows.len(), 4, "{dom}");
    for (i, a) in addrs.iter().enumerate() {
        let row = rows
            .iter()
            .find(|r| attr(r, "data-addr") == Some(a.as_str()))
            .unwrap_or_else(|| panic!("no row for {a}:\n{dom}"));
        let role = if i % 2 == 0 { "master" } else { "slave" };
        assert_eq!(attr(row, "data-role"), Some(role), "{row}");
        assert_eq!(attr(row, "data-shard"), Some((i / 2).to_string().as_str()));
        assert!(dom.contains(&format!(
            "<td class=\"addr\">{a}</td><td class=\"role\">{role}</td>"
        )));
    }
    // The shard slot ranges, in the table and the legend.
    for range in ["0-8191", "8192-16383"] {
        assert!(
            dom.contains(&format!("<td rowspan=\"2\" class=\"slots\">{range}</td>")),
            "{dom}"
        );
    }
    assert!(dom.contains("shard 0: 0-8191 (8192 slots)"), "{dom}");
    assert!(dom.contains("shard 1: 8192-16383 (8192 slots)"), "{dom}");

    // The slot map: an SVG strip with one coloured segment per shard,
    // spanning exactly its slots.
    assert_eq!(tags(&dom, "svg", "slot-map").len(), 1);
    let segments = tags(&dom, "rect", "slot-segment");
    assert_eq!(segments.len(), 2, "{dom}");
    let mut fills = Vec::new();
    for (i, (seg, (x, w))) in segments
        .iter()
        .zip([("0", "8192"), ("8192", "8192")])
        .enumerate()
    {
        assert_eq!(attr(seg, "data-shard"), Some(i.to_string().as_str()));
        assert_eq!((attr(seg, "x"), attr(seg, "width")), (Some(x), Some(w)));
        fills.push(attr(seg, "fill").unwrap());
    }
    assert_ne!(fills[0], fills[1], "shards share a colour");
    assert!(tags(&dom, "li", "unassigned").is_empty());

    // The failover history and the empty migrations list.
    let failovers = tags(&dom, "tr", "failover");
    assert_eq!(failovers.len(), 1, "{dom}");
    assert_eq!(attr(failovers[0], "data-kind"), Some("manual"));
    assert!(dom.contains("promoted replica at offset 7"));
    assert!(dom.contains("No migration jobs."));

    // The same cluster through /metrics.
    let (status, kind, text) = get_text(&ctl.base, "/metrics");
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let m = parse_metrics(&text);
    let cl = "namespace=\"ns\",cluster=\"c1\"";
    assert_eq!(sum(&m, "basalt_controller_shard_slots{"), 16384.0, "{text}");
    assert_eq!(
        m[&format!("basalt_controller_cluster_version{{{cl}}}")],
        1.0
    );
    assert_eq!(
        m[&format!(
            "basalt_controller_shard_slots{{{cl},shard=\"0\",master=\"{}\"}}",
            addrs[0]
        )],
        8192.0
    );
    let node_up: Vec<&String> = m
        .keys()
        .filter(|k| k.starts_with("basalt_controller_node_up{"))
        .collect();
    assert_eq!(node_up.len(), 4, "{text}");
    assert!(m.contains_key(&format!(
        "basalt_controller_node_up{{{cl},shard=\"1\",addr=\"{}\",role=\"slave\"}}",
        addrs[3]
    )));
    assert_eq!(
        m[&format!("basalt_controller_failovers_total{{{cl},kind=\"manual\",result=\"ok\"}}")],
        1.0
    );
    assert_eq!(sum(&m, "basalt_controller_failovers_total{"), 1.0);
    assert_eq!(sum(&m, "basalt_controller_migrations{"), 0.0);
    assert_eq!(m["basalt_controller_leader"], 1.0);
    assert_eq!(m["basalt_controller_safe_mode"], 0.0);
}

/// The controller's own router served in this process, so the test can put
/// a running migration job and safe mode into `Status` (the jobs and the
/// safe-mode switch live in memory, written by the migration and probe
/// loops) and see what the page and /metrics make of them.
#[test]
fn dashboard_shows_a_running_migration_with_progress_and_safe_mode() {
    skip_on_redis!();
    let (_tmp, dir) = data_dir();
    let store: Arc<dyn MetaStore> = Arc::new(FileStore::open(&dir).unwrap());
    let status = Arc::new(Status::new(store.clone(), Leadership::always()));
    let meta = Meta::new(store);
    meta.create_namespace("ns").unwrap();
    let addrs: Vec<String> = (0..3).map(|i| format!("127.0.0.1:{}", 1 + i)).collect();
    let mut cluster = Cluster::create("big", &addrs, 1, "").unwrap();
    // Shard 2 gave slots 16000-16383 away already: left unassigned here.
    cluster.shards[2].slot_ranges[0].stop = 15999;
    meta.create_cluster("ns", &cluster).unwrap();
    let job = |id, state: MigrationState, phase: &str, keys| MigrationJob {
        id,
        slots: "0-99".into(),
        source: 0,
        target: 2,
        state,
        keys,
        bytes: 3 * 1024 * 1024,
        phase: phase.into(),
        started_ms: 1_700_000_000_000,
        finished_ms: 0,
        message: String::new(),
    };
    status.upsert_migration("ns", "big", job(1, MigrationState::Success, "success", 10));
    status.upsert_migration("ns", "big", job(2, MigrationState::Running, "wal", 1234));
    status.set_safe_mode(true);
    // What the probe loop writes: node 0 up, node 1 failing and one
    // topology behind, node 2 not probed yet.
    let probe = |i: usize| NodeHealth {
        id: cluster.shards[i].nodes[0].id.clone(),
        addr: addrs[i].clone(),
        role: "master".into(),
        shard: i,
        last_probe_ms: 1_700_000_000_000,
        ..NodeHealth::default()
    };
    status.set_health(
        "ns",
        "big",
        vec![
            NodeHealth {
                healthy: true,
                offset: 777,
                used_memory: 2 * 1024 * 1024,
                version: 1,
                ..probe(0)
            },
            NodeHealth {
                healthy: false,
                failures: 3,
                error: "connection refused".into(),
                version: 0,
                ..probe(1)
            },
        ],
    );
    // A second namespace with a one-shard cluster.
    meta.create_namespace("other").unwrap();
    let small = Cluster::create("small", &["127.0.0.1:9".to_string()], 1, "").unwrap();
    meta.create_cluster("other", &small).unwrap();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = App::new(meta, status);
    rt.spawn(async move { axum::serve(listener, router(app)).await });

    let dom = rendered_dom(&format!("{base}/"));
    let jobs = tags(&dom, "tr", "migration");
    assert_eq!(jobs.len(), 2, "{dom}");
    // Newest first.
    assert_eq!(attr(jobs[0], "data-id"), Some("2"));
    assert_eq!(attr(jobs[0], "data-state"), Some("running"));
    assert_eq!(attr(jobs[1], "data-state"), Some("success"));
    assert!(
        dom.contains(
            "<progress max=\"5\" value=\"3\" aria-label=\"job 2 phase\"></progress> wal (3/5)"
        ),
        "{dom}"
    );
    assert!(dom.contains("<td class=\"num keys\">1234</td>"), "{dom}");
    assert!(dom.contains("3.0 MiB"), "{dom}");
    assert!(
        dom.contains("safe mode: automatic failover paused"),
        "{dom}"
    );
    assert!(dom.contains("unassigned: 384 slots"), "{dom}");
    // The running job's slots are marked on the slot map, the finished one's not.
    let moving = tags(&dom, "rect", "slot-moving");
    assert_eq!(moving.len(), 1, "{dom}");
    assert_eq!(attr(moving[0], "data-job"), Some("2"));
    assert_eq!(
        (attr(moving[0], "x"), attr(moving[0], "width")),
        (Some("0"), Some("100"))
    );
    assert!(
        dom.contains("running: slots 0-99 shard 0 → shard 2"),
        "{dom}"
    );
    assert!(dom.contains("3 shards, 1 of 3 nodes up"), "{dom}");
    assert_eq!(tags(&dom, "rect", "slot-segment").len(), 4);
    // Health as probed: up, down with the reason, unknown (not up) when
    // nobody looked yet; the topology version each node had.
    let rows = tags(&dom, "tr", "node");
    assert_eq!(rows.len(), 4, "{dom}");
    let healthy: Vec<Option<&str>> = rows.iter().map(|r| attr(r, "data-healthy")).collect();
    assert_eq!(
        healthy,
        [Some("true"), Some("false"), Some("false"), Some("false")]
    );
    assert!(dom.contains(
        "<td class=\"health up\">up</td><td class=\"num offset\">777</td>\
         <td class=\"num memory\" title=\"2097152 bytes\">2.0 MiB</td>"
    ));
    assert!(
        dom.contains(">down (connection refused, 3 failed probes)</td>"),
        "{dom}"
    );
    assert!(dom.contains(">v1</td>"), "{dom}");
    assert!(dom.contains(">v0 (behind v1)</td>"), "{dom}");
    assert_eq!(dom.matches("<td class=\"health unknown\">").count(), 2);
    assert!(dom.contains("No failovers."));

    // Both clusters, each with its own slot map.
    let sections = tags(&dom, "section", "cluster");
    let names: Vec<_> = sections
        .iter()
        .map(|s| {
            (
                attr(s, "data-namespace").unwrap(),
                attr(s, "data-cluster").unwrap(),
            )
        })
        .collect();
    assert_eq!(names, [("ns", "big"), ("other", "small")]);
    assert_eq!(tags(&dom, "svg", "slot-map").len(), 2);
    assert!(dom.contains("shard 0: 0-16383 (16384 slots)"));

    let (status, _, text) = get_text(&base, "/metrics");
    assert_eq!(status, 200);
    let m = parse_metrics(&text);
    let cl = "namespace=\"ns\",cluster=\"big\"";
    assert_eq!(
        sum(&m, &format!("basalt_controller_shard_slots{{{cl},")),
        16000.0
    );
    assert_eq!(sum(&m, "basalt_controller_shard_slots{"), 32384.0);
    assert_eq!(sum(&m, "basalt_controller_node_up{"), 1.0);
    assert_eq!(
        m[&format!(
            "basalt_controller_node_up{{{cl},shard=\"0\",addr=\"{}\",role=\"master\"}}",
            addrs[0]
        )],
        1.0
    );
    assert_eq!(
        m[&format!(
            "basalt_controller_node_probe_failures{{{cl},shard=\"1\",addr=\"{}\",role=\"master\"}}",
            addrs[1]
        )],
        3.0
    );
    assert_eq!(
        m[&format!(
            "basalt_controller_node_repl_offset{{{cl},shard=\"0\",addr=\"{}\",role=\"master\"}}",
            addrs[0]
        )],
        777.0
    );
    assert_eq!(m["basalt_controller_safe_mode"], 1.0);
    assert_eq!(
        m[&format!("basalt_controller_migrations{{{cl},state=\"running\"}}")],
        1.0
    );
    assert_eq!(
        m[&format!("basalt_controller_migrations{{{cl},state=\"success\"}}")],
        1.0
    );
    let running = format!("{cl},job=\"2\",slots=\"0-99\",source=\"0\",target=\"2\"");
    assert_eq!(
        m[&format!("basalt_controller_migration_keys{{{running}}}")],
        1234.0
    );
    assert_eq!(
        m[&format!("basalt_controller_migration_bytes{{{running}}}")],
        3145728.0
    );
    assert_eq!(sum(&m, "basalt_controller_migration_keys{"), 1234.0);
    drop(rt);
}
