//! A user: flags, password hashes and selectors, changed by `ACL SETUSER`
//! rules and written back as Redis writes them.

use crate::catalog::Catalog;
use crate::selector::Selector;
use sha2::{Digest, Sha256};
use std::fmt;

/// What applying rules depends on besides the user: the commands there
/// are, and `acl-pubsub-default` (whether new selectors start with all
/// channels).
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub catalog: &'a Catalog,
    pub all_channels_by_default: bool,
}

/// Why a rule was refused; `Display` is Redis's text for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleError {
    UnknownCommand,
    Syntax,
    KeyAfterAll,
    ChannelAfterAll,
    NoSuchPassword,
    BadHash,
    FirstArgOfSubcommand,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RuleError::UnknownCommand => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeyAfterAll => {
                "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid \
                 and does not have any effect. Try 'resetkeys' to start with an empty list \
                 of patterns"
            }
            RuleError::ChannelAfterAll => {
                "Adding a pattern after the * pattern (or the 'allchannels' flag) is not \
                 valid and does not have any effect. Try 'resetchannels' to start with an \
                 empty list of channels"
            }
            RuleError::NoSuchPassword => {
                "The password you are trying to remove from the user does not exist"
            }
            RuleError::BadHash => {
                "The password hash must be exactly 64 characters and contain only lowercase \
                 hexadecimal characters"
            }
            RuleError::FirstArgOfSubcommand => {
                "Allowing first-arg of a subcommand is not supported"
            }
        })
    }
}

/// SHA-256 of a password as 64 lower-case hex digits, as Redis stores it.
pub fn hash_password(password: &[u8]) -> String {
    let digest = Sha256::digest(password);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push(char::from(b"0123456789abcdef"[(b >> 4) as usize]));
        s.push(char::from(b"0123456789abcdef"[(b & 15) as usize]));
    }
    s
}

fn valid_hash(hash: &[u8]) -> bool {
    hash.len() == 64
        && hash
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    name: Vec<u8>,
    enabled: bool,
    nopass: bool,
    /// `skip-sanitize-payload` (else `sanitize-payload`, the default).
    skip_sanitize: bool,
    passwords: Vec<String>,
    /// The root selector first.
    selectors: Vec<Selector>,
}

impl User {
    /// A new user as `ACL SETUSER name` creates it: off, no passwords, no
    /// commands, no keys, channels as `acl-pubsub-default` says.
    pub fn new(name: &[u8], env: Env<'_>) -> User {
        User {
            name: name.to_vec(),
            enabled: false,
            nopass: false,
            skip_sanitize: false,
            passwords: Vec::new(),
            selectors: vec![Selector::new(env.catalog, env.all_channels_by_default)],
        }
    }

    /// The `default` user of a fresh server: `on nopass ~* &* +@all`.
    pub fn new_default(env: Env<'_>) -> User {
        let mut user = User::new(b"default", env);
        for op in ["+@all", "~*", "&*", "on", "nopass"] {
            user.apply(op.as_bytes(), env)
                .expect("the default user's rules are valid");
        }
        user
    }

    pub fn name(&self) -> &[u8] {
        &self.name
    }

    /// A copy of this user's rules under another name.
    pub fn renamed(&self, name: &[u8]) -> User {
        User {
            name: name.to_vec(),
            ..self.clone()
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn nopass(&self) -> bool {
        self.nopass
    }

    pub fn passwords(&self) -> &[String] {
        &self.passwords
    }

    pub fn selectors(&self) -> &[Selector] {
        &self.selectors
    }

    pub fn root(&self) -> &Selector {
        &self.selectors[0]
    }

    /// Whether some selector allows every command, key and channel: the
    /// permission check then has nothing to look at.
    pub fn unrestricted(&self) -> bool {
        self.selectors.iter().any(Selector::unrestricted)
    }

    /// Whether the password opens this user (it must be `on`).
    pub fn check_password(&self, password: &[u8]) -> bool {
        if !self.enabled {
            return false;
        }
        if self.nopass {
            return true;
        }
        let hashed = hash_password(password);
        // Every stored hash is compared in full, in constant time, so the
        // time taken tells nothing about the password.
        let mut found = false;
        for stored in &self.passwords {
            let diff = stored
                .bytes()
                .zip(hashed.bytes())
                .fold(0u8, |d, (a, b)| d | (a ^ b));
            found |= diff == 0 && stored.len() == hashed.len();
        }
        found
    }

    /// The flags as `ACL GETUSER` lists them, in Redis's order.
    pub fn flags(&self) -> Vec<&'static str> {
        let mut flags = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            flags.push("nopass");
        }
        flags.push(if self.skip_sanitize {
            "skip-sanitize-payload"
        } else {
            "sanitize-payload"
        });
        flags
    }

