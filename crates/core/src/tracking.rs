//! Client-side caching (CLIENT TRACKING), as Redis's `tracking.c`: which
//! clients may hold which keys in a local cache, and the invalidation
//! messages that tell them a key changed.
//!
//! Default mode: the keys of every read-only command a tracking client runs
//! (inside MULTI/EXEC and scripts too) are remembered in one table, key →
//! client ids. When a command writes a key, every client remembered for it
//! gets an invalidation and the key is forgotten, so a client hears of a key
//! once per read. BCAST mode remembers nothing: a client registers prefixes
//! and hears of every written key under them. FLUSHALL/FLUSHDB send every
//! tracking client a null ("all keys").
//!
//! Unlike Redis, readers and writers run at the same time here, so the
//! order matters: a reader is remembered *before* its command reads, and a
//! writer invalidates *after* its write is visible (at commit). Either the
//! writer's invalidation sees the reader in the table, or the reader read
//! the new value; a client never keeps a stale value without hearing of it.
//!
//! Messages go into the receiver's outbox (`crate::outbox`) as RESP3 pushes
//! (`>2 invalidate [keys]`), or, for a RESP2 client that redirected them to
//! a subscriber, as a pub/sub message on `__redis__:invalidate`. A client's
//! invalidations of keys it changed itself wait in its handle until its
//! command's reply has been written, as in Redis.
//!
//! The table is bounded by `tracking-table-max-keys`: past it, keys are
//! forgotten with an invalidation to their clients.

use crate::clients::ClientHandle;
use crate::shared::Shared;
use basalt_config::BufferLimit;
use basalt_resp::{Protocol, Reply};
use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

/// The channel RESP2 clients receive redirected invalidations on.
pub const INVALIDATE_CHANNEL: &[u8] = b"__redis__:invalidate";

/// One client's CLIENT TRACKING settings; lives in its `ClientHandle`.
#[derive(Clone, Debug, Default)]
pub struct ClientTracking {
    pub on: bool,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// CLIENT CACHING YES (under OPTIN) or NO (under OPTOUT): applies to
    /// the next command or transaction only.
    pub caching: bool,
    /// The redirect target was gone when an invalidation was due.
    pub broken_redirect: bool,
    /// Client id invalidations go to; 0 = this client.
    pub redirect: u64,
    /// BCAST prefixes (the empty prefix: every key).
    pub prefixes: BTreeSet<Bytes>,
}

impl ClientTracking {
    /// Whether this client's reads are remembered now: default mode,
    /// unless OPTIN without CACHING YES or OPTOUT with CACHING NO.
    fn remembers_reads(&self) -> bool {
        self.on && !self.bcast && !((self.optin && !self.caching) || (self.optout && self.caching))
    }
}

/// CLIENT TRACKING ON's options.
#[derive(Debug, Default)]
pub struct TrackingOptions {
    pub redirect: u64,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    pub prefixes: Vec<Bytes>,
}

/// CLIENT TRACKING / CACHING refusals; their text is in `crate::error`.
#[derive(Debug, thiserror::Error)]
pub enum TrackingError {
    #[error("redirect given twice")]
    RedirectTwice,
    #[error("no client to redirect to")]
    NoRedirectTarget,
    #[error("PREFIX without BCAST")]
    PrefixWithoutBcast,
    #[error("BCAST switched while on")]
    BcastSwitch,
    #[error("OPTIN/OPTOUT with BCAST")]
    OptWithBcast,
    #[error("both OPTIN and OPTOUT")]
    OptinAndOptout,
    #[error("OPTIN/OPTOUT switched while on")]
    OptSwitch,
    #[error("prefix overlaps an existing one")]
    PrefixOverlapsExisting { prefix: Bytes, existing: Bytes },
    #[error("prefix overlaps another given")]
    PrefixOverlapsGiven { prefix: Bytes, other: Bytes },
    #[error("CLIENT CACHING without OPTIN/OPTOUT")]
    CachingNotTracking,
    #[error("CLIENT CACHING YES without OPTIN")]
    CachingYesWithoutOptin,
    #[error("CLIENT CACHING NO without OPTOUT")]
    CachingNoWithoutOptout,
}

/// What an invalidation says.
#[derive(Clone, Debug)]
pub enum Invalidated {
    Keys(Vec<Bytes>),
    /// After a flush: every key (a null in place of the key array).
    All,
}

/// The server-wide tracking state; lives in `Shared`.
#[derive(Default)]
pub struct Tracking {
    table: Mutex<Table>,
    /// Clients with tracking on (INFO tracking_clients).
    clients: AtomicUsize,
    /// Keys in the table: they outlive their clients' tracking (see
    /// `disable`), and stay until written or flushed, as in Redis.
    keys: AtomicUsize,
    /// `tracking-table-max-keys`, copied here on CONFIG SET; 0 = no limit.
    max_keys: AtomicU64,
}

