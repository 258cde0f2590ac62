//! Redis 7 access control lists, without the server: the model the server
//! consults before every command.
//!
//! - [`Catalog`]: the commands ACL rules can name, each with an id, its
//!   ACL categories and its subcommands, built once from the command
//!   table (this crate never sees the table itself);
//! - [`User`] and its selectors: `ACL SETUSER` rules, applied one by one
//!   as Redis 7.2's `ACLSetUser` does, and rendered back in Redis's order
//!   and words (`ACL LIST`, `ACL GETUSER`, the ACL file);
//! - [`User::check`]: may this user run this command, with these keys
//!   (each with the access the command needs) and these channels;
//! - [`Log`]: the `ACL LOG` entries;
//! - [`file`]: the ACL file, parsed all-or-nothing and written atomically.

mod catalog;
mod check;
pub mod file;
mod log;
mod selector;
mod user;

#[cfg(test)]
mod tests;

pub use catalog::{category_bit, Catalog, CommandInfo, Entry, CATEGORIES};
pub use check::{Channel, Denied, KeyRef, Reason, Request};
pub use log::{Context, Log, LogEntry};
pub use selector::{KeyPattern, Selector};
pub use user::{hash_password, Env, RuleError, User};

/// The error text of a user name with spaces or NUL bytes.
pub const BAD_USERNAME: &str = "ERR Usernames can't contain spaces or null characters";

/// Whether `s` has a space-like character or a NUL (Redis's
/// `ACLStringHasSpaces`), which user names and patterns may not contain.
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter()
        .any(|&b| b == 0 || b == b' ' || (b'\t'..=b'\r').contains(&b))
}
