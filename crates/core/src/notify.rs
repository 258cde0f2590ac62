//! Keyspace notifications: the one place commands report what they changed
//! and where those events become pub/sub messages on
//! `__keyspace@0__:<key>` (payload: the event) and `__keyevent@0__:<event>`
//! (payload: the key), as Redis's `notify.c` does.
//!
//! Handlers call [`emit`] only when the command really changed something,
//! with Redis 7.2's event names. With `notify-keyspace-events` empty (the
//! default) and no replica asking for them, an event costs two relaxed
//! atomic loads.
//!
//! A master that feeds replicas which raise notifications (they say so
//! with `REPLCONF keyspace-events 1`) also records each event its writes raise,
//! whatever its own setting, into the batch that carries them
//! (`crate::command_log`): a replica raises exactly those, with its own
//! setting. [`needed`] tells handlers whether to work out an event.

use crate::shared::Shared;
use basalt_config::KeyspaceEvents;
use basalt_types::list::End;
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use std::sync::Arc;

pub const GENERIC: u32 = KeyspaceEvents::GENERIC;
pub const STRING: u32 = KeyspaceEvents::STRING;
pub const LIST: u32 = KeyspaceEvents::LIST;
pub const SET: u32 = KeyspaceEvents::SET;
pub const HASH: u32 = KeyspaceEvents::HASH;
pub const ZSET: u32 = KeyspaceEvents::ZSET;
pub const STREAM: u32 = KeyspaceEvents::STREAM;
pub const EXPIRED: u32 = KeyspaceEvents::EXPIRED;
pub const NEW: u32 = KeyspaceEvents::NEW;
pub const KEY_MISS: u32 = KeyspaceEvents::KEY_MISS;

const KEYSPACE: u32 = KeyspaceEvents::KEYSPACE;
const KEYEVENT: u32 = KeyspaceEvents::KEYEVENT;

/// The live copy of `notify-keyspace-events`, updated by CONFIG SET.
pub struct Notifier {
    flags: AtomicU32,
    /// A replica that raises notifications streams from this node: its
    /// writes record their events.
    for_replicas: AtomicBool,
}

impl Notifier {
    pub fn new(events: KeyspaceEvents) -> Notifier {
        let n = Notifier {
            flags: AtomicU32::new(0),
            for_replicas: AtomicBool::new(false),
        };
        n.set_flags(events);
        n
    }

    pub fn set_flags(&self, events: KeyspaceEvents) {
        // Without K or E no channel is selected: store 0 so the hot path
        // needs one test.
        let bits = if events.is_active() { events.bits() } else { 0 };
        self.flags.store(bits, Relaxed);
    }

    /// Whether events of `class` are published at all.
    #[inline]
    pub fn wants(&self, class: u32) -> bool {
        self.flags.load(Relaxed) & class != 0
    }

    /// Set by the replication layer while at least one replica that
    /// raises notifications (or feeds one that does) streams from this
    /// node.
    pub fn set_for_replicas(&self, on: bool) {
        self.for_replicas.store(on, Relaxed);
    }

    /// Whether writes record their events for replicas now (see
    /// `crate::dispatch`, which collects them).
    #[inline]
    pub fn for_replicas(&self) -> bool {
        self.for_replicas.load(Relaxed)
    }
}

/// Whether the events of the running command are recorded for replicas.
/// The dispatcher collects only while `for_replicas` is on, so the atomic
/// load spares every other write the thread-local lookup.
#[inline]
fn recording(shared: &Shared) -> bool {
    shared.notify.for_replicas() && basalt_engine::log_data::collecting_now()
}

/// Whether a handler must work out events of `class` (a read the event
/// depends on): someone here listens for them, or they are recorded for
/// replicas.
#[inline]
pub fn needed(shared: &Shared, class: u32) -> bool {
    shared.notify.wants(class) || recording(shared)
}

/// Reports that `event` (of `class`) happened to `key`.
#[inline]
pub fn emit(shared: &Arc<Shared>, class: u32, event: &str, key: &[u8]) {
    if recording(shared) {
        basalt_engine::log_data::note(|out| {
            crate::command_log::push_event(out, event, class, key);
        });
    }
    if shared.notify.wants(class) && shared.pubsub.has_listeners() {
        publish(shared, event, key);
    }
}

