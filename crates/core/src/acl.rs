//! ACL in the server: the users every connection shares, the check the
//! dispatcher makes before each command (`check`), authentication, the
//! ACL log, and what a change of users does to connected clients.
//!
//! The model itself (rules, selectors, the permission check, the ACL
//! file) is `basalt-acl`; this module gives it the command table and the
//! clients.
//!
//! Each user lives in a [`UserSlot`] that its connections hold: `ACL
//! SETUSER` swaps the slot's contents, so a change applies to every
//! connection of that user at its next command, as in Redis where clients
//! point at the user itself. A deleted user's slot is emptied (no
//! permission at all) and its clients are killed.

use crate::clients::ClientHandle;
use crate::command::{flags, CommandTable, KeyAccess};
use crate::context::ClientState;
use crate::dispatch::Call;
use crate::error::CommandError;
use crate::shared::Shared;
use arc_swap::ArcSwap;
use basalt_acl::{
    Catalog, Channel, CommandInfo, Context, Denied, Env, KeyRef, Log, Reason, Request, User,
};
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// One user, shared by its connections.
pub struct UserSlot {
    name: Vec<u8>,
    user: ArcSwap<User>,
}

impl UserSlot {
    fn new(user: User) -> Arc<UserSlot> {
        Arc::new(UserSlot {
            name: user.name().to_vec(),
            user: ArcSwap::from_pointee(user),
        })
    }

    pub fn name(&self) -> &[u8] {
        &self.name
    }

    pub fn name_lossy(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }

    /// The user's rules now.
    pub fn get(&self) -> Arc<User> {
        self.user.load_full()
    }
}

pub struct Acl {
    pub catalog: Catalog,
    users: RwLock<BTreeMap<Vec<u8>, Arc<UserSlot>>>,
    default: Arc<UserSlot>,
    /// The default user is `on` and `nopass`: connections need no AUTH.
    default_open: AtomicBool,
    /// `acl-pubsub-default allchannels`.
    all_channels_by_default: AtomicBool,
    /// Changes to users are made one at a time, so that a SETUSER reads
    /// and replaces a user without another change in between.
    changes: Mutex<()>,
    log: Mutex<Log>,
    pub denied_auth: AtomicU64,
    pub denied_cmd: AtomicU64,
    pub denied_key: AtomicU64,
    pub denied_channel: AtomicU64,
}

/// ACL's view of the table: every command and subcommand with the
/// categories the table derives for it.
fn catalog(table: &CommandTable) -> Catalog {
    let infos: Vec<CommandInfo<'_>> = table
        .all()
        .iter()
        .map(|c| CommandInfo {
            name: c.name,
            categories: c.acl_categories(),
            no_auth: c.has(flags::NO_AUTH),
            subcommands: c
                .subcommands
                .iter()
                .map(|s| CommandInfo {
                    name: s.name,
                    categories: c.sub_acl_categories(s),
                    no_auth: s.flags & flags::NO_AUTH != 0,
                    subcommands: Vec::new(),
                })
                .collect(),
        })
        .collect();
    Catalog::new(&infos)
}

impl Acl {
    /// The default user alone, with `requirepass` as its password.
    pub fn new(table: &CommandTable, config: &basalt_config::Config) -> Acl {
        let catalog = catalog(table);
        let env = Env {
            catalog: &catalog,
            all_channels_by_default: config.acl_pubsub_allchannels,
        };
        let default = UserSlot::new(User::new_default(env));
        let acl = Acl {
            users: RwLock::new(BTreeMap::from([(b"default".to_vec(), default.clone())])),
            default,
            default_open: AtomicBool::new(true),
            all_channels_by_default: AtomicBool::new(config.acl_pubsub_allchannels),
            changes: Mutex::new(()),
            log: Mutex::new(Log::default()),
            denied_auth: AtomicU64::new(0),
            denied_cmd: AtomicU64::new(0),
            denied_key: AtomicU64::new(0),
            denied_channel: AtomicU64::new(0),
            catalog,
        };
        acl.set_default_password(config.requirepass.as_deref());
        acl
    }

