//! The registry of connected clients, for CLIENT LIST / INFO / KILL and
//! INFO clients.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{
    AtomicBool, AtomicI64, AtomicU64, AtomicU8, AtomicUsize, Ordering::Relaxed,
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
            killed: AtomicBool::new(false),
            kill_notify: Notify::new(),
        });
        self.clients.lock().insert(id, handle.clone());
        handle
    }

    pub fn unregister(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    pub fn snapshot(&self) -> Vec<Arc<ClientHandle>> {
        self.clients.lock().values().cloned().collect()
    }

    pub fn count(&self) -> usize {
        self.clients.lock().len()
    }
}
