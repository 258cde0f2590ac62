//! basalt-controller on etcd: a real etcd (Debian's etcd-server, started by
//! each test on free ports), real controllers and real basalt-server nodes.
//! The model lives in etcd, one controller leads, the others redirect to
//! it and take over when it dies.

mod common;

use basalt_controller::etcd::{EtcdClient, EtcdStore, Fence};
use basalt_controller::store::{MetaStore, StoreError};
use basalt_tests::{skip_on_redis, Server};
use common::*;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A single-member etcd on free ports in a temporary directory.
struct Etcd {
    child: Child,
    endpoint: String,
    _dir: tempfile::TempDir,
}

impl Etcd {
    fn start() -> Etcd {
        if Command::new("etcd")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_err()
        {
            panic!("etcd is not installed: run scripts/deps.sh (Debian package etcd-server)");
        }
        let agent = no_redirects();
        loop {
            let dir = tempfile::tempdir().unwrap();
            let (client, peer) = (free_port(), free_port());
            let client_url = format!("http://127.0.0.1:{client}");
            let peer_url = format!("http://127.0.0.1:{peer}");
            let log = std::fs::File::create(dir.path().join("etcd.log")).unwrap();
            let mut child = Command::new("etcd")
                .args(["--name", "t"])
                .arg("--data-dir")
                .arg(dir.path().join("data"))
                .args(["--listen-client-urls", &client_url])
                .args(["--advertise-client-urls", &client_url])
                .args(["--listen-peer-urls", &peer_url])
                .args(["--initial-advertise-peer-urls", &peer_url])
                .args(["--initial-cluster", &format!("t={peer_url}")])
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("spawn etcd");
            let deadline = Instant::now() + WAIT;
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // a port was taken meanwhile: try others
                }
                let health = agent
                    .get(format!("{client_url}/health"))
                    .call()
                    .ok()
                    .and_then(|mut r| r.body_mut().read_json::<Value>().ok());
                if health.is_some_and(|h| h["health"] == "true") {
                    return Etcd {
                        child,
                        endpoint: format!("127.0.0.1:{client}"),
                        _dir: dir,
                    };
                }
                assert!(Instant::now() < deadline, "etcd did not start");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A client that shows redirects instead of following them.
fn no_redirects() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(15)))
        .build()
        .into()
}

/// One request, not following redirects: status, Location, JSON body.
fn raw(agent: &ureq::Agent, method: &str, url: &str, body: Option<&Value>) -> (u16, String, Value) {
    let mut r = match (method, body) {
        ("GET", _) => agent.get(url).call(),
        ("POST", Some(b)) => agent.post(url).send_json(b),
        _ => panic!("unsupported {method}"),
    }
    .unwrap();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    let value = r.body_mut().read_json().unwrap_or(Value::Null);
    (r.status().as_u16(), location, value)
}

/// A request that follows one 307 by hand, replaying method and body.
fn follow(agent: &ureq::Agent, method: &str, url: &str, body: Option<&Value>) -> (u16, Value) {
    let (status, location, value) = raw(agent, method, url, body);
    if status != 307 {
        return (status, value);
    }
    let (status, _, value) = raw(agent, method, &location, body);
    (status, value)
}

fn etcd_args(etcd: &Etcd) -> Vec<String> {
    vec![
        "--store".into(),
        "etcd".into(),
        "--etcd-endpoints".into(),
        etcd.endpoint.clone(),
    ]
}

fn start_on(etcd: &Etcd, dir: &std::path::Path) -> Controller {
    let args = etcd_args(etcd);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Controller::start_with(dir, &args)
}

/// The log of the controller started on `dir` (the harness writes it next
/// to the directory), for failure messages.
fn log_of(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.with_extension("log")).unwrap_or_default()
}

