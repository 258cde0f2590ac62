//! What a command handler sees: the shared server state and the calling
//! connection's own state.

use crate::clients::ClientHandle;
use crate::shared::Shared;
use basalt_resp::Protocol;
use std::sync::Arc;
use std::time::Duration;

/// Per-connection state that commands read and change.
pub struct ClientState {
    pub handle: Arc<ClientHandle>,
    pub protocol: Protocol,
    pub authenticated: bool,
}

/// Something the connection loop must do after the reply is queued.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action {
    /// Send pending replies, then close (QUIT).
    Close,
    /// Delay the reply (DEBUG SLEEP).
    Sleep(Duration),
    /// Stop the server (SHUTDOWN).
    Shutdown,
}

pub struct Ctx<'a> {
    pub shared: &'a Arc<Shared>,
    pub client: &'a mut ClientState,
    pub action: Option<Action>,
}

impl Ctx<'_> {
    pub fn db(&self) -> &basalt_types::Database {
        &self.shared.db
    }
}