/// `event`, then `del` when it emptied the key: Redis deletes a
/// collection with its last element and reports both.
pub fn emit_removal(shared: &Arc<Shared>, class: u32, event: &'static str, key: &[u8]) {
    let listened = shared.notify.wants(class | GENERIC) && shared.pubsub.has_listeners();
    if !listened && !recording(shared) {
        return;
    }
    emit(shared, class, event, key);
    // Checked after the fact: outside the command's key lock unless the
    // command runs in a transaction (as it does while feeding replicas),
    // so a writer racing in between can hide the `del`, which only
    // matters when notifications are on.
    if needed(shared, GENERIC) && shared.data().db.exists(&[key]).is_ok_and(|n| n == 0) {
        emit(shared, GENERIC, "del", key);
    }
}

/// LMOVE / RPOPLPUSH / BLMOVE, in Redis's order: the push on the
/// destination, the pop on the source, then `del` if the source emptied.
pub fn emit_list_move(shared: &Arc<Shared>, src: &[u8], dst: &[u8], from: End, to: End) {
    let push = match to {
        End::Left => "lpush",
        End::Right => "rpush",
    };
    emit(shared, LIST, push, dst);
    emit_removal(shared, LIST, pop_event(from), src);
}

pub fn pop_event(end: End) -> &'static str {
    match end {
        End::Left => "lpop",
        End::Right => "rpop",
    }
}

/// For the STORE commands: whether the destination existed before, which
/// decides the `del` of an empty result. Read only when it can matter.
pub fn dst_existed(
    ctx: &crate::context::Ctx,
    dst: &[u8],
) -> Result<bool, crate::error::CommandError> {
    Ok(needed(ctx.shared, GENERIC) && ctx.db().exists(&[dst])? > 0)
}

/// SINTERSTORE & co.: `event` on the destination when the result has
/// elements; an empty result deletes the destination (`del` if it existed).
pub fn emit_store(
    shared: &Arc<Shared>,
    class: u32,
    event: &'static str,
    dst: &[u8],
    len: u64,
    existed: bool,
) {
    if len > 0 {
        emit(shared, class, event, dst);
    } else if existed {
        emit(shared, GENERIC, "del", dst);
    }
}

#[cold]
fn publish(shared: &Arc<Shared>, event: &str, key: &[u8]) {
    deliver(shared, messages(shared, event, key));
}

/// The `(channel, payload)` pairs for one event: keyspace, then keyevent.
fn messages(shared: &Shared, event: &str, key: &[u8]) -> Messages {
    let flags = shared.notify.flags.load(Relaxed);
    let mut messages = Vec::with_capacity(2);
    if flags & KEYSPACE != 0 {
        let mut channel = b"__keyspace@0__:".to_vec();
        channel.extend_from_slice(key);
        messages.push((channel, event.as_bytes().to_vec()));
    }
    if flags & KEYEVENT != 0 {
        let mut channel = b"__keyevent@0__:".to_vec();
        channel.extend_from_slice(event.as_bytes());
        messages.push((channel, key.to_vec()));
    }
    messages
}

/// The `m` class: Redis reports `keymiss` when a command's read finds no
/// key. Called before the command runs, with `m` on only: the keys of
/// read-only commands, and the sources of the write commands that read
/// theirs like Redis does (SORT, SINTERSTORE/SUNIONSTORE/SDIFFSTORE).
#[inline]
pub fn key_misses(shared: &Arc<Shared>, command: &crate::command::Command, args: &[bytes::Bytes]) {
    if shared.notify.wants(KEY_MISS) {
        publish_key_misses(shared, command, args);
    }
}

#[cold]
fn publish_key_misses(
    shared: &Arc<Shared>,
    command: &crate::command::Command,
    args: &[bytes::Bytes],
) {
    if !shared.pubsub.has_listeners() {
        return;
    }
    if command.has(crate::command::flags::NO_KEYMISS) {
        return;
    }
    // The keys it reads: every key of a read-only command, the sources of
    // a STORE command (SORT, SUNIONSTORE, COPY, ...), as Redis's lookups
    // for reading report them.
    let read_keys: Vec<usize> = command
        .key_access(args)
        .into_iter()
        .filter(|&(_, access)| access == crate::command::KeyAccess::Read)
        .map(|(i, _)| i)
        .collect();
    for i in read_keys {
        if shared
            .data()
            .db
            .exists(&[args[i].as_ref()])
            .is_ok_and(|n| n == 0)
        {
            publish(shared, "keymiss", &args[i]);
        }
    }
}

type Messages = Vec<(Vec<u8>, Vec<u8>)>;

