//! COMMAND and its subcommands, answered from the command table.

use super::client::help_reply;
use super::flags::{self, *};
use super::{
    is, key_flags, lower, text, BeginSearch, Command, FindKeys, KeyFinder, KeyRef, KeySpec,
    SubCommand,
};
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
        )
        .syntax("[command-name [command-name ...]]"),
        SubCommand::new(
            "docs",
            -2,
            LOADING | STALE,
            "Returns documentary information about one, multiple or all commands.",
        )
        .since("7.0.0")
        .syntax("[command-name [command-name ...]]"),
        SubCommand::new(
            "list",
            -2,
            LOADING | STALE,
            "Returns a list of command names.",
        )
        .since("7.0.0")
        .syntax(
            "[FILTERBY (filterby: MODULE module-name | ACLCAT category | PATTERN pattern:pattern)]",
        ),
        SubCommand::new(
            "getkeys",
            -3,
            LOADING | STALE,
            "Extracts the key names from an arbitrary command.",
        )
        .syntax("command [arg [arg ...]]"),
        SubCommand::new(
            "getkeysandflags",
            -3,
            LOADING | STALE,
            "Extracts the key names and access flags for an arbitrary command.",
        )
        .since("7.0.0")
        .syntax("command [arg [arg ...]]"),
        SubCommand::new(
            "help",
            2,
            LOADING | STALE,
            "Returns helpful text about the different subcommands.",
        )
        .since("5.0.0"),
    ])];

/// COMMAND LIST FILTERBY: judges a (full name, categories) entry.
type CommandFilter = Box<dyn Fn(&str, &[&str]) -> bool>;

/// What a COMMAND INFO / DOCS name (`get`, `config|get`) names.
#[derive(Clone, Copy)]
enum Named {
    Command(&'static Command),
    Sub(&'static Command, &'static SubCommand),
}

/// Looks up a command or `parent|sub` as Redis's `lookupCommandBySds`
/// does: anything deeper, or a subcommand of a command without them, is
/// no command.
fn lookup_named(name: &[u8]) -> Option<Named> {
    let table = crate::table();
    let mut parts = name.split(|&b| b == b'|');
    let (_, c) = table.lookup(parts.next()?)?;
    match (parts.next(), parts.next()) {
        (None, _) => Some(Named::Command(c)),
        (Some(sub), None) => c
            .find_subcommand(sub)
            .map(|i| Named::Sub(c, &c.subcommands[i])),
        _ => None,
    }
}

fn flag_list(bits: u32) -> Vec<Reply> {
    flags::NAMES
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| Reply::Simple((*n).into()))
        .collect()
}

/// A command's flags, with Redis's `movablekeys` when its key specs say
/// its keys depend on the arguments.
fn command_flags(bits: u32, movable: bool) -> Reply {
    let mut names = flag_list(bits);
    if movable {
        names.push(Reply::Simple("movablekeys".into()));
    }
    Reply::Set(names)
}

fn key_flag_names(bits: u32) -> Reply {
    Reply::Set(
        key_flags::names(bits)
            .into_iter()
            .map(|n| Reply::Simple(n.into()))
            .collect(),
    )
}

fn typed(kind: &'static str, spec: Vec<(&'static str, Reply)>) -> Reply {
    Reply::Map(vec![
        (Reply::bulk("type"), Reply::bulk(kind)),
        (
            Reply::bulk("spec"),
            Reply::Map(spec.into_iter().map(|(k, v)| (Reply::bulk(k), v)).collect()),
        ),
    ])
}

