//! CONFIG GET / SET / REWRITE / RESETSTAT.

use super::client::help_reply;
use super::flags::*;
use super::{lower, text, Command, SubCommand};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use basalt_resp::Reply;
use bytes::Bytes;

pub static COMMANDS: &[Command] =
    &[
        Command::new("config", -2, ADMIN | NOSCRIPT | LOADING | STALE, config)
            .group("server")
            .since("2.0.0")
            .summary("A container for server configuration commands.")
            .subcommands(&[
                SubCommand::new(
                    "get",
                    -3,
                    ADMIN | NOSCRIPT | LOADING | STALE,
                    "Returns the effective values of configuration parameters.",
                )
                .syntax("parameter [parameter ...]"),
                SubCommand::new(
                    "set",
                    -4,
                    ADMIN | NOSCRIPT | LOADING | STALE,
                    "Sets configuration parameters in-flight.",
                )
                .syntax("parameter value [parameter value ...]"),
                SubCommand::new(
                    "rewrite",
                    2,
                    ADMIN | NOSCRIPT | LOADING | STALE,
                    "Persists the effective configuration to file.",
                )
                .since("2.8.0"),
                SubCommand::new(
                    "resetstat",
                    2,
                    ADMIN | NOSCRIPT | LOADING | STALE,
                    "Resets the server's statistics.",
                ),
                SubCommand::new(
                    "help",
                    2,
                    LOADING | STALE,
                    "Returns helpful text about the different subcommands.",
                )
                .since("5.0.0"),
            ]),
    ];

/// The apply phase of CONFIG SET for the listening sockets: binding can
/// fail after every value was valid (the port is taken), and then the whole
/// CONFIG SET is rolled back, with Redis's messages.
fn apply_listeners(
    ctx: &Ctx,
    config: &basalt_config::Config,
    changed: &[&'static str],
) -> Result<(), basalt_config::ConfigError> {
    let port_changed = changed.contains(&"port");
    if !port_changed && !changed.contains(&"bind") {
        return Ok(());
    }
    let port = config.port;
    ctx.shared
        .listeners
        .rebind(&config.bind, port)
        .map_err(|e| {
            let (name, reason) = if port_changed {
                (
                    "port",
                    format!("Unable to listen on this port: {}", e.source),
                )
            } else {
                ("bind", "Failed to bind to specified addresses.".to_string())
            };
            tracing::warn!("CONFIG SET {name}: cannot listen on {e}");
            basalt_config::ConfigError::SetFailed { name, reason }
        })
}

fn config(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let sub = lower(&args[1]);
    match sub.as_str() {
        "get" => {
            let patterns: Vec<&[u8]> = args[2..].iter().map(|a| a.as_ref()).collect();
            let pairs = ctx.shared.config.read().get(&patterns);
            Ok(Reply::Map(
                pairs
                    .into_iter()
                    .map(|(k, v)| (Reply::Bulk(Bytes::from(k)), Reply::Bulk(Bytes::from(v))))
                    .collect(),
            ))
        }
        "set" if args.len().is_multiple_of(2) => {
            let pairs: Vec<(&[u8], &[u8])> = args[2..]
                .chunks(2)
                .map(|c| (c[0].as_ref(), c[1].as_ref()))
                .collect();
            {
                let mut config = ctx.shared.config.write();
                let before = config.clone();
                let changed = config.set(&pairs)?;
                if let Err(err) = apply_listeners(ctx, &config, &changed) {
                    *config = before;
                    return Err(err.into());
                }
            }
            ctx.shared.config_changed();
            // requirepass is the default user's password, as in Redis:
            // setting it again resets the default user's passwords to it.
            if pairs
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case(b"requirepass"))
            {
                let password = ctx.shared.config.read().requirepass.clone();
                ctx.shared.acl.set_default_password(password.as_deref());
            }
            Ok(Reply::ok())
        }
        "rewrite" => {
            ctx.shared.config.read().rewrite()?;
            Ok(Reply::ok())
        }
        "resetstat" => {
            ctx.shared.stats.reset();
            ctx.shared.slowlog.reset();
            Ok(Reply::ok())
        }
        "help" => Ok(help_reply(&[
            "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
            "HELP",
            "    Print this help.",
        ])),
        "set" => Err(CommandError::WrongArity("config|set".into())),
        _ => Err(CommandError::UnknownSubcommand {
            sub: text(&args[1]),
            command: "config",
        }),
    }
}
