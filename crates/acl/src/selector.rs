//! One selector: a set of commands, key patterns and channel patterns. A
//! user has a root selector and any number of `(...)` selectors; a command
//! is allowed when one of them allows it.

use crate::catalog::{category_bit, Catalog};
use crate::user::RuleError;
use std::collections::BTreeMap;

/// A key pattern with the access it grants: `~p` (both), `%R~p`, `%W~p`,
/// `%RW~p`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPattern {
    pub pattern: Vec<u8>,
    pub read: bool,
    pub write: bool,
}

impl KeyPattern {
    /// As Redis writes it back: `~p`, `%R~p` or `%W~p`.
    pub fn render(&self, out: &mut Vec<u8>) {
        match (self.read, self.write) {
            (true, false) => out.extend_from_slice(b"%R~"),
            (false, true) => out.extend_from_slice(b"%W~"),
            _ => out.push(b'~'),
        }
        out.extend_from_slice(&self.pattern);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub(crate) all_keys: bool,
    pub(crate) all_channels: bool,
    /// `allcommands` / `+@all` with nothing taken away since: the bitmap
    /// need not be looked at.
    pub(crate) all_commands: bool,
    /// Redis's reserved "future commands" bit: set by `+@all`, cleared by
    /// `-@all`; decides whether the rules are written from `+@all` or
    /// `-@all`.
    pub(crate) future: bool,
    allowed: Vec<u64>,
    /// Allowed first arguments of an otherwise denied command without
    /// subcommands (`+select|0`), by command id.
    first_args: BTreeMap<usize, Vec<String>>,
    /// Redis 7.2's `command_rules`: the command and category rules as
    /// given, each once, in order, lower case (`+@all -@hash +hget`).
    rules: String,
    pub(crate) keys: Vec<KeyPattern>,
    pub(crate) channels: Vec<Vec<u8>>,
}

impl Selector {
    /// An empty selector: no commands, no keys, and all channels only when
    /// `acl-pubsub-default` is `allchannels`.
    pub fn new(catalog: &Catalog, all_channels: bool) -> Selector {
        Selector {
            all_keys: false,
            all_channels,
            all_commands: false,
            future: false,
            allowed: vec![0; catalog.len().div_ceil(64)],
            first_args: BTreeMap::new(),
            rules: String::new(),
            keys: Vec::new(),
            channels: Vec::new(),
        }
    }

    pub fn all_keys(&self) -> bool {
        self.all_keys
    }

    pub fn all_channels(&self) -> bool {
        self.all_channels
    }

    pub fn key_patterns(&self) -> &[KeyPattern] {
        &self.keys
    }

    pub fn channel_patterns(&self) -> &[Vec<u8>] {
        &self.channels
    }

    /// Allows everything there is: commands, keys, channels.
    pub fn unrestricted(&self) -> bool {
        self.all_commands && self.all_keys && self.all_channels
    }

