//! The harness of the controller's tests: a real `basalt-controller`
//! process on a free port, real `basalt-server` nodes in cluster mode.
#![allow(dead_code)] // each test file uses part of it

use basalt_tests::Server;
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const WAIT: Duration = Duration::from_secs(20);

pub struct Controller {
    pub child: Child,
    pub base: String,
    agent: ureq::Agent,
    log: PathBuf,
}

pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

impl Controller {
    pub fn start(dir: &Path) -> Controller {
        Controller::start_with(dir, &[])
    }

    /// Starts `basalt-controller --dir <dir> <args>` on a free port and
    /// waits until its API answers.
    pub fn start_with(dir: &Path, args: &[&str]) -> Controller {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(15)))
            .build()
            .into();
        loop {
            let port = free_port();
            let log_path = dir.with_extension("log");
            let log = std::fs::File::create(&log_path).unwrap();
            let mut child = Command::new(env!("CARGO_BIN_EXE_basalt-controller"))
                .args(["--addr", &format!("127.0.0.1:{port}")])
                .arg("--dir")
                .arg(dir)
                .args(args)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("spawn basalt-controller");
            let base = format!("http://127.0.0.1:{port}");
            let deadline = Instant::now() + WAIT;
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // port taken meanwhile: try another
                }
                if agent
                    .get(format!("{base}/api/v1/namespaces"))
                    .call()
                    .is_ok()
                {
                    return Controller {
                        child,
                        base,
                        agent,
                        log: log_path,
                    };
                }
                assert!(Instant::now() < deadline, "controller did not start");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        let r = self.agent.get(format!("{}{path}", self.base)).call();
        self.reply("GET", path, r)
    }

    pub fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .agent
            .post(format!("{}{path}", self.base))
            .send_json(body);
        self.reply("POST", path, r)
    }

    /// A failed request panics with what the controller process did: a
    /// failure under load is otherwise impossible to tell apart from a
    /// crash once the test's temp dir is gone.
    fn reply(
        &self,
        method: &str,
        path: &str,
        r: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> (u16, Value) {
        match r {
            Ok(mut r) => (r.status().as_u16(), r.body_mut().read_json().unwrap()),
            Err(e) => {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(30).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                let alive = Command::new("kill")
                    .args(["-0", &self.child.id().to_string()])
                    .status()
                    .is_ok_and(|s| s.success());
                panic!(
                    "{method} {path}: {e} (controller pid {} {}); its log ends:\n{}",
                    self.child.id(),
                    if alive { "running" } else { "gone" },
                    tail.join("\n")
                );
            }
        }
    }
}

impl Controller {
    /// Creates namespace `ns` and, in it, cluster `name` on `addrs` with
    /// `per_shard` nodes a shard; the created cluster document.
    pub fn create_cluster(
        &self,
        ns: &str,
        name: &str,
        addrs: &[String],
        per_shard: usize,
    ) -> Value {
        let (status, body) = self.post("/api/v1/namespaces", json!({ "namespace": ns }));
        assert_eq!(status, 201, "{body}");
        let (status, body) = self.post(
            &format!("/api/v1/namespaces/{ns}/clusters"),
            json!({"name": name, "nodes": addrs, "replicas": per_shard}),
        );
        assert_eq!(status, 201, "{body}");
        body["data"]["cluster"].clone()
    }

    /// The stored document of cluster `name` in namespace `ns`.
    pub fn cluster(&self, ns: &str, name: &str) -> Value {
        let (status, body) = self.get(&format!("/api/v1/namespaces/{ns}/clusters/{name}"));
        assert_eq!(status, 200, "{body}");
        body["data"]["cluster"].clone()
    }

    pub fn delete(&self, path: &str) -> (u16, Value) {
        let r = self.agent.delete(format!("{}{path}", self.base)).call();
        self.reply("DELETE", path, r)
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn node() -> Server {
    Server::start_with(&["--cluster-enabled", "yes"])
}

pub fn addr(s: &Server) -> String {
    format!("127.0.0.1:{}", s.port)
}

pub fn info_field(s: &Server, field: &str) -> String {
    let info: String = redis::cmd("CLUSTER")
        .arg("INFO")
        .query(&mut s.client())
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or("")
        .trim()
        .to_string()
}

pub fn data_dir() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("controller-data");
    (t, d)
}
