//! Startup configuration: config file and command-line options, their
//! errors, the data-directory lock and the pidfile. These start the binary
//! by hand (the harness passes no config file).

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use basalt_tests::{against_redis, server_binary, skip_on_redis};

use crate::protocol::{assert_server_ok, Raw};

pub(crate) fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind ephemeral port");
    l.local_addr().unwrap().port()
}

/// A server process started by hand, killed on drop.
pub(crate) struct Proc {
    child: Option<Child>,
    pub(crate) port: u16,
    pub(crate) dir: tempfile::TempDir,
}

impl Proc {
    /// Starts the server under test as `server [conf] --bind 127.0.0.1
    /// --port P --dir D [extra...]` and waits until it listens. Against
    /// Redis, `redis_extra` is used instead of `extra`.
    pub(crate) fn start(conf: Option<&Path>, extra: &[&str], redis_extra: &[&str]) -> Proc {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let mut cmd;
        if against_redis() {
            cmd = Command::new("redis-server");
            if let Some(conf) = conf {
                cmd.arg(conf);
            }
            cmd.args(["--bind", "127.0.0.1", "--port", &port.to_string()]);
            cmd.args(["--save", "", "--appendonly", "no"]);
            cmd.arg("--dir").arg(dir.path());
            cmd.args(redis_extra);
        } else {
            cmd = Command::new(server_binary());
            if let Some(conf) = conf {
                cmd.arg(conf);
            }
            cmd.args(["--bind", "127.0.0.1", "--port", &port.to_string()]);
            cmd.arg("--dir").arg(dir.path().join("data"));
            cmd.args(extra);
        }
        let log = fs::File::create(dir.path().join("server.log")).unwrap();
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let mut proc = Proc {
            child: Some(cmd.spawn().expect("spawn server")),
            port,
            dir,
        };
        proc.wait_ready();
        proc
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("server exited with {status}:\n{}", self.log());
            }
            assert!(Instant::now() < deadline, "not listening:\n{}", self.log());
            sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    pub(crate) fn raw(&self) -> Raw {
        Raw::connect(self.port)
    }

