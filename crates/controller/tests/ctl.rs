//! basalt-ctl as a user runs it: the real binary against a real controller
//! and real basalt-server nodes, checked through the nodes themselves.

mod common;

use basalt_tests::{skip_on_redis, Server};
use common::*;
use redis::Commands;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_ctl(controller: &str, args: &[&str]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_basalt-ctl"))
        .env_remove("BASALT_CLUSTER")
        .arg("--controller")
        .arg(controller)
        .args(args)
        .output()
        .expect("run basalt-ctl");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(ctl: &Controller, args: &[&str]) -> String {
    let r = run_ctl(&ctl.base, args);
    assert_eq!(
        r.code, 0,
        "basalt-ctl {args:?} failed:\n{}{}",
        r.stdout, r.stderr
    );
    r.stdout
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The port of the master a node replicates, if it is a replica.
fn following(s: &Server) -> Option<u16> {
    let role: Vec<redis::Value> = redis::cmd("ROLE").query(&mut s.client()).ok()?;
    match (&role[0], role.get(2)) {
        (redis::Value::BulkString(r), Some(redis::Value::Int(p))) if r == b"slave" => {
            Some(*p as u16)
        }
        _ => None,
    }
}

fn dbsize(s: &Server) -> i64 {
    redis::cmd("DBSIZE").query(&mut s.client()).unwrap()
}

#[test]
fn cli_creates_a_three_shard_cluster_with_replicas_that_clients_use() {
    skip_on_redis!();
    // Consecutive pairs form a shard: masters 0, 2, 4 and their replicas.
    let nodes: Vec<Server> = (0..6).map(|_| node()).collect();
    let addrs: Vec<String> = nodes.iter().map(addr).collect();
    let (_tmp, dir) = data_dir();
    let ctl = Controller::start(&dir);

    // The default namespace does not exist yet: `cluster create` makes it.
    let out = ok(
        &ctl,
        &[
            "cluster",
            "create",
            "c1",
            "--nodes",
            &addrs.join(","),
            "--replicas",
            "1",
        ],
    );
    assert!(
        out.starts_with("created cluster c1 (namespace default), version 1, 3 shards, 6 nodes\n"),
        "{out}"
    );
    assert_eq!(ok(&ctl, &["namespace", "list"]), "default\n");
    assert_eq!(ok(&ctl, &["cluster", "list"]), "c1\n");

    let masters = [&nodes[0], &nodes[2], &nodes[4]];
    for m in masters {
        assert_eq!(info_field(m, "cluster_state"), "ok");
        let text: String = redis::cmd("CLUSTER")
            .arg("NODES")
            .query(&mut m.client())
            .unwrap();
        assert_eq!(text.lines().count(), 6, "{text}");
        for a in &addrs {
            assert!(text.contains(a.as_str()), "{a} missing from\n{text}");
        }
    }
    for (replica, master) in [(1, 0), (3, 2), (5, 4)] {
        wait_until(&format!("node {replica} follows node {master}"), || {
            following(&nodes[replica]) == Some(nodes[master].port)
        });
    }

    // A cluster client writes and reads keys of every slot range.
    let mut cc = cluster_client(&masters);
    for i in 0..300 {
        let _: () = cc.set(format!("key:{i}"), i).unwrap();
    }
    for i in 0..300 {
        let v: i64 = cc.get(format!("key:{i}")).unwrap();
        assert_eq!(v, i);
    }
    let total: i64 = masters.iter().map(|m| dbsize(m)).sum();
    assert_eq!(total, 300);
    for (replica, master) in [(1, 0), (3, 2), (5, 4)] {
        assert!(dbsize(&nodes[master]) > 0, "every shard holds some keys");
        wait_until(&format!("node {replica} has its master's keys"), || {
            dbsize(&nodes[replica]) == dbsize(&nodes[master])
        });
    }

    // `cluster get`: every node, on its own row with its role.
    let table = ok(&ctl, &["cluster", "get", "c1"]);
    assert!(
        table.starts_with("cluster c1 (namespace default), version 1, 3 shards, 6 nodes\n"),
        "{table}"
    );
    for (i, a) in addrs.iter().enumerate() {
        let row = table
            .lines()
            .find(|l| l.contains(a.as_str()))
            .unwrap_or_else(|| panic!("{a} missing from\n{table}"));
        let role = if i % 2 == 0 { "master" } else { "slave" };
        assert!(row.contains(role), "{a} should be a {role}: {row}");
    }
    for range in ["0-5460", "5461-10921", "10922-16383"] {
        assert!(table.contains(range), "{range} missing from\n{table}");
    }

    // --json gives the API's document, the same the HTTP API answers.
    let doc: Value = serde_json::from_str(&ok(&ctl, &["--json", "cluster", "get", "c1"])).unwrap();
    let (_, api) = ctl.get("/api/v1/namespaces/default/clusters/c1");
    assert_eq!(doc, api["data"]);
}

#[test]
fn errors_exit_1_with_the_api_message() {
    skip_on_redis!();
    let (_tmp, dir) = data_dir();
    let ctl = Controller::start(&dir);

    let r = run_ctl(&ctl.base, &["cluster", "get", "nope"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stderr, "error: namespace \"default\" not found\n");
    assert_eq!(r.stdout, "");

    ok(&ctl, &["namespace", "create", "ns"]);
    let r = run_ctl(&ctl.base, &["-n", "ns", "cluster", "get", "nope"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr, "error: cluster \"nope\" not found\n");

    let r = run_ctl(&ctl.base, &["namespace", "create", "ns"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr, "error: namespace \"ns\" already exists\n");

    // Refused by the API before any node is contacted.
    let r = run_ctl(
        &ctl.base,
        &[
            "-n",
            "ns",
            "cluster",
            "create",
            "c",
            "--nodes",
            "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3",
            "--replicas",
            "1",
        ],
    );
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "error: the number of nodes should be a multiple of replicas\n"
    );

    ok(&ctl, &["namespace", "delete", "ns"]);
    assert_eq!(ok(&ctl, &["namespace", "list"]), "");

    // Nothing listens there.
    let nobody = format!("http://127.0.0.1:{}", free_port());
    let r = run_ctl(&nobody, &["cluster", "list"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .starts_with(&format!("error: cannot reach the controller at {nobody}: ")),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("BASALT_CONTROLLER"), "{}", r.stderr);

    // Wrong usage is clap's: exit 2 and a usage line.
    let r = run_ctl(&ctl.base, &["migrate", "--slot", "1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

/// Answers every request with a 307 to `target` + the same path, as a
/// follower controller on etcd does; reports each request line it saw.
fn redirector(target: String) -> (String, std::sync::mpsc::Receiver<String>) {
    http_stub(move |path| {
        format!(
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}{path}\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        )
    })
}

/// A one-thread HTTP server on a free port answering `answer(path)`.
fn http_stub(
    answer: impl Fn(&str) -> String + Send + 'static,
) -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if request_line.is_empty() {
                    request_line = line.trim().to_string();
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let path = request_line.split(' ').nth(1).unwrap_or("/").to_string();
            let _ = tx.send(request_line);
            let _ = reader.get_mut().write_all(answer(&path).as_bytes());
        }
    });
    (base, rx)
}

#[test]
fn follows_a_redirect_to_the_leader_keeping_method_and_body() {
    skip_on_redis!();
    let (_tmp, dir) = data_dir();
    let ctl = Controller::start(&dir);
    let (follower, seen) = redirector(ctl.base.clone());

    let r = run_ctl(&follower, &["namespace", "create", "via-follower"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout, "namespace via-follower created\n");
    assert_eq!(
        seen.recv_timeout(WAIT).unwrap(),
        "POST /api/v1/namespaces HTTP/1.1"
    );
    assert_eq!(
        ctl.get("/api/v1/namespaces"),
        (200, json!({"data": {"namespaces": ["via-follower"]}}))
    );
    let r = run_ctl(&follower, &["namespace", "list"]);
    assert_eq!(r.stdout, "via-follower\n");
}

#[test]
fn a_route_the_controller_lacks_is_named_in_the_error() {
    // An older controller: axum's bare 404 for a path it has no route for.
    let (old, _seen) = http_stub(|_| {
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
    });
    let r = run_ctl(&old, &["rebalance", "-c", "c1", "--no-wait"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        format!(
            "error: the controller at {old} does not know \
             POST /api/v1/namespaces/default/clusters/c1/rebalance (HTTP 404): \
             is it an older basalt-controller?\n"
        )
    );
}

/// The "A 3-node cluster" block of README.md, run as written except for
/// the ports and directories (free ones, so tests run side by side) and
/// the build lines (the binaries are built already).
#[test]
fn readme_three_node_cluster_runs_as_written() {
    skip_on_redis!();
    if Command::new("redis-cli").arg("-v").output().is_err() {
        eprintln!("skipped: no redis-cli");
        return;
    }
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let section = readme
        .split("\n### A 3-node cluster\n")
        .nth(1)
        .expect("README has a '### A 3-node cluster' section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("the section has a sh block");
    assert!(block.contains("basalt-ctl cluster create"), "{block}");

    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().display().to_string();
    let mut script = String::new();
    for line in block.lines() {
        if line.starts_with("cargo build") || line.starts_with("export PATH") {
            continue;
        }
        script.push_str(line);
        script.push('\n');
    }
    let controller_port = free_port().to_string();
    script = script.replace("9379", &controller_port);
    for port in ["7001", "7002", "7003"] {
        script = script.replace(port, &free_port().to_string());
    }
    script = script.replace("/tmp/", &format!("{root}/"));

    let bin_dir = Path::new(env!("CARGO_BIN_EXE_basalt-ctl"))
        .parent()
        .unwrap()
        .to_path_buf();
    assert!(
        bin_dir.join("basalt-server").exists(),
        "build it first: cargo build --release -p basalt-server"
    );
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // The block starts servers in the background: stop them however it
    // ends (a 60 s bound for the whole block, so nothing hangs).
    let wrapped = format!("trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT\nset -e\n{script}");
    // Its own process group, so a block stuck past the deadline is killed
    // with every server it started.
    let mut child = Command::new("bash")
        .process_group(0)
        .arg("-c")
        .arg(&wrapped)
        .env("PATH", path)
        .env(
            "BASALT_CONTROLLER",
            format!("http://127.0.0.1:{controller_port}"),
        )
        .env_remove("BASALT_CLUSTER")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            panic!("the README block did not finish within 60 s:\n{script}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        status.success(),
        "README block failed ({status}):\n{script}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("created cluster c1 (namespace default), version 1, 3 shards, 3 nodes"),
        "{stdout}"
    );
    let answers: Vec<&str> = stdout.lines().collect();
    assert!(answers.contains(&"OK"), "{stdout}");
    assert!(answers.contains(&"bar"), "{stdout}");
    assert!(answers.contains(&"cluster_state:ok"), "{stdout}");
}

fn bin_dir() -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_basalt-ctl"))
        .parent()
        .unwrap()
        .to_path_buf();
    assert!(
        dir.join("basalt-server").exists(),
        "build it first: cargo build --release -p basalt-server"
    );
    dir
}

fn cluster_info_field(port: u16, field: &str) -> String {
    let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap();
    let info: String = redis::cmd("CLUSTER").arg("INFO").query(&mut c).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Runs `scripts/local-cluster.sh stop` when dropped, so a failed check
/// leaves no process behind.
struct LocalCluster {
    env: Vec<(String, String)>,
}

impl LocalCluster {
    fn run(&self, action: &str) -> Run {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/local-cluster.sh");
        let out = Command::new("bash")
            .arg(script)
            .arg(action)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env_remove("BASALT_CONTROLLER")
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.run("stop");
    }
}

#[test]
fn local_cluster_script_starts_a_cluster_and_stops_it() {
    skip_on_redis!();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("local-cluster");
    let mut ports: Vec<u16> = Vec::new();
    while ports.len() < 4 {
        let p = free_port();
        if !ports.contains(&p) {
            ports.push(p);
        }
    }
    let controller_port = free_port();
    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
    let lc = LocalCluster {
        env: vec![
            ("PORTS".into(), list.join(" ")),
            ("REPLICAS".into(), "1".into()),
            ("CONTROLLER_PORT".into(), controller_port.to_string()),
            ("CLUSTER_DIR".into(), dir.display().to_string()),
            ("BASALT_BIN_DIR".into(), bin_dir().display().to_string()),
        ],
    };
    let r = lc.run("start");
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("created cluster c1 (namespace default), version 1, 2 shards, 4 nodes"),
        "{}",
        r.stdout
    );
    for p in &ports {
        wait_until(&format!("node {p} has cluster_state ok"), || {
            cluster_info_field(*p, "cluster_state") == "ok"
        });
    }
    // The controller it started answers basalt-ctl.
    let controller = format!("http://127.0.0.1:{controller_port}");
    let r = run_ctl(&controller, &["cluster", "list"]);
    assert_eq!(r.stdout, "c1\n", "{}", r.stderr);

    let r = lc.run("start");
    assert_eq!(r.code, 1, "a second start is refused");

    let r = lc.run("stop");
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(!dir.exists(), "stop removes the cluster's directory");
    for p in &ports {
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", *p)).is_err(),
            "node {p} still listens after stop"
        );
    }
}

// The two tests below drive the scaling, failover and status endpoints
// through the CLI.

fn cluster_client(nodes: &[&Server]) -> redis::cluster::ClusterConnection {
    let urls: Vec<String> = nodes.iter().map(|s| s.url()).collect();
    let client = redis::cluster::ClusterClient::new(urls).unwrap();
    client.get_connection().unwrap()
}

#[test]
fn cli_adds_a_shard_moves_slots_to_it_and_manages_replicas() {
    skip_on_redis!();
    let nodes: Vec<Server> = (0..4).map(|_| node()).collect();
    let addrs: Vec<String> = nodes.iter().map(addr).collect();
    let (_tmp, dir) = data_dir();
    let ctl = Controller::start(&dir);
    ok(
        &ctl,
        &["cluster", "create", "c1", "--nodes", &addrs[..2].join(",")],
    );
    let mut cc = cluster_client(&[&nodes[0], &nodes[1]]);
    for i in 0..300 {
        let _: () = cc.set(format!("key:{i}"), i).unwrap();
    }

    let out = ok(&ctl, &["shard", "add", "-c", "c1", "--nodes", &addrs[2]]);
    assert!(out.starts_with("shard 2 added to cluster c1"), "{out}");
    let out = ok(
        &ctl,
        &["migrate", "-c", "c1", "--slot", "0-99", "--target", "2"],
    );
    assert!(
        out.contains("slots 0-99 from shard 0 to shard 2: success"),
        "{out}"
    );
    let table = ok(&ctl, &["cluster", "get", "c1"]);
    let row = table.lines().find(|l| l.contains(&addrs[2])).unwrap();
    assert!(row.contains("0-99"), "{table}");

    let out = ok(&ctl, &["rebalance", "-c", "c1"]);
    assert!(!out.contains("failed"), "{out}");
    let jobs = ok(&ctl, &["migrations", "-c", "c1"]);
    assert!(jobs.contains("0-99") && jobs.contains("success"), "{jobs}");
    // Every key is still there, wherever it lives now.
    let mut cc = cluster_client(&[&nodes[0], &nodes[1], &nodes[2]]);
    for i in 0..300 {
        let v: i64 = cc.get(format!("key:{i}")).unwrap();
        assert_eq!(v, i);
    }
    assert!(dbsize(&nodes[2]) > 0);

    let out = ok(
        &ctl,
        &["node", "add", "-c", "c1", "--shard", "2", &addrs[3]],
    );
    assert!(out.contains("added to shard 2"), "{out}");
    wait_until("the new replica follows shard 2's master", || {
        following(&nodes[3]) == Some(nodes[2].port)
    });
    ok(&ctl, &["node", "remove", "-c", "c1", &addrs[3]]);
    let table = ok(&ctl, &["cluster", "get", "c1"]);
    assert!(!table.contains(&addrs[3]), "{table}");

    let r = run_ctl(&ctl.base, &["shard", "remove", "-c", "c1", "2"]);
    assert_eq!(
        r.code, 1,
        "a shard owning slots is not removed: {}",
        r.stdout
    );
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
}

#[test]
fn cli_fails_a_shard_over_and_shows_history_and_health() {
    skip_on_redis!();
    let nodes: Vec<Server> = (0..4).map(|_| node()).collect();
    let addrs: Vec<String> = nodes.iter().map(addr).collect();
    let (_tmp, dir) = data_dir();
    let ctl = Controller::start(&dir);
    ok(
        &ctl,
        &[
            "cluster",
            "create",
            "c1",
            "--nodes",
            &addrs.join(","),
            "--replicas",
            "1",
        ],
    );
    wait_until("node 1 follows node 0", || {
        following(&nodes[1]) == Some(nodes[0].port)
    });
    // A failover picks among replicas the probe loop has seen up.
    wait_until("the probe loop has seen every node up", || {
        let health = ok(&ctl, &["health", "-c", "c1"]);
        addrs.iter().all(|a| {
            health
                .lines()
                .any(|l| l.contains(a.as_str()) && l.contains(" up "))
        })
    });

    let out = ok(&ctl, &["failover", "-c", "c1", "--shard", "0"]);
    assert!(
        out.starts_with(&format!("shard 0: new master {} (", addrs[1])),
        "{out}"
    );
    wait_until("the old master follows the new one", || {
        following(&nodes[0]) == Some(nodes[1].port)
    });
    let table = ok(&ctl, &["cluster", "get", "c1"]);
    let row = table.lines().find(|l| l.contains(&addrs[1])).unwrap();
    assert!(row.contains("master"), "{table}");

    let history = ok(&ctl, &["history", "-c", "c1"]);
    let row = history.lines().find(|l| l.contains("manual")).unwrap();
    assert!(
        row.contains(&addrs[0]) && row.contains(&addrs[1]) && row.contains("ok"),
        "{history}"
    );

    let health = ok(&ctl, &["health", "-c", "c1"]);
    assert!(health.contains("safe mode: off"), "{health}");
    let table = ok(&ctl, &["cluster", "get", "c1"]);
    assert!(
        table.contains("health") && table.contains(" up "),
        "{table}"
    );
}
