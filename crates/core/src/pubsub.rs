//! The pub/sub hub: who listens on which channel, pattern and shard
//! channel.
//!
//! PUBLISH encodes a message at most once per protocol and hands the same
//! `Bytes` to every receiver's outbox (`crate::outbox`, bounded by
//! `client-output-buffer-limit pubsub`); it never waits on a subscriber's
//! socket.

use crate::clients::ClientHandle;
use basalt_config::BufferLimit;
use basalt_resp::{Protocol, Reply};
use bytes::{Bytes, BytesMut};
use parking_lot::RwLock;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

/// The three subscription namespaces. Shard channels are separate from
/// ordinary channels even without cluster mode, as in Redis.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    fn subscribe_verb(self) -> &'static str {
        match self {
            Kind::Channel => "subscribe",
            Kind::Pattern => "psubscribe",
            Kind::Shard => "ssubscribe",
        }
    }

    fn unsubscribe_verb(self) -> &'static str {
        match self {
            Kind::Channel => "unsubscribe",
            Kind::Pattern => "punsubscribe",
            Kind::Shard => "sunsubscribe",
        }
    }
}

type Subscribers = HashMap<u64, Arc<ClientHandle>>;

#[derive(Default)]
pub struct Hub {
    channels: RwLock<HashMap<Bytes, Subscribers>>,
    patterns: RwLock<HashMap<Bytes, Subscribers>>,
    shard: RwLock<HashMap<Bytes, Subscribers>>,
    /// `client-output-buffer-limit pubsub`, copied here on CONFIG SET so
    /// PUBLISH reads it without the config lock.
    hard_bytes: AtomicU64,
    soft_bytes: AtomicU64,
    soft_seconds: AtomicU64,
}

impl Hub {
    pub fn new(limit: BufferLimit) -> Hub {
        let hub = Hub::default();
        hub.set_limit(limit);
        hub
    }

    pub fn set_limit(&self, limit: BufferLimit) {
        self.hard_bytes.store(limit.hard_bytes, Relaxed);
        self.soft_bytes.store(limit.soft_bytes, Relaxed);
        self.soft_seconds.store(limit.soft_seconds, Relaxed);
    }

    /// `client-output-buffer-limit pubsub`.
    pub fn limit(&self) -> BufferLimit {
        BufferLimit {
            hard_bytes: self.hard_bytes.load(Relaxed),
            soft_bytes: self.soft_bytes.load(Relaxed),
            soft_seconds: self.soft_seconds.load(Relaxed),
        }
    }

    fn map(&self, kind: Kind) -> &RwLock<HashMap<Bytes, Subscribers>> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard,
        }
    }

    /// PUBLISH / SPUBLISH: queues the message for every receiver and
    /// returns how many there were (a client listening through a channel
    /// and a pattern counts twice, as in Redis).
    pub fn publish(&self, shard: bool, channel: &[u8], payload: &[u8]) -> usize {
        let mut receivers = 0;
        let limit = self.limit();
        let kind = if shard { Kind::Shard } else { Kind::Channel };
        {
            let map = self.map(kind).read();
            if let Some(subs) = map.get(channel) {
                let verb: &[u8] = if shard { b"smessage" } else { b"message" };
                let parts = [verb, channel, payload];
                let frame = Frame::new(&parts);
                for client in subs.values() {
                    client.push(frame.bytes(client.protocol()), limit);
                }
                receivers += subs.len();
            }
        }
        if !shard {
            let map = self.patterns.read();
            for (pattern, subs) in map.iter() {
                if basalt_glob::glob_match(pattern, channel, false) {
                    let parts: [&[u8]; 4] = [b"pmessage", pattern, channel, payload];
                    let frame = Frame::new(&parts);
                    for client in subs.values() {
                        client.push(frame.bytes(client.protocol()), limit);
                    }
                    receivers += subs.len();
                }
            }
        }
        receivers
    }

    /// Whether anyone listens on a channel or any pattern: keyspace
    /// notifications skip building channel names when nobody would hear.
    pub fn has_listeners(&self) -> bool {
        !self.channels.read().is_empty() || !self.patterns.read().is_empty()
    }

    /// PUBSUB CHANNELS / SHARDCHANNELS: active channels matching `pattern`.
    pub fn channels(&self, shard: bool, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let kind = if shard { Kind::Shard } else { Kind::Channel };
        self.map(kind)
            .read()
            .keys()
            .filter(|c| pattern.is_none_or(|p| basalt_glob::glob_match(p, c, false)))
            .cloned()
            .collect()
    }

    /// PUBSUB NUMSUB / SHARDNUMSUB for one channel.
    pub fn subscriber_count(&self, shard: bool, channel: &[u8]) -> usize {
        let kind = if shard { Kind::Shard } else { Kind::Channel };
        self.map(kind).read().get(channel).map_or(0, |s| s.len())
    }

    /// PUBSUB NUMPAT: distinct patterns with a subscriber.
    pub fn pattern_count(&self) -> usize {
        self.patterns.read().len()
    }

    /// Distinct channels with a subscriber (INFO pubsub_channels).
    pub fn channel_count(&self) -> usize {
        self.channels.read().len()
    }

    /// Distinct shard channels with a subscriber (INFO pubsubshard_channels).
    pub fn shard_channel_count(&self) -> usize {
        self.shard.read().len()
    }

    /// One client's channels, patterns and shard channels, found by
    /// walking the maps (for ACL: are a subscriber's subscriptions still
    /// allowed after its user changed).
    pub fn subscriptions_of(&self, client: u64) -> (Vec<Bytes>, Vec<Bytes>, Vec<Bytes>) {
        let of = |kind| -> Vec<Bytes> {
            self.map(kind)
                .read()
                .iter()
                .filter(|(_, subs)| subs.contains_key(&client))
                .map(|(name, _)| name.clone())
                .collect()
        };
        (of(Kind::Channel), of(Kind::Pattern), of(Kind::Shard))
    }

    fn add(&self, kind: Kind, name: &Bytes, client: &Arc<ClientHandle>) {
        self.map(kind)
            .write()
            .entry(name.clone())
            .or_default()
            .insert(client.id, client.clone());
    }

    fn remove(&self, kind: Kind, name: &[u8], client: u64) {
        let mut map = self.map(kind).write();
        if let Some(subs) = map.get_mut(name) {
            subs.remove(&client);
            if subs.is_empty() {
                map.remove(name);
            }
        }
    }
}