    pub fn env(&self) -> Env<'_> {
        Env {
            catalog: &self.catalog,
            all_channels_by_default: self.all_channels_by_default.load(Relaxed),
        }
    }

    /// After CONFIG SET acl-pubsub-default.
    pub fn set_pubsub_default(&self, all_channels: bool) {
        self.all_channels_by_default.store(all_channels, Relaxed);
    }

    pub fn default_user(&self) -> &Arc<UserSlot> {
        &self.default
    }

    /// Whether connections are authenticated without AUTH: the default
    /// user is `on` and `nopass` (Redis's `authRequired`).
    pub fn default_open(&self) -> bool {
        self.default_open.load(Relaxed)
    }

    fn replace(&self, slot: &UserSlot, user: User) {
        let open = user.enabled() && user.nopass();
        slot.user.store(Arc::new(user));
        if std::ptr::eq(slot, &*self.default) {
            self.default_open.store(open, Relaxed);
        }
    }

    /// `requirepass`: the default user's only password (`resetpass
    /// >password`), or `nopass` when empty, as Redis applies it.
    pub fn set_default_password(&self, password: Option<&str>) {
        let _changing = self.changes.lock();
        let mut user = (*self.default.get()).clone();
        let env = self.env();
        let _ = user.apply(b"resetpass", env);
        let _ = match password {
            Some(p) => user.apply(format!(">{p}").as_bytes(), env),
            None => user.apply(b"nopass", env),
        };
        self.replace(&self.default, user);
    }

    pub fn user(&self, name: &[u8]) -> Option<Arc<UserSlot>> {
        self.users.read().get(name).cloned()
    }

    /// Every user, by name (Redis's order: the bytes of the name).
    pub fn users(&self) -> Vec<Arc<UserSlot>> {
        self.users.read().values().cloned().collect()
    }

    /// `ACL SETUSER name rules...`: all the rules or none. Subscribers of
    /// the user whose channels it no longer allows are disconnected.
    pub fn set_user(
        &self,
        shared: &Shared,
        name: &[u8],
        ops: &[&[u8]],
    ) -> Result<(), CommandError> {
        let _changing = self.changes.lock();
        let slot = self.user(name);
        let old = slot.as_ref().map(|s| s.get());
        let new = User::set(old.as_deref(), name, ops, self.env())
            .map_err(|e| CommandError::other(format!("ERR {e}")))?;
        match slot {
            Some(slot) => {
                let old = old.expect("an existing user has rules");
                let kept = old.channels_kept_by(&new);
                self.replace(&slot, new.clone());
                if !kept {
                    kill_revoked_subscribers(shared, &slot, &new);
                }
            }
            None => {
                self.users.write().insert(name.to_vec(), UserSlot::new(new));
            }
        }
        Ok(())
    }

    /// `ACL DELUSER`: how many of the users existed. Their clients are
    /// disconnected (the caller too, after this reply, if it was one).
    pub fn delete_users(&self, shared: &Shared, names: &[Bytes]) -> Result<i64, CommandError> {
        if names.iter().any(|n| n.as_ref() == b"default") {
            return Err(CommandError::other(
                "ERR The 'default' user cannot be removed",
            ));
        }
        let _changing = self.changes.lock();
        let mut deleted = 0;
        for name in names {
            let removed = self.users.write().remove(name.as_ref());
            if let Some(slot) = removed {
                self.retire(shared, &slot);
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// A user that is gone: it may do nothing any more, and its clients
    /// are disconnected.
    fn retire(&self, shared: &Shared, slot: &Arc<UserSlot>) {
        let nobody = User::new(slot.name(), self.env());
        self.replace(slot, nobody);
        for client in shared.clients.snapshot() {
            if client.user().is_some_and(|u| Arc::ptr_eq(&u, slot)) {
                client.kill();
            }
        }
    }

    /// `ACL LOAD` (and startup): the users of the file replace all users.
    /// The default user keeps its identity (its connections stay), taking
    /// the file's rules, or a fresh default user's if the file has none;
    /// every other user's clients are disconnected, as in Redis.
    pub fn load_file(&self, shared: Option<&Shared>, path: &std::path::Path) -> Result<(), String> {
        let name = path.to_string_lossy().into_owned();
        let text = std::fs::read(path).map_err(|e| {
            format!(
                "Error loading ACLs, opening file '{name}': {}",
                io_reason(&e)
            )
        })?;
        let _changing = self.changes.lock();
        let env = self.env();
        let users = basalt_acl::file::parse(&text, &name, env)?;
        let mut default = None;
        let mut map = BTreeMap::new();
        for user in users {
            if user.name() == b"default" {
                default = Some(user);
            } else {
                map.insert(user.name().to_vec(), UserSlot::new(user));
            }
        }
        let old = {
            let mut current = self.users.write();
            map.insert(b"default".to_vec(), self.default.clone());
            std::mem::replace(&mut *current, map)
        };
        self.replace(
            &self.default,
            default.unwrap_or_else(|| User::new_default(env)),
        );
        if let Some(shared) = shared {
            for (name, slot) in old {
                if name != b"default" {
                    self.retire(shared, &slot);
                }
            }
        }
        Ok(())
    }

    /// `ACL SAVE`.
    pub fn save_file(&self, path: &std::path::Path) -> std::io::Result<()> {
        let users: Vec<Arc<User>> = self.users().iter().map(|s| s.get()).collect();
        let text = basalt_acl::file::render(users.iter().map(|u| &**u));
        basalt_acl::file::write_atomically(path, &text)
    }

    /// Checks `user`/`password` and, when they open the user, makes it the
    /// connection's user. A failure goes to the ACL log (reason `auth`,
    /// the command's name as typed) and answers WRONGPASS.
    pub fn authenticate(
        &self,
        shared: &Shared,
        state: &mut ClientState,
        command: &[u8],
        user: &[u8],
        password: &[u8],
    ) -> Result<(), CommandError> {
        let slot = self.user(user);
        if let Some(slot) = slot.filter(|s| s.get().check_password(password)) {
            state.set_user(slot);
            state.authenticated = true;
            return Ok(());
        }
        self.count(Reason::Auth);
        let context = if state.multi.is_some() || state.in_exec {
            Context::Multi
        } else {
            Context::Toplevel
        };
        self.log(shared, &state.handle, Reason::Auth, context, command, user);
        Err(CommandError::WrongPass)
    }

    fn log(
        &self,
        shared: &Shared,
        client: &ClientHandle,
        reason: Reason,
        context: Context,
        object: &[u8],
        user: &[u8],
    ) {
        let info = client.info_line(shared.commands);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let max = shared.config.read().acllog_max_len as usize;
        self.log
            .lock()
            .add(reason, context, object, user, info, now, max);
    }

    /// Runs `f` on the ACL log.
    pub fn with_log<R>(&self, f: impl FnOnce(&mut Log) -> R) -> R {
        f(&mut self.log.lock())
    }

    /// INFO's `acl_access_denied_*` counters.
    fn count(&self, reason: Reason) {
        match reason {
            Reason::Command => &self.denied_cmd,
            Reason::Key => &self.denied_key,
            Reason::Channel => &self.denied_channel,
            Reason::Auth => &self.denied_auth,
        }
        .fetch_add(1, Relaxed);
    }

    /// A command's catalog id.
    pub fn id(&self, call: &Call<'_>) -> usize {
        self.catalog.id(call.index, call.sub)
    }
}

/// Disconnects the subscribers of `slot` subscribed to a channel or
/// pattern that `user` (its new rules) no longer allows (Redis's
/// `ACLKillPubsubClientsIfNeeded`).
fn kill_revoked_subscribers(shared: &Shared, slot: &Arc<UserSlot>, user: &User) {
    for client in shared.clients.snapshot() {
        if !client.is_subscribed() || !client.user().is_some_and(|u| Arc::ptr_eq(&u, slot)) {
            continue;
        }
        let (channels, patterns, shard) = shared.pubsub.subscriptions_of(client.id);
        let revoked = patterns.iter().any(|p| !user.allows_subscription(p, true))
            || channels
                .iter()
                .chain(&shard)
                .any(|c| !user.allows_subscription(c, false));
        if revoked {
            client.kill();
        }
    }
}

/// The channels a command publishes or subscribes to, from its channel
/// flags: PUBLISH's first argument, every argument of (S|P)SUBSCRIBE.
pub fn channels_of(call: &Call<'_>) -> Vec<Channel> {
    let f = call.command.flags;
    if f & flags::CHANNEL_PUBLISH != 0 {
        return (call.args.len() > 1)
            .then_some(Channel {
                pos: 1,
                pattern: false,
            })
            .into_iter()
            .collect();
    }
    if f & flags::CHANNEL_SUBSCRIBE != 0 {
        let pattern = f & flags::CHANNEL_PATTERN != 0;
        return (1..call.args.len())
            .map(|pos| Channel { pos, pattern })
            .collect();
    }
    Vec::new()
}

/// Each key of the command and the access it needs. A pub/sub command's
/// key positions (shard channels) are channels, not keys.
fn keys_of(call: &Call<'_>) -> Vec<KeyRef> {
    if call.command.flags & flags::CHANNELS != 0 {
        return Vec::new();
    }
    call.command
        .key_access(call.args)
        .into_iter()
        .map(|(pos, access)| KeyRef {
            pos,
            read: access != KeyAccess::Write,
            write: access != KeyAccess::Read,
        })
        .collect()
}

/// Whether `user` may run the call, without logging anything (ACL DRYRUN,
/// `redis.acl_check_cmd`).
pub fn check_user(acl: &Acl, user: &User, call: &Call<'_>) -> Result<(), Denied> {
    if user.unrestricted() {
        return Ok(());
    }
    let channels = channels_of(call);
    let keys = || keys_of(call);
    user.check(
        &acl.catalog,
        &Request {
            id: acl.id(call),
            args: call.args,
            keys: &keys,
            channels: &channels,
        },
    )
}

/// The dispatcher's ACL gate: the connection's user must be allowed to run
/// the command with these keys and channels. A refusal is logged and
/// counted, and answered as Redis 7.2 answers it where the command came
/// from: the client, MULTI's queue, EXEC, or a script.
pub fn check(shared: &Shared, state: &ClientState, call: &Call<'_>) -> Result<(), CommandError> {
    let user = state.user.user.load();
    if user.unrestricted() {
        return Ok(());
    }
    let Err(denied) = check_user(&shared.acl, &user, call) else {
        return Ok(());
    };
    let acl = &shared.acl;
    acl.count(denied.reason);
    let context = if crate::monitor::in_script() {
        Context::Lua
    } else if state.multi.is_some() || state.in_exec {
        Context::Multi
    } else {
        // The client's current command is the refused one, as the log's
        // client info shows it in Redis.
        state.handle.touch(call.index, call.sub);
        Context::Toplevel
    };
    let object: Vec<u8> = match denied.reason {
        Reason::Command => call.full_name().into_bytes(),
        _ => call.args[denied.pos].to_vec(),
    };
    acl.log(
        shared,
        &state.handle,
        denied.reason,
        context,
        &object,
        state.user.name(),
    );
    let message = message(&state.user.name_lossy(), call, denied, false);
    Err(CommandError::other(match context {
        Context::Lua => format!("ERR ACL failure in script: {message}"),
        Context::Multi if state.in_exec => {
            let reason = match denied.reason {
                Reason::Command => "no permission to execute the command or subcommand",
                Reason::Key => "no permission to touch the specified keys",
                _ => "no permission to access one of the channels used as arguments",
            };
            format!(
                "NOPERM ACLs rules changed between the moment the transaction was accumulated \
                 and the EXEC call. This command is no longer allowed for the following reason: \
                 {reason}"
            )
        }
        _ => format!("NOPERM {message}"),
    }))
}

/// A blocked client's command about to be served: its user may have lost
/// the right to it while it waited. Redis 7.2 checks it again when it runs
/// it again, and so does this: a refusal ends the wait with NOPERM and
/// nothing is taken for the client.
pub fn check_served(
    shared: &Shared,
    client: &ClientHandle,
    index: usize,
    args: &[Bytes],
) -> Result<(), CommandError> {
    let Some(slot) = client.user() else {
        return Ok(());
    };
    let user = slot.get();
    if user.unrestricted() {
        return Ok(());
    }
    let command = shared.commands.all()[index];
    let sub = match args.get(1) {
        Some(name) if !command.subcommands.is_empty() => {
            command.find_subcommand(name).map_or(0, |i| i + 1)
        }
        _ => 0,
    };
    let call = Call {
        index,
        command,
        sub,
        args,
    };
    let Err(denied) = check_user(&shared.acl, &user, &call) else {
        return Ok(());
    };
    let acl = &shared.acl;
    acl.count(denied.reason);
    let object: Vec<u8> = match denied.reason {
        Reason::Command => call.full_name().into_bytes(),
        _ => args[denied.pos].to_vec(),
    };
    acl.log(
        shared,
        client,
        denied.reason,
        Context::Toplevel,
        &object,
        slot.name(),
    );
    Err(CommandError::other(format!(
        "NOPERM {}",
        message(&slot.name_lossy(), &call, denied, false)
    )))
}

/// Redis 7.2's text for a refusal (`getAclErrorMessage`); `verbose` names
/// the key or channel (ACL DRYRUN).
pub fn message(user: &str, call: &Call<'_>, denied: Denied, verbose: bool) -> String {
    let arg = || String::from_utf8_lossy(&call.args[denied.pos]).into_owned();
    match (denied.reason, verbose) {
        (Reason::Key, true) => format!(
            "User {user} has no permissions to access the '{}' key",
            arg()
        ),
        (Reason::Key, false) => "No permissions to access a key".into(),
        (Reason::Channel, true) => {
            format!(
                "User {user} has no permissions to access the '{}' channel",
                arg()
            )
        }
        (Reason::Channel, false) => "No permissions to access a channel".into(),
        _ => format!(
            "User {user} has no permissions to run the '{}' command",
            call.full_name()
        ),
    }
}

/// An I/O error as C's `strerror` words it ("No such file or directory").
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}
