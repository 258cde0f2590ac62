//! Test support: starts the real `basalt-server` binary on an ephemeral
//! loopback port with a temporary data directory, and stops it on drop.
//!
//! With `BASALT_TEST_AGAINST=redis` the same tests run against Debian's
//! `redis-server` instead; that is how expected replies are checked against
//! the reference. Tests of Basalt-only behaviour call [`skip_on_redis`].

pub mod cluster;
pub mod nodes;
pub mod proxy;

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn against_redis() -> bool {
    std::env::var("BASALT_TEST_AGAINST").is_ok_and(|v| v == "redis")
}

/// Returns true (and the test should return) when running against Redis.
#[macro_export]
macro_rules! skip_on_redis {
    () => {
        if $crate::against_redis() {
            eprintln!("skipped: Basalt-only behaviour");
            return;
        }
    };
}

/// Where the server binary is: `BASALT_SERVER_BIN`, else next to the test
/// executable's profile directory (`target/release/basalt-server`).
pub fn server_binary() -> PathBuf {
    if let Ok(p) = std::env::var("BASALT_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current_exe");
    // target/release/deps/it-xxxx -> target/release/basalt-server
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("basalt-server"))
        .expect("test binary has no parent dir");
    assert!(
        bin.exists(),
        "{} not found: build it first with `cargo build --release -p basalt-server` \
         (scripts/test.sh does this)",
        bin.display()
    );
    bin
}

/// A loopback port free right now (another process may take it before
/// it is bound).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind ephemeral port");
    l.local_addr().unwrap().port()
}

pub struct Server {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    extra_args: Vec<String>,
    /// Options both servers understand (`--aclfile path`), given to Redis
    /// too when the tests run against it.
    common_args: Vec<String>,
    /// Always Debian's redis-server, whatever `BASALT_TEST_AGAINST` says
    /// (tests of interoperation with Redis).
    redis: bool,
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// Starts with extra `--option value` arguments.
    pub fn start_with(args: &[&str]) -> Server {
        Server::launch(args, false)
    }

    /// A real redis-server, also when the tests run against Basalt.
    pub fn start_redis() -> Server {
        Server::launch(&[], true)
    }