/// One connection's subscriptions; lives in its `ClientState`.
#[derive(Default)]
pub struct Subscriptions {
    channels: HashSet<Bytes>,
    patterns: HashSet<Bytes>,
    shard: HashSet<Bytes>,
}

impl Subscriptions {
    fn set(&self, kind: Kind) -> &HashSet<Bytes> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard,
        }
    }

    fn set_mut(&mut self, kind: Kind) -> &mut HashSet<Bytes> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    /// Whether the connection is in Redis's "subscribed" state, which in
    /// RESP2 restricts the commands it may run.
    pub fn active(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shard.is_empty())
    }

    /// The count Redis puts in (un)subscribe confirmations: channels plus
    /// patterns, or shard channels alone for the shard commands.
    fn count(&self, kind: Kind) -> i64 {
        match kind {
            Kind::Shard => self.shard.len() as i64,
            _ => (self.channels.len() + self.patterns.len()) as i64,
        }
    }

    fn publish_counts(&self, handle: &ClientHandle) {
        handle.sub.store(self.channels.len() as u64, Relaxed);
        handle.psub.store(self.patterns.len() as u64, Relaxed);
        handle.ssub.store(self.shard.len() as u64, Relaxed);
    }

    /// (P|S)SUBSCRIBE: one confirmation per name, in argument order.
    pub fn subscribe(
        &mut self,
        hub: &Hub,
        handle: &Arc<ClientHandle>,
        kind: Kind,
        names: &[Bytes],
    ) -> Vec<Reply> {
        let mut replies = Vec::with_capacity(names.len());
        for name in names {
            if self.set_mut(kind).insert(name.clone()) {
                hub.add(kind, name, handle);
            }
            replies.push(confirmation(
                kind.subscribe_verb(),
                Reply::Bulk(name.clone()),
                self.count(kind),
            ));
        }
        self.publish_counts(handle);
        replies
    }

    /// (P|S)UNSUBSCRIBE: the named ones, or all of that kind when `names`
    /// is empty; with none to drop Redis still confirms once, with a null
    /// name.
    pub fn unsubscribe(
        &mut self,
        hub: &Hub,
        handle: &ClientHandle,
        kind: Kind,
        names: &[Bytes],
    ) -> Vec<Reply> {
        let names: Vec<Bytes> = if names.is_empty() {
            self.set(kind).iter().cloned().collect()
        } else {
            names.to_vec()
        };
        let mut replies = Vec::with_capacity(names.len().max(1));
        for name in names {
            if self.set_mut(kind).remove(&name) {
                hub.remove(kind, &name, handle.id);
            }
            replies.push(confirmation(
                kind.unsubscribe_verb(),
                Reply::Bulk(name),
                self.count(kind),
            ));
        }
        if replies.is_empty() {
            replies.push(confirmation(
                kind.unsubscribe_verb(),
                Reply::Null,
                self.count(kind),
            ));
        }
        self.publish_counts(handle);
        replies
    }

    /// RESET and disconnect: drop every subscription without replies.
    pub fn clear(&mut self, hub: &Hub, handle: &ClientHandle) {
        for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
            for name in std::mem::take(self.set_mut(kind)) {
                hub.remove(kind, &name, handle.id);
            }
        }
        self.publish_counts(handle);
    }
}

fn confirmation(verb: &'static str, name: Reply, count: i64) -> Reply {
    Reply::Push(vec![
        Reply::Bulk(Bytes::from_static(verb.as_bytes())),
        name,
        Reply::Integer(count),
    ])
}

/// One message, encoded lazily once per protocol and shared by every
/// receiver (RESP2 sends it as an array, RESP3 as a push).
struct Frame<'a> {
    parts: &'a [&'a [u8]],
    resp2: OnceLock<Bytes>,
    resp3: OnceLock<Bytes>,
}