thread_local! {
    /// Events of the command running on this thread, held back while a
    /// `new` event may still have to go before them (see [`NewKeys`]).
    static HELD: RefCell<Option<Messages>> = const { RefCell::new(None) };
}

/// Sends events now, or holds them while [`NewKeys`] is ordering them.
fn deliver(shared: &Arc<Shared>, messages: Messages) {
    let messages = HELD.with(|held| match held.borrow_mut().as_mut() {
        Some(buffer) => {
            buffer.extend(messages);
            None
        }
        None => Some(messages),
    });
    if let Some(messages) = messages {
        send(shared, messages);
    }
}

/// The single point where notifications leave for subscribers: after the
/// running transaction (EXEC, a script) commits, at once outside one, and
/// never if it aborts, so nobody hears of a change before it is visible.
fn send(shared: &Arc<Shared>, messages: Messages) {
    if messages.is_empty() {
        return;
    }
    let s = shared.clone();
    shared.data().storage.after_commit(move || {
        for (channel, payload) in messages {
            s.pubsub.publish(false, &channel, &payload);
        }
    });
}

/// The `n` class: Redis reports `new` when a key is added to the
/// database, before the command's own event. Basalt's data types do not
/// say whether they created a key, so with `n` on the connection checks a
/// write command's keys before and after it runs and holds the command's
/// events back until the `new` ones are out.
pub struct NewKeys {
    missing: Vec<bytes::Bytes>,
    /// RENAME creates its destination before reporting `rename_from`.
    new_first: bool,
}

impl NewKeys {
    /// `keys` are the command's keys (SORT's include its STORE destination).
    pub fn watch<'a>(
        shared: &Arc<Shared>,
        keys: impl Iterator<Item = &'a bytes::Bytes>,
        args: &'a [bytes::Bytes],
    ) -> Option<NewKeys> {
        if !shared.notify.wants(NEW) || !shared.pubsub.has_listeners() {
            return None;
        }
        // Nested (a command run by EXEC): the outer watch orders them.
        if HELD.with(|held| held.borrow().is_some()) {
            return None;
        }
        // COPY ... REPLACE deletes and re-adds its destination: Redis
        // reports it as new even when it existed.
        let replaced = args
            .first()
            .filter(|name| name.eq_ignore_ascii_case(b"copy"))
            .filter(|_| args[3..].iter().any(|a| a.eq_ignore_ascii_case(b"replace")))
            .and_then(|_| args.get(2));
        let mut missing: Vec<bytes::Bytes> = keys
            .filter(|k| Some(*k) != replaced)
            .filter(|k| shared.data().db.exists(&[k.as_ref()]).is_ok_and(|n| n == 0))
            .cloned()
            .collect();
        missing.extend(replaced.cloned());
        HELD.with(|held| *held.borrow_mut() = Some(Vec::new()));
        let new_first = args.first().is_some_and(|name| {
            name.eq_ignore_ascii_case(b"rename") || name.eq_ignore_ascii_case(b"renamenx")
        });
        Some(NewKeys { missing, new_first })
    }

    /// Publishes each created key's `new` right before the first held
    /// event about that key (Redis's order), then the held events.
    pub fn finish(mut self, shared: &Arc<Shared>) {
        let held = HELD
            .with(|held| held.borrow_mut().take())
            .unwrap_or_default();
        let mut created: Vec<bytes::Bytes> = Vec::new();
        for key in std::mem::take(&mut self.missing) {
            if !created.contains(&key)
                && shared
                    .data()
                    .db
                    .exists(&[key.as_ref()])
                    .is_ok_and(|n| n > 0)
            {
                created.push(key);
            }
        }
        let mut ordered = Messages::with_capacity(held.len() + 2 * created.len());
        if self.new_first {
            for key in created.drain(..) {
                ordered.extend(messages(shared, "new", &key));
            }
        }
        for (channel, payload) in held {
            let key = match channel.strip_prefix(b"__keyspace@0__:".as_slice()) {
                Some(key) => key,
                None => payload.as_slice(),
            };
            if let Some(i) = created.iter().position(|k| k.as_ref() == key) {
                ordered.extend(messages(shared, "new", &created.swap_remove(i)));
            }
            ordered.push((channel, payload));
        }
        for key in created {
            ordered.extend(messages(shared, "new", &key));
        }
        send(shared, ordered);
    }
}

/// A handler that panicked never reaches `finish`: without this, the
/// thread would hold back every later command's events forever.
impl Drop for NewKeys {
    fn drop(&mut self) {
        HELD.with(|held| held.borrow_mut().take());
    }
}
