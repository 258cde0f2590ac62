//! The command table's types: every command is declared once, next to its
//! handler (in `basalt-commands`), with its arity, flags and key positions.
//! The dispatcher, COMMAND, stats, MULTI, scripting and (later) cluster
//! routing and ACL all read this one table; behaviour that differs by command
//! is a flag here, never a list of names elsewhere.

pub use crate::key_finder::KeyFinder;
pub use crate::key_spec::{key_flags, BeginSearch, FindKeys, KeySpec, Shape};

use crate::key_spec::{legacy_range, Found};

use crate::context::Ctx;
use crate::error::CommandResult;
use bytes::Bytes;
use std::collections::HashMap;

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
    /// May be called with no keys at all (scripts).
    pub const NO_MANDATORY_KEYS: u32 = 1 << 14;
    /// Not shown to MONITOR after it runs (scripts show themselves before
    /// the commands they call).
    pub const SKIP_MONITOR: u32 = 1 << 15;
    /// Not logged in the slowlog (EXEC: the commands it ran are).
    pub const SKIP_SLOWLOG: u32 = 1 << 17;
    /// Served during a slot migration after ASKING (RESTORE-ASKING).
    pub const ASKING: u32 = 1 << 16;

    // Basalt's own flags below: not in COMMAND INFO (absent from `NAMES`),
    // they carry what Redis hard-codes per command name.
    /// Runs at once even inside MULTI (EXEC, DISCARD, MULTI, WATCH, ...).
    pub const TXN_CONTROL: u32 = 1 << 20;
    /// Allowed in RESP2 subscribed mode.
    pub const SUBSCRIBED_OK: u32 = 1 << 21;
    /// Changes every key at once (FLUSHDB, FLUSHALL): invalidates every
    /// WATCH.
    pub const ALL_KEYS: u32 = 1 << 22;
    /// Its cost grows with its keys' collections: run off the async worker
    /// when one is large (see `crate::offload`).
    pub const SCANS: u32 = 1 << 23;
    /// Walks the whole keyspace (KEYS, FLUSHDB, DBSIZE): always run off the
    /// async worker.
    pub const WHOLE_KEYSPACE: u32 = 1 << 24;
    /// Looks its keys up without a `keymiss` event (OBJECT, as Redis's
    /// LOOKUP_NONOTIFY).
    pub const NO_KEYMISS: u32 = 1 << 25;
    /// Leaves CLIENT CACHING's opt-in/out armed for the next command
    /// (CLIENT itself, as Redis exempts `clientCommand`).
    pub const TRACKING_CONTROL: u32 = 1 << 26;
    /// Stores or drops scripts in the propagate column family, which
    /// replicas reload them from (SCRIPT LOAD, SCRIPT FLUSH): its write
    /// counts as its client's last for WAIT, though Redis flags it no
    /// write.
    pub const STORES_SCRIPTS: u32 = 1 << 18;

    // Channel arguments, as Redis's `commands_with_channels` table marks
    // them for ACL (`&pattern`): PUBLISH's first argument, every argument
    // of the (un)subscribe commands. A command with one of these has no
    // keys as far as ACL goes: its key positions (shard channels) are
    // channels.
    /// Publishes to the channel in its first argument.
    pub const CHANNEL_PUBLISH: u32 = 1 << 27;
    /// Subscribes to every channel in its arguments.
    pub const CHANNEL_SUBSCRIBE: u32 = 1 << 28;
    /// Unsubscribes from the channels in its arguments (never refused).
    pub const CHANNEL_UNSUBSCRIBE: u32 = 1 << 29;
    /// Its channels are patterns (PSUBSCRIBE, PUNSUBSCRIBE).
    pub const CHANNEL_PATTERN: u32 = 1 << 30;
    pub const CHANNELS: u32 = CHANNEL_PUBLISH | CHANNEL_SUBSCRIBE | CHANNEL_UNSUBSCRIBE;

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
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (ASKING, "asking"),
    ];
}

/// A subcommand as COMMAND INFO lists it; its parent's handler dispatches.
pub struct SubCommand {
    pub name: &'static str,
    pub arity: i32,
    pub flags: u32,
    pub summary: &'static str,
    /// Its own key positions (OBJECT ENCODING key), which replace the
    /// parent's when this subcommand is called.
    pub keys: KeyRange,
    /// Its keys' spec flags (`key_flags`), as for a command.
    pub key_flags: &'static [u32],
    /// Its arguments after the subcommand name, in the syntax of
    /// `crate::syntax`.
    pub syntax: &'static str,
    /// The Redis version that added it; empty: its parent's.
    pub since: &'static str,
}

