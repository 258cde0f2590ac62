//! The command table: every command is declared once, next to its handler,
//! with its arity, flags and key positions. COMMAND, dispatch, stats and
//! (later) MULTI, scripting and cluster routing all read this one table.

mod args;
mod block;
mod client;
mod config;
mod connection;
mod hash;
mod info;
mod introspection;
mod key_finder;
mod keys;
mod list;
mod pubsub;
mod scripting;
mod server;
mod set;
mod sort;
mod string;
mod transaction;
mod zset;

pub use args::*;
pub use key_finder::KeyFinder;
pub use pubsub::allowed_while_subscribed;

use crate::context::Ctx;
use crate::error::CommandResult;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::OnceLock;

pub type Handler = fn(&mut Ctx<'_>, &[Bytes]) -> CommandResult;

/// Command flags, named as Redis's COMMAND INFO reports them.
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const FAST: u32 = 1 << 9;
    pub const NO_AUTH: u32 = 1 << 10;
    pub const MAY_REPLICATE: u32 = 1 << 11;
    pub const NO_MULTI: u32 = 1 << 12;
    pub const ALLOW_BUSY: u32 = 1 << 13;

    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// A subcommand as COMMAND INFO lists it; its parent's handler dispatches.
pub struct SubCommand {
    pub name: &'static str,
    pub arity: i32,
    pub flags: u32,
    pub summary: &'static str,
}

pub struct Command {
    /// Lower-case name.
    pub name: &'static str,
    /// Redis convention: positive = exact argc, negative = at least -arity.
    pub arity: i32,
    pub flags: u32,
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    /// For keys found through the arguments (movablekeys).
    pub key_finder: Option<KeyFinder>,
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub subcommands: &'static [SubCommand],
    pub handler: Handler,
}

impl Command {
    pub const fn new(name: &'static str, arity: i32, flags: u32, handler: Handler) -> Command {
        Command {
            name,
            arity,
            flags,
            first_key: 0,
            last_key: 0,
            step: 0,
            key_finder: None,
            group: "generic",
            since: "1.0.0",
            summary: "",
            subcommands: &[],
            handler,
        }
    }

    pub const fn keys(mut self, first: i32, last: i32, step: i32) -> Command {
        self.first_key = first;
        self.last_key = last;
        self.step = step;
        self
    }

    pub const fn movable(mut self, finder: KeyFinder) -> Command {
        self.key_finder = Some(finder);
        self
    }

    pub const fn group(mut self, group: &'static str) -> Command {
        self.group = group;
        self
    }

    pub const fn since(mut self, since: &'static str) -> Command {
        self.since = since;
        self
    }

    pub const fn summary(mut self, summary: &'static str) -> Command {
        self.summary = summary;
        self
    }

    pub const fn subcommands(mut self, subs: &'static [SubCommand]) -> Command {
        self.subcommands = subs;
        self
    }

    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        arity_matches(self.arity, argc)
    }

    /// The subcommand named by `args[1]`, as an index into `subcommands`.
    pub fn find_subcommand(&self, name: &[u8]) -> Option<usize> {
        self.subcommands
            .iter()
            .position(|s| name.eq_ignore_ascii_case(s.name.as_bytes()))
    }

    /// Indices into argv of this command's keys.
    pub fn key_indices(&self, args: &[Bytes]) -> Vec<usize> {
        let argc = args.len();
        let mut keys = self.fixed_key_indices(argc);
        if let Some(find) = self.key_finder {
            keys.extend(find(args).into_iter().filter(|&i| i < argc));
            keys.sort_unstable();
            keys.dedup();
        }
        keys
    }

    fn fixed_key_indices(&self, argc: usize) -> Vec<usize> {
        if self.first_key <= 0 {
            return Vec::new();
        }
        let last = if self.last_key < 0 {
            argc as i32 + self.last_key
        } else {
            self.last_key.min(argc as i32 - 1)
        };
        let step = self.step.max(1) as usize;
        (self.first_key as usize..=last.max(0) as usize)
            .step_by(step)
            .filter(|&i| i < argc && i as i32 >= self.first_key)
            .collect()
    }

    /// The keys themselves.
    pub fn keys_of(&self, args: &[Bytes]) -> Vec<Bytes> {
        self.key_indices(args)
            .into_iter()
            .map(|i| args[i].clone())
            .collect()
    }
}

/// Redis's arity convention: positive = exactly, negative = at least.
pub fn arity_matches(arity: i32, argc: usize) -> bool {
    let argc = argc as i32;
    if arity >= 0 {
        argc == arity
    } else {
        argc >= -arity
    }
}

pub struct CommandTable {
    commands: Vec<&'static Command>,
    by_name: HashMap<&'static str, usize>,
}

impl CommandTable {
    fn build() -> CommandTable {
        let groups: [&'static [Command]; 17] = [
            transaction::COMMANDS,
            block::COMMANDS,
            string::COMMANDS,
            hash::COMMANDS,
            list::COMMANDS,
            set::COMMANDS,
            sort::COMMANDS,
            zset::COMMANDS,
            keys::COMMANDS,
            connection::COMMANDS,
            server::COMMANDS,
            config::COMMANDS,
            info::COMMANDS,
            client::COMMANDS,
            introspection::COMMANDS,
            pubsub::COMMANDS,
            scripting::COMMANDS,
        ];
        let commands: Vec<&'static Command> = groups.iter().flat_map(|g| g.iter()).collect();
        let by_name = commands
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name, i))
            .collect();
        CommandTable { commands, by_name }
    }

    pub fn get() -> &'static CommandTable {
        static TABLE: OnceLock<CommandTable> = OnceLock::new();
        TABLE.get_or_init(CommandTable::build)
    }

    /// Looks a command up by its (any-case) name; returns its index too,
    /// which keys the per-command statistics.
    pub fn lookup(&self, name: &[u8]) -> Option<(usize, &'static Command)> {
        let mut buf = [0u8; 32];
        if name.len() > buf.len() {
            return None;
        }
        let lower = &mut buf[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        let name = std::str::from_utf8(lower).ok()?;
        let &i = self.by_name.get(name)?;
        Some((i, self.commands[i]))
    }

    pub fn all(&self) -> &[&'static Command] {
        &self.commands
    }

    pub fn len(&self) -> usize {
        self.commands.len()
    }
}