    pub(crate) fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs the Basalt binary with `args`, expecting it to exit by itself
/// within 20 s (it is killed otherwise). Returns the status (None when it
/// had to be killed) and everything it printed.
fn run_to_exit(args: &[&str], out_dir: &Path) -> (Option<ExitStatus>, String) {
    let out_path = out_dir.join("output.txt");
    let out = fs::File::create(&out_path).unwrap();
    let mut child = Command::new(server_binary())
        .args(args)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("spawn basalt-server");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Ok(Some(s)) = child.try_wait() {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        sleep(Duration::from_millis(20));
    };
    (status, fs::read_to_string(&out_path).unwrap_or_default())
}

/// Asserts the binary refuses to start, and its message mentions `needles`.
fn assert_refuses(args: &[&str], needles: &[&str], dir: &Path) {
    let (status, out) = run_to_exit(args, dir);
    let status = status.unwrap_or_else(|| panic!("{args:?}: server started anyway:\n{out}"));
    assert!(!status.success(), "{args:?}: exit status {status}:\n{out}");
    for n in needles {
        assert!(
            out.to_lowercase().contains(&n.to_lowercase()),
            "{args:?}: message should mention {n:?}; got:\n{out}"
        );
    }
}

fn write_conf(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("basalt.conf");
    fs::write(&p, text).unwrap();
    p
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

#[test]
fn config_file_errors_name_the_line() {
    skip_on_redis!();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port().to_string();
    let common = ["--port", &port, "--dir", path_str(&data)];

    let conf = write_conf(
        tmp.path(),
        "# a comment\nbind 127.0.0.1\nnosuchoption 1\nport 7777\n",
    );
    let mut args = vec![path_str(&conf)];
    args.extend(common);
    assert_refuses(&args, &["line 3", "nosuchoption"], tmp.path());

    let conf = write_conf(tmp.path(), "bind 127.0.0.1\n\nport abc\n");
    let mut args = vec![path_str(&conf)];
    args.extend(common);
    assert_refuses(&args, &["line 3", "port", "abc"], tmp.path());

    let conf = write_conf(tmp.path(), "appendfsync sometimes\n");
    let mut args = vec![path_str(&conf)];
    args.extend(common);
    assert_refuses(&args, &["line 1", "appendfsync", "sometimes"], tmp.path());

    // A config file that does not exist.
    let missing = tmp.path().join("missing.conf");
    let mut args = vec![path_str(&missing)];
    args.extend(common);
    assert_refuses(&args, &["missing.conf"], tmp.path());
    assert!(!data.join("db").exists(), "a refused start created the db");
}

#[test]
fn command_line_errors_name_the_option() {
    skip_on_redis!();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port().to_string();
    let base = ["--port", &port, "--dir", path_str(&data)];
    let cases: &[(&[&str], &[&str])] = &[
        (&["--nosuchoption", "1"], &["nosuchoption"]),
        (&["--maxclients", "lots"], &["maxclients", "lots"]),
        (&["--appendfsync", "sometimes"], &["appendfsync"]),
        (&["--rocksdb.compression", "rar"], &["rocksdb.compression"]),
        (&["--port", "70000"], &["port"]),
    ];
    for (extra, needles) in cases {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        assert_refuses(&args, needles, tmp.path());
    }
}

#[test]
fn valid_config_file_is_used() {
    skip_on_redis!();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("from-file");
    let port = free_port();
    let conf = write_conf(
        tmp.path(),
        &format!(
            "# Basalt test config\nbind 127.0.0.1\nport {port}\ndir {}\n\
             maxclients 77\ntimeout 0\nappendfsync everysec\n\
             rocksdb.compression lz4\nrocksdb.write_buffer_size 16\n",
            data.display()
        ),
    );
    let mut child = Command::new(server_binary())
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let guard = KillOnDrop(&mut child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "not listening on port {port} from the file"
        );
        sleep(Duration::from_millis(20));
    }
    let mut c = Raw::connect(port);
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "maxclients"]),
        "*2\r\n$10\r\nmaxclients\r\n$2\r\n77\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "port"]),
        format!(
            "*2\r\n$4\r\nport\r\n${}\r\n{port}\r\n",
            port.to_string().len()
        )
    );
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert!(data.join("db").is_dir(), "no RocksDB in <dir>/db");
    drop(guard);
}

struct KillOnDrop<'a>(&'a mut Child);

impl Drop for KillOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn second_server_on_the_same_dir_refuses_to_start() {
    skip_on_redis!();
    let first = basalt_tests::Server::start();
    let mut c = Raw::connect(first.port);
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    let port = free_port().to_string();
    let data = first.data_dir();
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "--bind",
        "127.0.0.1",
        "--port",
        &port,
        "--dir",
        path_str(&data),
    ];
    let (status, out) = run_to_exit(&args, tmp.path());
    let status = status.unwrap_or_else(|| panic!("second server kept running:\n{out}"));
    assert!(
        !status.success(),
        "second server exit status {status}:\n{out}"
    );
    let lower = out.to_lowercase();
    assert!(
        ["lock", "in use", "already", "another"]
            .iter()
            .any(|w| lower.contains(w))
            && out.contains(path_str(&data)),
        "message should say the dir is in use and name it:\n{out}"
    );
    // The first one is unaffected.
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    assert_server_ok(first.port);
}

#[test]
fn pidfile_written_and_removed_on_sigterm() {
    skip_on_redis!();
    let tmp = tempfile::tempdir().unwrap();
    let pidfile = tmp.path().join("basalt.pid");
    let mut server = basalt_tests::Server::start_with(&["--pidfile", path_str(&pidfile)]);
    let text = fs::read_to_string(&pidfile).expect("pidfile written at startup");
    assert_eq!(text.trim(), server.pid().to_string());
    let status = server.terminate().expect("exit status");
    assert!(status.success(), "SIGTERM exit status {status}");
    assert!(!pidfile.exists(), "pidfile left behind after SIGTERM");
}

fn connect(port: u16) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap()
}

