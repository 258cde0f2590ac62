//! The enumerated option values, and keyspace-event flags.

use std::fmt;

/// An option value chosen from a fixed list of names. The option table keeps
/// the value as an index into `NAMES`, so the names live in one place.
pub(crate) trait Named: Copy + 'static {
    /// Names in declaration order: `NAMES[v as usize]` is `v`'s name.
    const NAMES: &'static [&'static str];
    fn from_index(i: usize) -> Self;
}

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used in config files and `CONFIG GET`.
            pub fn as_str(self) -> &'static str {
                <Self as Named>::NAMES[self as usize]
            }
        }

        impl Named for $name {
            const NAMES: &'static [&'static str] = &[$($text),+];

            fn from_index(i: usize) -> Self {
                // The parser only produces indices into NAMES; fall back to
                // the first variant rather than panic on a table bug.
                Self::ALL.get(i).copied().unwrap_or(Self::ALL[0])
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum! {
    /// `appendfsync`: when the RocksDB WAL is fsynced.
    FsyncPolicy {
        /// Before every write is acknowledged: survives power loss.
        Always = "always",
        /// About once a second: a power loss can lose the last second.
        EverySec = "everysec",
        /// Left to the OS. Every acknowledged write is still in the WAL, so
        /// it survives a crash of the process, not of the machine.
        No = "no",
    }
}

named_enum! {
    /// `rocksdb.compression`: the SST block compression.
    Compression {
        No = "no",
        Snappy = "snappy",
        Lz4 = "lz4",
        Zstd = "zstd",
        Zlib = "zlib",
    }
}

named_enum! {
    /// `log-level`, with Kvrocks' names.
    LogLevel {
        Debug = "debug",
        Info = "info",
        Warning = "warning",
        Error = "error",
        Fatal = "fatal",
    }
}

/// `notify-keyspace-events`: which keyspace notifications are published,
/// parsed and printed exactly as Redis 7.2 does (`notify.c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct KeyspaceEvents(u32);

impl KeyspaceEvents {
    /// `K`: publish to `__keyspace@<db>__:<key>`.
    pub const KEYSPACE: u32 = 1 << 0;
    /// `E`: publish to `__keyevent@<db>__:<event>`.
    pub const KEYEVENT: u32 = 1 << 1;
    /// `g`: generic commands (DEL, EXPIRE, RENAME, ...).
    pub const GENERIC: u32 = 1 << 2;
    /// `$`: string commands.
    pub const STRING: u32 = 1 << 3;
    /// `l`: list commands.
    pub const LIST: u32 = 1 << 4;
    /// `s`: set commands.
    pub const SET: u32 = 1 << 5;
    /// `h`: hash commands.
    pub const HASH: u32 = 1 << 6;
    /// `z`: sorted-set commands.
    pub const ZSET: u32 = 1 << 7;
    /// `x`: a key expired.
    pub const EXPIRED: u32 = 1 << 8;
    /// `e`: a key was evicted.
    pub const EVICTED: u32 = 1 << 9;
    /// `t`: stream commands.
    pub const STREAM: u32 = 1 << 10;
    /// `m`: a key was read but missing (not in `A`).
    pub const KEY_MISS: u32 = 1 << 11;
    /// `d`: module key types.
    pub const MODULE: u32 = 1 << 13;
    /// `n`: a key was created (not in `A`).
    pub const NEW: u32 = 1 << 14;
    /// `A`: alias for `g$lshzxetd`.
    pub const ALL: u32 = Self::GENERIC
        | Self::STRING
        | Self::LIST
        | Self::SET
        | Self::HASH
        | Self::ZSET
        | Self::EXPIRED
        | Self::EVICTED
        | Self::STREAM
        | Self::MODULE;

    /// Class letters in the order Redis prints them.
    const CLASSES: [(char, u32); 11] = [
        ('g', Self::GENERIC),
        ('$', Self::STRING),
        ('l', Self::LIST),
        ('s', Self::SET),
        ('h', Self::HASH),
        ('z', Self::ZSET),
        ('x', Self::EXPIRED),
        ('e', Self::EVICTED),
        ('t', Self::STREAM),
        ('d', Self::MODULE),
        ('n', Self::NEW),
    ];

    pub fn from_bits(bits: u32) -> Self {
        KeyspaceEvents(bits)
    }

    pub fn bits(self) -> u32 {
        self.0
    }

    /// True when every flag in `flags` is set.
    pub fn contains(self, flags: u32) -> bool {
        self.0 & flags == flags
    }

    /// Notifications go out only when `K` or `E` picks a channel kind and
    /// some event class is selected as well.
    pub fn is_active(self) -> bool {
        self.0 & (Self::KEYSPACE | Self::KEYEVENT) != 0
            && self.0 & !(Self::KEYSPACE | Self::KEYEVENT) != 0
    }

    /// Parses a flag string such as `"KEA"` or `"Egx"`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut bits = 0;
        for c in s.chars() {
            bits |= match c {
                'A' => Self::ALL,
                'K' => Self::KEYSPACE,
                'E' => Self::KEYEVENT,
                'm' => Self::KEY_MISS,
                c => Self::CLASSES
                    .iter()
                    .find(|(letter, _)| *letter == c)
                    .map(|&(_, flag)| flag)
                    .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?,
            };
        }
        Ok(KeyspaceEvents(bits))
    }
}

impl fmt::Display for KeyspaceEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        if self.contains(Self::ALL) {
            out.push('A');
        }
        for (letter, flag) in Self::CLASSES {
            let in_all = Self::ALL & flag != 0;
            if self.0 & flag != 0 && !(in_all && self.contains(Self::ALL)) {
                out.push(letter);
            }
        }
        for (letter, flag) in [
            ('K', Self::KEYSPACE),
            ('E', Self::KEYEVENT),
            ('m', Self::KEY_MISS),
        ] {
            if self.0 & flag != 0 {
                out.push(letter);
            }
        }
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        KeyspaceEvents::parse(s).unwrap().to_string()
    }

    #[test]
    fn keyspace_events_normalise_like_redis() {
        assert_eq!(norm(""), "");
        assert_eq!(norm("KEA"), "AKE");
        assert_eq!(norm("Egx"), "gxE");
        assert_eq!(norm("g$lshzxetdKE"), "AKE");
        assert_eq!(norm("xgK"), "gxK");
        assert_eq!(norm("Am"), "Am");
        assert_eq!(norm("nK"), "nK");
        assert_eq!(norm("AnE"), "AnE");
        assert!(KeyspaceEvents::parse("KEz").unwrap().is_active());
        assert!(!KeyspaceEvents::parse("KE").unwrap().is_active());
        assert!(!KeyspaceEvents::parse("A").unwrap().is_active());
        assert_eq!(
            KeyspaceEvents::parse("Xz"),
            Err("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into())
        );
        assert_eq!(
            KeyspaceEvents::parse("KE A").unwrap_err(),
            "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
        );
    }

    #[test]
    fn enum_names() {
        assert_eq!(FsyncPolicy::EverySec.as_str(), "everysec");
        assert_eq!(FsyncPolicy::from_index(0), FsyncPolicy::Always);
        assert_eq!(Compression::Zlib.to_string(), "zlib");
        assert_eq!(LogLevel::NAMES.len(), LogLevel::ALL.len());
        assert_eq!(Compression::NAMES.len(), Compression::ALL.len());
        assert_eq!(FsyncPolicy::NAMES.len(), FsyncPolicy::ALL.len());
    }
}