    /// Applies one rule (Redis's `ACLSetUser`); on error the user may be
    /// half-changed, so callers work on a copy (see [`User::set`]).
    pub fn apply(&mut self, op: &[u8], env: Env<'_>) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if is("on") {
            self.enabled = true;
        } else if is("off") {
            self.enabled = false;
        } else if is("skip-sanitize-payload") {
            self.skip_sanitize = true;
        } else if is("sanitize-payload") {
            self.skip_sanitize = false;
        } else if is("nopass") {
            self.nopass = true;
            self.passwords.clear();
        } else if is("resetpass") {
            self.nopass = false;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let hash = if op[0] == b'>' {
                hash_password(&op[1..])
            } else {
                if !valid_hash(&op[1..]) {
                    return Err(RuleError::BadHash);
                }
                String::from_utf8_lossy(&op[1..]).into_owned()
            };
            if !self.passwords.contains(&hash) {
                self.passwords.push(hash);
            }
            self.nopass = false;
        } else if op[0] == b'<' || op[0] == b'!' {
            let hash = if op[0] == b'<' {
                hash_password(&op[1..])
            } else {
                if !valid_hash(&op[1..]) {
                    return Err(RuleError::BadHash);
                }
                String::from_utf8_lossy(&op[1..]).into_owned()
            };
            let at = self
                .passwords
                .iter()
                .position(|p| *p == hash)
                .ok_or(RuleError::NoSuchPassword)?;
            self.passwords.remove(at);
        } else if op[0] == b'(' && op[op.len() - 1] == b')' {
            let mut selector = Selector::new(env.catalog, env.all_channels_by_default);
            for inner in split_args(&op[1..op.len() - 1]).ok_or(RuleError::Syntax)? {
                selector.apply(env.catalog, &inner)?;
            }
            self.selectors.push(selector);
        } else if is("clearselectors") {
            self.selectors.truncate(1);
        } else if is("reset") {
            for op in ["resetpass", "resetkeys", "resetchannels"] {
                self.apply(op.as_bytes(), env)?;
            }
            if env.all_channels_by_default {
                self.apply(b"allchannels", env)?;
            }
            for op in ["off", "sanitize-payload", "clearselectors", "-@all"] {
                self.apply(op.as_bytes(), env)?;
            }
        } else {
            self.selectors[0].apply(env.catalog, op)?;
        }
        Ok(())
    }

    /// `ACL SETUSER`'s rules applied all-or-nothing to a copy of `user`
    /// (or to a new user named `name`): the changed user, or Redis's error
    /// text (without the `ERR `).
    pub fn set(
        user: Option<&User>,
        name: &[u8],
        ops: &[&[u8]],
        env: Env<'_>,
    ) -> Result<User, String> {
        let ops = merge_selectors(ops).map_err(|start| {
            format!(
                "Unmatched parenthesis in acl selector starting at '{}'.",
                String::from_utf8_lossy(start)
            )
        })?;
        let mut user = match user {
            Some(u) => u.clone(),
            None => User::new(name, env),
        };
        for op in &ops {
            user.apply(op, env).map_err(|e| {
                format!(
                    "Error in ACL SETUSER modifier '{}': {e}",
                    String::from_utf8_lossy(op)
                )
            })?;
        }
        Ok(user)
    }

    /// The rules as `ACL LIST` and the ACL file write them, without the
    /// leading `user <name> `.
    pub fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for flag in self.flags() {
            out.extend_from_slice(flag.as_bytes());
            out.push(b' ');
        }
        for p in &self.passwords {
            out.push(b'#');
            out.extend_from_slice(p.as_bytes());
            out.push(b' ');
        }
        for (i, s) in self.selectors.iter().enumerate() {
            if i == 0 {
                out.extend_from_slice(&s.describe());
            } else {
                out.extend_from_slice(b" (");
                out.extend_from_slice(&s.describe());
                out.push(b')');
            }
        }
        out
    }

    /// `user <name> <rules>`, one line of `ACL LIST` and of the ACL file.
    pub fn line(&self) -> Vec<u8> {
        let mut out = b"user ".to_vec();
        out.extend_from_slice(&self.name);
        out.push(b' ');
        out.extend_from_slice(&self.describe());
        out
    }

    /// Whether a subscriber of `self` may keep its subscriptions once the
    /// user becomes `new`: some selector of `new` allows every channel, or
    /// every channel pattern `self` had is still there. Otherwise
    /// [`User::allows_subscription`] tells which subscriptions to drop.
    pub fn channels_kept_by(&self, new: &User) -> bool {
        if new.selectors.iter().any(|s| s.all_channels) {
            return true;
        }
        if self.selectors.iter().any(|s| s.all_channels) {
            return false;
        }
        self.selectors
            .iter()
            .flat_map(|s| &s.channels)
            .all(|c| new.selectors.iter().any(|s| s.channels.contains(c)))
    }

    /// Whether one of the user's selectors names a channel (`pattern`:
    /// a PSUBSCRIBE pattern, matched literally) the way Redis's
    /// `ACLKillPubsubClientsIfNeeded` checks an existing subscription.
    pub fn allows_subscription(&self, channel: &[u8], pattern: bool) -> bool {
        self.selectors.iter().any(|s| {
            s.all_channels
                || s.channels.iter().any(|p| {
                    if pattern {
                        p == channel
                    } else {
                        basalt_glob::glob_match(p, channel, false)
                    }
                })
        })
    }
}

