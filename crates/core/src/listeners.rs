//! The listening sockets. They live here, not in the network layer, so
//! that `CONFIG SET port` / `CONFIG SET bind` can replace them while the
//! server runs, as Redis does: the new addresses are bound first, all or
//! none, and only then do the old sockets stop accepting. Connections
//! already accepted are not touched.

use parking_lot::Mutex;
use std::sync::Arc;
use tokio::sync::watch;

/// Starts accepting on a listener until its stop signal turns true;
/// registered by the network layer, which owns the accept loop.
pub type AcceptLoop = Arc<dyn Fn(tokio::net::TcpListener, watch::Receiver<bool>) + Send + Sync>;

/// Why the new addresses could not all be listened on.
#[derive(Debug)]
pub struct BindError {
    pub host: String,
    pub port: u16,
    pub source: std::io::Error,
}

impl std::fmt::Display for BindError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.host, self.port, self.source)
    }
}

struct Open {
    host: String,
    port: u16,
    stop: watch::Sender<bool>,
}

#[derive(Default)]
pub struct Listeners {
    accept: Mutex<Option<AcceptLoop>>,
    open: Mutex<Vec<Open>>,
}

/// A blocking std socket made non-blocking for tokio.
fn bind_one(host: &str, port: u16) -> Result<std::net::TcpListener, BindError> {
    let err = |source| BindError {
        host: host.to_string(),
        port,
        source,
    };
    let listener = std::net::TcpListener::bind((host, port)).map_err(err)?;
    listener.set_nonblocking(true).map_err(err)?;
    Ok(listener)
}

impl Listeners {
    /// Starts serving already-bound listeners (at startup). Each is known
    /// by the address it is bound to, which is what `bind` names.
    pub fn start(
        &self,
        accept: AcceptLoop,
        bound: Vec<tokio::net::TcpListener>,
    ) -> std::io::Result<()> {
        *self.accept.lock() = Some(accept.clone());
        let mut open = self.open.lock();
        for listener in bound {
            let addr = listener.local_addr()?;
            open.push(spawn(&accept, addr.ip().to_string(), addr.port(), listener));
        }
        Ok(())
    }

    /// Listens on `hosts` at `port` instead of the current addresses. An
    /// address already open stays as it is; on any failure nothing changes.
    pub fn rebind(&self, hosts: &[String], port: u16) -> Result<(), BindError> {
        let Some(accept) = self.accept.lock().clone() else {
            // Not serving (a library user that never started): the new
            // values take effect when it does.
            return Ok(());
        };
        let mut open = self.open.lock();
        let kept = |host: &str| open.iter().any(|o| o.host == host && o.port == port);
        let mut fresh = Vec::new();
        for host in hosts.iter().filter(|h| !kept(h)) {
            let listener = bind_one(host, port)?;
            let listener =
                tokio::net::TcpListener::from_std(listener).map_err(|source| BindError {
                    host: host.clone(),
                    port,
                    source,
                })?;
            fresh.push((host.clone(), listener));
        }
        let mut next = Vec::new();
        for o in open.drain(..) {
            if o.port == port && hosts.contains(&o.host) {
                next.push(o);
            } else {
                let _ = o.stop.send(true);
            }
        }
        for (host, listener) in fresh {
            next.push(spawn(&accept, host, port, listener));
        }
        *open = next;
        Ok(())
    }

    /// The addresses being listened on, for logs and tests.
    pub fn addrs(&self) -> Vec<(String, u16)> {
        self.open
            .lock()
            .iter()
            .map(|o| (o.host.clone(), o.port))
            .collect()
    }

    /// Stops every accept loop (shutdown).
    pub fn stop_all(&self) {
        for o in self.open.lock().drain(..) {
            let _ = o.stop.send(true);
        }
    }
}

fn spawn(accept: &AcceptLoop, host: String, port: u16, listener: tokio::net::TcpListener) -> Open {
    let (stop, stopped) = watch::channel(false);
    accept(listener, stopped);
    Open { host, port, stop }
}
