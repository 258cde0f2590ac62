//! basalt-controller: keeps the model of Basalt clusters in a metadata
//! store and drives the nodes with CLUSTERX, behind kvrocks-controller's
//! HTTP API. See docs/controller.md.

use basalt_controller::election::{self, Election};
use basalt_controller::{api, etcd, meta, probe, redirect, status, store, whole_body};
use clap::Parser;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum StoreKind {
    /// A file in --dir; one controller, always the leader.
    Embedded,
    /// etcd v3 at --etcd-endpoints, with leader election.
    Etcd,
}

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
    /// Where the model is kept.
    #[arg(long, value_enum, default_value = "embedded")]
    store: StoreKind,
    /// etcd endpoints, comma-separated (`host:port` or `http://host:port`).
    #[arg(long, value_delimiter = ',')]
    etcd_endpoints: Vec<String>,
    /// Address other controllers redirect API requests to while this one
    /// leads (default: --addr).
    #[arg(long)]
    advertise_addr: Option<String>,
}

/// How long a controller waits for etcd at start before giving up.
const ETCD_START_WAIT: Duration = Duration::from_secs(10);

async fn open_store(
    args: &Args,
    fence: &etcd::Fence,
) -> Result<(Arc<dyn store::MetaStore>, status::Leadership), String> {
    match args.store {
        StoreKind::Embedded => {
            let s = store::FileStore::open(&args.dir).map_err(|e| e.to_string())?;
            Ok((Arc::new(s), status::Leadership::always()))
        }
        StoreKind::Etcd => {
            let endpoints: Vec<String> = args
                .etcd_endpoints
                .iter()
                .filter(|e| !e.trim().is_empty())
                .cloned()
                .collect();
            if endpoints.is_empty() {
                return Err("--store etcd needs --etcd-endpoints host:port[,...]".into());
            }
            let s = tokio::task::spawn_blocking(move || {
                etcd::EtcdStore::connect(&endpoints, ETCD_START_WAIT)
            })
            .await
            .expect("etcd connect task panicked")
            .map_err(|e| format!("cannot use etcd: {e}"))?
            .fenced(election::LEADER_KEY, fence.clone());
            Ok((Arc::new(s), status::Leadership::follower()))
        }
    }
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let fence = etcd::Fence::default();
    let (store, leadership) = match open_store(&args, &fence).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("basalt-controller: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let status = Arc::new(status::Status::new(store.clone(), leadership));
    let app = api::App::new(meta::Meta::new(store), status.clone());
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
    // Campaign only once the address others will redirect to is served.
    let election = (args.store == StoreKind::Etcd).then(|| {
        let me = args
            .advertise_addr
            .clone()
            .unwrap_or_else(|| args.addr.clone());
        if me.starts_with("0.0.0.0:") || me.starts_with("[::]:") {
            tracing::warn!(
                "followers will redirect to {me}, which clients cannot reach: set --advertise-addr"
            );
        }
        Election::start(&args.etcd_endpoints, me, status.clone(), fence)
    });
    tracing::info!(addr = %args.addr, store = ?args.store, dir = %args.dir.display(), "basalt-controller listening");
    let router = whole_body::read_first(redirect::to_leader(api::router(app), status));
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await;
    if let Some(election) = election {
        let _ = tokio::task::spawn_blocking(move || election.resign()).await;
    }
    if let Err(e) = served {
        eprintln!("basalt-controller: {e}");
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
