//! Pub/sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH,
//! PUBSUB. The hub they talk to is `basalt_core::pubsub`.

use super::client::help_reply;
use super::flags::*;
use super::key_flags::*;
use super::{lower, Command, SubCommand};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use basalt_core::pubsub::Kind;
use basalt_resp::Reply;
use bytes::{Bytes, BytesMut};

const fn pubsub_cmd(
    name: &'static str,
    arity: i32,
    flags: u32,
    handler: super::Handler,
) -> Command {
    Command::new(name, arity, flags, handler).group("pubsub")
}

const SUB_FLAGS: u32 = PUBSUB | NOSCRIPT | LOADING | STALE;

pub static COMMANDS: &[Command] = &[
    pubsub_cmd(
        "subscribe",
        -2,
        SUB_FLAGS | SUBSCRIBED_OK | CHANNEL_SUBSCRIBE,
        subscribe,
    )
    .syntax("channel [channel ...]")
    .since("2.0.0")
    .summary("Listens for messages published to channels."),
    pubsub_cmd(
        "unsubscribe",
        -1,
        SUB_FLAGS | SUBSCRIBED_OK | CHANNEL_UNSUBSCRIBE,
        unsubscribe,
    )
    .syntax("[channel [channel ...]]")
    .since("2.0.0")
    .summary("Stops listening to messages posted to channels."),
    pubsub_cmd(
        "psubscribe",
        -2,
        SUB_FLAGS | SUBSCRIBED_OK | CHANNEL_SUBSCRIBE | CHANNEL_PATTERN,
        psubscribe,
    )
    .syntax("pattern:pattern [pattern:pattern ...]")
    .since("2.0.0")
    .summary("Listens for messages published to channels that match one or more patterns."),
    pubsub_cmd(
        "punsubscribe",
        -1,
        SUB_FLAGS | SUBSCRIBED_OK | CHANNEL_UNSUBSCRIBE | CHANNEL_PATTERN,
        punsubscribe,
    )
    .syntax("[pattern:pattern [pattern:pattern ...]]")
    .since("2.0.0")
    .summary("Stops listening to messages published to channels that match one or more patterns."),
    pubsub_cmd(
        "ssubscribe",
        -2,
        SUB_FLAGS | SUBSCRIBED_OK | CHANNEL_SUBSCRIBE,
        ssubscribe,
    )
    .syntax("shardchannel [shardchannel ...]")
    .keys(1, -1, 1)
    .key_flags(&[NOT_KEY])
    .since("7.0.0")
    .summary("Listens for messages published to shard channels."),
    pubsub_cmd(
        "sunsubscribe",
        -1,
        SUB_FLAGS | SUBSCRIBED_OK | CHANNEL_UNSUBSCRIBE,
        sunsubscribe,
    )
    .syntax("[shardchannel [shardchannel ...]]")
    .keys(1, -1, 1)
    .key_flags(&[NOT_KEY])
    .since("7.0.0")
    .summary("Stops listening to messages posted to shard channels."),
    pubsub_cmd(
        "publish",
        3,
        PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE | CHANNEL_PUBLISH,
        publish,
    )
    .syntax("channel message")
    .since("2.0.0")
    .summary("Posts a message to a channel."),
    pubsub_cmd(
        "spublish",
        3,
        PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE | CHANNEL_PUBLISH,
        spublish,
    )
    .syntax("shardchannel message")
    .keys(1, 1, 1)
    .key_flags(&[NOT_KEY])
    .since("7.0.0")
    .summary("Post a message to a shard channel"),
    pubsub_cmd("pubsub", -2, 0, pubsub)
        .since("2.8.0")
        .summary("A container for Pub/Sub commands.")
        .subcommands(&[
            SubCommand::new(
                "channels",
                -2,
                PUBSUB | LOADING | STALE,
                "Returns the active channels.",
            )
            .syntax("[pattern:pattern]"),
            SubCommand::new(
                "numpat",
                2,
                PUBSUB | LOADING | STALE,
                "Returns a count of unique pattern subscriptions.",
            ),
            SubCommand::new(
                "numsub",
                -2,
                PUBSUB | LOADING | STALE,
                "Returns a count of subscribers to channels.",
            )
            .syntax("[channel [channel ...]]"),
            SubCommand::new(
                "shardchannels",
                -2,
                PUBSUB | LOADING | STALE,
                "Returns the active shard channels.",
            )
            .since("7.0.0")
            .syntax("[pattern:pattern]"),
            SubCommand::new(
                "shardnumsub",
                -2,
                PUBSUB | LOADING | STALE,
                "Returns the count of subscribers of shard channels.",
            )
            .since("7.0.0")
            .syntax("[shardchannel [shardchannel ...]]"),
            SubCommand::new(
                "help",
                2,
                LOADING | STALE,
                "Returns helpful text about the different subcommands.",
            )
            .since("6.2.0"),
        ]),
];