/// Redis 7's key spec map: flags, begin_search, find_keys.
fn key_spec_reply(spec: &KeySpec) -> Reply {
    let int = |n: i64| Reply::Integer(n);
    let begin = match spec.shape.begin {
        BeginSearch::Index(at) => typed("index", vec![("index", int(at as i64))]),
        BeginSearch::Keyword {
            keyword,
            start_from,
        } => typed(
            "keyword",
            vec![
                ("keyword", Reply::bulk(keyword)),
                ("startfrom", int(start_from as i64)),
            ],
        ),
        BeginSearch::Unknown => typed("unknown", vec![]),
    };
    let find = match spec.shape.find {
        FindKeys::Range { last, step, limit } => typed(
            "range",
            vec![
                ("lastkey", int(last as i64)),
                ("keystep", int(step as i64)),
                ("limit", int(limit as i64)),
            ],
        ),
        FindKeys::Keynum {
            count_at,
            first,
            step,
        } => typed(
            "keynum",
            vec![
                ("keynumidx", int(count_at as i64)),
                ("firstkey", int(first as i64)),
                ("keystep", int(step as i64)),
            ],
        ),
        FindKeys::Unknown => typed("unknown", vec![]),
    };
    Reply::Map(vec![
        (Reply::bulk("flags"), key_flag_names(spec.flags)),
        (Reply::bulk("begin_search"), begin),
        (Reply::bulk("find_keys"), find),
    ])
}

fn categories_reply(cats: Vec<&'static str>) -> Reply {
    Reply::Set(
        cats.into_iter()
            .map(|cat| Reply::Simple(format!("@{cat}").into()))
            .collect(),
    )
}

/// The 10-element COMMAND INFO entry of Redis 7: name, arity, flags,
/// first/last/step (derived from the key specs, as in Redis), ACL
/// categories, tips, key specs, subcommands.
fn info_reply(
    name: String,
    arity: i32,
    flags: u32,
    specs: &[KeySpec],
    proc_keys: bool,
    cats: Vec<&'static str>,
    subcommands: Reply,
) -> Reply {
    let ((first, last, step), movable) = basalt_core::key_spec::legacy_range(specs);
    Reply::Array(vec![
        Reply::bulk(name),
        Reply::Integer(arity as i64),
        command_flags(flags, movable || proc_keys),
        Reply::Integer(first as i64),
        Reply::Integer(last as i64),
        Reply::Integer(step as i64),
        categories_reply(cats),
        Reply::Set(vec![]),
        Reply::Set(specs.iter().map(key_spec_reply).collect()),
        subcommands,
    ])
}

fn subcommand_info(parent: &Command, sub: &SubCommand) -> Reply {
    info_reply(
        format!("{}|{}", parent.name, sub.name),
        sub.arity,
        sub.flags,
        &sub.key_specs(),
        false,
        parent.sub_acl_categories(sub),
        Reply::Set(vec![]),
    )
}

fn info_entry(c: &Command) -> Reply {
    let subs = if c.subcommands.is_empty() {
        Reply::Set(vec![])
    } else {
        Reply::Array(
            c.subcommands
                .iter()
                .map(|s| subcommand_info(c, s))
                .collect(),
        )
    };
    info_reply(
        c.name.to_string(),
        c.arity,
        c.shown_flags(),
        &c.key_specs(),
        matches!(c.key_finder, Some(KeyFinder::Proc(..))),
        c.acl_categories(),
        subs,
    )
}

fn named_info(named: Named) -> Reply {
    match named {
        Named::Command(c) => info_entry(c),
        Named::Sub(c, s) => subcommand_info(c, s),
    }
}

fn docs_fields(
    summary: &'static str,
    since: &'static str,
    group: &'static str,
    syntax: &'static str,
    key_specs: usize,
) -> Vec<(Reply, Reply)> {
    let mut fields = vec![
        (Reply::bulk("summary"), Reply::bulk(summary)),
        (Reply::bulk("since"), Reply::bulk(since)),
        (Reply::bulk("group"), Reply::bulk(group)),
    ];
    // Every syntax string parses (the table tests say so); a broken one
    // would show no arguments rather than fail the reply.
    let args = crate::syntax::parse(syntax, key_specs).unwrap_or_default();
    if !args.is_empty() {
        fields.push((Reply::bulk("arguments"), crate::syntax::docs_reply(&args)));
    }
    fields
}