/// Joins a selector written across several arguments (`(~x` `+get)`) into
/// one, as Redis's `ACLMergeSelectorArguments`; an unclosed one is an error
/// naming its first argument.
pub(crate) fn merge_selectors<'a>(ops: &[&'a [u8]]) -> Result<Vec<Vec<u8>>, &'a [u8]> {
    let mut merged = Vec::with_capacity(ops.len());
    let mut open: Option<(Vec<u8>, &[u8])> = None;
    for op in ops {
        if let Some((sel, _)) = &mut open {
            sel.push(b' ');
            sel.extend_from_slice(op);
            if op.last() == Some(&b')') {
                merged.push(open.take().unwrap().0);
            }
            continue;
        }
        if op.first() == Some(&b'(') && op.last() != Some(&b')') {
            open = Some((op.to_vec(), op));
            continue;
        }
        merged.push(op.to_vec());
    }
    match open {
        Some((_, start)) => Err(start),
        None => Ok(merged),
    }
}

/// Splits a selector's inside into words as Redis's `sdssplitargs` does
/// (spaces separate; double or single quotes group, with `\` escapes in
/// double quotes); `None` for unbalanced quotes.
pub(crate) fn split_args(s: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < s.len() && s[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= s.len() {
            return Some(out);
        }
        let mut word = Vec::new();
        let mut quote: Option<u8> = None;
        loop {
            let Some(&c) = s.get(i) else {
                if quote.is_some() {
                    return None;
                }
                break;
            };
            match quote {
                Some(q) => {
                    if c == b'\\' && q == b'"' && i + 1 < s.len() {
                        i += 1;
                        word.push(match s[i] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'a' => 7,
                            b'b' => 8,
                            other => other,
                        });
                    } else if c == q {
                        // A closing quote must be followed by a space or the end.
                        if s.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace()) {
                            return None;
                        }
                        i += 1;
                        break;
                    } else {
                        word.push(c);
                    }
                }
                None => {
                    if c.is_ascii_whitespace() {
                        break;
                    }
                    if c == b'"' || c == b'\'' {
                        quote = Some(c);
                    } else {
                        word.push(c);
                    }
                }
            }
            i += 1;
        }
        out.push(word);
    }
}