    pub(crate) fn bit(&self, id: usize) -> bool {
        self.allowed
            .get(id / 64)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    fn set_bit(&mut self, id: usize, value: bool) {
        if let Some(w) = self.allowed.get_mut(id / 64) {
            if value {
                *w |= 1 << (id % 64);
            } else {
                *w &= !(1 << (id % 64));
            }
        }
        if !value {
            self.all_commands = false;
        }
    }

    /// The allowed first arguments of command `id`, if any.
    pub(crate) fn first_args(&self, id: usize) -> Option<&[String]> {
        self.first_args.get(&id).map(Vec::as_slice)
    }

    /// Allows or denies a command, and with a container all of its
    /// subcommands (Redis's `ACLChangeSelectorPerm`).
    fn change(&mut self, catalog: &Catalog, id: usize, allow: bool) {
        self.set_bit(id, allow);
        self.first_args.remove(&id);
        for sub in catalog.entry(id).subcommands.clone() {
            self.set_bit(sub, allow);
        }
    }

    fn change_category(&mut self, catalog: &Catalog, bit: u32, allow: bool) {
        for id in 0..catalog.len() {
            let entry = catalog.entry(id);
            if entry.categories & bit == 0 {
                continue;
            }
            if entry.parent.is_some() {
                self.set_bit(id, allow);
            } else {
                self.change(catalog, id, allow);
            }
        }
    }

    /// Records a command or category rule (Redis 7.2's
    /// `ACLUpdateCommandRules`): an earlier rule for the same command, or
    /// for one of its subcommands, is dropped, and the new one goes last.
    fn update_rules(&mut self, rule: &str, allow: bool) {
        let rule = rule.to_ascii_lowercase();
        let kept: Vec<&str> = self
            .rules
            .split(' ')
            .filter(|r| !r.is_empty())
            .filter(|r| {
                let name = &r[1..];
                !(name == rule
                    || (name.len() > rule.len()
                        && name.starts_with(rule.as_str())
                        && name.as_bytes()[rule.len()] == b'|'))
            })
            .collect();
        let mut rules = kept.join(" ");
        if !rules.is_empty() {
            rules.push(' ');
        }
        rules.push(if allow { '+' } else { '-' });
        rules.push_str(&rule);
        self.rules = rules;
    }

    /// Applies one selector rule (Redis's `ACLSetSelector`).
    pub(crate) fn apply(&mut self, catalog: &Catalog, op: &[u8]) -> Result<(), RuleError> {
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if is("allkeys") || is("~*") {
            self.all_keys = true;
            self.keys.clear();
        } else if is("resetkeys") {
            self.all_keys = false;
            self.keys.clear();
        } else if is("allchannels") || is("&*") {
            self.all_channels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.all_channels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.allowed.iter_mut().for_each(|w| *w = u64::MAX);
            self.all_commands = true;
            self.future = true;
            self.rules.clear();
            self.first_args.clear();
        } else if is("nocommands") || is("-@all") {
            self.allowed.iter_mut().for_each(|w| *w = 0);
            self.all_commands = false;
            self.future = false;
            self.rules.clear();
            self.first_args.clear();
        } else if op.first() == Some(&b'~') || op.first() == Some(&b'%') {
            self.add_key_pattern(op)?;
        } else if op.first() == Some(&b'&') {
            if self.all_channels {
                return Err(RuleError::ChannelAfterAll);
            }
            let pattern = &op[1..];
            if crate::has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pattern) {
                self.channels.push(pattern.to_vec());
            }
        } else if op.len() >= 2 && (op[0] == b'+' || op[0] == b'-') && op[1] == b'@' {
            let allow = op[0] == b'+';
            let name = std::str::from_utf8(&op[2..]).map_err(|_| RuleError::UnknownCommand)?;
            let bit = category_bit(name).ok_or(RuleError::UnknownCommand)?;
            self.update_rules(&format!("@{name}"), allow);
            self.change_category(catalog, bit, allow);
        } else if op.first() == Some(&b'+') {
            self.allow_command(catalog, &op[1..])?;
        } else if op.first() == Some(&b'-') {
            let name = std::str::from_utf8(&op[1..]).map_err(|_| RuleError::UnknownCommand)?;
            let id = catalog.lookup(name).ok_or(RuleError::UnknownCommand)?;
            self.change(catalog, id, false);
            let fullname = catalog.entry(id).name.clone();
            self.update_rules(&fullname, false);
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    fn add_key_pattern(&mut self, op: &[u8]) -> Result<(), RuleError> {
        if self.all_keys {
            return Err(RuleError::KeyAfterAll);
        }
        let (mut read, mut write) = (false, false);
        let mut offset = 1;
        if op[0] == b'%' {
            loop {
                match op.get(offset) {
                    Some(b'R' | b'r') if !read => read = true,
                    Some(b'W' | b'w') if !write => write = true,
                    Some(b'~') if read || write => {
                        offset += 1;
                        break;
                    }
                    _ => return Err(RuleError::Syntax),
                }
                offset += 1;
            }
        } else {
            (read, write) = (true, true);
        }
        let pattern = &op[offset..];
        if crate::has_spaces(pattern) {
            return Err(RuleError::Syntax);
        }
        match self.keys.iter_mut().find(|k| k.pattern == pattern) {
            Some(existing) => {
                existing.read |= read;
                existing.write |= write;
            }
            None => self.keys.push(KeyPattern {
                pattern: pattern.to_vec(),
                read,
                write,
            }),
        }
        self.all_keys = false;
        Ok(())
    }

    /// `+name`, `+name|sub` (a subcommand) or `+name|arg` (an allowed first
    /// argument of a command without subcommands, as `+select|0`).
    fn allow_command(&mut self, catalog: &Catalog, name: &[u8]) -> Result<(), RuleError> {
        let name = std::str::from_utf8(name).map_err(|_| RuleError::UnknownCommand)?;
        let Some(split) = name.rfind('|') else {
            let id = catalog.lookup(name).ok_or(RuleError::UnknownCommand)?;
            self.change(catalog, id, true);
            let fullname = catalog.entry(id).name.clone();
            self.update_rules(&fullname, true);
            return Ok(());
        };
        let (base, arg) = (&name[..split], &name[split + 1..]);
        let id = catalog.lookup(base).ok_or(RuleError::UnknownCommand)?;
        let entry = catalog.entry(id);
        if entry.parent.is_some() {
            return Err(RuleError::FirstArgOfSubcommand);
        }
        if arg.is_empty() {
            return Err(RuleError::Syntax);
        }
        if !entry.subcommands.is_empty() {
            let sub = catalog.lookup(name).ok_or(RuleError::UnknownCommand)?;
            self.change(catalog, sub, true);
        } else {
            let args = self.first_args.entry(id).or_default();
            if !args.iter().any(|a| a.eq_ignore_ascii_case(arg)) {
                args.push(arg.to_string());
            }
        }
        self.update_rules(name, true);
        Ok(())
    }

    /// The command rules as Redis 7.2 writes them: `+@all` or `-@all`,
    /// then the rules kept since.
    pub fn command_rules(&self) -> String {
        let mut out = String::from(if self.future { "+@all" } else { "-@all" });
        if !self.rules.is_empty() {
            out.push(' ');
            out.push_str(&self.rules);
        }
        out
    }

    /// The key patterns as `ACL GETUSER` shows them: `~*`, or each pattern
    /// separated by spaces.
    pub fn keys_text(&self) -> Vec<u8> {
        if self.all_keys {
            return b"~*".to_vec();
        }
        let mut out = Vec::new();
        for (i, k) in self.keys.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            k.render(&mut out);
        }
        out
    }

    /// The channel patterns as `ACL GETUSER` shows them.
    pub fn channels_text(&self) -> Vec<u8> {
        if self.all_channels {
            return b"&*".to_vec();
        }
        let mut out = Vec::new();
        for (i, c) in self.channels.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            out.push(b'&');
            out.extend_from_slice(c);
        }
        out
    }

    /// The whole selector as Redis writes it in `ACL LIST`: keys, channels
    /// (`resetchannels` first unless all are allowed), command rules.
    pub fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.all_keys {
            out.extend_from_slice(b"~* ");
        } else {
            for k in &self.keys {
                k.render(&mut out);
                out.push(b' ');
            }
        }
        if self.all_channels {
            out.extend_from_slice(b"&* ");
        } else {
            out.extend_from_slice(b"resetchannels ");
            for c in &self.channels {
                out.push(b'&');
                out.extend_from_slice(c);
                out.push(b' ');
            }
        }
        out.extend_from_slice(self.command_rules().as_bytes());
        out
    }
}