#[derive(Default)]
struct Table {
    /// Key → ids of the clients that read it since it last changed. Ids,
    /// not handles: a client that went away is skipped when its key
    /// changes, as in Redis, instead of being looked for at disconnect.
    keys: HashMap<Bytes, HashSet<u64>>,
    /// Sum of the id sets' sizes (INFO tracking_total_items).
    items: usize,
    /// BCAST prefix → ids of the clients registered for it.
    prefixes: BTreeMap<Bytes, HashSet<u64>>,
}

thread_local! {
    /// Keys written by the commands a transaction or script ran on this
    /// thread so far: invalidated together when the outer command ends, so
    /// a BCAST client hears of a whole EXEC in one message per prefix.
    static WRITTEN: RefCell<Vec<Bytes>> = const { RefCell::new(Vec::new()) };
}

/// Records keys written inside a transaction or script (see `WRITTEN`).
pub fn note_written(keys: impl IntoIterator<Item = Bytes>) {
    WRITTEN.with(|w| w.borrow_mut().extend(keys));
}

/// The keys `note_written` recorded on this thread, emptying the list.
pub fn take_written() -> Vec<Bytes> {
    WRITTEN.with(|w| std::mem::take(&mut *w.borrow_mut()))
}

impl Tracking {
    pub fn new(max_keys: u64) -> Tracking {
        let t = Tracking::default();
        t.max_keys.store(max_keys, Relaxed);
        t
    }

    /// Whether any client tracks or any key is remembered: the one check
    /// writers and readers make when neither is so.
    #[inline]
    pub fn active(&self) -> bool {
        self.clients.load(Relaxed) > 0 || self.keys.load(Relaxed) > 0
    }

    /// INFO tracking_clients.
    pub fn client_count(&self) -> usize {
        self.clients.load(Relaxed)
    }

    /// INFO tracking_total_keys.
    pub fn key_count(&self) -> usize {
        self.table.lock().keys.len()
    }

    /// INFO tracking_total_items.
    pub fn item_count(&self) -> usize {
        self.table.lock().items
    }

    /// INFO tracking_total_prefixes.
    pub fn prefix_count(&self) -> usize {
        self.table.lock().prefixes.len()
    }

    /// CLIENT TRACKING ON, with Redis's checks in Redis's order.
    pub fn enable(
        &self,
        shared: &Shared,
        client: &ClientHandle,
        options: TrackingOptions,
    ) -> Result<(), TrackingError> {
        if !options.bcast && !options.prefixes.is_empty() {
            return Err(TrackingError::PrefixWithoutBcast);
        }
        if options.redirect != 0 && shared.clients.get(options.redirect).is_none() {
            return Err(TrackingError::NoRedirectTarget);
        }
        let mut t = client.tracking.lock();
        if t.on && t.bcast != options.bcast {
            return Err(TrackingError::BcastSwitch);
        }
        if options.bcast && (options.optin || options.optout) {
            return Err(TrackingError::OptWithBcast);
        }
        if options.optin && options.optout {
            return Err(TrackingError::OptinAndOptout);
        }
        if (options.optin && t.optout) || (options.optout && t.optin) {
            return Err(TrackingError::OptSwitch);
        }
        if options.bcast {
            check_prefixes(&t.prefixes, &options.prefixes)?;
        }
        if !t.on {
            self.clients.fetch_add(1, Relaxed);
        }
        t.on = true;
        t.broken_redirect = false;
        t.redirect = options.redirect;
        t.bcast = options.bcast;
        t.optin = options.optin;
        t.optout = options.optout;
        t.noloop = options.noloop;
        if options.bcast {
            let mut prefixes = options.prefixes;
            if prefixes.is_empty() {
                prefixes.push(Bytes::new());
            }
            let mut table = self.table.lock();
            for p in prefixes {
                table
                    .prefixes
                    .entry(p.clone())
                    .or_default()
                    .insert(client.id);
                t.prefixes.insert(p);
            }
        }
        Ok(())
    }

    /// CLIENT TRACKING OFF, RESET and disconnect. The client's remembered
    /// keys stay in the table until they change, as in Redis: dropping
    /// them would mean a walk over the whole table.
    pub fn disable(&self, client: &ClientHandle) {
        let mut t = client.tracking.lock();
        if !t.prefixes.is_empty() {
            let mut table = self.table.lock();
            for p in std::mem::take(&mut t.prefixes) {
                if let Some(ids) = table.prefixes.get_mut(&p) {
                    ids.remove(&client.id);
                    if ids.is_empty() {
                        table.prefixes.remove(&p);
                    }
                }
            }
        }
        if t.on {
            self.clients.fetch_sub(1, Relaxed);
        }
        *t = ClientTracking::default();
    }