    /// Starts with `--option value` arguments that Redis takes as well,
    /// prepared by `setup` with the server's (empty) temporary directory
    /// first, e.g. to write the file an option names.
    pub fn start_common(setup: impl FnOnce(&Path) -> Vec<String>) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let common_args = setup(dir.path());
        let mut server = Server {
            child: None,
            port: free_port(),
            dir,
            extra_args: Vec::new(),
            common_args,
            redis: false,
        };
        server.spawn();
        server
    }

    fn launch(args: &[&str], redis: bool) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut server = Server {
            child: None,
            port: 0,
            dir,
            extra_args: args.iter().map(|s| s.to_string()).collect(),
            common_args: Vec::new(),
            redis,
        };
        server.port = free_port();
        server.spawn();
        server
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(self.dir.path().join("server.log")) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    /// The command that starts this server (Basalt or Redis).
    pub fn command(&self) -> Command {
        let mut cmd;
        if self.redis || against_redis() {
            cmd = Command::new("redis-server");
            cmd.args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"]);
            cmd.args(["--save", "", "--appendonly", "no"]);
            cmd.arg("--dir").arg(self.dir.path());
        } else {
            cmd = Command::new(server_binary());
            cmd.args(["--bind", "127.0.0.1", "--port", &self.port.to_string()]);
            cmd.arg("--dir").arg(self.data_dir());
            cmd.args(&self.extra_args);
        }
        cmd.args(&self.common_args);
        cmd
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("server.log"))
            .expect("log file");
        let mut cmd = self.command();
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let child = cmd.spawn().expect("spawn server");
        self.child = Some(child);
        if !self.wait_ready() {
            // Another test's server got the port between `free_port` and
            // our bind (ours then exits): start again on another port.
            self.kill9();
            self.port = free_port();
            self.spawn();
        }
    }

    /// Waits until the server listens; false when what listens on the
    /// port is another process (tests pick ports concurrently).
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(mut probe) = TcpStream::connect(("127.0.0.1", self.port)) {
                // INFO tells whose server this is (a server that wants
                // AUTH cannot say: it is taken as ours); then QUIT and
                // read to EOF, so the probe does not count against
                // `maxclients`.
                use std::io::Write;
                let _ = probe.set_read_timeout(Some(Duration::from_secs(10)));
                let _ = probe.write_all(b"INFO server\r\nQUIT\r\n");
                let mut answer = Vec::new();
                let _ = probe.read_to_end(&mut answer);
                let answer = String::from_utf8_lossy(&answer);
                let pid = answer
                    .lines()
                    .find_map(|l| l.strip_prefix("process_id:"))
                    .and_then(|p| p.trim().parse::<u32>().ok());
                let ours = self.child.as_ref().map(|c| c.id());
                return pid.is_none() || pid == ours;
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "server exited with {status} before listening:\n{}",
                        self.log()
                    );
                }
            }
            assert!(
                Instant::now() < deadline,
                "server did not listen within 60s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn client(&self) -> redis::Connection {
        let client = redis::Client::open(self.url()).expect("client");
        client.get_connection().expect("connect")
    }

    /// A raw TCP connection for protocol-level tests.
    pub fn raw(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait for a clean exit; returns the exit status.
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        unsafe {
            libc::kill(child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return child.wait().ok();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the process to exit on its own (after SHUTDOWN).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let child = self.child.as_mut()?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the server again on the same port and data directory.
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Helpers the command tests share: build a command from words, run it,
/// and read a server error as Redis prints it ("ERR ...").
pub mod client {
    use redis::{Connection, FromRedisValue, Value};

    pub fn cmd<A: AsRef<[u8]>>(args: &[A]) -> redis::Cmd {
        let mut c = redis::cmd(&String::from_utf8_lossy(args[0].as_ref()));
        for a in &args[1..] {
            c.arg(a.as_ref());
        }
        c
    }

    /// Runs a command that must succeed.
    pub fn q<T: FromRedisValue>(c: &mut Connection, args: &[&str]) -> T {
        cmd(args)
            .query(c)
            .unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
    }

    /// Runs a command and renders its reply (see [`show`]), or its error
    /// as "ERR ...".
    pub fn reply(c: &mut Connection, args: &[&str]) -> String {
        match cmd(args).query::<Value>(c) {
            Ok(v) => show(&v),
            Err(e) => match e.code() {
                Some(code) => format!("{code} {}", e.detail().unwrap_or("")),
                None => panic!("{args:?}: not a server error: {e}"),
            },
        }
    }

    /// A compact rendering of a reply for assertions: nil, 12, bulk text
    /// unquoted, OK, [a,b] (arrays and sets), {k:v}, d:1.5 (RESP3 doubles).
    pub fn show(v: &Value) -> String {
        match v {
            Value::Nil => "nil".into(),
            Value::Int(i) => i.to_string(),
            Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
            Value::SimpleString(s) => s.clone(),
            Value::Okay => "OK".into(),
            Value::Array(items) | Value::Set(items) => {
                let parts: Vec<String> = items.iter().map(show).collect();
                format!("[{}]", parts.join(","))
            }
            Value::Map(kv) => {
                let parts: Vec<String> = kv
                    .iter()
                    .map(|(k, v)| format!("{}:{}", show(k), show(v)))
                    .collect();
                format!("{{{}}}", parts.join(","))
            }
            Value::Double(d) => format!("d:{d}"),
            other => format!("{other:?}"),
        }
    }

    pub fn int(c: &mut Connection, args: &[&str]) -> i64 {
        q(c, args)
    }

    /// Runs a command that must fail; returns the full error line, e.g.
    /// "ERR syntax error".
    pub fn err(c: &mut Connection, args: &[&str]) -> String {
        match cmd(args).query::<Value>(c) {
            Ok(v) => panic!("{args:?}: expected an error, got {v:?}"),
            Err(e) => match e.code() {
                Some(code) => format!("{code} {}", e.detail().unwrap_or("")),
                None => panic!("{args:?}: not a server error: {e}"),
            },
        }
    }
}
