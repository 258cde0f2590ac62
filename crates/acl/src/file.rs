//! The ACL file (`aclfile`): one `user <name> <rules...>` line per user,
//! read all-or-nothing and written through a temporary file and a rename,
//! as Redis's `ACLLoadFromFile` and `ACLSaveToFile` do.

use crate::user::{merge_selectors, Env, RuleError, User};
use std::io::Write;
use std::path::Path;

/// Parses the file's text (`name` is the file as configured, for the
/// messages). On any error nothing is returned but Redis's message, every
/// problem of the file in one line.
pub fn parse(text: &[u8], name: &str, env: Env<'_>) -> Result<Vec<User>, String> {
    let mut users: Vec<User> = Vec::new();
    let mut errors = String::new();
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        let number = i + 1;
        let line = trim(line, b" \t\r\n");
        if line.is_empty() {
            continue;
        }
        let words: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
        if words[0] != b"user" || words.len() < 2 {
            errors.push_str(&format!(
                "{name}:{number} should start with user keyword followed by the username. "
            ));
            continue;
        }
        let username = words[1];
        if crate::has_spaces(username) {
            errors.push_str(&format!(
                "'{name}:{number}: username '{}' contains invalid characters. ",
                String::from_utf8_lossy(username)
            ));
            continue;
        }
        if users.iter().any(|u| u.name() == username) {
            errors.push_str(&format!(
                "WARNING: Duplicate user '{}' found on line {number}. ",
                String::from_utf8_lossy(username)
            ));
            continue;
        }
        let mut user = User::new(username, env);
        let ops = match merge_selectors(&words[2..]) {
            Ok(ops) => ops,
            Err(_) => {
                errors.push_str(&format!(
                    "{name}:{number}: Unmatched parenthesis in selector definition."
                ));
                Vec::new()
            }
        };
        let mut syntax_error = false;
        for op in &ops {
            let op = trim(op, b"\t\r\n");
            match user.apply(op, env) {
                Ok(()) => {}
                Err(e @ RuleError::UnknownCommand) => errors.push_str(&format!(
                    "{name}:{number}: Error in applying operation '{}': {e}. ",
                    String::from_utf8_lossy(op)
                )),
                Err(e) if !syntax_error => {
                    errors.push_str(&format!("{name}:{number}: {e}. "));
                    syntax_error = true;
                }
                Err(_) => {}
            }
        }
        users.push(user);
    }
    if errors.is_empty() {
        Ok(users)
    } else {
        errors.push_str(
            "WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
        );
        Err(errors)
    }
}

fn trim<'a>(mut s: &'a [u8], set: &[u8]) -> &'a [u8] {
    while let Some((first, rest)) = s.split_first() {
        if !set.contains(first) {
            break;
        }
        s = rest;
    }
    while let Some((last, rest)) = s.split_last() {
        if !set.contains(last) {
            break;
        }
        s = rest;
    }
    s
}

/// The file's text for these users, one line each.
pub fn render<'a>(users: impl IntoIterator<Item = &'a User>) -> Vec<u8> {
    let mut out = Vec::new();
    for user in users {
        out.extend_from_slice(&user.line());
        out.push(b'\n');
    }
    out
}

/// Writes `text` to `path` atomically: a temporary file next to it,
/// fsynced, renamed over it, and the directory fsynced, so a crash leaves
/// the old file or the new one, never half of one.
pub fn write_atomically(path: &Path, text: &[u8]) -> std::io::Result<()> {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}-{millis}", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(text)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
