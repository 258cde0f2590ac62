//! The registry of connected clients, for CLIENT LIST / INFO / KILL and
//! INFO clients, and each client's handle: what other connections may read
//! of it or hand to it (its pushes).

use crate::outbox::Outbox;
use crate::tracking::{ClientTracking, Invalidated};
use basalt_config::BufferLimit;
use basalt_resp::Protocol;
use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{
    AtomicBool, AtomicI32, AtomicI64, AtomicU64, AtomicU8, AtomicUsize, Ordering::Relaxed,
};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Notify;

pub struct ClientHandle {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    pub created: Instant,
    pub name: Mutex<Option<String>>,
    pub lib_name: Mutex<Option<String>>,
    pub lib_ver: Mutex<Option<String>>,
    /// Milliseconds since `created` of the last command.
    pub last_active_ms: AtomicU64,
    /// Index into the command table of the last command, +1 (0 = none).
    pub last_command: AtomicUsize,
    /// Index of its subcommand, +1 (0 = none).
    pub last_subcommand: AtomicUsize,
    pub resp: AtomicU8,
    pub query_buffer: AtomicI64,
    /// Channels, patterns and shard channels subscribed (CLIENT LIST).
    pub sub: AtomicU64,
    pub psub: AtomicU64,
    pub ssub: AtomicU64,
    /// Bytes of pub/sub messages queued and not yet written (CLIENT LIST omem).
    pub omem: AtomicU64,
    /// Commands queued by MULTI, -1 outside MULTI (CLIENT LIST multi).
    pub multi: AtomicI64,
    /// Waiting in a blocking command (CLIENT LIST flag `b`).
    pub blocked: AtomicBool,
    /// CLIENT NO-EVICT (flag `e`): kept for CLIENT LIST, as there is no
    /// client eviction (`maxmemory-clients`) to exempt it from.
    pub no_evict: AtomicBool,
    /// CLIENT NO-TOUCH (flag `T`): kept for CLIENT LIST; keys carry no
    /// access time here (OBJECT IDLETIME is always 0), so there is nothing
    /// for its commands not to touch.
    pub no_touch: AtomicBool,
    /// In MONITOR mode (flag `O`).
    pub monitor: AtomicBool,
    /// The socket's descriptor (CLIENT LIST `fd`), -1 until known.
    pub fd: AtomicI32,
    /// CLIENT TRACKING's settings for this client (see `crate::tracking`).
    pub tracking: Mutex<ClientTracking>,
    /// Invalidations of keys this client changed itself while its command
    /// ran, sent after that command's reply as Redis does.
    pub tracking_pending: Mutex<Vec<Invalidated>>,
    /// The ACL user (CLIENT LIST `user=`, CLIENT KILL USER, and the
    /// clients a deleted user leaves); `None` until the connection's state
    /// exists.
    pub user: Mutex<Option<Arc<crate::acl::UserSlot>>>,
    /// Pub/sub messages and invalidations waiting for the connection task.
    pushes: Outbox,
    killed: AtomicBool,
    kill_notify: Notify,
}

