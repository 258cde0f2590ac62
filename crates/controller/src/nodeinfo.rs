//! Reading a node's state over RESP for the probe loop and failovers:
//! connections bounded by a deadline, the INFO fields the controller acts
//! on, and the topology version.

use crate::model::Node;
use std::time::{Duration, Instant};

/// What one probe learned from a node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Probe {
    /// "master" or "slave", as the node itself says.
    pub role: String,
    /// `master_repl_offset` on a master, `slave_repl_offset` on a replica.
    pub offset: i64,
    pub used_memory: u64,
    /// Loading its data, or a replica still in its full sync: not fit to
    /// be promoted.
    pub loading: bool,
    /// A replica's `master_link_status:up`.
    pub link_up: bool,
    /// `CLUSTERX VERSION`: -1 before any topology.
    pub version: i64,
}

/// A connection whose connect and every later command end by `deadline`.
pub struct Conn {
    conn: redis::Connection,
    deadline: Instant,
}

fn remaining(deadline: Instant) -> Result<Duration, String> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err("timed out".to_string());
    }
    Ok(left)
}

impl Conn {
    pub fn open(addr: &str, password: &str, timeout: Duration) -> Result<Conn, String> {
        let deadline = Instant::now() + timeout;
        let client = redis::Client::open(format!("redis://{addr}/")).map_err(|e| e.to_string())?;
        let conn = client
            .get_connection_with_timeout(remaining(deadline)?)
            .map_err(|e| e.to_string())?;
        let mut c = Conn { conn, deadline };
        if !password.is_empty() {
            c.query::<()>(redis::cmd("AUTH").arg(password))?;
        }
        Ok(c)
    }

    pub fn query<T: redis::FromRedisValue>(&mut self, cmd: &redis::Cmd) -> Result<T, String> {
        let left = remaining(self.deadline)?;
        self.conn
            .set_read_timeout(Some(left))
            .and_then(|_| self.conn.set_write_timeout(Some(left)))
            .map_err(|e| e.to_string())?;
        cmd.query(&mut self.conn).map_err(|e| e.to_string())
    }

    /// Gives the connection a new deadline (for waits longer than one probe).
    pub fn extend(&mut self, timeout: Duration) {
        self.deadline = Instant::now() + timeout;
    }

    pub fn info(&mut self) -> Result<Info, String> {
        let text: String = self.query(
            redis::cmd("INFO")
                .arg("replication")
                .arg("memory")
                .arg("persistence"),
        )?;
        Ok(Info(text))
    }

    pub fn version(&mut self) -> Result<i64, String> {
        let text: String = self.query(redis::cmd("CLUSTERX").arg("VERSION"))?;
        text.trim()
            .parse()
            .map_err(|_| format!("CLUSTERX VERSION answered {text:?}"))
    }
}

/// An INFO reply.
pub struct Info(pub String);

impl Info {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.0.lines().find_map(|l| {
            l.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(':'))
                .map(str::trim)
        })
    }

    fn int(&self, name: &str) -> i64 {
        self.field(name).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    pub fn role(&self) -> &str {
        self.field("role").unwrap_or("")
    }

    /// The node's replication offset, whatever its role.
    pub fn offset(&self) -> i64 {
        if self.role() == "slave" {
            self.int("slave_repl_offset")
        } else {
            self.int("master_repl_offset")
        }
    }
}

/// One probe: INFO and CLUSTERX VERSION, all within `timeout`.
pub fn probe(node: &Node, timeout: Duration) -> Result<Probe, String> {
    let mut c = Conn::open(&node.addr, &node.password, timeout)?;
    let info = c.info()?;
    let version = c.version()?;
    Ok(Probe {
        role: info.role().to_string(),
        offset: info.offset(),
        used_memory: info.int("used_memory").max(0) as u64,
        loading: info.int("loading") != 0 || info.int("master_sync_in_progress") != 0,
        link_up: info.field("master_link_status") == Some("up"),
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_fields_by_role() {
        let replica = Info(
            "# Replication\r\nrole:slave\r\nmaster_link_status:up\r\nslave_repl_offset:42\r\n"
                .into(),
        );
        assert_eq!(replica.role(), "slave");
        assert_eq!(replica.offset(), 42);
        assert_eq!(replica.field("master_link_status"), Some("up"));
        let master = Info("role:master\r\nmaster_repl_offset:7\r\n".into());
        assert_eq!(master.offset(), 7);
        assert_eq!(master.field("role_x"), None);
    }
}
