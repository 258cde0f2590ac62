//! The etcd v3 metadata store, over etcd's JSON gateway (`POST /v3/kv/...`,
//! keys and values in base64, 64-bit numbers as strings) with a blocking
//! HTTP client: no gRPC stack and no protoc in the build, and the
//! synchronous `MetaStore` trait maps onto it directly.
//!
//! Several endpoints may be given; a call goes to the one that answered
//! last and moves on to the next when one cannot be reached or answers
//! with a server error, so a controller rides over the loss of an etcd
//! member as long as the cluster keeps its quorum.

use crate::store::{MetaStore, StoreError};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum EtcdError {
    #[error("etcd unreachable (tried {endpoints}): {last}")]
    Unreachable { endpoints: String, last: String },
    #[error("etcd refused {call}: {message}")]
    Refused { call: &'static str, message: String },
    #[error("unexpected reply from etcd to {call}: {message}")]
    BadReply { call: &'static str, message: String },
}

/// One key as etcd returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
    pub create_revision: i64,
    pub mod_revision: i64,
    /// The lease the key is attached to, 0 for none.
    pub lease: i64,
}

/// The outcome of a campaign for a key (see [`EtcdClient::create_with_lease`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    Created,
    /// Someone holds the key already: its current value.
    Exists(Option<KeyValue>),
}

pub struct EtcdClient {
    endpoints: Vec<String>,
    agent: ureq::Agent,
    /// Bound of one try on one endpoint.
    per_try: Duration,
    /// Bound of one call over all the endpoints it tries.
    budget: Duration,
    /// Index of the endpoint that answered last.
    current: AtomicUsize,
}

/// `host:port` or `http://host:port`, with or without a trailing slash.
pub fn normalize_endpoint(e: &str) -> String {
    let e = e.trim().trim_end_matches('/');
    if e.contains("://") {
        e.to_string()
    } else {
        format!("http://{e}")
    }
}

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// int64 fields arrive as JSON strings from the gateway; absent means 0
/// (proto3 leaves default values out).
fn int(v: &Value) -> i64 {
    match v {
        Value::String(s) => s.parse().unwrap_or(0),
        Value::Number(n) => n.as_i64().unwrap_or(0),
        _ => 0,
    }
}

/// The first key after every key starting with `prefix` (etcd's
/// `range_end` for a prefix query).
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    // Only 0xff bytes (or empty): every key from the prefix on.
    vec![0]
}

impl EtcdClient {
    /// A call tries each endpoint for at most `per_try` and gives up after
    /// `budget` in all, so its callers know how long it can block.
    pub fn new(endpoints: &[String], per_try: Duration, budget: Duration) -> EtcdClient {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        EtcdClient {
            endpoints: endpoints.iter().map(|e| normalize_endpoint(e)).collect(),
            agent,
            per_try,
            budget,
            current: AtomicUsize::new(0),
        }
    }

    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// POSTs `body` to `path`, trying each endpoint in turn from the one
    /// that answered last.
    fn call(&self, call: &'static str, path: &str, body: Value) -> Result<Value, EtcdError> {
        let n = self.endpoints.len();
        let start = self.current.load(Ordering::Relaxed);
        let mut last = String::from("no endpoints configured");
        let deadline = Instant::now() + self.budget;
        for i in 0..n {
            let idx = (start + i) % n;
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let url = format!("{}{path}", self.endpoints[idx]);
            let request = self
                .agent
                .post(&url)
                .config()
                .timeout_global(Some(left.min(self.per_try)))
                .build();
            let mut resp = match request.send_json(&body) {
                Ok(r) => r,
                Err(e) => {
                    last = format!("{}: {e}", self.endpoints[idx]);
                    // The next call starts at the next endpoint, so one
                    // that hangs cannot eat every call's budget.
                    self.current.store((idx + 1) % n, Ordering::Relaxed);
                    continue;
                }
            };
            let status = resp.status().as_u16();
            let reply: Result<Value, _> = resp.body_mut().read_json();
            if status >= 500 {
                // An etcd member without quorum or in the middle of an
                // election: another member may answer.
                let msg = reply
                    .ok()
                    .and_then(|v| v["message"].as_str().map(str::to_string))
                    .unwrap_or_default();
                last = format!("{}: HTTP {status} {msg}", self.endpoints[idx]);
                self.current.store((idx + 1) % n, Ordering::Relaxed);
                continue;
            }
            self.current.store(idx, Ordering::Relaxed);
            let reply = reply.map_err(|e| EtcdError::BadReply {
                call,
                message: e.to_string(),
            })?;
            if status >= 400 {
                let message = reply["message"]
                    .as_str()
                    .or(reply["error"].as_str())
                    .unwrap_or("(no message)")
                    .to_string();
                return Err(EtcdError::Refused { call, message });
            }
            return Ok(reply);
        }
        Err(EtcdError::Unreachable {
            endpoints: self.endpoints.join(", "),
            last,
        })
    }