/// Waits until `ctl` (started on `dir`) itself serves the API: it leads.
fn wait_leader(agent: &ureq::Agent, ctl: &Controller, dir: &std::path::Path) {
    let deadline = Instant::now() + WAIT;
    loop {
        let (status, _, body) = raw(
            agent,
            "GET",
            &format!("{}/api/v1/namespaces", ctl.base),
            None,
        );
        if status == 200 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} never became leader: {status} {body}\n{}",
            ctl.base,
            log_of(dir)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn host(ctl: &Controller) -> &str {
    ctl.base.strip_prefix("http://").unwrap()
}

#[test]
fn etcd_store_gets_sets_deletes_and_lists_by_prefix() {
    let etcd = Etcd::start();
    // A dead endpoint first: the store moves on to the live one.
    let dead = format!("127.0.0.1:{}", free_port());
    let store = EtcdStore::connect(&[dead.clone(), etcd.endpoint.clone()], WAIT).unwrap();

    assert_eq!(store.get("/t/a/1").unwrap(), None);
    store.set("/t/a/1", "x").unwrap();
    store.set("/t/a/2", "{\"ü\": \"ε\"}").unwrap();
    store.set("/t/a/3", "").unwrap();
    store.set("/t/a0", "not in /t/a/").unwrap();
    store.set("/t/b/1", "z").unwrap();
    store.set("/t/a/1", "x2").unwrap();
    assert_eq!(store.get("/t/a/1").unwrap().as_deref(), Some("x2"));
    assert_eq!(store.get("/t/a/3").unwrap().as_deref(), Some(""));
    assert_eq!(
        store.list("/t/a/").unwrap(),
        vec![
            ("/t/a/1".to_string(), "x2".to_string()),
            ("/t/a/2".to_string(), "{\"ü\": \"ε\"}".to_string()),
            ("/t/a/3".to_string(), String::new()),
        ]
    );
    store.delete("/t/a/2").unwrap();
    store.delete("/t/never").unwrap();
    assert_eq!(store.get("/t/a/2").unwrap(), None);
    assert_eq!(store.list("/t/a/").unwrap().len(), 2);
    assert!(store.list("/nothing/").unwrap().is_empty());

    // A second client (another controller) sees the same keys.
    let other = EtcdStore::new(std::slice::from_ref(&etcd.endpoint));
    assert_eq!(other.get("/t/b/1").unwrap().as_deref(), Some("z"));

    // Nothing listening: a typed error naming the endpoints tried.
    let err = match EtcdStore::connect(std::slice::from_ref(&dead), Duration::from_millis(200)) {
        Err(e) => e,
        Ok(_) => panic!("connected to a dead endpoint"),
    };
    assert!(err.to_string().contains(&dead), "{err}");
    let err = EtcdStore::new(std::slice::from_ref(&dead))
        .get("/t/a/1")
        .unwrap_err();
    assert!(matches!(err, StoreError::Etcd(_)), "{err:?}");
}

#[test]
fn a_fenced_store_writes_only_while_the_leader_key_is_on_its_lease() {
    let etcd = Etcd::start();
    let endpoints = std::slice::from_ref(&etcd.endpoint);
    let client = EtcdClient::new(endpoints, Duration::from_secs(5), Duration::from_secs(5));
    let fence = Fence::default();
    let store = EtcdStore::new(endpoints).fenced("/t/leader", fence.clone());

    // Not elected: no write, reads still work.
    assert!(matches!(store.set("/t/k", "1"), Err(StoreError::NotLeader)));
    assert_eq!(store.get("/t/k").unwrap(), None);

    let lease = client.lease_grant(30).unwrap();
    client.put("/t/leader", "me", lease).unwrap();
    fence.set(Some(lease));
    store.set("/t/k", "1").unwrap();
    store.set("/t/gone", "x").unwrap();
    store.delete("/t/gone").unwrap();
    assert_eq!(store.get("/t/k").unwrap().as_deref(), Some("1"));
    assert_eq!(store.get("/t/gone").unwrap(), None);

    // Someone else took the key (our lease was lost): writes are refused
    // by etcd itself, even though this controller still thinks it leads.
    let theirs = client.lease_grant(30).unwrap();
    client.put("/t/leader", "other", theirs).unwrap();
    assert!(matches!(store.set("/t/k", "2"), Err(StoreError::NotLeader)));
    assert!(matches!(store.delete("/t/k"), Err(StoreError::NotLeader)));
    assert_eq!(store.get("/t/k").unwrap().as_deref(), Some("1"));
}

#[test]
fn controller_without_etcd_exits_naming_the_endpoints() {
    let (_tmp, dir) = data_dir();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_basalt-controller"))
            .args(["--addr", "127.0.0.1:0", "--dir"])
            .arg(&dir)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = run(&["--store", "etcd"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--etcd-endpoints"), "{err}");

    let (dead1, dead2) = (free_port(), free_port());
    let endpoints = format!("127.0.0.1:{dead1},http://127.0.0.1:{dead2}");
    let out = run(&["--store", "etcd", "--etcd-endpoints", &endpoints]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot use etcd"), "{err}");
    assert!(err.contains(&format!("http://127.0.0.1:{dead1}")), "{err}");
    assert!(err.contains(&format!("http://127.0.0.1:{dead2}")), "{err}");
}

#[test]
fn controller_on_etcd_keeps_the_model_across_restart() {
    skip_on_redis!();
    let etcd = Etcd::start();
    let nodes: Vec<Server> = (0..2).map(|_| node()).collect();
    let (_tmp, dir) = data_dir();
    let agent = no_redirects();
    let ctl = start_on(&etcd, &dir);
    wait_leader(&agent, &ctl, &dir);

    assert_eq!(
        ctl.post("/api/v1/namespaces", json!({"namespace": "ns"})),
        (201, json!({"data": "created"}))
    );
    let addrs: Vec<String> = nodes.iter().map(addr).collect();
    let (status, body) = ctl.post(
        "/api/v1/namespaces/ns/clusters",
        json!({"name": "c1", "nodes": addrs, "replicas": 1}),
    );
    assert_eq!(status, 201, "{body}");
    let created = body["data"]["cluster"].clone();
    assert_eq!(info_field(&nodes[0], "cluster_state"), "ok");

    drop(ctl); // kill -9
               // The model is in etcd, not in the embedded store's directory.
    assert!(!dir.join("meta.json").exists());

    let ctl = start_on(&etcd, &dir);
    wait_leader(&agent, &ctl, &dir);
    assert_eq!(
        ctl.get("/api/v1/namespaces"),
        (200, json!({"data": {"namespaces": ["ns"]}}))
    );
    assert_eq!(
        ctl.get("/api/v1/namespaces/ns/clusters/c1"),
        (200, json!({"data": {"cluster": created}}))
    );
}

#[test]
fn controller_restarted_on_its_address_takes_its_leadership_back() {
    skip_on_redis!();
    let etcd = Etcd::start();
    let (_tmp, dir) = data_dir();
    let agent = no_redirects();
    let ctl = start_on(&etcd, &dir);
    wait_leader(&agent, &ctl, &dir);
    let port = host(&ctl).rsplit(':').next().unwrap().to_string();
    drop(ctl); // kill -9: its lease outlives it for a few seconds

    // Same address again, by hand (the harness picks a new port).
    let mut child = Command::new(env!("CARGO_BIN_EXE_basalt-controller"))
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .arg("--dir")
        .arg(&dir)
        .args(etcd_args(&etcd))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/api/v1/namespaces");
    let deadline = Instant::now() + WAIT;
    let outcome = loop {
        // Until it leads: "starting" (connection refused) or 503, never a
        // redirect to itself, which would send clients round in a loop.
        match agent.get(&url).call() {
            Ok(mut r) => {
                let status = r.status().as_u16();
                let location = r
                    .headers()
                    .get("location")
                    .map(|l| l.to_str().unwrap().to_string());
                let body: Value = r.body_mut().read_json().unwrap_or(Value::Null);
                if status != 503 {
                    break (status, location, body);
                }
                assert_eq!(body["error"]["message"], "no leader elected yet");
            }
            Err(_) => assert!(child.try_wait().unwrap().is_none(), "controller exited"),
        }
        assert!(Instant::now() < deadline, "never answered");
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(outcome.0, 200, "{outcome:?}");
}

#[test]
fn two_controllers_on_etcd_one_leads_the_other_redirects_and_takes_over() {
    skip_on_redis!();
    let mut etcd = Etcd::start();
    let nodes: Vec<Server> = (0..4).map(|_| node()).collect();
    let addrs: Vec<String> = nodes.iter().map(addr).collect();
    let (_tmp1, dir1) = data_dir();
    let (_tmp2, dir2) = data_dir();
    let agent = no_redirects();
    let a = start_on(&etcd, &dir1);
    let b = start_on(&etcd, &dir2);

    // Exactly one leads; the other answers 307 to it, path and query kept.
    let deadline = Instant::now() + WAIT;
    let (leader, mut follower, follower_dir) = loop {
        let path = "/api/v1/namespaces?probe=1";
        let ra = raw(&agent, "GET", &format!("{}{path}", a.base), None);
        let rb = raw(&agent, "GET", &format!("{}{path}", b.base), None);
        match (ra.0, rb.0) {
            (200, 307) => {
                assert_eq!(rb.1, format!("{}{path}", a.base));
                break (a, b, &dir2);
            }
            (307, 200) => {
                assert_eq!(ra.1, format!("{}{path}", b.base));
                break (b, a, &dir1);
            }
            (200, 200) => panic!("two leaders"),
            _ => {}
        }
        assert!(Instant::now() < deadline, "no leader: {ra:?} {rb:?}");
        std::thread::sleep(Duration::from_millis(100));
    };

    // Writes through either reach the one model.
    let ns = json!({"namespace": "ns"});
    let url = format!("{}/api/v1/namespaces", follower.base);
    let (status, location, _) = raw(&agent, "POST", &url, Some(&ns));
    assert_eq!(
        (status, location.as_str()),
        (307, &*format!("{}/api/v1/namespaces", leader.base))
    );
    assert_eq!(
        follow(&agent, "POST", &url, Some(&ns)),
        (201, json!({"data": "created"}))
    );
    let (status, body) = leader.post(
        "/api/v1/namespaces/ns/clusters",
        json!({"name": "c1", "nodes": addrs[..2], "replicas": 1}),
    );
    assert_eq!(status, 201, "{body}\n{}\n{}", log_of(&dir1), log_of(&dir2));
    let c2 = json!({"name": "c2", "nodes": addrs[2..], "replicas": 1});
    let (status, body) = follow(
        &agent,
        "POST",
        &format!("{}/api/v1/namespaces/ns/clusters", follower.base),
        Some(&c2),
    );
    assert_eq!(status, 201, "{body}");
    for ctl in [&leader, &follower] {
        let (status, body) = follow(
            &agent,
            "GET",
            &format!("{}/api/v1/namespaces/ns/clusters", ctl.base),
            None,
        );
        assert_eq!(
            (status, body),
            (200, json!({"data": {"clusters": ["c1", "c2"]}}))
        );
    }
    for n in &nodes {
        assert_eq!(info_field(n, "cluster_state"), "ok");
    }

    // kill -9 the leader: the follower takes over once its lease expires.
    drop(leader);
    wait_leader(&agent, &follower, follower_dir);
    assert_eq!(
        follower.post("/api/v1/namespaces", json!({"namespace": "after"})),
        (201, json!({"data": "created"}))
    );
    assert_eq!(
        follower.get("/api/v1/namespaces/ns/clusters/c2").0,
        200,
        "the model survived the leader"
    );

    // Without etcd the leader cannot keep its lease: it steps down and
    // answers 503 instead of acting on a model it can no longer guard.
    etcd.stop();
    let deadline = Instant::now() + WAIT;
    loop {
        let (status, _, body) = raw(
            &agent,
            "GET",
            &format!("{}/api/v1/namespaces", follower.base),
            None,
        );
        if status == 503 {
            assert_eq!(body["error"]["message"], "no leader elected yet");
            break;
        }
        assert!(Instant::now() < deadline, "still leading without etcd");
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = follower.child.kill();
}
