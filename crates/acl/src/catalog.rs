//! The commands ACL rules can name: each command and subcommand gets an
//! id (its bit in a selector's bitmap), its categories as a bit set, and
//! its place in the parent/subcommand tree.

use std::collections::HashMap;
use std::ops::Range;

/// Redis's ACL categories, in Redis's order (`ACL CAT`).
pub const CATEGORIES: [&str; 22] = [
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
    // RedisJSON's module category.
    "json",
];

/// The bit of a category name (any case), or `None` for no category.
pub fn category_bit(name: &str) -> Option<u32> {
    CATEGORIES
        .iter()
        .position(|c| c.eq_ignore_ascii_case(name))
        .map(|i| 1 << i)
}

/// What the catalog needs to know of one command of the table.
pub struct CommandInfo<'a> {
    /// Lower-case name.
    pub name: &'a str,
    pub categories: Vec<&'a str>,
    /// Runs before authentication (AUTH, HELLO, QUIT, RESET): never refused
    /// for lack of a command permission.
    pub no_auth: bool,
    pub subcommands: Vec<CommandInfo<'a>>,
}

/// One command or subcommand.
#[derive(Debug, Clone)]
pub struct Entry {
    /// `name`, or `parent|name` for a subcommand.
    pub name: String,
    pub categories: u32,
    pub parent: Option<usize>,
    /// Ids of its subcommands.
    pub subcommands: Range<usize>,
    pub no_auth: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    entries: Vec<Entry>,
    by_name: HashMap<String, usize>,
    /// The id of the table's n-th command; its subcommands follow it.
    first: Vec<usize>,
}

impl Catalog {
    /// Builds the catalog from the table's commands, in table order: the
    /// n-th command's id is `first[n]` and its i-th subcommand's is
    /// `first[n] + 1 + i`, so the dispatcher maps (command, subcommand)
    /// to an id with one addition (see [`Catalog::id`]).
    pub fn new(commands: &[CommandInfo<'_>]) -> Catalog {
        let mut catalog = Catalog::default();
        for command in commands {
            let id = catalog.entries.len();
            catalog.first.push(id);
            let subs = id + 1..id + 1 + command.subcommands.len();
            catalog.push(command, None, subs);
            for sub in &command.subcommands {
                catalog.push(sub, Some(id), 0..0);
            }
        }
        catalog
    }

    fn push(&mut self, info: &CommandInfo<'_>, parent: Option<usize>, subs: Range<usize>) {
        let name = match parent {
            Some(p) => format!("{}|{}", self.entries[p].name, info.name),
            None => info.name.to_ascii_lowercase(),
        };
        let categories = info
            .categories
            .iter()
            .filter_map(|c| category_bit(c))
            .fold(0, |a, b| a | b);
        self.by_name.insert(name.clone(), self.entries.len());
        self.entries.push(Entry {
            name,
            categories,
            parent,
            subcommands: subs,
            no_auth: info.no_auth,
        });
    }

    /// Number of ids.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The id of the table's `command`-th command, or of its subcommand
    /// `sub` (1-based; 0 for the command itself).
    pub fn id(&self, command: usize, sub: usize) -> usize {
        self.first[command] + sub
    }

    pub fn entry(&self, id: usize) -> &Entry {
        &self.entries[id]
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// A command by name (`get`) or a subcommand (`config|get`), any case.
    pub fn lookup(&self, name: &str) -> Option<usize> {
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }

    /// `ACL CAT <category>`: the commands and subcommands in it, in table
    /// order.
    pub fn in_category(&self, bit: u32) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|e| e.categories & bit != 0)
            .map(|e| e.name.as_str())
            .collect()
    }
}