fn sub_docs(c: &Command, s: &SubCommand) -> Reply {
    let since = if s.since.is_empty() { c.since } else { s.since };
    Reply::Map(docs_fields(
        s.summary,
        since,
        c.group,
        s.syntax,
        s.key_specs().len(),
    ))
}

fn docs_entry(c: &Command) -> Reply {
    let mut fields = docs_fields(c.summary, c.since, c.group, c.syntax, c.key_specs().len());
    if !c.subcommands.is_empty() {
        fields.push((
            Reply::bulk("subcommands"),
            Reply::Map(
                c.subcommands
                    .iter()
                    .map(|s| {
                        (
                            Reply::bulk(format!("{}|{}", c.name, s.name)),
                            sub_docs(c, s),
                        )
                    })
                    .collect(),
            ),
        ));
    }
    Reply::Map(fields)
}

/// COMMAND GETKEYS and GETKEYSANDFLAGS, with Redis's checks in its order
/// (`getKeysSubcommandImpl`): the command (or its subcommand) must exist,
/// take keys and get a valid number of arguments.
fn get_keys(target: &[Bytes], with_flags: bool) -> CommandResult {
    let table = crate::table();
    let Some((_, c)) = table.lookup(&target[0]) else {
        return Err(CommandError::other("ERR Invalid command specified"));
    };
    let (arity, has_keys) = if !c.subcommands.is_empty() && target.len() >= 2 {
        let Some(i) = c.find_subcommand(&target[1]) else {
            return Err(CommandError::other("ERR Invalid command specified"));
        };
        let sub = &c.subcommands[i];
        let has_keys = sub
            .key_specs()
            .iter()
            .any(|s| s.flags & key_flags::NOT_KEY == 0);
        (sub.arity, has_keys)
    } else {
        (c.arity, c.has_keys())
    };
    if !has_keys {
        return Err(CommandError::other("ERR The command has no key arguments"));
    }
    if !super::arity_matches(arity, target.len()) {
        return Err(CommandError::other(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    let keys: Vec<KeyRef> = c
        .key_refs(target)
        .into_iter()
        .filter(|k| k.flags & key_flags::NOT_KEY == 0)
        .collect();
    // Scripts may name no keys at all; other commands must.
    if keys.is_empty() && !c.keys_optional() {
        return Err(CommandError::other(
            "ERR Invalid arguments specified for command",
        ));
    }
    Ok(Reply::Array(
        keys.into_iter()
            .map(|k| {
                let key = Reply::Bulk(target[k.index].clone());
                if with_flags {
                    Reply::Array(vec![key, key_flag_names(k.flags)])
                } else {
                    key
                }
            })
            .collect(),
    ))
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
                    .map(|n| lookup_named(n).map_or(Reply::NullArray, named_info))
                    .collect(),
            ))
        }
        "docs" => {
            let selected: Vec<(String, Reply)> = if args.len() == 2 {
                table
                    .all()
                    .iter()
                    .map(|c| (c.name.to_string(), docs_entry(c)))
                    .collect()
            } else {
                args[2..]
                    .iter()
                    .filter_map(|n| lookup_named(n))
                    .map(|named| match named {
                        Named::Command(c) => (c.name.to_string(), docs_entry(c)),
                        Named::Sub(c, s) => (format!("{}|{}", c.name, s.name), sub_docs(c, s)),
                    })
                    .collect()
            };
            Ok(Reply::Map(
                selected
                    .into_iter()
                    .map(|(name, docs)| (Reply::bulk(name), docs))
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
        "getkeys" => get_keys(&args[2..], false),
        "getkeysandflags" => get_keys(&args[2..], true),
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
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full command.",
            "HELP",
            "    Print this help.",
        ])),
        _ => Err(CommandError::UnknownSubcommand {
            sub: text(&args[1]),
            command: "command",
        }),
    }
}
