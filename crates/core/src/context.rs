//! What a command handler sees: the shared server state and the calling
//! connection's own state.

use crate::clients::ClientHandle;
use crate::dataset::Dataset;
use crate::shared::Shared;
use basalt_resp::Protocol;
use std::sync::Arc;
use std::time::Duration;

/// Per-connection state that commands read and change.
pub struct ClientState {
    pub handle: Arc<ClientHandle>,
    pub protocol: Protocol,
    /// The connection is logged in as `user` (AUTH, HELLO AUTH, or the
    /// default user when it needs no password). Change both through
    /// [`ClientState::set_user`] and [`ClientState::reset_user`].
    pub authenticated: bool,
    /// The ACL user the connection's commands are checked as.
    pub user: Arc<crate::acl::UserSlot>,
    /// EXEC is running the queued commands (ACL answers and logs them in
    /// the `multi` context).
    pub in_exec: bool,
    pub subscriptions: crate::pubsub::Subscriptions,
    /// Inside MULTI: the queued commands.
    pub multi: Option<crate::transaction::Multi>,
    pub watch: Option<crate::transaction::Watch>,
    /// CLIENT REPLY: which replies the connection sends.
    pub reply_mode: ReplyMode,
    /// Set by a command whose reply is a push (subscribe and unsubscribe
    /// confirmations): sent even under CLIENT REPLY OFF, as in Redis.
    pub reply_is_push: bool,
    /// The storage's latest sequence after this client's last command
    /// that wrote: what WAIT waits for replicas to acknowledge.
    pub last_write_seq: u64,
    /// READONLY: in cluster mode, reads of the slots of this replica's
    /// master are served here instead of redirected.
    pub readonly: bool,
}

/// CLIENT REPLY ON | OFF | SKIP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReplyMode {
    #[default]
    On,
    Off,
    /// Set by CLIENT REPLY SKIP itself: the next command's reply is dropped.
    SkipNext,
    /// That next command is running: drop its reply, then back to On.
    Skip,
}

impl ClientState {
    /// A new connection's state: the default user, authenticated when the
    /// default user needs no password and is on, as Redis's
    /// `clientSetDefaultAuth`.
    pub fn new(shared: &Shared, handle: Arc<ClientHandle>) -> ClientState {
        let mut state = ClientState {
            user: shared.acl.default_user().clone(),
            handle,
            protocol: Protocol::Resp2,
            authenticated: false,
            in_exec: false,
            subscriptions: Default::default(),
            multi: None,
            watch: None,
            reply_mode: Default::default(),
            reply_is_push: false,
            last_write_seq: 0,
            readonly: false,
        };
        state.reset_user(shared);
        state
    }

    /// Makes `user` the connection's user (its handle shows it too).
    pub fn set_user(&mut self, user: Arc<crate::acl::UserSlot>) {
        *self.handle.user.lock() = Some(user.clone());
        self.user = user;
    }

    /// Back to the default user, authenticated only if it needs no
    /// password: never more rights than a fresh connection (RESET).
    pub fn reset_user(&mut self, shared: &Shared) {
        self.set_user(shared.acl.default_user().clone());
        self.authenticated = shared.acl.default_open();
    }

    /// Whether the connection must authenticate before anything but AUTH,
    /// HELLO and the like (Redis's `authRequired`): the default user is
    /// not open and this connection has not logged in.
    pub fn auth_required(&self, shared: &Shared) -> bool {
        !self.authenticated && !shared.acl.default_open()
    }

    /// Whether the reply of the command that just ran is dropped, moving
    /// the CLIENT REPLY state on by one command.
    pub fn drop_reply(&mut self) -> bool {
        let push = std::mem::take(&mut self.reply_is_push);
        let drop = match self.reply_mode {
            ReplyMode::On => false,
            ReplyMode::Off => true,
            // CLIENT REPLY SKIP has no reply of its own either.
            ReplyMode::SkipNext => {
                self.reply_mode = ReplyMode::Skip;
                true
            }
            ReplyMode::Skip => {
                self.reply_mode = ReplyMode::On;
                true
            }
        };
        drop && !push
    }
}

/// A blocking command that found nothing: what to wait for.
#[derive(Debug)]
pub struct BlockRequest {
    /// Queued on the command's keys before its first attempt.
    pub registered: crate::blocking::Registered,
    /// `None` waits forever.
    pub timeout: Option<Duration>,
    pub timeout_reply: basalt_resp::Reply,
}

/// Something the connection loop must do after the reply is queued.
#[derive(Debug)]
pub enum Action {
    /// Send pending replies, then close (QUIT).
    Close,
    /// Delay the reply (DEBUG SLEEP).
    Sleep(Duration),
    /// Stop the server (SHUTDOWN).
    Shutdown,
    /// Wait for a key to change, then answer (BLPOP & co.); the handler's
    /// reply is ignored.
    Block(BlockRequest),
    /// Wait for the future without holding a worker thread, then answer
    /// with what it yields (WAIT); the handler's reply is ignored.
    Await(Await),
    /// Send the reply, then give the socket away and end the connection's
    /// loop (a replica's PSYNC stream, a checkpoint transfer).
    TakeOver(TakeOver),
}

/// What `Action::Await` waits for.
pub struct Await(
    pub std::pin::Pin<Box<dyn std::future::Future<Output = basalt_resp::Reply> + Send>>,
);

impl std::fmt::Debug for Await {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Await")
    }
}

/// What gets the socket of a connection that `Action::TakeOver` ends: the
/// stream, and the bytes the client sent that were read but not parsed.
pub struct TakeOver(pub Box<dyn FnOnce(tokio::net::TcpStream, bytes::BytesMut) + Send>);

impl std::fmt::Debug for TakeOver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TakeOver")
    }
}

pub struct Ctx<'a> {
    pub shared: &'a Arc<Shared>,
    /// The dataset this command runs against (held for its whole run).
    pub data: &'a Dataset,
    pub client: &'a mut ClientState,
    pub action: Option<Action>,
    /// Running inside EXEC or a script, where nothing blocks. Not
    /// `basalt_engine::in_txn()`, which is also true for a plain write
    /// that runs as a small transaction while anyone WATCHes.
    pub nested: bool,
}

impl Ctx<'_> {
    pub fn db(&self) -> &basalt_types::Database {
        &self.data.db
    }

    /// Reports a keyspace event (see `crate::notify`).
    #[inline]
    pub fn notify(&self, class: u32, event: &'static str, key: &[u8]) {
        crate::notify::emit(self.shared, class, event, key);
    }

    /// `event`, then `del` if the command emptied the key.
    pub fn notify_removal(&self, class: u32, event: &'static str, key: &[u8]) {
        crate::notify::emit_removal(self.shared, class, event, key);
    }
}