/// One confirmation per channel is Redis's reply: several frames for one
/// command, written back to back in the connection's protocol.
fn frames(ctx: &mut Ctx, replies: Vec<Reply>) -> Reply {
    ctx.client.reply_is_push = true;
    let mut out = BytesMut::new();
    for r in replies {
        r.encode(ctx.client.protocol, &mut out);
    }
    Reply::Raw(out.freeze())
}

fn sub(ctx: &mut Ctx, kind: Kind, names: &[Bytes]) -> CommandResult {
    let c = &mut *ctx.client;
    let replies = c
        .subscriptions
        .subscribe(&ctx.shared.pubsub, &c.handle, kind, names);
    Ok(frames(ctx, replies))
}

fn unsub(ctx: &mut Ctx, kind: Kind, names: &[Bytes]) -> CommandResult {
    let c = &mut *ctx.client;
    let replies = c
        .subscriptions
        .unsubscribe(&ctx.shared.pubsub, &c.handle, kind, names);
    Ok(frames(ctx, replies))
}

fn subscribe(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    sub(ctx, Kind::Channel, &args[1..])
}

fn psubscribe(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    sub(ctx, Kind::Pattern, &args[1..])
}

fn ssubscribe(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    sub(ctx, Kind::Shard, &args[1..])
}

fn unsubscribe(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    unsub(ctx, Kind::Channel, &args[1..])
}

fn punsubscribe(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    unsub(ctx, Kind::Pattern, &args[1..])
}

fn sunsubscribe(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    unsub(ctx, Kind::Shard, &args[1..])
}

fn publish(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    replicate_message(ctx, false, &args[1], &args[2])?;
    let n = ctx.shared.pubsub.publish(false, &args[1], &args[2]);
    Ok(Reply::Integer(n as i64))
}

fn spublish(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    replicate_message(ctx, true, &args[1], &args[2])?;
    let n = ctx.shared.pubsub.publish(true, &args[1], &args[2]);
    Ok(Reply::Integer(n as i64))
}

/// On a master that feeds replicas, a message is also written to the
/// PubSub column family (key: channel, value: message; its compaction
/// filter drops them all), which is how it reaches them: Kvrocks' way, so
/// a Kvrocks replica delivers it too. SPUBLISH's put carries `spublish`
/// in its log data (`basalt_core::command_log`) so a Basalt replica
/// delivers it to shard subscribers. Unlike Kvrocks, a master without
/// replicas writes nothing: a flood of messages would otherwise fill
/// memtables and the WAL for nobody. A replica cannot write (its sequence
/// numbers are its master's), so there a message is delivered locally
/// only.
fn replicate_message(
    ctx: &Ctx,
    shard: bool,
    channel: &[u8],
    message: &[u8],
) -> Result<(), CommandError> {
    let storage = &ctx.data.storage;
    let feeding = basalt_replication::of(ctx.shared).is_some_and(|r| r.feeds_replicas());
    if storage.is_fenced() || !feeding {
        return Ok(());
    }
    let mut batch = basalt_engine::WriteBatch::default();
    storage.put(
        &mut batch,
        basalt_engine::ColumnFamily::PubSub,
        channel,
        message,
    );
    let write = || storage.write(batch);
    let written = if shard {
        let blob = basalt_core::command_log::marker(basalt_core::command_log::SPUBLISH);
        basalt_engine::log_data::scoped(blob, false, write)
    } else {
        write()
    };
    written.map_err(|e| basalt_types::Error::from(e).into())
}

fn pubsub(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let hub = &ctx.shared.pubsub;
    let sub = lower(&args[1]);
    match sub.as_str() {
        "channels" | "shardchannels" => {
            if args.len() > 3 {
                return Err(CommandError::SubcommandSyntax {
                    sub: String::from_utf8_lossy(&args[1]).into_owned(),
                    command: "pubsub",
                });
            }
            let channels = hub.channels(sub == "shardchannels", args.get(2).map(|p| &p[..]));
            Ok(Reply::Array(channels.into_iter().map(Reply::Bulk).collect()))
        }
        "numsub" | "shardnumsub" => {
            let shard = sub == "shardnumsub";
            let mut out = Vec::with_capacity((args.len() - 2) * 2);
            for channel in &args[2..] {
                out.push(Reply::Bulk(channel.clone()));
                out.push(Reply::Integer(hub.subscriber_count(shard, channel) as i64));
            }
            Ok(Reply::Array(out))
        }
        "numpat" => Ok(Reply::Integer(hub.pattern_count() as i64)),
        _ => Ok(help_reply(&[
            "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
            "HELP",
            "    Prints this help.",
        ])),
    }
}
