//! Startup and shutdown: configuration, logging, storage, listeners,
//! signals, pidfile.

use crate::cli::{self, Cli};
use basalt_config::Config;
use basalt_core::shared::{effective_workers, sync_policy, Shared};
use basalt_core::{background, BASALT_VERSION};
use basalt_engine::{EngineOptions, Storage};
use std::sync::Arc;
use tokio::net::TcpListener;

fn engine_options(config: &Config) -> EngineOptions {
    use basalt_config::Compression as C;
    use basalt_engine::Compression as E;
    let r = &config.rocksdb;
    let mut o = EngineOptions::new(&config.dir);
    o.sync = sync_policy(config.appendfsync);
    o.block_cache_bytes = r.block_cache_bytes() as usize;
    o.write_buffer_bytes = r.write_buffer_bytes() as usize;
    o.max_write_buffer_number = r.max_write_buffer_number;
    o.target_file_size_base_bytes = r.target_file_size_base_bytes();
    o.max_open_files = r.max_open_files;
    o.max_background_jobs = r.max_background_jobs;
    o.block_size = r.block_size as usize;
    o.compression = match r.compression {
        C::No => E::None,
        C::Snappy => E::Snappy,
        C::Lz4 => E::Lz4,
        C::Zstd => E::Zstd,
        C::Zlib => E::Zlib,
    };
    o.wal_ttl_seconds = r.wal_ttl_seconds;
    o.wal_size_limit_mb = r.wal_size_limit_mb;
    o.level_compaction_dynamic_level_bytes = r.level_compaction_dynamic_level_bytes;
    o.partition_filters = r.partition_filters;
    o.cluster = config.cluster_enabled;
    o
}

/// Runs the server until SHUTDOWN or a signal; returns the exit code.
pub fn run(args: Vec<String>) -> i32 {
    let (config_file, overrides) = match cli::parse(&args) {
        Ok(Cli::Help) => {
            println!("{}", cli::USAGE);
            return 0;
        }
        Ok(Cli::Version) => {
            println!(
                "basalt-server {BASALT_VERSION} (redis {})",
                basalt_core::REDIS_VERSION
            );
            return 0;
        }
        Ok(Cli::Run {
            config_file,
            overrides,
        }) => (config_file, overrides),
        Err(e) => {
            eprintln!("basalt-server: {e}\n\n{}", cli::USAGE);
            return 1;
        }
    };
    let config = match Config::load(config_file.as_deref(), &overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("basalt-server: configuration error: {e}");
            return 1;
        }
    };
    if let Err(e) = basalt_core::logging::init(&config) {
        eprintln!("basalt-server: {e}");
        return 1;
    }
    basalt_replication::recover_interrupted_swap(&config.dir);
    let storage = match Storage::open(&engine_options(&config)) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("basalt-server: cannot open data directory: {e}");
            tracing::error!("cannot open data directory: {e}");
            return 1;
        }
    };
    let pidfile = config.pidfile.clone();
    if let Some(p) = &pidfile {
        if let Err(e) = std::fs::write(p, format!("{}\n", std::process::id())) {
            eprintln!("basalt-server: cannot write pidfile {}: {e}", p.display());
            return 1;
        }
    }
    let workers = effective_workers(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("basalt-worker")
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("basalt-server: cannot start runtime: {e}");
            return 1;
        }
    };
    let aclfile = config.aclfile.clone();
    let replication = basalt_replication::Replication::new();
    let cluster = config.cluster_enabled.then(basalt_cluster::Cluster::new);
    let mut shared = Shared::new(config, storage, basalt_commands::table());
    shared.gates.role = Some(replication.gate());
    shared.gates.router = cluster.as_ref().map(|c| c.gate());
    let shared = Arc::new(shared);
    basalt_replication::install(&shared, replication);
    if let Some(cluster) = cluster {
        if let Err(e) = basalt_cluster::install(&shared, cluster) {
            eprintln!("basalt-server: cannot load the cluster nodes file: {e}");
            tracing::error!("cannot load the cluster nodes file: {e}");
            shared.data().storage.close();
            if let Some(p) = &pidfile {
                let _ = std::fs::remove_file(p);
            }
            return 1;
        }
    }
    // The ACL file's users replace the default one, as Redis loads them at
    // startup; any error in it stops the server.
    if let Some(path) = aclfile {
        if let Err(e) = shared.acl.load_file(None, &path) {
            eprintln!("basalt-server: aborting startup because of ACL errors: {e}");
            tracing::error!("aborting startup because of ACL errors: {e}");
            shared.data().storage.close();
            if let Some(p) = &pidfile {
                let _ = std::fs::remove_file(p);
            }
            return 1;
        }
    }
    let code = runtime.block_on(serve(shared.clone()));
    // Let connection tasks finish the command they are in (they stop at the
    // next read: the shutdown signal is set) before RocksDB is closed.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    let threads = std::mem::take(&mut *shared.background_threads.lock());
    for t in threads {
        let _ = t.join();
    }
    let data = shared.data();
    data.db.stop_background();
    // The storage now, which a replaced dataset may have changed.
    data.storage.close();
    if let Some(p) = &pidfile {
        let _ = std::fs::remove_file(p);
    }
    tracing::info!("bye");
    code
}

async fn serve(shared: Arc<Shared>) -> i32 {
    let (binds, port) = {
        let c = shared.config.read();
        (c.bind.clone(), c.port)
    };
    let mut listeners = Vec::new();
    for host in &binds {
        match TcpListener::bind((host.as_str(), port)).await {
            Ok(l) => listeners.push(l),
            Err(e) => {
                eprintln!("basalt-server: cannot listen on {host}:{port}: {e}");
                tracing::error!("cannot listen on {host}:{port}: {e}");
                return 1;
            }
        }
    }
    background::spawn_fsync(shared.clone());
    background::spawn_expire_cycle(shared.clone());
    background::spawn_stats_sampler(shared.clone());
    tracing::info!(
        "basalt-server {BASALT_VERSION} ready on {:?} port {port}, data in {}",
        binds,
        shared.data().storage.dir().display()
    );
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("basalt-server: cannot install signal handler: {e}");
            return 1;
        }
    };
    let signals = async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("received SIGTERM, shutting down"),
            _ = tokio::signal::ctrl_c() => tracing::info!("received SIGINT, shutting down"),
        }
    };
    basalt_net::serve(listeners, shared, signals).await;
    0
}