    /// CLIENT CACHING YES|NO.
    pub fn set_caching(&self, client: &ClientHandle, yes: bool) -> Result<(), TrackingError> {
        let mut t = client.tracking.lock();
        if !t.on {
            return Err(TrackingError::CachingNotTracking);
        }
        match yes {
            true if !t.optin => Err(TrackingError::CachingYesWithoutOptin),
            false if !t.optout => Err(TrackingError::CachingNoWithoutOptout),
            _ => {
                t.caching = true;
                Ok(())
            }
        }
    }

    /// The command after CLIENT CACHING has run: the opt-in/out is spent.
    pub fn end_caching(&self, client: &ClientHandle) {
        if self.active() {
            client.tracking.lock().caching = false;
        }
    }

    /// Remembers that `client` is about to read `keys` (called before the
    /// read, see the module comment).
    pub fn remember(&self, shared: &Shared, client: &ClientHandle, keys: &[Bytes]) {
        if keys.is_empty() || !self.active() || !client.tracking.lock().remembers_reads() {
            return;
        }
        // Like Redis, the limit is enforced before a command adds its
        // keys, so the keys just read are not forgotten before their reply.
        self.enforce_limit(shared);
        let mut table = self.table.lock();
        let Table {
            keys: map, items, ..
        } = &mut *table;
        for key in keys {
            if map.entry(key.clone()).or_default().insert(client.id) {
                *items += 1;
            }
        }
        self.keys.store(map.len(), Relaxed);
    }

    /// `keys` changed (written by client `writer`, or by the server
    /// itself: expiry). Called once the change is visible.
    pub fn invalidate(&self, shared: &Shared, keys: &[Bytes], writer: Option<u64>) {
        if keys.is_empty() || !self.active() {
            return;
        }
        let mut by_client: BTreeMap<u64, Vec<Bytes>> = BTreeMap::new();
        let mut bcast: Vec<(Vec<u64>, Vec<Bytes>)> = Vec::new();
        {
            let mut table = self.table.lock();
            for (prefix, ids) in &table.prefixes {
                let matching: Vec<Bytes> = keys
                    .iter()
                    .filter(|k| k.starts_with(prefix))
                    .cloned()
                    .collect();
                if !matching.is_empty() {
                    bcast.push((ids.iter().copied().collect(), matching));
                }
            }
            let mut seen = HashSet::new();
            for key in keys {
                if !seen.insert(key) {
                    continue;
                }
                if let Some(ids) = table.keys.remove(key) {
                    table.items -= ids.len();
                    for id in ids {
                        by_client.entry(id).or_default().push(key.clone());
                    }
                }
            }
            self.keys.store(table.keys.len(), Relaxed);
        }
        // Default mode: one message per key, as Redis sends them.
        for (id, keys) in by_client {
            let Some(target) = shared.clients.get(id) else {
                continue;
            };
            {
                let t = target.tracking.lock();
                // A client that turned BCAST on since it read the key no
                // longer hears of it (Redis does the same).
                if !t.on || t.bcast || (t.noloop && writer == Some(id)) {
                    continue;
                }
            }
            for key in keys {
                self.deliver(shared, &target, Invalidated::Keys(vec![key]), writer);
            }
        }
        // BCAST: one message per prefix with all its keys.
        for (ids, keys) in bcast {
            for id in ids {
                if let Some(target) = shared.clients.get(id) {
                    if target.tracking.lock().noloop && writer == Some(id) {
                        continue;
                    }
                    self.deliver(shared, &target, Invalidated::Keys(keys.clone()), writer);
                }
            }
        }
    }

    /// FLUSHALL / FLUSHDB: every tracking client is told all keys are
    /// invalid, and the table is emptied.
    pub fn invalidate_all(&self, shared: &Shared, writer: Option<u64>) {
        if !self.active() {
            return;
        }
        {
            let mut table = self.table.lock();
            table.keys = HashMap::new();
            table.items = 0;
            self.keys.store(0, Relaxed);
        }
        if self.clients.load(Relaxed) == 0 {
            return;
        }
        for client in shared.clients.snapshot() {
            if client.tracking.lock().on {
                self.deliver(shared, &client, Invalidated::All, writer);
            }
        }
    }

    /// CONFIG SET tracking-table-max-keys.
    pub fn set_max_keys(&self, shared: &Shared, max: u64) {
        self.max_keys.store(max, Relaxed);
        self.enforce_limit(shared);
    }

