//! The example config file, generated from the option table so it can never
//! miss an option or show a stale default (a unit test compares it with the
//! `basalt.conf` at the repository root).

use crate::options::Support;
use crate::table::TABLE;
use crate::value::quote;

const WIDTH: usize = 78;

const HEADER: &str = "\
Basalt configuration file.

Every option Basalt knows is listed below with its default value, so this
file as shipped behaves exactly like no file at all. It is generated from
the option table (crates/config/src/table.rs); edit the table, not this
file, and regenerate it with
  BASALT_BLESS=1 cargo test -p basalt-config example_file

Start the server with: basalt-server basalt.conf [--name value ...]
Options given on the command line override the file.

Syntax, as in redis.conf and kvrocks.conf: one 'name value' per line; names
are case-insensitive; booleans are yes or no; sizes in bytes accept the
suffixes k, kb, m, mb, g, gb (1k = 1000, 1kb = 1024); a value with spaces,
quotes or a leading # goes in double quotes (\"a b\", escapes \\\" \\\\ \\n \\xHH);
a word starting with # begins a comment. Unknown options are an error.

Options marked 'live' can be changed at run time with CONFIG SET, and
CONFIG REWRITE writes the current values back into this file.";

pub(crate) fn render() -> String {
    let mut out = String::new();
    comment(&mut out, HEADER);
    for section in TABLE {
        out.push('\n');
        out.push_str(&banner(section.title));
        for def in section.options {
            out.push('\n');
            comment(&mut out, def.doc);
            let ty = def.value_type();
            let note = match def.support() {
                Support::Active if def.is_live() => format!("Value: {ty}. Live."),
                Support::Active => format!("Value: {ty}. Needs a restart."),
                Support::Fixed => format!("Only '{}' is accepted.", def.default),
                Support::RedisNoOp => {
                    format!("Value: {ty}. Live; remembered, never used (Redis compatibility).")
                }
                Support::KvrocksIgnored => {
                    format!("Value: {ty}. Read and ignored (Kvrocks compatibility).")
                }
            };
            comment(&mut out, &note);
            if !def.aliases.is_empty() {
                comment(
                    &mut out,
                    &format!("Also accepted as: {}.", def.aliases.join(", ")),
                );
            }
            out.push_str(def.name);
            out.push(' ');
            out.push_str(&quote(def.default));
            out.push('\n');
        }
    }
    out
}

fn banner(title: &str) -> String {
    let title = format!(" {title} ");
    let left = WIDTH.saturating_sub(title.len()) / 2;
    let right = WIDTH.saturating_sub(title.len() + left).max(2);
    format!("{}{title}{}\n", "#".repeat(left.max(2)), "#".repeat(right))
}

/// Appends `text` as `# ` comment lines wrapped at [`WIDTH`]; line breaks in
/// `text` are kept.
fn comment(out: &mut String, text: &str) {
    for paragraph in text.split('\n') {
        let mut line = String::from("#");
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            if line.len() > 1 && line.len() + 1 + word.len() > WIDTH {
                out.push_str(&line);
                out.push('\n');
                line = String::from("#");
            }
            line.push(' ');
            line.push_str(word);
        }
        // Keep the indentation of lines such as the regenerate command.
        if let Some(indent) = paragraph.find(|c| c != ' ').filter(|&i| i > 0) {
            line.insert_str(1, &" ".repeat(indent));
        }
        out.push_str(&line);
        out.push('\n');
    }
}
