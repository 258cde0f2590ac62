//! What an option is: the row type of the option table (`table.rs`, the one
//! list of every option Basalt accepts) and the code that parses, stores
//! and prints a row's value.
//!
//! Each row gives the name (and aliases), the value type with its range,
//! the default as the text `CONFIG GET` prints, whether `CONFIG SET` may
//! change it while the server runs, a doc line, and how the value is
//! stored. Parsing files and overrides, `Config::default()`, `CONFIG GET`,
//! `CONFIG SET`, `CONFIG REWRITE`, the example `basalt.conf` and
//! `docs/configuration.md` are all driven from the table; nothing else
//! lists options.
//!
//! Storage ([`Access`]) decides what an option *is*:
//!
//! * `Field`: a typed field of [`Config`] that the server acts on;
//! * `Fixed`: Basalt has exactly one behaviour, described by the default;
//!   any other value is refused with a reason (`cluster-enabled yes`);
//! * `RedisNoOp`: a Redis option that means nothing for a disk store
//!   (encodings, eviction, RDB/AOF). Clients and tools set and read these,
//!   so they are live, validated like Redis does, and remembered, but have
//!   no effect;
//! * `KvrocksIgnored`: a Kvrocks option for a feature Basalt does not have
//!   yet, accepted so that an existing `kvrocks.conf` loads. Only options
//!   whose value cannot change what a client observes (tuning knobs,
//!   replication/migration/backup settings while those features don't
//!   exist) are ignored this way; options that would, if ignored, silently
//!   break a promise (`max-db-size`, `rocksdb.write_options.sync`, ...)
//!   are `Fixed` to the value that describes what Basalt does. These are
//!   immutable, so `CONFIG SET` on them fails loudly instead of pretending.

use crate::table::TABLE;
use crate::value::{check_range, format_bool, parse_bool, parse_enum, parse_int, parse_memory};
use crate::Config;

/// Reads and writes one typed field of [`Config`]. `set` may refuse a value
/// the type allows (an empty `dir`) with a reason.
pub(crate) struct Accessor<T: 'static> {
    pub(crate) get: fn(&Config) -> T,
    pub(crate) set: fn(&mut Config, T) -> Result<(), String>,
}

pub(crate) enum Access<T: 'static> {
    Field(Accessor<T>),
    /// Only the default is accepted; the text says why.
    Fixed(&'static str),
    RedisNoOp,
    KvrocksIgnored,
}

/// Extra validation for a text value, returning the reason it is refused.
pub(crate) type Check = fn(&str) -> Result<(), String>;

pub(crate) enum Kind {
    Bool(Access<bool>),
    /// An integer in `min..=max`; `memory` also allows Redis size suffixes.
    Int {
        min: i64,
        max: i64,
        memory: bool,
        access: Access<i64>,
    },
    Enum {
        names: &'static [&'static str],
        access: Access<usize>,
    },
    /// Free text; on a file line, the words after the name joined by spaces.
    Text {
        check: Option<Check>,
        access: Access<String>,
    },
    /// A list of words (`bind 127.0.0.1 ::1`).
    Words(Access<Vec<String>>),
}

/// What Basalt does with an option; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Support {
    /// Basalt acts on the value.
    Active,
    /// Only the default value is accepted; it describes what Basalt does.
    Fixed,
    /// A Redis option with no meaning for a disk store: accepted by files
    /// and `CONFIG SET`, shown by `CONFIG GET`, no effect.
    RedisNoOp,
    /// A Kvrocks option not implemented yet: accepted in config files so a
    /// `kvrocks.conf` loads, shown by `CONFIG GET`, value ignored, immutable.
    KvrocksIgnored,
}

/// One row of the option table.
pub struct OptionDef {
    pub(crate) name: &'static str,
    pub(crate) aliases: &'static [&'static str],
    pub(crate) kind: Kind,
    pub(crate) default: &'static str,
    pub(crate) live: bool,
    /// Not matched by CONFIG GET patterns, only by its name.
    pub(crate) hidden: bool,
    pub(crate) doc: &'static str,
}

impl OptionDef {
    /// The canonical name (lower case).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Left out of `CONFIG GET` patterns (Redis's debugging options).
    pub fn is_hidden(&self) -> bool {
        self.hidden
    }