fn config_value(c: &mut redis::Connection, name: &str) -> String {
    let pair: Vec<String> = redis::cmd("CONFIG").arg("GET").arg(name).query(c).unwrap();
    pair[1].clone()
}

fn config_set_error(c: &mut redis::Connection, pairs: &[&str]) -> String {
    let err = redis::cmd("CONFIG")
        .arg("SET")
        .arg(pairs)
        .query::<()>(c)
        .expect_err("CONFIG SET should fail");
    format!(
        "{} {}",
        err.code().unwrap_or(""),
        err.detail().unwrap_or("")
    )
}

#[test]
fn config_set_port_moves_the_listener_and_keeps_connections() {
    let server = basalt_tests::Server::start();
    let mut old = server.client();
    let new_port = free_port();
    let _: () = redis::cmd("CONFIG")
        .arg(&["SET", "port", &new_port.to_string()])
        .query(&mut old)
        .unwrap();
    assert_eq!(config_value(&mut old, "port"), new_port.to_string());
    // The connection that asked stays; new clients come on the new port.
    let pong: String = redis::cmd("PING").query(&mut old).unwrap();
    assert_eq!(pong, "PONG");
    let mut new = connect(new_port);
    let _: () = redis::cmd("SET").arg(&["k", "v"]).query(&mut new).unwrap();
    let v: String = redis::cmd("GET").arg("k").query(&mut old).unwrap();
    assert_eq!(v, "v");
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", server.port)).is_ok() {
        assert!(Instant::now() < deadline, "old port still accepts");
        sleep(Duration::from_millis(20));
    }

    // A taken port: refused at the apply step, and the whole CONFIG SET
    // (maxmemory too) is rolled back.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_port = taken.local_addr().unwrap().port().to_string();
    let maxmemory = config_value(&mut new, "maxmemory");
    let err = config_set_error(&mut new, &["maxmemory", "10000001", "port", &taken_port]);
    assert!(
        err.starts_with(
            "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port"
        ),
        "{err}"
    );
    assert_eq!(config_value(&mut new, "port"), new_port.to_string());
    assert_eq!(config_value(&mut new, "maxmemory"), maxmemory);
    let mut again = connect(new_port);
    let pong: String = redis::cmd("PING").query(&mut again).unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn config_set_bind_listens_on_the_new_addresses_or_changes_nothing() {
    let server = basalt_tests::Server::start();
    let mut c = server.client();
    let port = server.port.to_string();
    // A second loopback address on the same port (Linux routes all of
    // 127/8 to lo).
    let _: () = redis::cmd("CONFIG")
        .arg(&["SET", "bind", "127.0.0.1 127.0.0.2"])
        .query(&mut c)
        .unwrap();
    assert_eq!(config_value(&mut c, "bind"), "127.0.0.1 127.0.0.2");
    let mut second: redis::Connection = redis::Client::open(format!("redis://127.0.0.2:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap();
    let pong: String = redis::cmd("PING").query(&mut second).unwrap();
    assert_eq!(pong, "PONG");
    // Back to one address: 127.0.0.2 stops accepting, connections stay.
    let _: () = redis::cmd("CONFIG")
        .arg(&["SET", "bind", "127.0.0.1"])
        .query(&mut c)
        .unwrap();
    let pong: String = redis::cmd("PING").query(&mut second).unwrap();
    assert_eq!(pong, "PONG");
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.2", server.port)).is_ok() {
        assert!(Instant::now() < deadline, "127.0.0.2 still accepts");
        sleep(Duration::from_millis(20));
    }
    // An address whose port is taken: nothing changes.
    let _taken = TcpListener::bind(("127.0.0.3", server.port)).unwrap();
    let err = config_set_error(&mut c, &["bind", "127.0.0.1 127.0.0.3"]);
    assert_eq!(
        err,
        "ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses."
    );
    assert_eq!(config_value(&mut c, "bind"), "127.0.0.1");
    let mut fresh = connect(server.port);
    let pong: String = redis::cmd("PING").query(&mut fresh).unwrap();
    assert_eq!(pong, "PONG");
}
