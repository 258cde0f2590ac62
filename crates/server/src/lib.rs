//! `basalt-server`: the command line, the configuration and the assembly
//! of the layers (storage from `basalt-engine`, the command table from
//! `basalt-commands`, the dispatcher and registries from `basalt-core`,
//! sockets from `basalt-net`). No request logic lives here.

mod cli;
mod server;

pub use basalt_core::{BASALT_VERSION, REDIS_VERSION};
pub use server::run;
