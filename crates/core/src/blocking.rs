//! Clients blocked in BLPOP & co., and serving them when a key changes.
//!
//! As in Redis, a blocked client is served by the writer: after a write
//! command, the connection that ran it retries each waiter's command on the
//! keys it touched, oldest waiter first, and hands the reply over. An
//! element is only removed for a waiter that is still waiting (its state is
//! claimed first), so a waiter that timed out or disconnected never loses
//! one.
//!
//! Redis serves waiters before the next command runs; here other commands
//! run meanwhile, on other threads. So that a blocking command arriving
//! between a push and the push's serve cannot take the element ahead of
//! the older waiters it was pushed for, a write to keys clients wait on is
//! announced before it runs ([`BlockingRegistry::announce`]), and a
//! newcomer that found others waiting makes its first attempt only in
//! its turn, or when no announced write is still to be served.

use basalt_resp::Reply;
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{oneshot, Notify};

use crate::clients::ClientHandle;
use crate::error::CommandError;
use crate::shared::Shared;

/// Retries a blocked command without blocking: `Ok(None)` = still nothing
/// to return. Also returns keys it wrote to that may unblock others
/// (BLMOVE's destination).
pub type Retry = fn(&Arc<Shared>, &[Bytes]) -> RetryResult;
pub type RetryResult = Result<Option<(Reply, Vec<Bytes>)>, CommandError>;