impl SubCommand {
    /// A subcommand without keys; `.keys()` gives it its own.
    pub const fn new(name: &'static str, arity: i32, flags: u32, summary: &'static str) -> Self {
        SubCommand {
            name,
            arity,
            flags,
            summary,
            keys: KeyRange::NONE,
            key_flags: &[],
            syntax: "",
            since: "",
        }
    }

    pub const fn since(mut self, since: &'static str) -> Self {
        self.since = since;
        self
    }

    pub const fn keys(mut self, keys: KeyRange) -> Self {
        self.keys = keys;
        self
    }

    pub const fn key_flags(mut self, flags: &'static [u32]) -> Self {
        self.key_flags = flags;
        self
    }

    pub const fn syntax(mut self, syntax: &'static str) -> Self {
        self.syntax = syntax;
        self
    }

    /// Its key specs, from its key range and key flags.
    pub fn key_specs(&self) -> Vec<KeySpec> {
        with_flags(
            range_shapes(self.keys, self.key_flags.len()),
            self.key_flags,
            self.flags,
        )
    }
}

/// Key positions in Redis's first/last/step form: `last` < 0 counts from
/// the end; `first` 0 means no keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyRange {
    pub first: i32,
    pub last: i32,
    pub step: i32,
}

impl KeyRange {
    pub const NONE: KeyRange = KeyRange {
        first: 0,
        last: 0,
        step: 0,
    };

    /// One key at `at`.
    pub const fn at(at: i32) -> KeyRange {
        KeyRange {
            first: at,
            last: at,
            step: 1,
        }
    }
}

/// How a command uses one of its keys, as ACL key permissions (`%R~`,
/// `%W~`) need it: read when its spec has `access`, written when it has
/// `insert`, `delete` or `update` (Redis's `ACLSelectorCheckKey`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAccess {
    /// Its value is returned or copied (GET, a STORE command's sources);
    /// also a key only looked at (EXISTS, TYPE: neither permission in
    /// Redis), which needs no more than read.
    Read,
    /// Changed without its value being returned: overwritten (SET, a
    /// STORE destination), added to (LPUSH) or deleted (DEL).
    Write,
    /// Both (INCR, LPOP, GETDEL).
    ReadWrite,
}

impl KeyAccess {
    /// From a key spec's flags.
    pub fn of(flags: u32) -> KeyAccess {
        use key_flags::*;
        let read = flags & ACCESS != 0;
        let write = flags & (INSERT | DELETE | UPDATE) != 0;
        match (read, write) {
            (true, true) => KeyAccess::ReadWrite,
            (false, true) => KeyAccess::Write,
            _ => KeyAccess::Read,
        }
    }
}

