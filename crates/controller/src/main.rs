//! basalt-controller: keeps the model of Basalt clusters in a metadata
//! store and drives the nodes with CLUSTERX, behind kvrocks-controller's
//! HTTP API. See docs/controller.md.

use basalt_controller::{api, meta, probe, status, store};
use clap::Parser;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(name = "basalt-controller", version, about)]
struct Args {
    /// Address the HTTP API listens on.
    #[arg(long, default_value = "127.0.0.1:9379")]
    addr: String,
    /// Directory of the embedded metadata store.
    #[arg(long, default_value = "./controller-data")]
    dir: PathBuf,
    /// Milliseconds between two probes of every node.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..))]
    probe_interval_ms: u64,
    /// Consecutive failed probes after which a master is failed over.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    failure_threshold: u32,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let store = match store::FileStore::open(&args.dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("basalt-controller: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let store: Arc<dyn store::MetaStore> = Arc::new(store);
    let status = Arc::new(status::Status::new(
        store.clone(),
        status::Leadership::always(),
    ));
    let app = api::App::new(meta::Meta::new(store), status);
    tokio::spawn(probe::run(
        app.clone(),
        probe::ProbeConfig {
            interval: std::time::Duration::from_millis(args.probe_interval_ms),
            failure_threshold: args.failure_threshold,
        },
    ));
    let listener = match tokio::net::TcpListener::bind(&args.addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("basalt-controller: cannot listen on {}: {e}", args.addr);
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing::info!(addr = %args.addr, dir = %args.dir.display(), "basalt-controller listening");
    if let Err(e) = axum::serve(listener, api::router(app)).await {
        eprintln!("basalt-controller: {e}");
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
