//! ACL: CAT DELUSER DRYRUN GENPASS GETUSER HELP LIST LOAD LOG SAVE SETUSER
//! USERS WHOAMI. The users and the check live in `basalt_core::acl`, the
//! rules in `basalt-acl`.

use super::client::help_reply;
use super::flags::*;
use super::{int, is, text, Command, SubCommand};
use crate::context::{Action, Ctx};
use crate::error::{CommandError, CommandResult};
use basalt_acl::{category_bit, Selector, CATEGORIES};
use basalt_core::dispatch::Call;
use basalt_resp::Reply;
use bytes::Bytes;
use std::sync::Arc;

const ADMIN_SUB: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

pub static COMMANDS: &[Command] = &[Command::new("acl", -2, 0, acl)
    .group("server")
    .since("6.0.0")
    .summary("A container for Access List Control commands.")
    .subcommands(&[
        SubCommand::new(
            "cat",
            -2,
            NOSCRIPT | LOADING | STALE,
            "Lists the ACL categories, or the commands inside a category.",
        )
        .syntax("[category]"),
        SubCommand::new(
            "deluser",
            -3,
            ADMIN_SUB,
            "Deletes ACL users, and terminates their connections.",
        )
        .syntax("username [username ...]"),
        SubCommand::new(
            "dryrun",
            -4,
            ADMIN_SUB,
            "Simulates the execution of a command by a user, without executing the command.",
        )
        .syntax("username command [arg [arg ...]]"),
        SubCommand::new(
            "genpass",
            -2,
            NOSCRIPT | LOADING | STALE,
            "Generates a pseudorandom, secure password that can be used to identify ACL users.",
        )
        .syntax("[bits:integer]"),
        SubCommand::new("getuser", 3, ADMIN_SUB, "Lists the ACL rules of a user.")
            .syntax("username"),
        SubCommand::new(
            "help",
            2,
            LOADING | STALE,
            "Returns helpful text about the different subcommands.",
        ),
        SubCommand::new(
            "list",
            2,
            ADMIN_SUB,
            "Dumps the effective rules in ACL file format.",
        ),
        SubCommand::new(
            "load",
            2,
            ADMIN_SUB,
            "Reloads the rules from the configured ACL file.",
        ),
        SubCommand::new(
            "log",
            -2,
            ADMIN_SUB,
            "Lists recent security events generated due to ACL rules.",
        )
        .syntax("[operation: count:integer | RESET]"),
        SubCommand::new(
            "save",
            2,
            ADMIN_SUB,
            "Saves the effective ACL rules in the configured ACL file.",
        ),
        SubCommand::new(
            "setuser",
            -3,
            ADMIN_SUB,
            "Creates and modifies an ACL user and its rules.",
        )
        .syntax("username [rule [rule ...]]"),
        SubCommand::new("users", 2, ADMIN_SUB, "Lists all ACL users."),
        SubCommand::new(
            "whoami",
            2,
            NOSCRIPT | LOADING | STALE,
            "Returns the authenticated username of the current connection.",
        ),
    ])];

const HELP: &[&str] = &[
    "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
    "HELP",
    "    Print this help.",
];

const NO_ACL_FILE: &str = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

fn acl(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let sub = &args[1];
    let shared = ctx.shared.clone();
    let acl = &shared.acl;
    let syntax = || CommandError::SubcommandSyntax {
        sub: text(sub),
        command: "acl",
    };
    if is(sub, "setuser") {
        let name = &args[2];
        if basalt_acl::has_spaces(name) {
            return Err(CommandError::other(basalt_acl::BAD_USERNAME));
        }
        let ops: Vec<&[u8]> = args[3..].iter().map(|a| a.as_ref()).collect();
        acl.set_user(&shared, name, &ops)?;
        Ok(Reply::ok())
    } else if is(sub, "deluser") {
        let deleted = acl.delete_users(&shared, &args[2..])?;
        // Deleting one's own user closes the connection after this reply.
        if ctx.client.handle.is_killed() {
            ctx.action = Some(Action::Close);
        }
        Ok(Reply::Integer(deleted))
    } else if is(sub, "getuser") {
        Ok(match acl.user(&args[2]) {
            Some(slot) => getuser(&slot.get()),
            None => Reply::Null,
        })
    } else if is(sub, "list") || is(sub, "users") {
        let list = is(sub, "list");
        Ok(Reply::Array(
            acl.users()
                .iter()
                .map(|slot| {
                    if list {
                        Reply::Bulk(Bytes::from(slot.get().line()))
                    } else {
                        Reply::Bulk(Bytes::copy_from_slice(slot.name()))
                    }
                })
                .collect(),
        ))
    } else if is(sub, "whoami") {
        Ok(Reply::Bulk(Bytes::copy_from_slice(ctx.client.user.name())))
    } else if is(sub, "load") || is(sub, "save") {
        let Some(path) = shared.config.read().aclfile.clone() else {
            return Err(CommandError::other(NO_ACL_FILE));
        };
        if args.len() != 2 {
            return Err(syntax());
        }
        if is(sub, "load") {
            acl.load_file(Some(&shared), &path)
                .map_err(|e| CommandError::other(format!("ERR {e}")))?;
            if ctx.client.handle.is_killed() {
                ctx.action = Some(Action::Close);
            }
        } else if let Err(e) = acl.save_file(&path) {
            tracing::warn!("ACL SAVE to {}: {e}", path.display());
            return Err(CommandError::other(
                "ERR There was an error trying to save the ACLs. Please check the server logs for more information",
            ));
        }
        Ok(Reply::ok())
    } else if is(sub, "cat") {
        match args.len() {
            2 => Ok(Reply::Array(
                CATEGORIES.iter().map(|c| Reply::bulk(*c)).collect(),
            )),
            3 => {
                let name = text(&args[2]);
                let bit = category_bit(&name).ok_or_else(|| {
                    CommandError::other(format!(
                        "ERR Unknown category '{}'",
                        name.chars().take(128).collect::<String>()
                    ))
                })?;
                Ok(Reply::Array(
                    acl.catalog
                        .in_category(bit)
                        .into_iter()
                        .map(|n| Reply::bulk(n.to_string()))
                        .collect(),
                ))
            }
            _ => Err(syntax()),
        }
    } else if is(sub, "genpass") {
        let bits = match args.len() {
            2 => 256,
            3 => int(&args[2])?,
            _ => return Err(syntax()),
        };
        if bits <= 0 || bits > 4096 {
            return Err(CommandError::other(
                "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096",
            ));
        }
        let chars = (bits as usize).div_ceil(4);
        let pass: String = (0..chars)
            .map(|_| char::from(b"0123456789abcdef"[rand::random_range(0..16)]))
            .collect();
        Ok(Reply::bulk(pass))
    } else if is(sub, "log") {
        log(ctx, args)
    } else if is(sub, "dryrun") {
        dryrun(ctx, args)
    } else if is(sub, "help") {
        Ok(help_reply(HELP))
    } else {
        Err(syntax())
    }
}

