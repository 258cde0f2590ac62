//! COMMAND and its subcommands, answered from the command table.

use super::client::help_reply;
use super::flags::{self, *};
use super::{is, lower, text, Command, SubCommand};
use crate::context::Ctx;
use crate::error::{CommandError, CommandResult};
use basalt_resp::Reply;
use bytes::Bytes;

pub static COMMANDS: &[Command] = &[Command::new("command", -1, LOADING | STALE, command)
    .group("server")
    .since("2.8.13")
    .summary("Returns detailed information about all commands.")
    .subcommands(&[
        SubCommand::new("count", 2, LOADING | STALE, "Returns a count of commands."),
        SubCommand::new(
            "info",
            -2,
            LOADING | STALE,
            "Returns information about one, multiple or all commands.",
        ),
        SubCommand::new(
            "docs",
            -2,
            LOADING | STALE,
            "Returns documentary information about one, multiple or all commands.",
        ),
        SubCommand::new(
            "list",
            -2,
            LOADING | STALE,
            "Returns a list of command names.",
        ),
        SubCommand::new(
            "getkeys",
            -4,
            LOADING | STALE,
            "Extracts the key names from an arbitrary command.",
        ),
        SubCommand::new(
            "help",
            2,
            LOADING | STALE,
            "Returns helpful text about the different subcommands.",
        ),
    ])];

/// COMMAND LIST FILTERBY: judges a (full name, categories) entry.
type CommandFilter = Box<dyn Fn(&str, &[&str]) -> bool>;

fn flag_names(bits: u32) -> Reply {
    Reply::Set(flag_list(bits))
}

fn flag_list(bits: u32) -> Vec<Reply> {
    flags::NAMES
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| Reply::Simple((*n).into()))
        .collect()
}

/// A command's flags, with Redis's `movablekeys` when its keys depend on
/// the arguments (it has a key finder).
fn command_flags(c: &Command) -> Reply {
    let mut names = flag_list(c.flags);
    if c.key_finder.is_some() {
        names.push(Reply::Simple("movablekeys".into()));
    }
    Reply::Set(names)
}

fn subcommand_info(parent: &Command, sub: &SubCommand) -> Reply {
    Reply::Array(vec![
        Reply::Bulk(Bytes::from(format!("{}|{}", parent.name, sub.name))),
        Reply::Integer(sub.arity as i64),
        flag_names(sub.flags),
        Reply::Integer(sub.keys.first as i64),
        Reply::Integer(sub.keys.last as i64),
        Reply::Integer(sub.keys.step as i64),
        Reply::Set(vec![]),
        Reply::Array(vec![]),
        Reply::Array(vec![]),
        Reply::Array(vec![]),
    ])
}

/// The 10-element COMMAND INFO entry of Redis 7.
fn info_entry(c: &Command) -> Reply {
    Reply::Array(vec![
        Reply::Bulk(Bytes::from_static(c.name.as_bytes())),
        Reply::Integer(c.arity as i64),
        command_flags(c),
        Reply::Integer(c.first_key as i64),
        Reply::Integer(c.last_key as i64),
        Reply::Integer(c.step as i64),
        Reply::Set(
            c.acl_categories()
                .into_iter()
                .map(|cat| Reply::Simple(format!("@{cat}").into()))
                .collect(),
        ),
        Reply::Array(vec![]),
        Reply::Array(vec![]),
        Reply::Array(
            c.subcommands
                .iter()
                .map(|s| subcommand_info(c, s))
                .collect(),
        ),
    ])
}

fn docs_entry(c: &Command) -> Reply {
    let mut fields = vec![
        (
            Reply::bulk("summary"),
            Reply::Bulk(Bytes::from_static(c.summary.as_bytes())),
        ),
        (
            Reply::bulk("since"),
            Reply::Bulk(Bytes::from_static(c.since.as_bytes())),
        ),
        (
            Reply::bulk("group"),
            Reply::Bulk(Bytes::from_static(c.group.as_bytes())),
        ),
    ];
    if !c.subcommands.is_empty() {
        fields.push((
            Reply::bulk("subcommands"),
            Reply::Map(
                c.subcommands
                    .iter()
                    .map(|s| {
                        (
                            Reply::Bulk(Bytes::from(format!("{}|{}", c.name, s.name))),
                            Reply::Map(vec![
                                (
                                    Reply::bulk("summary"),
                                    Reply::Bulk(Bytes::from_static(s.summary.as_bytes())),
                                ),
                                (
                                    Reply::bulk("since"),
                                    Reply::Bulk(Bytes::from_static(c.since.as_bytes())),
                                ),
                                (
                                    Reply::bulk("group"),
                                    Reply::Bulk(Bytes::from_static(c.group.as_bytes())),
                                ),
                            ]),
                        )
                    })
                    .collect(),
            ),
        ));
    }
    Reply::Map(fields)
}