    /// Forgets keys, with an invalidation to their clients, until the
    /// table is within `tracking-table-max-keys`. Which keys go is left to
    /// the hash map's order, as Redis picks them at random.
    fn enforce_limit(&self, shared: &Shared) {
        let max = self.max_keys.load(Relaxed) as usize;
        if max == 0 {
            return;
        }
        let evicted: Vec<Bytes> = {
            let table = self.table.lock();
            let over = table.keys.len().saturating_sub(max);
            table.keys.keys().take(over).cloned().collect()
        };
        // Each key alone: a key's eviction is not a write, and must not
        // reach BCAST clients (Redis passes bcast=0 here).
        for key in evicted {
            let ids = {
                let mut table = self.table.lock();
                let removed = table.keys.remove(&key);
                self.keys.store(table.keys.len(), Relaxed);
                match removed {
                    Some(ids) => {
                        table.items -= ids.len();
                        ids
                    }
                    None => continue,
                }
            };
            for id in ids {
                if let Some(target) = shared.clients.get(id) {
                    let t = target.tracking.lock();
                    if !t.on || t.bcast {
                        continue;
                    }
                    drop(t);
                    self.deliver(shared, &target, Invalidated::Keys(vec![key.clone()]), None);
                }
            }
        }
    }

    /// Sends an invalidation for `client`'s cache, or keeps it for after
    /// the reply when `client` is the one whose command caused it.
    fn deliver(
        &self,
        shared: &Shared,
        client: &ClientHandle,
        what: Invalidated,
        writer: Option<u64>,
    ) {
        if writer == Some(client.id) {
            client.tracking_pending.lock().push(what);
            return;
        }
        send(shared, client, &what);
    }

    /// Sends what `client`'s own command invalidated, once its reply has
    /// been queued.
    pub fn flush_pending(&self, shared: &Shared, client: &ClientHandle) {
        if client.tracking_pending.lock().is_empty() {
            return;
        }
        let pending = std::mem::take(&mut *client.tracking_pending.lock());
        for what in &pending {
            send(shared, client, what);
        }
    }
}

/// Redis's `sendTrackingMessage`: to the client, or to its redirect
/// target; RESP3 gets a push, a RESP2 target that is subscribed gets a
/// message on `__redis__:invalidate`, a RESP2 client without redirection
/// gets nothing (RESP2 has no way to say it on the same connection).
fn send(shared: &Shared, client: &ClientHandle, what: &Invalidated) {
    let redirect = client.tracking.lock().redirect;
    let target;
    let receiver = if redirect == 0 {
        client
    } else {
        match shared.clients.get(redirect) {
            Some(r) => {
                target = r;
                &*target
            }
            None => {
                client.tracking.lock().broken_redirect = true;
                if client.protocol() == Protocol::Resp3 {
                    let frame = Reply::Push(vec![
                        Reply::bulk(Bytes::from_static(b"tracking-redir-broken")),
                        Reply::Integer(redirect as i64),
                    ]);
                    client.push(encode(&frame, Protocol::Resp3), BufferLimit::default());
                }
                return;
            }
        }
    };
    let keys = match what {
        Invalidated::Keys(keys) => Reply::Array(keys.iter().cloned().map(Reply::Bulk).collect()),
        Invalidated::All => Reply::Null,
    };
    let protocol = receiver.protocol();
    let (frame, limit) = if protocol == Protocol::Resp3 {
        let frame = Reply::Push(vec![Reply::bulk(Bytes::from_static(b"invalidate")), keys]);
        (frame, BufferLimit::default())
    } else if redirect != 0 && receiver.is_subscribed() {
        let frame = Reply::Push(vec![
            Reply::bulk(Bytes::from_static(b"message")),
            Reply::bulk(Bytes::from_static(INVALIDATE_CHANNEL)),
            keys,
        ]);
        (frame, shared.pubsub.limit())
    } else {
        return;
    };
    receiver.push(encode(&frame, protocol), limit);
}

fn encode(reply: &Reply, protocol: Protocol) -> Bytes {
    let mut out = BytesMut::new();
    reply.encode(protocol, &mut out);
    out.freeze()
}

/// Redis's prefix overlap rule: two prefixes overlap when one starts the
/// other, since a key under the longer one would be reported twice.
fn check_prefixes(existing: &BTreeSet<Bytes>, given: &[Bytes]) -> Result<(), TrackingError> {
    let overlap = |a: &[u8], b: &[u8]| {
        let n = a.len().min(b.len());
        a[..n] == b[..n]
    };
    for (i, p) in given.iter().enumerate() {
        if let Some(e) = existing.iter().find(|e| overlap(e, p)) {
            return Err(TrackingError::PrefixOverlapsExisting {
                prefix: p.clone(),
                existing: e.clone(),
            });
        }
        if let Some(o) = given[i + 1..].iter().find(|o| overlap(p, o)) {
            return Err(TrackingError::PrefixOverlapsGiven {
                prefix: p.clone(),
                other: o.clone(),
            });
        }
    }
    Ok(())
}