/// `ACL GETUSER`: flags, password hashes, the root selector's commands,
/// keys and channels, then the other selectors.
fn getuser(user: &basalt_acl::User) -> Reply {
    let mut fields = vec![
        (
            Reply::bulk("flags"),
            Reply::Set(user.flags().into_iter().map(Reply::bulk).collect()),
        ),
        (
            Reply::bulk("passwords"),
            Reply::Array(
                user.passwords()
                    .iter()
                    .map(|p| Reply::bulk(p.clone()))
                    .collect(),
            ),
        ),
    ];
    fields.extend(selector_fields(user.root()));
    fields.push((
        Reply::bulk("selectors"),
        Reply::Array(
            user.selectors()[1..]
                .iter()
                .map(|s| Reply::Map(selector_fields(s)))
                .collect(),
        ),
    ));
    Reply::Map(fields)
}

fn selector_fields(s: &Selector) -> Vec<(Reply, Reply)> {
    vec![
        (Reply::bulk("commands"), Reply::bulk(s.command_rules())),
        (Reply::bulk("keys"), Reply::Bulk(Bytes::from(s.keys_text()))),
        (
            Reply::bulk("channels"),
            Reply::Bulk(Bytes::from(s.channels_text())),
        ),
    ]
}

/// `ACL LOG [count | RESET]`.
fn log(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let acl = &ctx.shared.acl;
    let mut count = 10;
    match args.len() {
        2 => {}
        3 if is(&args[2], "reset") => {
            acl.with_log(|log| log.reset());
            return Ok(Reply::ok());
        }
        3 => count = int(&args[2])?.max(0) as usize,
        _ => {
            return Err(CommandError::SubcommandSyntax {
                sub: text(&args[1]),
                command: "acl",
            })
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    Ok(acl.with_log(|log| {
        Reply::Array(
            log.newest(count)
                .map(|e| {
                    Reply::Map(vec![
                        (Reply::bulk("count"), Reply::Integer(e.count as i64)),
                        (Reply::bulk("reason"), Reply::bulk(e.reason.name())),
                        (Reply::bulk("context"), Reply::bulk(e.context.name())),
                        (
                            Reply::bulk("object"),
                            Reply::Bulk(Bytes::from(e.object.clone())),
                        ),
                        (
                            Reply::bulk("username"),
                            Reply::Bulk(Bytes::from(e.username.clone())),
                        ),
                        (
                            Reply::bulk("age-seconds"),
                            Reply::Double(now.saturating_sub(e.updated_ms) as f64 / 1000.0),
                        ),
                        (
                            Reply::bulk("client-info"),
                            Reply::bulk(e.client_info.clone()),
                        ),
                        (Reply::bulk("entry-id"), Reply::Integer(e.entry_id as i64)),
                        (
                            Reply::bulk("timestamp-created"),
                            Reply::Integer(e.created_ms as i64),
                        ),
                        (
                            Reply::bulk("timestamp-last-updated"),
                            Reply::Integer(e.updated_ms as i64),
                        ),
                    ])
                })
                .collect(),
        )
    }))
}

/// `ACL DRYRUN user command [args...]`: OK, or why the user may not run
/// it (a bulk string, naming the key or channel).
fn dryrun(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let acl = &ctx.shared.acl;
    let user = acl
        .user(&args[2])
        .ok_or_else(|| CommandError::other(format!("ERR User '{}' not found", text(&args[2]))))?;
    let argv = &args[3..];
    let not_found = || CommandError::other(format!("ERR Command '{}' not found", text(&argv[0])));
    let (index, command) = crate::table().lookup(&argv[0]).ok_or_else(not_found)?;
    let mut sub = 0;
    if !command.subcommands.is_empty() && argv.len() >= 2 {
        sub = command.find_subcommand(&argv[1]).ok_or_else(not_found)? + 1;
    }
    let call = Call {
        index,
        command,
        sub,
        args: argv,
    };
    let arity = match sub {
        0 => command.arity,
        s => command.subcommands[s - 1].arity,
    };
    if !basalt_core::command::arity_matches(arity, argv.len()) {
        return Err(CommandError::WrongArity(call.full_name()));
    }
    let user: Arc<basalt_acl::User> = user.get();
    match basalt_core::acl::check_user(acl, &user, &call) {
        Ok(()) => Ok(Reply::ok()),
        Err(denied) => Ok(Reply::bulk(basalt_core::acl::message(
            &String::from_utf8_lossy(user.name()),
            &call,
            denied,
            true,
        ))),
    }
}