    fn decode(call: &'static str, v: &Value) -> Result<String, EtcdError> {
        let Some(s) = v.as_str() else {
            return Ok(String::new()); // proto3: an empty value is left out
        };
        let bytes = B64.decode(s).map_err(|e| EtcdError::BadReply {
            call,
            message: format!("bad base64: {e}"),
        })?;
        String::from_utf8(bytes).map_err(|e| EtcdError::BadReply {
            call,
            message: format!("value is not UTF-8: {e}"),
        })
    }

    fn key_values(call: &'static str, reply: &Value) -> Result<Vec<KeyValue>, EtcdError> {
        let Some(kvs) = reply["kvs"].as_array() else {
            return Ok(Vec::new());
        };
        kvs.iter()
            .map(|kv| {
                Ok(KeyValue {
                    key: Self::decode(call, &kv["key"])?,
                    value: Self::decode(call, &kv["value"])?,
                    create_revision: int(&kv["create_revision"]),
                    mod_revision: int(&kv["mod_revision"]),
                    lease: int(&kv["lease"]),
                })
            })
            .collect()
    }

    pub fn get(&self, key: &str) -> Result<Option<KeyValue>, EtcdError> {
        let reply = self.call(
            "range",
            "/v3/kv/range",
            json!({ "key": b64(key.as_bytes()) }),
        )?;
        Ok(Self::key_values("range", &reply)?.into_iter().next())
    }

    /// Every key starting with `prefix`, in key order.
    pub fn get_prefix(&self, prefix: &str) -> Result<Vec<KeyValue>, EtcdError> {
        let body = json!({
            "key": b64(prefix.as_bytes()),
            "range_end": b64(&prefix_end(prefix.as_bytes())),
        });
        let reply = self.call("range", "/v3/kv/range", body)?;
        Self::key_values("range", &reply)
    }

    /// Puts `key`; `lease` 0 means none.
    pub fn put(&self, key: &str, value: &str, lease: i64) -> Result<(), EtcdError> {
        let mut body = json!({ "key": b64(key.as_bytes()), "value": b64(value.as_bytes()) });
        if lease != 0 {
            body["lease"] = json!(lease.to_string());
        }
        self.call("put", "/v3/kv/put", body)?;
        Ok(())
    }

    pub fn delete(&self, key: &str) -> Result<(), EtcdError> {
        self.call(
            "deleterange",
            "/v3/kv/deleterange",
            json!({ "key": b64(key.as_bytes()) }),
        )?;
        Ok(())
    }

    /// Creates `key` with `value` on `lease` only if it does not exist
    /// (`create_revision == 0`), in one transaction; otherwise returns the
    /// holder's key.
    pub fn create_with_lease(
        &self,
        key: &str,
        value: &str,
        lease: i64,
    ) -> Result<Created, EtcdError> {
        let k = b64(key.as_bytes());
        let body = json!({
            "compare": [{"key": k, "target": "CREATE", "result": "EQUAL", "create_revision": "0"}],
            "success": [{"request_put": {"key": k, "value": b64(value.as_bytes()), "lease": lease.to_string()}}],
            "failure": [{"request_range": {"key": k}}],
        });
        let reply = self.call("txn", "/v3/kv/txn", body)?;
        if reply["succeeded"].as_bool() == Some(true) {
            return Ok(Created::Created);
        }
        let holder = Self::key_values("txn", &reply["responses"][0]["response_range"])?;
        Ok(Created::Exists(holder.into_iter().next()))
    }

    /// Deletes `key` only if it was last written at `mod_revision`;
    /// whether it did.
    pub fn delete_if_unchanged(&self, key: &str, mod_revision: i64) -> Result<bool, EtcdError> {
        let k = b64(key.as_bytes());
        let body = json!({
            "compare": [{"key": k, "target": "MOD", "result": "EQUAL", "mod_revision": mod_revision.to_string()}],
            "success": [{"request_delete_range": {"key": k}}],
        });
        let reply = self.call("txn", "/v3/kv/txn", body)?;
        Ok(reply["succeeded"].as_bool() == Some(true))
    }

    /// Runs `op` (one request of a txn) only if `key` is on `lease`;
    /// whether it ran.
    pub fn txn_if_lease(&self, key: &str, lease: i64, op: Value) -> Result<bool, EtcdError> {
        let body = json!({
            "compare": [{"key": b64(key.as_bytes()), "target": "LEASE", "result": "EQUAL", "lease": lease.to_string()}],
            "success": [op],
        });
        let reply = self.call("txn", "/v3/kv/txn", body)?;
        Ok(reply["succeeded"].as_bool() == Some(true))
    }