/// One key of a call: its argument index and its spec's flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyRef {
    pub index: usize,
    pub flags: u32,
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
    /// For keys found through the arguments (movablekeys), or whose flags
    /// depend on them.
    pub key_finder: Option<KeyFinder>,
    /// One set of key spec flags (`key_flags::*`) per key spec: the specs
    /// are the key finder's shapes, or the key range split so that each
    /// flag set but the last covers one key and the last the rest. Empty
    /// for a read-only command means RO + access.
    pub key_flags: &'static [u32],
    /// The arguments after the name, in the syntax of `crate::syntax`
    /// (COMMAND DOCS). Empty for a command with subcommands.
    pub syntax: &'static str,
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub subcommands: &'static [SubCommand],
    /// ACL categories beyond those that follow from the flags and group
    /// (`dangerous` for KEYS, FLUSHALL, SORT, ...).
    pub acl_extra: &'static [&'static str],
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
            key_flags: &[],
            syntax: "",
            acl_extra: &[],
            handler,
        }
    }

    pub const fn key_flags(mut self, flags: &'static [u32]) -> Command {
        self.key_flags = flags;
        self
    }

    pub const fn syntax(mut self, syntax: &'static str) -> Command {
        self.syntax = syntax;
        self
    }

    pub const fn acl(mut self, extra: &'static [&'static str]) -> Command {
        self.acl_extra = extra;
        self
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

    /// Its key specs, as COMMAND INFO shows them.
    pub fn key_specs(&self) -> Vec<KeySpec> {
        let shapes = match self.key_finder.and_then(|f| f.shapes()) {
            Some(shapes) => shapes.to_vec(),
            None => range_shapes(self.key_range(), self.key_flags.len()),
        };
        with_flags(shapes, self.key_flags, self.flags)
    }

    /// Redis's legacy first/last/step triple and `movablekeys`, derived
    /// from the key specs (the declared triple must agree).
    pub fn legacy_keys(&self) -> ((i32, i32, i32), bool) {
        let (range, movable) = legacy_range(&self.key_specs());
        let by_proc = matches!(self.key_finder, Some(KeyFinder::Proc(..)));
        (range, movable || by_proc)
    }

    /// The keys of a call with their spec flags, in spec order, as
    /// COMMAND GETKEYSANDFLAGS reports them: those of the subcommand named
    /// by `args[1]` when there is one, shard channels (NOT_KEY) included.
    /// Empty when the arguments are malformed where the keys are (a bad
    /// count): the command then fails without touching a key.
    pub fn key_refs(&self, args: &[Bytes]) -> Vec<KeyRef> {
        if let Some(sub) = args.get(1).and_then(|n| self.find_subcommand(n)) {
            return search(&self.subcommands[sub].key_specs(), args);
        }
        match self.key_finder {
            Some(KeyFinder::Proc(_, find)) => {
                let specs = self.key_specs();
                find(args)
                    .into_iter()
                    .filter(|&(i, _)| i < args.len())
                    // The procedure finds every key its spec may miss.
                    .map(|(index, spec)| KeyRef {
                        index,
                        flags: specs.get(spec).map_or(0, |s| s.flags) & !key_flags::INCOMPLETE,
                    })
                    .collect()
            }
            Some(KeyFinder::VariableFlags(flags_of)) => {
                let flags = flags_of(args);
                search(&self.key_specs(), args)
                    .into_iter()
                    .map(|k| KeyRef { flags, ..k })
                    .collect()
            }
            _ => search(&self.key_specs(), args),
        }
    }

    /// Indices into argv of this command's keys (shard channels too, which
    /// route and lock like keys): in argument order without repeats when
    /// a key finder finds them.
    pub fn key_indices(&self, args: &[Bytes]) -> Vec<usize> {
        let mut keys: Vec<usize> = self.key_refs(args).into_iter().map(|k| k.index).collect();
        if matches!(
            self.key_finder,
            Some(KeyFinder::Specs(_) | KeyFinder::Proc(..))
        ) {
            keys.sort_unstable();
            keys.dedup();
        }
        keys
    }

    fn key_range(&self) -> KeyRange {
        KeyRange {
            first: self.first_key,
            last: self.last_key,
            step: self.step,
        }
    }

    /// Each key's index and how the command uses it (shard channels are
    /// not keys here).
    pub fn key_access(&self, args: &[Bytes]) -> Vec<(usize, KeyAccess)> {
        self.key_refs(args)
            .into_iter()
            .filter(|k| k.flags & key_flags::NOT_KEY == 0)
            .map(|k| (k.index, KeyAccess::of(k.flags)))
            .collect()
    }

    /// ACL categories, as Redis derives most of them: from the flags
    /// (write, read, admin + dangerous, pubsub, blocking, fast or slow) and
    /// from the group (string, list, keyspace, ...), plus `acl_extra`.
    pub fn acl_categories(&self) -> Vec<&'static str> {
        // A container (CONFIG, CLIENT, ...) is no command of its own: in
        // Redis it has no flags and so only @slow; a category rule reaches
        // its subcommands by their own categories (`sub_acl_categories`).
        if !self.subcommands.is_empty() {
            return vec!["slow"];
        }
        categories(self.flags, self.group, self.acl_extra)
    }

    /// The flags COMMAND INFO shows: none for a container, as in Redis
    /// (the dispatcher still reads the container's own flags until a
    /// subcommand is found).
    pub fn shown_flags(&self) -> u32 {
        if self.subcommands.is_empty() {
            self.flags
        } else {
            0
        }
    }

    /// A subcommand's categories: from its own flags and its parent's group.
    pub fn sub_acl_categories(&self, sub: &SubCommand) -> Vec<&'static str> {
        categories(sub.flags, self.group, self.acl_extra)
    }

    /// Whether a call may name no keys (Redis's NO_MANDATORY_KEYS).
    pub fn keys_optional(&self) -> bool {
        self.has(flags::NO_MANDATORY_KEYS)
    }

    /// Whether the command itself (not its subcommands) takes keys that
    /// are keys (Redis's `doesCommandHaveKeys`).
    pub fn has_keys(&self) -> bool {
        matches!(self.key_finder, Some(KeyFinder::Proc(..)))
            || self
                .key_specs()
                .iter()
                .any(|s| s.flags & key_flags::NOT_KEY == 0)
    }

    /// The keys it writes (read-write or write-only), as client-side
    /// caching invalidates them; none for a command without WRITE.
    pub fn written_keys(&self, args: &[Bytes]) -> Vec<Bytes> {
        if !self.has(flags::WRITE) {
            return Vec::new();
        }
        self.key_access(args)
            .into_iter()
            .filter(|(_, access)| *access != KeyAccess::Read)
            .map(|(i, _)| args[i].clone())
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

/// Shapes for a key range: with `n` > 1 flag sets, the first n-1 specs
/// take one key each and the last the rest (SMOVE's source and
/// destination, SUNIONSTORE's destination and sources).
fn range_shapes(range: KeyRange, n: usize) -> Vec<Shape> {
    if range.first <= 0 {
        return Vec::new();
    }
    let step = range.step.max(1);
    let mut shapes = Vec::new();
    let mut at = range.first;
    for _ in 1..n.max(1) {
        shapes.push(Shape::key_at(at as usize));
        at += step;
    }
    shapes.push(Shape {
        begin: BeginSearch::Index(at as usize),
        find: FindKeys::Range {
            last: if range.last >= 0 {
                range.last - at
            } else {
                range.last
            },
            step: step as usize,
            limit: 0,
        },
    });
    shapes
}

/// Pairs shapes with declared flags: one set for all, or one per shape;
/// a read-only command's undeclared flags are RO + access.
fn with_flags(shapes: Vec<Shape>, declared: &[u32], command_flags: u32) -> Vec<KeySpec> {
    let default = if command_flags & flags::WRITE != 0 {
        key_flags::RW | key_flags::ACCESS | key_flags::UPDATE
    } else {
        key_flags::RO | key_flags::ACCESS
    };
    shapes
        .into_iter()
        .enumerate()
        .map(|(i, shape)| KeySpec {
            shape,
            flags: declared
                .get(i)
                .or(declared.last())
                .copied()
                .unwrap_or(default),
        })
        .collect()
}

/// Redis's key-spec search over all specs: any spec that cannot tell
/// (a bad count) leaves the call with no keys, as the command will fail.
fn search(specs: &[KeySpec], args: &[Bytes]) -> Vec<KeyRef> {
    let mut keys = Vec::new();
    for spec in specs {
        match spec.find(args) {
            Found::Keys(found) => keys.extend(found.into_iter().map(|index| KeyRef {
                index,
                flags: spec.flags,
            })),
            Found::Invalid => return Vec::new(),
        }
    }
    keys
}

fn categories(flags: u32, group: &str, acl_extra: &[&'static str]) -> Vec<&'static str> {
    let has = |f: u32| flags & f != 0;
    let mut cats = Vec::new();
    if has(flags::WRITE) {
        cats.push("write");
    }
    if has(flags::READONLY) && group != "scripting" {
        cats.push("read");
    }
    if has(flags::ADMIN) {
        cats.extend(["admin", "dangerous"]);
    }
    if has(flags::PUBSUB) || group == "pubsub" {
        cats.push("pubsub");
    }
    if has(flags::BLOCKING) {
        cats.push("blocking");
    }
    let by_group = match group {
        "string" => Some("string"),
        "hash" => Some("hash"),
        "list" => Some("list"),
        "set" => Some("set"),
        "sorted-set" => Some("sortedset"),
        "generic" => Some("keyspace"),
        "connection" => Some("connection"),
        "transactions" => Some("transaction"),
        "scripting" => Some("scripting"),
        "geo" => Some("geo"),
        "bitmap" => Some("bitmap"),
        "stream" => Some("stream"),
        "hyperloglog" => Some("hyperloglog"),
        _ => None,
    };
    cats.extend(by_group);
    cats.push(if has(flags::FAST) { "fast" } else { "slow" });
    for extra in acl_extra {
        if !cats.contains(extra) {
            cats.push(extra);
        }
    }
    cats
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
    /// Builds the table from the handler crate's groups of declarations.
    pub fn new(groups: &[&'static [Command]]) -> CommandTable {
        let commands: Vec<&'static Command> = groups.iter().flat_map(|g| g.iter()).collect();
        let by_name = commands
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name, i))
            .collect();
        CommandTable { commands, by_name }
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

    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }
}