impl<'a> Frame<'a> {
    fn new(parts: &'a [&'a [u8]]) -> Self {
        Frame {
            parts,
            resp2: OnceLock::new(),
            resp3: OnceLock::new(),
        }
    }

    fn bytes(&self, protocol: Protocol) -> Bytes {
        let cell = match protocol {
            Protocol::Resp2 => &self.resp2,
            Protocol::Resp3 => &self.resp3,
        };
        cell.get_or_init(|| {
            let reply = Reply::Push(
                self.parts
                    .iter()
                    .map(|p| Reply::Bulk(Bytes::copy_from_slice(p)))
                    .collect(),
            );
            let mut out = BytesMut::new();
            reply.encode(protocol, &mut out);
            out.freeze()
        })
        .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::ClientRegistry;

    fn client(registry: &ClientRegistry) -> Arc<ClientHandle> {
        let addr = "127.0.0.1:1".parse().unwrap();
        registry.register(addr, addr)
    }

    fn limit(hard: u64, soft: u64, secs: u64) -> BufferLimit {
        BufferLimit {
            hard_bytes: hard,
            soft_bytes: soft,
            soft_seconds: secs,
        }
    }

    #[test]
    fn publish_counts_channel_and_pattern_receivers_and_skips_shards() {
        let hub = Hub::new(limit(0, 0, 0));
        let registry = ClientRegistry::default();
        let (a, b) = (client(&registry), client(&registry));
        let mut sa = Subscriptions::default();
        let mut sb = Subscriptions::default();
        sa.subscribe(&hub, &a, Kind::Channel, &[Bytes::from("news")]);
        sb.subscribe(&hub, &b, Kind::Channel, &[Bytes::from("news")]);
        sb.subscribe(&hub, &b, Kind::Pattern, &[Bytes::from("n*")]);
        sb.subscribe(&hub, &b, Kind::Shard, &[Bytes::from("news")]);
        assert_eq!(hub.publish(false, b"news", b"x"), 3);
        assert_eq!(hub.publish(true, b"news", b"x"), 1);
        assert_eq!(hub.publish(false, b"nope", b"x"), 1);
        let mut out = BytesMut::new();
        b.drain_pushes(&mut out, usize::MAX);
        let text = String::from_utf8_lossy(&out);
        assert_eq!(text.matches("message").count(), 4, "{text}");
        assert_eq!(text.matches("smessage").count(), 1, "{text}");
        sb.clear(&hub, &b);
        assert_eq!(hub.publish(false, b"news", b"x"), 1);
        assert_eq!(hub.pattern_count(), 0);
        assert_eq!(hub.shard_channel_count(), 0);
    }

    #[test]
    fn drain_stops_at_the_chunk_size_and_comes_back() {
        let hub = Hub::new(limit(0, 0, 0));
        let registry = ClientRegistry::default();
        let c = client(&registry);
        let mut subs = Subscriptions::default();
        subs.subscribe(&hub, &c, Kind::Channel, &[Bytes::from("ch")]);
        let payload = vec![b'x'; 1000];
        for _ in 0..10 {
            hub.publish(false, b"ch", &payload);
        }
        let mut out = BytesMut::new();
        c.drain_pushes(&mut out, 2500);
        // Whole frames, until the chunk size is reached: 3 of 10.
        let frame = b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1000\r\n".len() + 1000 + 2;
        assert_eq!(out.len(), 3 * frame);
        assert_eq!(c.omem.load(Relaxed) as usize, 7 * frame);
        out.clear();
        c.drain_pushes(&mut out, usize::MAX);
        assert_eq!(c.omem.load(Relaxed), 0);
        assert!(!c.is_killed());
    }

    #[test]
    fn hard_limit_kills_and_frees_the_queue() {
        let hub = Hub::new(limit(10_000, 0, 0));
        let registry = ClientRegistry::default();
        let c = client(&registry);
        let mut subs = Subscriptions::default();
        subs.subscribe(&hub, &c, Kind::Channel, &[Bytes::from("ch")]);
        let payload = vec![b'x'; 1000];
        for _ in 0..9 {
            hub.publish(false, b"ch", &payload);
        }
        assert!(!c.is_killed());
        hub.publish(false, b"ch", &payload);
        assert!(c.is_killed());
        assert_eq!(c.omem.load(Relaxed), 0);
        // Later messages are dropped, not queued.
        hub.publish(false, b"ch", &payload);
        let mut out = BytesMut::new();
        c.drain_pushes(&mut out, usize::MAX);
        assert!(out.is_empty());
    }

    #[test]
    fn soft_limit_needs_its_seconds() {
        let hub = Hub::new(limit(0, 1000, 3600));
        let registry = ClientRegistry::default();
        let c = client(&registry);
        let mut subs = Subscriptions::default();
        subs.subscribe(&hub, &c, Kind::Channel, &[Bytes::from("ch")]);
        for _ in 0..10 {
            hub.publish(false, b"ch", &[b'x'; 1000]);
        }
        assert!(
            !c.is_killed(),
            "over the soft limit for less than its seconds"
        );
    }
}
