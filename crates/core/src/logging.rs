//! Logging to stdout or `<log-dir>/basalt.log`, with a level that CONFIG SET
//! log-level changes while the server runs.

use basalt_config::{Config, LogLevel};
use std::sync::OnceLock;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;
use tracing_subscriber::{fmt, reload, Registry};

static LEVEL: OnceLock<reload::Handle<LevelFilter, Registry>> = OnceLock::new();

fn filter(level: LogLevel) -> LevelFilter {
    match level {
        LogLevel::Debug => LevelFilter::DEBUG,
        LogLevel::Info => LevelFilter::INFO,
        LogLevel::Warning => LevelFilter::WARN,
        LogLevel::Error | LogLevel::Fatal => LevelFilter::ERROR,
    }
}

pub fn init(config: &Config) -> Result<(), String> {
    let (level, handle) = reload::Layer::new(filter(config.log_level));
    let registry = tracing_subscriber::registry().with(level);
    match &config.log_dir {
        Some(dir) if dir.as_os_str() != "stdout" && !dir.as_os_str().is_empty() => {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create log-dir {}: {e}", dir.display()))?;
            let path = dir.join("basalt.log");
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
            registry
                .with(
                    fmt::layer()
                        .with_target(false)
                        .with_ansi(false)
                        .with_writer(std::sync::Mutex::new(file)),
                )
                .init();
        }
        _ => registry.with(fmt::layer().with_target(false)).init(),
    }
    let _ = LEVEL.set(handle);
    Ok(())
}

/// Applies a new `log-level` (CONFIG SET).
pub fn set_level(level: LogLevel) {
    if let Some(handle) = LEVEL.get() {
        let _ = handle.modify(|f| *f = filter(level));
    }
}
