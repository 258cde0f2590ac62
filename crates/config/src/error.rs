//! Configuration errors.
//!
//! The `CONFIG SET` / `CONFIG REWRITE` variants carry Redis 7.2's exact
//! texts (`src/config.c`); the server sends them prefixed with `ERR `.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Where a bad option came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A line of a config file (1-based); `file` is `None` for
    /// [`Config::parse_str`](crate::Config::parse_str).
    Line { file: Option<PathBuf>, line: usize },
    /// A `--name value` override from the command line.
    CommandLine,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line {
                file: Some(file),
                line,
            } => {
                write!(f, "{}, line {line}", file.display())
            }
            Location::Line { file: None, line } => write!(f, "line {line}"),
            Location::CommandLine => f.write_str("command line"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read at startup.
    #[error("can't read config file '{}': {source}", path.display())]
    Read { path: PathBuf, source: io::Error },

    /// A bad line in the file or a bad command-line override, e.g.
    /// `line 12: unknown option 'foo'` or
    /// `line 3: invalid value 'abc' for 'port': argument couldn't be parsed into an integer`.
    #[error("{location}: {message}")]
    Invalid { location: Location, message: String },

    /// `CONFIG SET` of a name that is no option (the name as the client sent it).
    #[error("Unknown option or number of arguments for CONFIG SET - '{0}'")]
    UnknownSetOption(String),

    /// `CONFIG SET` refused a known option: a bad value, an immutable option
    /// or the same option twice. `name` is the canonical option name.
    #[error("CONFIG SET failed (possibly related to argument '{name}') - {reason}")]
    SetFailed { name: &'static str, reason: String },

    /// `CONFIG REWRITE` on a server started without a config file.
    #[error("The server is running without a config file")]
    NoConfigFile,

    /// `CONFIG REWRITE` could not write the file.
    #[error("Rewriting config file: {0}")]
    Rewrite(#[source] io::Error),
}