impl ClientHandle {
    pub fn kill(&self) {
        self.killed.store(true, Relaxed);
        self.kill_notify.notify_one();
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Relaxed)
    }

    pub async fn killed(&self) {
        if self.is_killed() {
            return;
        }
        self.kill_notify.notified().await
    }

    pub fn touch(&self, command_index: usize, subcommand: usize) {
        self.last_active_ms
            .store(self.created.elapsed().as_millis() as u64, Relaxed);
        self.last_command.store(command_index + 1, Relaxed);
        self.last_subcommand.store(subcommand, Relaxed);
    }

    /// Has channel, pattern or shard subscriptions (Redis's `P` flag).
    pub fn is_subscribed(&self) -> bool {
        self.sub.load(Relaxed) + self.psub.load(Relaxed) + self.ssub.load(Relaxed) > 0
    }

    pub fn protocol(&self) -> Protocol {
        if self.resp.load(Relaxed) == 3 {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        }
    }

    /// Queues an encoded push (a message, an invalidation) for this
    /// client's connection to write.
    pub fn push(&self, frame: Bytes, limit: BufferLimit) {
        self.pushes.push(self, frame, limit);
    }

    /// Moves queued pushes into `out`, up to about `max` bytes.
    pub fn drain_pushes(&self, out: &mut BytesMut, max: usize) {
        self.pushes.drain_into(self, out, max);
    }

    /// Resolves when pushes may be waiting.
    pub async fn pushes_ready(&self) {
        self.pushes.ready().await
    }

    /// Whether the peer has closed its end, looked at without reading:
    /// for a connection whose task is busy running its command (a long
    /// script) and so cannot notice by itself. The descriptor stays open
    /// meanwhile, as that task owns the socket.
    pub fn peer_closed(&self) -> bool {
        let fd = self.fd.load(Relaxed);
        if fd < 0 {
            return false;
        }
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLRDHUP,
            revents: 0,
        };
        // SAFETY: one pollfd we own, zero timeout.
        let n = unsafe { libc::poll(&mut p, 1, 0) };
        n > 0 && p.revents & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) != 0
    }

    /// The client's ACL user.
    pub fn user(&self) -> Option<Arc<crate::acl::UserSlot>> {
        self.user.lock().clone()
    }

    /// The user's name as CLIENT LIST shows it.
    pub fn user_name(&self) -> String {
        self.user()
            .map_or_else(|| "default".to_string(), |u| u.name_lossy())
    }

    /// Redis's flag letters, in Redis's order (`catClientInfoString`): P
    /// subscribed, x in MULTI, b blocked, t tracking, R tracking redirect
    /// broken, B tracking in BCAST mode, e no-evict, T no-touch; N for none;
    /// O first for MONITOR. Basalt has no replicas, masters or unix sockets yet
    /// (S M U).
    pub fn info_flags(&self) -> String {
        let mut f = String::new();
        if self.monitor.load(Relaxed) {
            f.push('O');
        }
        if self.is_subscribed() {
            f.push('P');
        }
        if self.multi.load(Relaxed) >= 0 {
            f.push('x');
        }
        if self.blocked.load(Relaxed) {
            f.push('b');
        }
        {
            let t = self.tracking.lock();
            if t.on {
                f.push('t');
            }
            if t.broken_redirect {
                f.push('R');
            }
            if t.bcast {
                f.push('B');
            }
        }
        if self.is_killed() {
            f.push('A');
        }
        if self.no_evict.load(Relaxed) {
            f.push('e');
        }
        if self.no_touch.load(Relaxed) {
            f.push('T');
        }
        if f.is_empty() {
            f.push('N');
        }
        f
    }

    /// One CLIENT LIST / CLIENT INFO line (also the ACL log's client
    /// info), with every Redis 7.2 field in Redis's order.
    pub fn info_line(&self, table: &crate::command::CommandTable) -> String {
        let cmd = match self.last_command.load(Relaxed) {
            0 => "NULL".to_string(),
            n => match table.all().get(n - 1) {
                None => "NULL".to_string(),
                Some(cmd) => match self.last_subcommand.load(Relaxed) {
                    0 => cmd.name.to_string(),
                    s => format!("{}|{}", cmd.name, cmd.subcommands[s - 1].name),
                },
            },
        };
        let (sub, psub, ssub) = (
            self.sub.load(Relaxed),
            self.psub.load(Relaxed),
            self.ssub.load(Relaxed),
        );
        let redir = {
            let t = self.tracking.lock();
            if t.on {
                t.redirect as i64
            } else {
                -1
            }
        };
        let omem = self.omem.load(Relaxed);
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db=0 sub={} psub={} ssub={} multi={} qbuf={} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user={} redir={} resp={} lib-name={} lib-ver={}",
            self.id,
            self.addr,
            self.laddr,
            self.fd.load(Relaxed),
            self.name.lock().clone().unwrap_or_default(),
            self.created.elapsed().as_secs(),
            self.idle_secs(),
            self.info_flags(),
            sub,
            psub,
            ssub,
            self.multi.load(Relaxed),
            self.query_buffer.load(Relaxed).max(0),
            omem,
            omem,
            cmd,
            self.user_name(),
            redir,
            self.resp.load(Relaxed),
            self.lib_name.lock().clone().unwrap_or_default(),
            self.lib_ver.lock().clone().unwrap_or_default(),
        )
    }

    pub fn idle_secs(&self) -> u64 {
        let now = self.created.elapsed().as_millis() as u64;
        now.saturating_sub(self.last_active_ms.load(Relaxed)) / 1000
    }
}

#[derive(Default)]
pub struct ClientRegistry {
    next_id: AtomicU64,
    clients: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
}

impl ClientRegistry {
    pub fn register(&self, addr: SocketAddr, laddr: SocketAddr) -> Arc<ClientHandle> {
        let id = self.next_id.fetch_add(1, Relaxed) + 1;
        let handle = Arc::new(ClientHandle {
            id,
            addr,
            laddr,
            created: Instant::now(),
            name: Mutex::new(None),
            lib_name: Mutex::new(None),
            lib_ver: Mutex::new(None),
            last_active_ms: AtomicU64::new(0),
            last_command: AtomicUsize::new(0),
            last_subcommand: AtomicUsize::new(0),
            resp: AtomicU8::new(2),
            query_buffer: AtomicI64::new(0),
            sub: AtomicU64::new(0),
            psub: AtomicU64::new(0),
            ssub: AtomicU64::new(0),
            omem: AtomicU64::new(0),
            multi: AtomicI64::new(-1),
            blocked: AtomicBool::new(false),
            no_evict: AtomicBool::new(false),
            no_touch: AtomicBool::new(false),
            monitor: AtomicBool::new(false),
            fd: AtomicI32::new(-1),
            tracking: Mutex::new(ClientTracking::default()),
            tracking_pending: Mutex::new(Vec::new()),
            user: Mutex::new(None),
            pushes: Outbox::default(),
            killed: AtomicBool::new(false),
            kill_notify: Notify::new(),
        });
        self.clients.lock().insert(id, handle.clone());
        handle
    }

    pub fn unregister(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    /// The connected clients. A killed client counts as gone at once, as
    /// Redis frees it inside CLIENT KILL, though its task may still be
    /// closing its socket.
    pub fn snapshot(&self) -> Vec<Arc<ClientHandle>> {
        self.clients
            .lock()
            .values()
            .filter(|c| !c.is_killed())
            .cloned()
            .collect()
    }

    /// A connected client by id.
    pub fn get(&self, id: u64) -> Option<Arc<ClientHandle>> {
        self.clients
            .lock()
            .get(&id)
            .filter(|c| !c.is_killed())
            .cloned()
    }

    pub fn count(&self) -> usize {
        self.clients
            .lock()
            .values()
            .filter(|c| !c.is_killed())
            .count()
    }
}
