//! The permission check: may a user run a command with these arguments
//! (Redis's `ACLCheckAllUserCommandPerm`).

use crate::catalog::Catalog;
use crate::selector::Selector;
use crate::user::User;
use std::cell::OnceCell;

/// One key of a command and the access the command needs to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRef {
    /// Its index in the arguments.
    pub pos: usize,
    pub read: bool,
    pub write: bool,
}

/// One channel a command publishes or subscribes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channel {
    pub pos: usize,
    /// A PSUBSCRIBE pattern: it must be one of the user's channel patterns
    /// literally, not merely match one.
    pub pattern: bool,
}

/// A command to check.
pub struct Request<'a, A: AsRef<[u8]>> {
    /// Its catalog id (the subcommand's, when it has one).
    pub id: usize,
    /// The whole argument vector, the command name first.
    pub args: &'a [A],
    /// Its keys; computed only if some selector restricts keys.
    pub keys: &'a dyn Fn() -> Vec<KeyRef>,
    pub channels: &'a [Channel],
}

/// Why a command was refused, in Redis's order of relevance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    Command = 1,
    Key = 2,
    Auth = 3,
    Channel = 4,
}

impl Reason {
    /// As `ACL LOG` names it.
    pub fn name(self) -> &'static str {
        match self {
            Reason::Command => "command",
            Reason::Key => "key",
            Reason::Auth => "auth",
            Reason::Channel => "channel",
        }
    }
}

/// A refusal: why, and the index of the argument at fault (0 for the
/// command itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denied {
    pub reason: Reason,
    pub pos: usize,
}

impl User {
    /// Whether the user may run the command: one selector must allow the
    /// command, every key with the access needed, and every channel. When
    /// none does, the refusal reported is the most relevant one (a channel
    /// over a key over the command) at the last argument, as Redis picks.
    pub fn check<A: AsRef<[u8]>>(
        &self,
        catalog: &Catalog,
        req: &Request<'_, A>,
    ) -> Result<(), Denied> {
        let keys = OnceCell::new();
        let mut worst = Denied {
            reason: Reason::Command,
            pos: 0,
        };
        for s in self.selectors() {
            match check_selector(s, catalog, req, &keys) {
                Ok(()) => return Ok(()),
                Err(d) => {
                    if d.reason > worst.reason || (d.reason == worst.reason && d.pos > worst.pos) {
                        worst = d;
                    }
                }
            }
        }
        Err(worst)
    }
}

fn check_selector<A: AsRef<[u8]>>(
    s: &Selector,
    catalog: &Catalog,
    req: &Request<'_, A>,
    keys: &OnceCell<Vec<KeyRef>>,
) -> Result<(), Denied> {
    let entry = catalog.entry(req.id);
    let command_denied = Denied {
        reason: Reason::Command,
        pos: 0,
    };
    if !s.all_commands && !entry.no_auth && !s.bit(req.id) {
        // Maybe allowed with this first argument only (`+select|0`).
        let at = if entry.parent.is_some() { 2 } else { 1 };
        let first = req.args.get(at).ok_or(command_denied)?;
        let allowed = s.first_args(req.id).ok_or(command_denied)?;
        if !allowed
            .iter()
            .any(|a| a.as_bytes().eq_ignore_ascii_case(first.as_ref()))
        {
            return Err(command_denied);
        }
    }
    if !s.all_keys {
        for key in keys.get_or_init(|| (req.keys)()) {
            let name = req.args[key.pos].as_ref();
            let ok = s.keys.iter().any(|p| {
                (p.read || !key.read)
                    && (p.write || !key.write)
                    && basalt_glob::glob_match(&p.pattern, name, false)
            });
            if !ok {
                return Err(Denied {
                    reason: Reason::Key,
                    pos: key.pos,
                });
            }
        }
    }
    if !s.all_channels {
        for ch in req.channels {
            let name = req.args[ch.pos].as_ref();
            let ok = s.channels.iter().any(|p| {
                if ch.pattern {
                    p == name
                } else {
                    basalt_glob::glob_match(p, name, false)
                }
            });
            if !ok {
                return Err(Denied {
                    reason: Reason::Channel,
                    pos: ch.pos,
                });
            }
        }
    }
    Ok(())
}