    /// Grants a lease of `ttl_secs`; its id.
    pub fn lease_grant(&self, ttl_secs: i64) -> Result<i64, EtcdError> {
        let reply = self.call("lease grant", "/v3/lease/grant", json!({ "TTL": ttl_secs }))?;
        match int(&reply["ID"]) {
            0 => Err(EtcdError::BadReply {
                call: "lease grant",
                message: format!("no lease id in {reply}"),
            }),
            id => Ok(id),
        }
    }

    /// Renews a lease; the TTL it has now, 0 when it has expired.
    pub fn lease_keepalive(&self, lease: i64) -> Result<i64, EtcdError> {
        // The gateway turns the streaming RPC into one request, one
        // `{"result": ...}` answer.
        let reply = self.call(
            "lease keepalive",
            "/v3/lease/keepalive",
            json!({ "ID": lease.to_string() }),
        )?;
        Ok(int(&reply["result"]["TTL"]))
    }

    pub fn lease_revoke(&self, lease: i64) -> Result<(), EtcdError> {
        self.call(
            "lease revoke",
            "/v3/lease/revoke",
            json!({ "ID": lease.to_string() }),
        )?;
        Ok(())
    }
}

/// The lease this controller holds the leader key on, if it leads. A store
/// fenced by it writes only while etcd still has the leader key on that
/// lease, in the same transaction as the write: a leader that was paused
/// past its TTL and replaced cannot overwrite its successor's model.
#[derive(Clone, Default)]
pub struct Fence(Arc<Mutex<Option<i64>>>);

impl Fence {
    pub fn get(&self) -> Option<i64> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set(&self, lease: Option<i64>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = lease;
    }

    pub fn take(&self) -> Option<i64> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// The metadata store on etcd: the same keys as the embedded store.
pub struct EtcdStore {
    client: EtcdClient,
    /// With leader election, the leader key and its fence.
    fence: Option<(String, Fence)>,
}

impl EtcdStore {
    pub fn new(endpoints: &[String]) -> EtcdStore {
        EtcdStore {
            client: EtcdClient::new(endpoints, Duration::from_secs(5), Duration::from_secs(15)),
            fence: None,
        }
    }

    /// Writes (set, delete) go through only while `leader_key` is on the
    /// lease in `fence`; otherwise they fail with [`StoreError::NotLeader`].
    pub fn fenced(mut self, leader_key: &str, fence: Fence) -> EtcdStore {
        self.fence = Some((leader_key.to_string(), fence));
        self
    }

    fn write(
        &self,
        op: Value,
        plain: impl FnOnce() -> Result<(), EtcdError>,
    ) -> Result<(), StoreError> {
        let Some((leader_key, fence)) = &self.fence else {
            return Ok(plain()?);
        };
        let lease = fence.get().ok_or(StoreError::NotLeader)?;
        if self.client.txn_if_lease(leader_key, lease, op)? {
            Ok(())
        } else {
            Err(StoreError::NotLeader)
        }
    }

    /// Connects, retrying for up to `wait` until etcd answers a read.
    pub fn connect(endpoints: &[String], wait: Duration) -> Result<EtcdStore, EtcdError> {
        let store = EtcdStore::new(endpoints);
        let deadline = Instant::now() + wait;
        loop {
            match store.client.get(crate::election::LEADER_KEY) {
                Ok(_) => return Ok(store),
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(e) => {
                    tracing::warn!("waiting for etcd: {e}");
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        }
    }
}

impl MetaStore for EtcdStore {
    fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.client.get(key)?.map(|kv| kv.value))
    }

    fn set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let op =
            json!({"request_put": {"key": b64(key.as_bytes()), "value": b64(value.as_bytes())}});
        self.write(op, || self.client.put(key, value, 0))
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        let op = json!({"request_delete_range": {"key": b64(key.as_bytes())}});
        self.write(op, || self.client.delete(key))
    }

    fn list(&self, prefix: &str) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self
            .client
            .get_prefix(prefix)?
            .into_iter()
            .map(|kv| (kv.key, kv.value))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_is_the_next_key_after_the_prefix() {
        assert_eq!(prefix_end(b"/a/"), b"/a0".to_vec());
        assert_eq!(prefix_end(b"a\xff"), b"b".to_vec());
        assert_eq!(prefix_end(b"\xff"), vec![0]);
    }

    #[test]
    fn endpoints_get_a_scheme() {
        assert_eq!(
            normalize_endpoint("127.0.0.1:2379"),
            "http://127.0.0.1:2379"
        );
        assert_eq!(
            normalize_endpoint(" http://10.0.0.1:2379/ "),
            "http://10.0.0.1:2379"
        );
    }
}
