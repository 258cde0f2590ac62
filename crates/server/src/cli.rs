//! Command line: `basalt-server [path/to/basalt.conf] [--option value ...]`,
//! the same shape as `redis-server` and `kvrocks`.

use std::path::PathBuf;

pub enum Cli {
    Run {
        config_file: Option<PathBuf>,
        overrides: Vec<(String, String)>,
    },
    Help,
    Version,
}

pub const USAGE: &str = "\
Usage: basalt-server [path/to/basalt.conf] [--option value ...]

Starts a Redis-compatible server that keeps its data in RocksDB.
With no arguments it serves on 127.0.0.1:6666 with data in ./basalt-data.
Options are the config file's option names, e.g.
  basalt-server --port 7777 --dir /var/lib/basalt --appendfsync always
See basalt.conf for every option.";

pub fn parse(args: &[String]) -> Result<Cli, String> {
    let mut config_file = None;
    let mut overrides = Vec::new();
    let mut i = 0;
    if let Some(first) = args.first() {
        match first.as_str() {
            "-h" | "--help" => return Ok(Cli::Help),
            "-v" | "--version" => return Ok(Cli::Version),
            s if !s.starts_with("--") => {
                config_file = Some(PathBuf::from(s));
                i = 1;
            }
            _ => {}
        }
    }
    while i < args.len() {
        let Some(name) = args[i].strip_prefix("--") else {
            return Err(format!(
                "unexpected argument '{}': options are given as --name value",
                args[i]
            ));
        };
        let Some(value) = args.get(i + 1) else {
            return Err(format!("option --{name} needs a value"));
        };
        overrides.push((name.to_string(), value.clone()));
        i += 2;
    }
    Ok(Cli::Run {
        config_file,
        overrides,
    })
}