    /// Other names accepted everywhere (Redis's old `*-ziplist-*` names, ...).
    pub fn aliases(&self) -> &'static [&'static str] {
        self.aliases
    }

    /// The default, formatted as `CONFIG GET` prints it.
    pub fn default_value(&self) -> &'static str {
        self.default
    }

    /// Whether `CONFIG SET` may change it while the server runs. Redis
    /// no-ops always are: clients set them freely.
    pub fn is_live(&self) -> bool {
        self.live || self.support() == Support::RedisNoOp
    }

    pub fn doc(&self) -> &'static str {
        self.doc
    }

    pub fn support(&self) -> Support {
        self.storage().0
    }

    /// For a [`Support::Fixed`] option, why no other value is accepted.
    pub(crate) fn fixed_reason(&self) -> Option<&'static str> {
        self.storage().1
    }

    /// The option's [`Support`] and, when fixed, the reason.
    fn storage(&self) -> (Support, Option<&'static str>) {
        fn of<T>(a: &Access<T>) -> (Support, Option<&'static str>) {
            match a {
                Access::Field(_) => (Support::Active, None),
                Access::Fixed(why) => (Support::Fixed, Some(why)),
                Access::RedisNoOp => (Support::RedisNoOp, None),
                Access::KvrocksIgnored => (Support::KvrocksIgnored, None),
            }
        }
        match &self.kind {
            Kind::Bool(a) => of(a),
            Kind::Int { access, .. } => of(access),
            Kind::Enum { access, .. } => of(access),
            Kind::Text { access, .. } => of(access),
            Kind::Words(a) => of(a),
        }
    }

    /// A short description of the accepted values, e.g. `integer 1..65535`.
    pub fn value_type(&self) -> String {
        match &self.kind {
            Kind::Bool(_) => "yes or no".into(),
            Kind::Int {
                min, max, memory, ..
            } => {
                let what = if *memory {
                    "bytes (suffixes k, kb, m, mb, g, gb allowed)"
                } else {
                    "integer"
                };
                match (*min, *max) {
                    (min, i64::MAX) => format!("{what}, at least {min}"),
                    (min, max) => format!("{what}, {min} to {max}"),
                }
            }
            Kind::Enum { names, .. } => format!("one of {}", names.join(", ")),
            Kind::Text { .. } => "string".into(),
            Kind::Words(_) => "one or more words separated by spaces".into(),
        }
    }

    fn matches_name(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    }

    /// Every name the option answers to, canonical first.
    pub(crate) fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }

    /// Parses `raw`, validates it and stores it in `cfg`. Returns the reason
    /// on failure, with Redis's wording.
    pub(crate) fn apply(&'static self, cfg: &mut Config, raw: &str) -> Result<(), String> {
        match &self.kind {
            Kind::Bool(access) => {
                let v = parse_bool(raw)?;
                self.store(access, cfg, v, |v| format_bool(*v).into())
            }
            Kind::Int {
                min,
                max,
                memory,
                access,
            } => {
                let v = if *memory {
                    parse_memory(raw)?
                } else {
                    parse_int(raw)?
                };
                let v = check_range(v, *min, *max)?;
                self.store(access, cfg, v, |v| v.to_string())
            }
            Kind::Enum { names, access } => {
                let v = parse_enum(raw, names)?;
                self.store(access, cfg, v, |v| names[*v].into())
            }
            Kind::Text { check, access } => {
                if let Some(check) = check {
                    check(raw)?;
                }
                self.store(access, cfg, raw.to_string(), |v| v.clone())
            }
            Kind::Words(access) => {
                let v = raw.split_whitespace().map(str::to_string).collect();
                self.store(access, cfg, v, |v: &Vec<String>| v.join(" "))
            }
        }
    }

    fn store<T>(
        &'static self,
        access: &Access<T>,
        cfg: &mut Config,
        v: T,
        format: impl Fn(&T) -> String,
    ) -> Result<(), String> {
        match access {
            Access::Field(a) => (a.set)(cfg, v),
            Access::Fixed(why) => {
                if format(&v) == self.default {
                    Ok(())
                } else {
                    Err(format!("{why} (only '{}' is accepted)", self.default))
                }
            }
            Access::RedisNoOp | Access::KvrocksIgnored => {
                cfg.extra.insert(self.name, format(&v));
                Ok(())
            }
        }
    }

    /// The current value, formatted as `CONFIG GET` prints it.
    pub(crate) fn value(&self, cfg: &Config) -> String {
        fn read<T>(
            def: &OptionDef,
            access: &Access<T>,
            cfg: &Config,
            format: impl Fn(T) -> String,
        ) -> String {
            match access {
                Access::Field(a) => format((a.get)(cfg)),
                Access::Fixed(_) => def.default.to_string(),
                Access::RedisNoOp | Access::KvrocksIgnored => cfg
                    .extra
                    .get(def.name)
                    .cloned()
                    .unwrap_or_else(|| def.default.to_string()),
            }
        }
        match &self.kind {
            Kind::Bool(a) => read(self, a, cfg, |v| format_bool(v).into()),
            Kind::Int { access, .. } => read(self, access, cfg, |v| v.to_string()),
            Kind::Enum { names, access } => read(self, access, cfg, |v| {
                names.get(v).copied().unwrap_or_default().to_string()
            }),
            Kind::Text { access, .. } => read(self, access, cfg, |v| v),
            Kind::Words(a) => read(self, a, cfg, |v| v.join(" ")),
        }
    }

    /// The raw value of a file line's words: text-like options take all
    /// words joined by spaces (`save 900 1 300 10`, `bind a b`), the others
    /// exactly one.
    pub(crate) fn line_value(&self, words: &[String]) -> Result<String, String> {
        match (&self.kind, words) {
            (Kind::Text { .. } | Kind::Words(_), words) => Ok(words.join(" ")),
            (_, [one]) => Ok(one.clone()),
            (_, []) => Err(format!("missing value for '{}'", self.name)),
            (_, _) => Err(format!(
                "too many values for '{}' (quote a value that contains spaces)",
                self.name
            )),
        }
    }
}

/// A group of options; the example file prints one header per section.
pub(crate) struct Section {
    pub(crate) title: &'static str,
    pub(crate) options: &'static [OptionDef],
}

/// Every option, in table order.
pub(crate) fn all() -> impl Iterator<Item = &'static OptionDef> {
    TABLE.iter().flat_map(|s| s.options.iter())
}

/// The option called `name` (case-insensitive, aliases included).
pub(crate) fn lookup(name: &str) -> Option<&'static OptionDef> {
    all().find(|d| d.matches_name(name))
}
