//! Leader election on etcd, so that several controllers can run and exactly
//! one acts. Each campaigns for [`LEADER_KEY`]: a transaction creates it
//! with the controller's advertised address, attached to a lease of
//! [`LEASE_TTL_SECS`], only if nobody holds it. The winner renews the lease
//! every [`KEEPALIVE_EVERY`]; the others read the key every [`POLL_EVERY`]
//! to know whom to redirect to, and campaign again once it is gone. A dead
//! leader's lease expires, etcd deletes its key, and another controller
//! takes over within the TTL plus a poll.
//!
//! A leader steps down at once when etcd says its lease is gone or its key
//! names someone else, and when it has not managed to renew the lease for
//! [`STEP_DOWN_AFTER`]: a slow or failed renewal is retried until then (a
//! loaded machine must not flap the leadership), but every call is bounded
//! by [`CALL_TIMEOUT`] so the leader stops acting before its lease can
//! expire on etcd and another controller be elected.

use crate::etcd::{Created, EtcdClient, EtcdError, Fence};
use crate::status::Status;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const LEADER_KEY: &str = "/basalt/leader";
pub const LEASE_TTL_SECS: i64 = 5;
pub const KEEPALIVE_EVERY: Duration = Duration::from_secs(1);
pub const POLL_EVERY: Duration = Duration::from_millis(500);
/// Bound of one election call (over all endpoints).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(1);
/// Renewals are measured from the moment they were sent, which is no later
/// than etcd restarts the TTL: the lease lives at least 5 s from then, and
/// the leader stops acting at most 3 s + one call (1 s) after it.
pub const STEP_DOWN_AFTER: Duration = Duration::from_secs(3);
const RETRY_EVERY: Duration = Duration::from_millis(200);

pub struct Election {
    client: EtcdClient,
    /// The address other controllers redirect to while this one leads.
    me: String,
    status: Arc<Status>,
    /// The lease of the leader key while this controller holds it, shared
    /// with the store so that its writes are fenced by it.
    lease: Fence,
    stopped: AtomicBool,
}

/// What one campaign found.
enum Outcome {
    /// Won, with the lease and when it was asked for.
    Leader(i64, Instant),
    Follower(String),
}

impl Election {
    /// Starts campaigning on a thread of its own (every call blocks).
    /// `fence` is the one given to the store
    /// ([`EtcdStore::fenced`](crate::etcd::EtcdStore::fenced)).
    pub fn start(
        endpoints: &[String],
        me: String,
        status: Arc<Status>,
        fence: Fence,
    ) -> Arc<Election> {
        let election = Arc::new(Election {
            client: EtcdClient::new(endpoints, CALL_TIMEOUT, CALL_TIMEOUT),
            me,
            status,
            lease: fence,
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
        if let Some(lease) = self.lease.take() {
            match self.client.lease_revoke(lease) {
                Ok(()) => tracing::info!("resigned the leadership"),
                Err(e) => tracing::warn!("could not revoke the leader lease: {e}"),
            }
        }
    }

    fn set_held(&self, lease: Option<i64>) {
        self.lease.set(lease);
    }

    fn run(&self) {
        // When a follower last read the leader key (it keeps redirecting to
        // the last leader it saw through a short etcd hiccup).
        let mut last_read: Option<Instant> = None;
        while !self.stopped.load(Ordering::Acquire) {
            match self.campaign() {
                Ok(Outcome::Leader(lease, granted_at)) => {
                    if self.stopped.load(Ordering::Acquire) {
                        let _ = self.client.lease_revoke(lease);
                        return;
                    }
                    self.set_held(Some(lease));
                    self.status.leadership.set(true, Some(self.me.clone()));
                    tracing::info!(addr = %self.me, "elected leader");
                    let why = self.lead(lease, granted_at);
                    self.status.leadership.set(false, None);
                    self.set_held(None);
                    last_read = None;
                    if self.stopped.load(Ordering::Acquire) {
                        return;
                    }
                    tracing::warn!("stepped down as leader: {why}");
                    // Frees the key at once if etcd is still there.
                    let _ = self.client.lease_revoke(lease);
                    continue;
                }
                Ok(Outcome::Follower(leader)) => {
                    last_read = Some(Instant::now());
                    if self.status.leadership.leader_addr().as_deref() != Some(&leader) {
                        tracing::info!(leader = %leader, "following");
                    }
                    self.status.leadership.set(false, Some(leader));
                }
                Err(e) => {
                    let stale = last_read.is_none_or(|t| t.elapsed() >= STEP_DOWN_AFTER);
                    if stale && self.status.leadership.leader_addr().is_some() {
                        tracing::warn!("leader unknown: {e}");
                        self.status.leadership.set(false, None);
                    }
                }
            }
            std::thread::sleep(POLL_EVERY);
        }
    }

    /// Keeps the lease alive while this controller leads; returns why it
    /// stopped.
    fn lead(&self, lease: i64, mut renewed_at: Instant) -> String {
        loop {
            if self.stopped.load(Ordering::Acquire) {
                return "stopped".into();
            }
            if renewed_at.elapsed() >= STEP_DOWN_AFTER {
                return format!(
                    "could not renew the lease for {} ms",
                    renewed_at.elapsed().as_millis()
                );
            }
            let sent = Instant::now();
            match self.client.lease_keepalive(lease) {
                Ok(ttl) if ttl > 0 => renewed_at = sent,
                Ok(_) => return "the lease expired".into(),
                Err(e) => {
                    tracing::warn!("lease renewal failed: {e}");
                    std::thread::sleep(RETRY_EVERY);
                    continue;
                }
            }
            match self.client.get(LEADER_KEY) {
                Ok(Some(kv)) if kv.lease == lease => {}
                Ok(Some(kv)) => return format!("{LEADER_KEY} now names {}", kv.value),
                Ok(None) => return format!("{LEADER_KEY} was deleted"),
                // The renewal went through; the next round checks again.
                Err(e) => tracing::warn!("reading {LEADER_KEY} failed: {e}"),
            }
            let left = STEP_DOWN_AFTER.saturating_sub(renewed_at.elapsed());
            std::thread::sleep(KEEPALIVE_EVERY.min(left));
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
        let granted_at = Instant::now();
        let lease = self.client.lease_grant(LEASE_TTL_SECS)?;
        match self.client.create_with_lease(LEADER_KEY, &self.me, lease) {
            Ok(Created::Created) => Ok(Outcome::Leader(lease, granted_at)),
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