fn command(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let table = crate::table();
    let Some(sub) = args.get(1).map(|a| lower(a)) else {
        return Ok(Reply::Array(
            table.all().iter().map(|c| info_entry(c)).collect(),
        ));
    };
    let _ = ctx;
    match sub.as_str() {
        "count" => Ok(Reply::Integer(table.len() as i64)),
        "info" => {
            if args.len() == 2 {
                return Ok(Reply::Array(
                    table.all().iter().map(|c| info_entry(c)).collect(),
                ));
            }
            Ok(Reply::Array(
                args[2..]
                    .iter()
                    .map(|n| {
                        table
                            .lookup(n)
                            .map_or(Reply::NullArray, |(_, c)| info_entry(c))
                    })
                    .collect(),
            ))
        }
        "docs" => {
            let selected: Vec<&Command> = if args.len() == 2 {
                table.all().to_vec()
            } else {
                args[2..]
                    .iter()
                    .filter_map(|n| table.lookup(n).map(|(_, c)| c))
                    .collect()
            };
            Ok(Reply::Map(
                selected
                    .into_iter()
                    .map(|c| {
                        (
                            Reply::Bulk(Bytes::from_static(c.name.as_bytes())),
                            docs_entry(c),
                        )
                    })
                    .collect(),
            ))
        }
        "list" => {
            let mut filter: Option<CommandFilter> = None;
            if args.len() > 2 {
                if args.len() != 5 || !is(&args[2], "filterby") {
                    return Err(CommandError::Syntax);
                }
                let value = args[4].clone();
                filter = Some(if is(&args[3], "pattern") {
                    Box::new(move |name: &str, _: &[&str]| {
                        basalt_glob::glob_match(&value, name.as_bytes(), true)
                    })
                } else if is(&args[3], "aclcat") {
                    let cat = lower(&value);
                    Box::new(move |_: &str, cats: &[&str]| cats.contains(&cat.as_str()))
                } else if is(&args[3], "module") {
                    Box::new(|_: &str, _: &[&str]| false)
                } else {
                    return Err(CommandError::Syntax);
                });
            }
            // Subcommands are listed under their full names (`config|get`),
            // each judged by its own categories, as in Redis.
            let mut out = Vec::new();
            for c in table.all() {
                let mut entries = vec![(c.name.to_string(), c.acl_categories())];
                for sub in c.subcommands {
                    entries.push((
                        format!("{}|{}", c.name, sub.name),
                        c.sub_acl_categories(sub),
                    ));
                }
                for (name, cats) in entries {
                    if filter.as_ref().is_none_or(|f| f(&name, &cats)) {
                        out.push(Reply::bulk(name));
                    }
                }
            }
            Ok(Reply::Array(out))
        }
        "getkeys" => {
            let target = &args[2..];
            let Some((_, c)) = table.lookup(&target[0]) else {
                return Err(CommandError::other("ERR Invalid command specified"));
            };
            // Redis's order of checks (getKeysSubcommandImpl).
            if !c.has_keys() {
                return Err(CommandError::other("ERR The command has no key arguments"));
            }
            if !c.arity_ok(target.len()) {
                return Err(CommandError::other(
                    "ERR Invalid number of arguments specified for command",
                ));
            }
            let keys = c.key_indices(target);
            // Scripts may name no keys at all; other commands must.
            if keys.is_empty() && !c.keys_optional() {
                return Err(CommandError::other(
                    "ERR Invalid arguments specified for command",
                ));
            }
            Ok(Reply::Array(
                keys.into_iter()
                    .map(|i| Reply::Bulk(target[i].clone()))
                    .collect(),
            ))
        }
        "help" => Ok(help_reply(&[
            "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "(no subcommand)",
            "    Return details about all commands.",
            "COUNT",
            "    Return the total number of commands in this server.",
            "LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)]",
            "    Return a list of all commands in this server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple commands.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple commands.",
            "GETKEYS <full-command>",
            "    Return the keys from a full command.",
            "HELP",
            "    Print this help.",
        ])),
        _ => Err(CommandError::UnknownSubcommand {
            sub: text(&args[1]),
            command: "command",
        }),
    }
}
