//! Leader election on etcd, so that several controllers can run and exactly
//! one acts. Each campaigns for [`LEADER_KEY`]: a transaction creates it
//! with the controller's advertised address, attached to a lease of
//! [`LEASE_TTL_SECS`], only if nobody holds it. The winner keeps the lease
//! alive; the others read the key every [`POLL_EVERY`] to know whom to
//! redirect to, and campaign again once it is gone. A dead leader's lease
//! expires, etcd deletes its key, and another controller takes over within
//! the TTL plus a poll.
//!
//! A leader steps down as soon as a keep-alive fails or its key is no
//! longer on its lease. Every call is bounded ([`CALL_PER_TRY`],
//! [`CALL_BUDGET`]) so that this happens before its lease can expire on
//! etcd: a cut-off leader stops acting before another can be elected.

use crate::etcd::{Created, EtcdClient, EtcdError};
use crate::status::Status;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const LEADER_KEY: &str = "/basalt/leader";
pub const LEASE_TTL_SECS: i64 = 3;
pub const KEEPALIVE_EVERY: Duration = Duration::from_secs(1);
pub const POLL_EVERY: Duration = Duration::from_millis(500);
/// With [`KEEPALIVE_EVERY`], a leader notices a lost etcd at most
/// 1 s + 1.5 s after its last renewal, under the 3 s TTL.
pub const CALL_PER_TRY: Duration = Duration::from_millis(500);
pub const CALL_BUDGET: Duration = Duration::from_millis(1500);

pub struct Election {
    client: EtcdClient,
    /// The address other controllers redirect to while this one leads.
    me: String,
    status: Arc<Status>,
    /// The lease of the leader key while this controller holds it.
    lease: Mutex<Option<i64>>,
    stopped: AtomicBool,
}

/// What one campaign found.
enum Outcome {
    Leader(i64),
    Follower(String),
}

impl Election {
    /// Starts campaigning on a thread of its own (every call blocks).
    pub fn start(endpoints: &[String], me: String, status: Arc<Status>) -> Arc<Election> {
        let election = Arc::new(Election {
            client: EtcdClient::new(endpoints, CALL_PER_TRY, CALL_BUDGET),
            me,
            status,
            lease: Mutex::new(None),
            stopped: AtomicBool::new(false),
        });
        let runner = election.clone();
        std::thread::Builder::new()
            .name("election".into())
            .spawn(move || runner.run())
            .expect("spawn the election thread");
        election
    }

    /// Stops campaigning and gives the leadership up at once (revoking the
    /// lease deletes the key), so another controller need not wait for the
    /// TTL. Used on a clean shutdown.
    pub fn resign(&self) {
        self.stopped.store(true, Ordering::Release);
        self.status.leadership.set(false, None);
        let lease = self.lease.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(lease) = lease {
            match self.client.lease_revoke(lease) {
                Ok(()) => tracing::info!("resigned the leadership"),
                Err(e) => tracing::warn!("could not revoke the leader lease: {e}"),
            }
        }
    }

    fn held(&self) -> Option<i64> {
        *self.lease.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_held(&self, lease: Option<i64>) {
        *self.lease.lock().unwrap_or_else(|e| e.into_inner()) = lease;
    }

    fn run(&self) {
        while !self.stopped.load(Ordering::Acquire) {
            match self.held() {
                Some(lease) => match self.renew(lease) {
                    Ok(()) => std::thread::sleep(KEEPALIVE_EVERY),
                    Err(why) => {
                        self.status.leadership.set(false, None);
                        self.set_held(None);
                        tracing::warn!("stepped down as leader: {why}");
                        // Best effort: frees the key at once if etcd is
                        // still there (the key may be on this lease).
                        let _ = self.client.lease_revoke(lease);
                    }
                },
                None => {
                    match self.campaign() {
                        Ok(Outcome::Leader(lease)) => {
                            if self.stopped.load(Ordering::Acquire) {
                                let _ = self.client.lease_revoke(lease);
                                return;
                            }
                            self.set_held(Some(lease));
                            self.status.leadership.set(true, Some(self.me.clone()));
                            tracing::info!(addr = %self.me, "elected leader");
                            continue;
                        }
                        Ok(Outcome::Follower(leader)) => {
                            if self.status.leadership.leader_addr().as_deref() != Some(&leader) {
                                tracing::info!(leader = %leader, "following");
                            }
                            self.status.leadership.set(false, Some(leader));
                        }
                        Err(e) => {
                            if self.status.leadership.leader_addr().is_some() {
                                tracing::warn!("leader unknown: {e}");
                            }
                            self.status.leadership.set(false, None);
                        }
                    }
                    std::thread::sleep(POLL_EVERY);
                }
            }
        }
    }

    /// Keeps the lease alive and checks the key is still on it.
    fn renew(&self, lease: i64) -> Result<(), String> {
        match self.client.lease_keepalive(lease) {
            Ok(ttl) if ttl > 0 => {}
            Ok(_) => return Err("the lease expired".into()),
            Err(e) => return Err(e.to_string()),
        }
        match self.client.get(LEADER_KEY) {
            Ok(Some(kv)) if kv.lease == lease => Ok(()),
            Ok(Some(kv)) => Err(format!("{LEADER_KEY} now names {}", kv.value)),
            Ok(None) => Err(format!("{LEADER_KEY} was deleted")),
            Err(e) => Err(e.to_string()),
        }
    }

    fn campaign(&self) -> Result<Outcome, EtcdError> {
        if let Some(kv) = self.client.get(LEADER_KEY)? {
            if kv.value != self.me {
                return Ok(Outcome::Follower(kv.value));
            }
            // Our own address on a lease we do not hold: this controller
            // was restarted before its old lease expired. Nobody else can
            // serve that address, so take the key back instead of
            // redirecting to ourselves until the TTL runs out.
            self.client
                .delete_if_unchanged(LEADER_KEY, kv.mod_revision)?;
            let _ = self.client.lease_revoke(kv.lease);
        }
        let lease = self.client.lease_grant(LEASE_TTL_SECS)?;
        match self.client.create_with_lease(LEADER_KEY, &self.me, lease) {
            Ok(Created::Created) => Ok(Outcome::Leader(lease)),
            Ok(Created::Exists(holder)) => {
                let _ = self.client.lease_revoke(lease);
                match holder {
                    Some(kv) if kv.value != self.me => Ok(Outcome::Follower(kv.value)),
                    // Gone again, or ours from an older lease: next poll.
                    _ => Err(EtcdError::BadReply {
                        call: "txn",
                        message: format!("{LEADER_KEY} changed during the campaign"),
                    }),
                }
            }
            Err(e) => {
                let _ = self.client.lease_revoke(lease);
                Err(e)
            }
        }
    }
}
