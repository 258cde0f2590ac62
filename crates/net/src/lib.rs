//! Basalt's network layer: accepting clients, the connection loop
//! (pipelining, batched replies, blocked waits, push messages) and the
//! shutdown of both. Commands themselves are run by `basalt-core`'s
//! dispatcher; this crate only moves bytes between sockets and it.
//!
//! `serve` takes already-bound listeners and a shutdown future, so a test
//! (or a multi-node test harness) can run several servers in one process.

mod connection;

use basalt_core::shared::Shared;
use std::future::Future;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Serves clients on `listeners` until `shutdown` completes or a client
/// asks for SHUTDOWN, then tells every connection to stop. Must run inside
/// a multi-threaded tokio runtime (long commands use `block_in_place`).
pub async fn serve(
    listeners: Vec<TcpListener>,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()>,
) {
    let accept: basalt_core::listeners::AcceptLoop = {
        let shared = shared.clone();
        Arc::new(move |listener, stop| {
            tokio::spawn(accept_loop(shared.clone(), listener, stop));
        })
    };
    if let Err(e) = shared.listeners.start(accept, listeners) {
        tracing::error!("cannot start listening: {e}");
        shared.request_shutdown();
        return;
    }
    let mut requested = shared.shutdown_signal();
    tokio::select! {
        _ = requested.changed() => tracing::info!("shutdown requested by a client"),
        _ = shutdown => {}
    }
    shared.request_shutdown();
    shared.listeners.stop_all();
}

/// Accepts until shutdown, or until `stop` (the listener was replaced by
/// CONFIG SET port/bind), when the socket is closed.
async fn accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut shutdown = shared.shutdown_signal();
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.changed() => return,
            _ = stop.changed() => return,
        };
        let (mut stream, addr) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Typically EMFILE: back off instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let maxclients = shared.config.read().maxclients;
        if shared.clients.count() >= maxclients {
            shared.stats.rejected_connections.fetch_add(1, Relaxed);
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let _ = stream
                    .write_all(b"-ERR max number of clients reached\r\n")
                    .await;
            });
            continue;
        }
        shared.stats.connections_received.fetch_add(1, Relaxed);
        let laddr = stream.local_addr().unwrap_or(addr);
        let handle = shared.clients.register(addr, laddr);
        {
            use std::os::fd::AsRawFd;
            handle.fd.store(stream.as_raw_fd(), Relaxed);
        }
        tokio::spawn(connection::serve(shared.clone(), stream, handle));
    }
}