thread_local! {
    /// The RESP version of the blocked client whose command is being
    /// retried on this thread, for retries whose reply shape differs by
    /// protocol (XREAD: a map in RESP3, pairs in RESP2).
    static SERVED_RESP: std::cell::Cell<Option<u8>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` as the retry of `client`'s blocked command.
pub fn as_served<T>(client: &ClientHandle, f: impl FnOnce() -> T) -> T {
    let before = SERVED_RESP.with(|c| c.replace(Some(client.resp.load(Ordering::Relaxed))));
    let out = f();
    SERVED_RESP.with(|c| c.set(before));
    out
}

/// Whether the blocked client being served speaks RESP3.
pub fn served_resp3() -> bool {
    SERVED_RESP.with(|c| c.get()) == Some(3)
}

const WAITING: u8 = 0;
const SERVING: u8 = 1;
const DONE: u8 = 2;

/// How CLIENT UNBLOCK ends a wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unblock {
    Timeout,
    Error,
}

pub struct Waiter {
    pub client_id: u64,
    /// The blocked client, as the dispatcher's statistics and slowlog name it
    /// when the command is served.
    pub handle: Arc<ClientHandle>,
    pub keys: Vec<Bytes>,
    args: Vec<Bytes>,
    retry: Retry,
    state: AtomicU8,
    /// No first attempt yet (see `Registered::try_first`, and a newcomer
    /// queued behind older waiters): that attempt, when it comes, reports
    /// WRONGTYPE.
    untried: AtomicBool,
    /// Counted in INFO's blocked_clients: blocked, not only registered
    /// for its first attempt.
    counted: AtomicBool,
    reply: Mutex<Option<oneshot::Sender<Reply>>>,
    unblock: Mutex<Option<Unblock>>,
    pub unblocked: Notify,
}

impl Waiter {
    /// A waiter that has not made its first attempt yet.
    fn new(
        handle: Arc<ClientHandle>,
        keys: Vec<Bytes>,
        args: Vec<Bytes>,
        retry: Retry,
    ) -> (Arc<Waiter>, oneshot::Receiver<Reply>) {
        let (tx, rx) = oneshot::channel();
        let waiter = Arc::new(Waiter {
            client_id: handle.id,
            handle,
            keys,
            args,
            retry,
            state: AtomicU8::new(WAITING),
            untried: AtomicBool::new(true),
            counted: AtomicBool::new(false),
            reply: Mutex::new(Some(tx)),
            unblock: Mutex::new(None),
            unblocked: Notify::new(),
        });
        (waiter, rx)
    }

    /// Ends the wait from the waiter's side (timeout, disconnect, UNBLOCK).
    /// False when a writer is serving it: its reply is on the way.
    pub fn give_up(&self) -> bool {
        self.state
            .compare_exchange(WAITING, DONE, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// The blocked command's arguments.
    pub fn args(&self) -> &[Bytes] {
        &self.args
    }

    pub fn unblock_reason(&self) -> Option<Unblock> {
        *self.unblock.lock()
    }

    fn claim(&self) -> bool {
        self.state
            .compare_exchange(WAITING, SERVING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

/// A blocking command's waiter, registered before the command's first
/// attempt so that a client arriving while that attempt runs queues
/// behind it, as it would behind a client Redis had already blocked.
/// Handed to the connection to wait on; a wait that never starts (the
/// request dropped) is ended and unregistered.
pub struct Registered {
    pub waiter: Arc<Waiter>,
    pub served: Option<oneshot::Receiver<Reply>>,
    shared: Arc<Shared>,
}

impl Registered {
    /// Runs the command's own first attempt, unless a serve claimed the
    /// waiter first (its reply is then on the way: `Ok(None)`). A result,
    /// or an error, ends the wait.
    pub fn try_first<T, E>(
        &self,
        attempt: impl FnOnce() -> Result<Option<T>, E>,
    ) -> Result<Option<T>, E> {
        if !self.waiter.claim() {
            return Ok(None);
        }
        self.waiter.untried.store(false, Ordering::Release);
        let outcome = attempt();
        if matches!(outcome, Ok(None)) {
            self.shared.blocking.count(&self.waiter);
            self.waiter.state.store(WAITING, Ordering::Release);
        } else {
            self.waiter.state.store(DONE, Ordering::Release);
        }
        outcome
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.waiter.give_up();
        self.shared.blocking.unregister(&self.waiter);
    }
}

impl std::fmt::Debug for Registered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registered")
            .field("client_id", &self.waiter.client_id)
            .finish()
    }
}

/// Who comes first on a key.
enum InLine {
    Waiting(Arc<Waiter>),
    /// Its command's own first attempt holds it (`Registered::try_first`);
    /// serves hold the serve lock, so no serve does.
    Trying,
    Nobody,
}

/// What one attempt at a claimed waiter's command came to.
enum Attempt {
    /// It got its reply; these keys were written for others to take.
    Served(Vec<Bytes>),
    StillWaiting,
}

/// A write to keys clients wait on, from before it runs until its serve
/// does (or it is dropped unserved, as when its transaction fails).
pub struct Announced {
    shared: Arc<Shared>,
    keys: Vec<Bytes>,
}

impl Drop for Announced {
    fn drop(&mut self) {
        let mut announced = self.shared.blocking.announced.lock();
        for key in &self.keys {
            if let Some(n) = announced.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    announced.remove(key);
                }
            }
        }
    }
}

#[derive(Default)]
pub struct BlockingRegistry {
    by_key: Mutex<HashMap<Bytes, VecDeque<Arc<Waiter>>>>,
    by_client: Mutex<HashMap<u64, Arc<Waiter>>>,
    /// Clients blocked (INFO blocked_clients).
    waiting: AtomicUsize,
    /// Waiters registered, blocked or making their first attempt.
    queued: AtomicUsize,
    /// One serve at a time, as Redis serves its blocked clients from its
    /// one thread: two serves interleaving could hand an element to a later
    /// waiter while an earlier one is being served. Never held while a key
    /// lock is (serves run after their write released its locks).
    serving: Mutex<()>,
    /// Keys of writes announced and not yet served, with how many.
    announced: Mutex<HashMap<Bytes, usize>>,
}

impl BlockingRegistry {
    /// Clients blocked right now (INFO blocked_clients).
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    pub fn has_waiters(&self) -> bool {
        self.queued.load(Ordering::Acquire) > 0
    }

    /// Every key some client waits on.
    pub fn waited_keys(&self) -> Vec<Bytes> {
        self.by_key.lock().keys().cloned().collect()
    }

    /// Whether a client already waits on one of `keys`: a newcomer then
    /// queues behind it instead of taking what a push left for it.
    pub fn has_waiters_on(&self, keys: &[Bytes]) -> bool {
        if !self.has_waiters() {
            return false;
        }
        let by_key = self.by_key.lock();
        keys.iter()
            .any(|k| by_key.get(k).is_some_and(|q| !q.is_empty()))
    }

    /// Marks `keys` as about to be written: a newcomer waiting on them
    /// leaves its first attempt to this write's serve (`serve_announced`).
    pub fn announce(shared: &Arc<Shared>, keys: Vec<Bytes>) -> Announced {
        let mut announced = shared.blocking.announced.lock();
        for key in &keys {
            *announced.entry(key.clone()).or_default() += 1;
        }
        drop(announced);
        Announced {
            shared: shared.clone(),
            keys,
        }
    }

    fn announced_any(&self, keys: &[Bytes]) -> bool {
        let announced = self.announced.lock();
        !announced.is_empty() && keys.iter().any(|k| announced.contains_key(k))
    }

    /// Serves the waiters of an announced write's keys, once it is
    /// visible.
    pub fn serve_announced(&self, shared: &Arc<Shared>, write: Announced) {
        let pending: VecDeque<Bytes> = write.keys.iter().cloned().collect();
        let _serving = self.serving.lock();
        // Withdrawn under the serve lock: a newcomer sees either the mark
        // or what this serve did.
        drop(write);
        self.serve_locked(shared, pending);
    }

    /// Ends a claimed waiter's wait with `reply`.
    fn deliver(&self, waiter: &Arc<Waiter>, reply: Reply) {
        waiter.state.store(DONE, Ordering::Release);
        self.unregister(waiter);
        let sender = waiter.reply.lock().take();
        if let Some(tx) = sender {
            let _ = tx.send(reply);
        }
    }

    /// Registers a blocking command's waiter before its first attempt
    /// (`Registered::try_first`). Also returns whether others already
    /// waited on its keys: the first attempt is then left to serves, in
    /// its turn.
    pub fn enqueue(
        shared: &Arc<Shared>,
        handle: Arc<ClientHandle>,
        keys: Vec<Bytes>,
        args: Vec<Bytes>,
        retry: Retry,
    ) -> (Registered, bool) {
        let behind = shared.blocking.has_waiters_on(&keys);
        let (waiter, served) = Waiter::new(handle, keys, args, retry);
        shared.blocking.insert(&waiter);
        if behind {
            shared.blocking.count(&waiter);
        }
        let registered = Registered {
            waiter,
            served: Some(served),
            shared: shared.clone(),
        };
        (registered, behind)
    }

    fn count(&self, waiter: &Waiter) {
        if !waiter.counted.swap(true, Ordering::AcqRel) {
            self.waiting.fetch_add(1, Ordering::AcqRel);
        }
    }

    fn insert(&self, waiter: &Arc<Waiter>) {
        let mut by_key = self.by_key.lock();
        for key in &waiter.keys {
            let queue = by_key.entry(key.clone()).or_default();
            if !queue.iter().any(|w| Arc::ptr_eq(w, waiter)) {
                queue.push_back(waiter.clone());
            }
        }
        self.by_client
            .lock()
            .insert(waiter.client_id, waiter.clone());
        self.queued.fetch_add(1, Ordering::AcqRel);
    }

    pub fn unregister(&self, waiter: &Arc<Waiter>) {
        let mut by_key = self.by_key.lock();
        let mut removed = false;
        for key in &waiter.keys {
            if let Some(queue) = by_key.get_mut(key) {
                let before = queue.len();
                queue.retain(|w| !Arc::ptr_eq(w, waiter));
                removed |= queue.len() != before;
                if queue.is_empty() {
                    by_key.remove(key);
                }
            }
        }
        let mut by_client = self.by_client.lock();
        if by_client
            .get(&waiter.client_id)
            .is_some_and(|w| Arc::ptr_eq(w, waiter))
        {
            by_client.remove(&waiter.client_id);
        }
        if removed {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            if waiter.counted.swap(false, Ordering::AcqRel) {
                self.waiting.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }

    /// CLIENT UNBLOCK: true when the client was blocked.
    pub fn unblock(&self, client_id: u64, how: Unblock) -> bool {
        let Some(waiter) = self.by_client.lock().get(&client_id).cloned() else {
            return false;
        };
        if waiter.state.load(Ordering::Acquire) != WAITING {
            return false;
        }
        *waiter.unblock.lock() = Some(how);
        waiter.unblocked.notify_one();
        true
    }

    /// Ends the wait of each blocked client `reply_for` gives a reply for,
    /// with that reply (a cluster node that no longer serves the slot of a
    /// client's keys answers MOVED, as Redis's
    /// `clusterRedirectBlockedClientIfNeeded`). Returns how many ended.
    pub fn end_waits(
        &self,
        shared: &Shared,
        reply_for: impl Fn(&Waiter) -> Option<Reply>,
    ) -> usize {
        if !self.has_waiters() {
            return 0;
        }
        let waiters: Vec<Arc<Waiter>> = self.by_client.lock().values().cloned().collect();
        let _serving = self.serving.lock();
        let mut ended = 0;
        for waiter in waiters {
            let Some(reply) = reply_for(&waiter) else {
                continue;
            };
            if !waiter.claim() {
                continue;
            }
            crate::dispatch::blocked_ended(shared, &waiter.handle, &waiter.args, &reply);
            self.deliver(&waiter, reply);
            ended += 1;
        }
        ended
    }

    /// Serves waiters of `keys` (and of keys their commands write to), each
    /// key's waiters in the order they blocked, until a waiter's retry finds
    /// nothing; then the newcomers queued on them that are still to make
    /// their first attempt, unless a write to their keys is announced.
    pub fn serve(&self, shared: &Arc<Shared>, keys: impl IntoIterator<Item = Bytes>) {
        let pending: VecDeque<Bytes> = keys.into_iter().collect();
        if pending.is_empty() {
            return;
        }
        let _serving = self.serving.lock();
        self.serve_locked(shared, pending);
    }

    /// `serve` with the serve lock held.
    fn serve_locked(&self, shared: &Arc<Shared>, mut pending: VecDeque<Bytes>) {
        let mut rounds = 0;
        'keys: while let Some(key) = pending.pop_front() {
            rounds += 1;
            // A BLMOVE ring could otherwise feed itself forever.
            if rounds > 10_000 {
                break;
            }
            loop {
                let waiter = match self.first_in_line(&key) {
                    InLine::Waiting(waiter) => waiter,
                    InLine::Nobody => break,
                    // Its own command is making its first attempt: the
                    // serve that follows that attempt serves the key.
                    InLine::Trying => continue 'keys,
                };
                if !waiter.claim() {
                    continue;
                }
                let first = waiter.untried.swap(false, Ordering::AcqRel);
                match self.attempt(shared, &waiter, first) {
                    Attempt::Served(touched) => pending.extend(touched),
                    Attempt::StillWaiting => break,
                }
            }
            // The waiter before them found nothing: what a newcomer finds
            // now is no older waiter's, unless an announced write is
            // still to be served, whose serve will reach it in its turn.
            for waiter in self.queued_on(&key, |w| w.untried.load(Ordering::Acquire)) {
                if self.announced_any(&waiter.keys) || !waiter.claim() {
                    continue;
                }
                waiter.untried.store(false, Ordering::Release);
                if let Attempt::Served(touched) = self.attempt(shared, &waiter, true) {
                    pending.extend(touched);
                }
            }
        }
    }

    /// The first client in `key`'s queue whose wait has not ended.
    fn first_in_line(&self, key: &Bytes) -> InLine {
        let by_key = self.by_key.lock();
        let first = by_key.get(key).and_then(|q| {
            q.iter()
                .find(|w| w.state.load(Ordering::Acquire) != DONE)
                .cloned()
        });
        match first {
            None => InLine::Nobody,
            Some(w) if w.state.load(Ordering::Acquire) == WAITING => InLine::Waiting(w),
            Some(_) => InLine::Trying,
        }
    }

    /// The still-waiting clients queued on `key` that `filter` keeps, in
    /// the order they blocked.
    fn queued_on(&self, key: &Bytes, filter: impl Fn(&Waiter) -> bool) -> Vec<Arc<Waiter>> {
        let by_key = self.by_key.lock();
        by_key.get(key).map_or_else(Vec::new, |q| {
            q.iter()
                .filter(|w| w.state.load(Ordering::Acquire) == WAITING && filter(w))
                .cloned()
                .collect()
        })
    }

    /// Retries a claimed waiter's command. A key that now holds another
    /// type keeps the client blocked, as in Redis; only the first attempt
    /// reports WRONGTYPE.
    fn attempt(&self, shared: &Arc<Shared>, waiter: &Arc<Waiter>, first: bool) -> Attempt {
        let outcome =
            crate::dispatch::retry_blocked(shared, &waiter.handle, &waiter.args, waiter.retry);
        let (reply, touched) = match outcome {
            Ok(None) => {
                waiter.state.store(WAITING, Ordering::Release);
                return Attempt::StillWaiting;
            }
            Err(CommandError::Data(basalt_types::Error::WrongType)) if !first => {
                waiter.state.store(WAITING, Ordering::Release);
                return Attempt::StillWaiting;
            }
            Ok(Some((reply, touched))) => (reply, touched),
            Err(e) => (e.to_reply(), Vec::new()),
        };
        self.deliver(waiter, reply);
        Attempt::Served(touched)
    }
}
