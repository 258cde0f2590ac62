//! The configuration reference, `docs/configuration.md`, generated from the
//! option table like the example `basalt.conf`, so it can never miss an
//! option or show a stale default (a unit test compares it with the file).

use crate::options::{self, OptionDef, Support};
use crate::value::quote;

/// Column at which prose paragraphs are wrapped (tables are not).
const WIDTH: usize = 76;

const INTRO: &str = r#"# Configuration

<!-- Generated from the option table (crates/config/src/table.rs) by
basalt_config::reference_markdown(); do not edit. Regenerate with
  BASALT_BLESS=1 cargo test -p basalt-config reference_markdown -->

Every option Basalt knows is listed on this page. The example file
[`basalt.conf`](../basalt.conf) at the repository root lists them too, each
set to its default, so it behaves exactly like no file at all. Option names
follow Kvrocks where Kvrocks has the option, so an existing `kvrocks.conf`
mostly loads unchanged.

## The config file

The syntax is that of `kvrocks.conf` and `redis.conf`:

- One option per line, `name value`, e.g. `port 6666`. Names are
  case-insensitive; some options also answer to an alias, listed under
  the name. If an option appears twice, the later line wins.
- Booleans are `yes` or `no`. Sizes in bytes accept the suffixes `k`, `kb`,
  `m`, `mb`, `g`, `gb` (`1k` = 1000, `1kb` = 1024).
- A value containing spaces, quotes or a leading `#` goes in quotes:
  `requirepass "s3cret with spaces"`. Inside double quotes the escapes
  `\"`, `\\`, `\n`, `\r`, `\t` and `\xHH` work; inside single quotes,
  `\'`. Options that take a list (`bind 127.0.0.1 ::1`,
  `save 900 1 300 10`) take the rest of the line.
- A word starting with `#` begins a comment, on its own line or after a
  value (`port 6666 # the default`); `pass#word` is one word.

An unknown option or a bad value stops startup with a message naming the
line, for example:

```
basalt.conf, line 3: invalid value 'abc' for 'port': argument couldn't be parsed into an integer
```

## Starting the server

```
basalt-server [path/to/basalt.conf] [--name value ...]
```

Without a file, every option has its default. Options given on the command
line override the file: `basalt-server basalt.conf --port 7777 --appendfsync
always`. A bad command-line option stops startup like a bad line, with a
message naming the command line.

## Changing options at run time

- `CONFIG GET pattern [pattern ...]` returns name/value pairs for every
  option (or alias) matching a pattern. Patterns are case-insensitive
  globs as in Redis (`*`, `?`, `[...]`): `CONFIG GET *max*`,
  `CONFIG GET rocksdb.*`.
- `CONFIG SET name value [name value ...]` changes live options (those
  marked live below) while the server runs. Several pairs are set
  atomically: if any pair is refused (an unknown option, a bad value, the
  same option twice), nothing changes; the same holds when applying a
  valid value fails (`port` taken by another process: `Unable to listen
  on this port`). Options that are not live are immutable: setting one to
  another value fails with `ERR CONFIG SET failed (possibly related to
  argument 'dir') - can't set immutable config`; setting it to the value
  it has is accepted and changes nothing.
- `CONFIG REWRITE` writes the current values back into the file the server
  was started with, keeping its comments and the order of its lines:
  lines whose value changed are updated, and options that differ from their
  default but are not in the file are appended. It fails if the server was
  started without a file.
- `CONFIG RESETSTAT` resets the statistics reported by `INFO` (commands
  processed, connections received, keyspace hits and misses, ...).
"#;

/// Renders `docs/configuration.md`.
pub(crate) fn render() -> String {
    let mut out = String::from(INTRO);

    section(
        &mut out,
        "Options",
        "Options Basalt acts on. Live options can be changed with `CONFIG SET`; \
         the others need a restart.",
        &["Option", "Type", "Default", "Live", "Description"],
        Support::Active,
        |def| {
            vec![
                text(&def.value_type()),
                code(&quote(def.default)),
                if def.is_live() { "yes" } else { "no" }.into(),
                text(def.doc),
            ]
        },
    );
    section(
        &mut out,
        "Fixed values",
        "Options of Redis or Kvrocks for which Basalt has exactly one behaviour, \
         described by the value shown. The file and the command line accept only \
         that value; any other stops startup with the reason given. `CONFIG GET` \
         returns the value; `CONFIG SET` fails, as these options are immutable.",
        &["Option", "Value", "Description", "Reason"],
        Support::Fixed,
        |def| {
            vec![
                code(&quote(def.default)),
                text(def.doc),
                text(def.fixed_reason().unwrap_or_default()),
            ]
        },
    );
    section(
        &mut out,
        "Redis parameters accepted as no-ops",
        "Redis options that mean nothing for a disk store (memory limits and \
         eviction, encodings, RDB and AOF files). They exist so that clients and \
         tools written for Redis keep working: values are validated as Redis does, \
         `CONFIG SET` stores them and `CONFIG GET` returns them, and nothing else \
         happens. They are always live.",
        &["Option", "Type", "Default", "Description"],
        Support::RedisNoOp,
        |def| {
            vec![
                text(&def.value_type()),
                code(&quote(def.default)),
                text(def.doc),
            ]
        },
    );
    section(
        &mut out,
        "Kvrocks options accepted and ignored",
        "Kvrocks options for features Basalt does not have yet, accepted so that an \
         existing `kvrocks.conf` loads. Values are validated and `CONFIG GET` \
         returns them, but they have no effect and are immutable.",
        &["Option", "Type", "Default", "Description"],
        Support::KvrocksIgnored,
        |def| {
            vec![
                text(&def.value_type()),
                code(&quote(def.default)),
                text(def.doc),
            ]
        },
    );
    out
}

/// Appends a `## title` section with a table of the options of one kind of
/// support, in table order. The first column is the option's name and
/// aliases; `row` gives the other cells, already escaped.
fn section(
    out: &mut String,
    title: &str,
    intro: &str,
    header: &[&str],
    support: Support,
    row: impl Fn(&OptionDef) -> Vec<String>,
) {
    out.push_str(&format!("\n## {title}\n\n{}", wrap(intro)));
    out.push_str(&format!("| {} |\n", header.join(" | ")));
    out.push_str(&format!("|{}\n", "---|".repeat(header.len())));
    for def in options::all().filter(|d| d.support() == support) {
        let mut cells = vec![name_cell(def)];
        cells.extend(row(def));
        debug_assert_eq!(cells.len(), header.len(), "{}", def.name);
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
}

/// `text` as a paragraph wrapped at [`WIDTH`] columns, ending in a blank line.
fn wrap(text: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push_str("\n\n");
    out
}

fn name_cell(def: &OptionDef) -> String {
    let mut cell = code(def.name);
    if !def.aliases.is_empty() {
        let aliases: Vec<String> = def.aliases.iter().map(|a| code(a)).collect();
        cell.push_str(&format!(" (alias {})", aliases.join(", ")));
    }
    cell
}

/// `s` as a code span in a table cell. An empty value is shown as `""`
/// by [`quote`], so the span is never empty.
fn code(s: &str) -> String {
    let s = s.replace('|', "\\|");
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

/// `s` as plain text in a table cell: one line, with the characters that
/// Markdown or the table would interpret escaped.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push(' '),
            '\\' | '|' | '*' | '`' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            c => out.push(c),
        }
    }
    out
}
