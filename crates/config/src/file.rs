//! Reading config-file text and command-line overrides into a [`Config`].

use crate::error::{ConfigError, Location};
use crate::options::{self, OptionDef};
use crate::value::split_args;
use crate::Config;
use std::path::Path;

/// Applies every line of `text` to `cfg`; the first bad line is an error
/// naming it. A later line for the same option wins, as in Redis.
pub(crate) fn parse_into(
    cfg: &mut Config,
    text: &str,
    file: Option<&Path>,
) -> Result<(), ConfigError> {
    for (index, line) in text.lines().enumerate() {
        let invalid = |message: String| ConfigError::Invalid {
            location: Location::Line {
                file: file.map(Path::to_path_buf),
                line: index + 1,
            },
            message,
        };
        let words = split_args(line).map_err(invalid)?;
        let Some((name, values)) = words.split_first() else {
            continue; // blank or comment
        };
        let def = options::lookup(name).ok_or_else(|| invalid(unknown(name)))?;
        let raw = def.line_value(values).map_err(invalid)?;
        apply(def, cfg, &raw).map_err(invalid)?;
    }
    Ok(())
}

/// Applies `--name value` overrides; names may also be given with dashes.
pub(crate) fn apply_overrides(
    cfg: &mut Config,
    overrides: &[(String, String)],
) -> Result<(), ConfigError> {
    for (name, value) in overrides {
        let invalid = |message: String| ConfigError::Invalid {
            location: Location::CommandLine,
            message,
        };
        let name = name.trim_start_matches('-');
        let def = options::lookup(name).ok_or_else(|| invalid(unknown(name)))?;
        apply(def, cfg, value).map_err(invalid)?;
    }
    Ok(())
}

fn apply(def: &'static OptionDef, cfg: &mut Config, raw: &str) -> Result<(), String> {
    def.apply(cfg, raw)
        .map_err(|reason| format!("invalid value '{raw}' for '{}': {reason}", def.name))
}

/// The message for a name that is no option, with a hint for the Kvrocks
/// features whose options Basalt deliberately refuses.
fn unknown(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let hint = if lower.starts_with("namespace.") {
        ": namespaces are not supported yet"
    } else if lower.starts_with("tls-") {
        ": TLS is not supported yet"
    } else if lower.starts_with("unixsocket") {
        ": unix sockets are not supported yet"
    } else if lower == "rename-command" {
        ": renaming commands is not supported yet"
    } else {
        ""
    };
    format!("unknown option '{name}'{hint}")
}
