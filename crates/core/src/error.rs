//! Every error a command can produce, and the one place where they become
//! the RESP error text Redis clients expect.

use basalt_resp::Reply;
use std::borrow::Cow;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("unknown command")]
    UnknownCommand { name: String, args: Vec<String> },
    #[error("unknown subcommand")]
    UnknownSubcommand { sub: String, command: &'static str },
    /// A subcommand got arguments its handler does not take (Redis's
    /// `addReplySubcommandSyntaxError`).
    #[error("subcommand syntax error")]
    SubcommandSyntax { sub: String, command: &'static str },
    #[error("wrong number of arguments")]
    WrongArity(String),
    #[error("syntax error")]
    Syntax,
    #[error("not an integer")]
    NotInteger,
    #[error("not a float")]
    NotFloat,
    #[error("invalid expire time")]
    InvalidExpire(&'static str),
    #[error("offset out of range")]
    OffsetOutOfRange,
    #[error("authentication required")]
    NoAuth,
    #[error("wrong password")]
    WrongPass,
    #[error("no password configured")]
    AuthNotConfigured,
    #[error("unsupported protocol")]
    NoProto,
    #[error("DB index out of range")]
    DbIndexOutOfRange,
    #[error("invalid client name")]
    InvalidClientName,
    #[error("no such client")]
    NoSuchClient,
    /// A cluster command on a node without cluster mode.
    #[error("cluster support disabled")]
    ClusterDisabled,
    /// A RESP2 connection with subscriptions ran anything else; carries
    /// the command's full name (`config|get`).
    #[error("command not allowed while subscribed")]
    Subscribed(String),
    /// Inside EXEC or a script, a key the transaction did not declare
    /// stayed locked by another transaction.
    #[error("undeclared key busy")]
    UndeclaredKeyBusy,
    /// A write sent to a replica.
    #[error("read-only replica")]
    ReadOnlyReplica,
    /// A replica without its master, set not to serve stale data.
    #[error("master down")]
    MasterDown,
    /// A write on a master with fewer replicas in sync than
    /// `min-replicas-to-write`.
    #[error("not enough good replicas")]
    NoReplicas,
    /// The dataset is being replaced (a replica's full sync).
    #[error("loading")]
    Loading,
    /// A served BLMOVE/BRPOPLPUSH found its destination holding another
    /// type. Unlike a wrong-typed source, which keeps the client waiting,
    /// this ends the wait with WRONGTYPE, as in Redis.
    #[error("destination holds the wrong type")]
    DestinationWrongType,
    #[error("invalid TTL")]
    InvalidTtl,
    #[error("invalid IDLETIME")]
    InvalidIdleTime,
    #[error("invalid FREQ")]
    InvalidFreq,
    /// MIGRATE could not talk to its target.
    #[error("migrate I/O error")]
    MigrateIo(MigrateStage),
    /// The first error line MIGRATE's target replied with (without '-').
    #[error("target replied with an error")]
    MigrateTarget(String),
    /// RESTORE onto an existing key without REPLACE.
    #[error("target key exists")]
    BusyKey,
    /// A DUMP payload (RESTORE, FUNCTION RESTORE) that cannot be loaded.
    #[error(transparent)]
    Dump(#[from] basalt_types::rdb::Error),
    #[error("{0}")]
    Other(Cow<'static, str>),
    /// An error passed on from a command that already answered it and
    /// counted it in the error statistics (a script raising the error of
    /// its `redis.call`): the command still failed, but the error is not
    /// counted twice. The text carries its own prefix.
    #[error("{0}")]
    Counted(Cow<'static, str>),
    #[error(transparent)]
    Data(#[from] basalt_types::Error),
    #[error(transparent)]
    Config(#[from] basalt_config::ConfigError),
    #[error(transparent)]
    Tracking(#[from] crate::tracking::TrackingError),
}

impl CommandError {
    /// A free-form error; the text must carry its own prefix ("ERR ...").
    pub fn other(text: impl Into<Cow<'static, str>>) -> Self {
        CommandError::Other(text.into())
    }

    pub fn to_reply(&self) -> Reply {
        use basalt_types::Error as D;
        let text: Cow<'static, str> = match self {
            CommandError::UnknownCommand { name, args } => {
                let mut s = format!(
                    "ERR unknown command '{}', with args beginning with: ",
                    truncate(name, 128)
                );
                for a in args {
                    s.push_str(&format!("'{}' ", truncate(a, 128)));
                }
                s.into()
            }
            CommandError::UnknownSubcommand { sub, command } => format!(
                "ERR unknown subcommand '{}'. Try {} HELP.",
                truncate(sub, 128),
                command.to_ascii_uppercase()
            )
            .into(),
            CommandError::SubcommandSyntax { sub, command } => format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
                truncate(sub, 128),
                command.to_ascii_uppercase()
            )
            .into(),
            CommandError::WrongArity(name) => {
                format!("ERR wrong number of arguments for '{name}' command").into()
            }
            CommandError::Syntax => "ERR syntax error".into(),
            CommandError::ReadOnlyReplica => {
                "READONLY You can't write against a read only replica.".into()
            }
            CommandError::Loading => "LOADING Basalt is loading the dataset".into(),
            CommandError::NoReplicas => "NOREPLICAS Not enough good replicas to write.".into(),
            CommandError::MasterDown => "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.".into(),
            CommandError::UndeclaredKeyBusy => "ERR this command touches a key the transaction did not declare (not in the script's KEYS) and another transaction holds it; declare it to get atomicity".into(),
            CommandError::NotInteger | CommandError::Data(D::NotInteger) => {
                "ERR value is not an integer or out of range".into()
            }
            CommandError::NotFloat | CommandError::Data(D::NotFloat) => {
                "ERR value is not a valid float".into()
            }
            CommandError::InvalidExpire(cmd) => {
                format!("ERR invalid expire time in '{cmd}' command").into()
            }
            CommandError::OffsetOutOfRange => "ERR offset is out of range".into(),
            CommandError::NoAuth => "NOAUTH Authentication required.".into(),
            CommandError::WrongPass => {
                "WRONGPASS invalid username-password pair or user is disabled.".into()
            }
            CommandError::AuthNotConfigured => "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?".into(),
            CommandError::NoProto => "NOPROTO unsupported protocol version".into(),
            CommandError::DbIndexOutOfRange => "ERR DB index is out of range".into(),
            CommandError::InvalidClientName => {
                "ERR Client names cannot contain spaces, newlines or special characters.".into()
            }
            CommandError::NoSuchClient => "ERR No such client".into(),
            CommandError::ClusterDisabled => {
                "ERR This instance has cluster support disabled".into()
            }
            CommandError::Subscribed(name) => format!(
                "ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
            )
            .into(),
            CommandError::InvalidTtl => "ERR Invalid TTL value, must be >= 0".into(),
            CommandError::InvalidIdleTime => "ERR Invalid IDLETIME value, must be >= 0".into(),
            CommandError::InvalidFreq => {
                "ERR Invalid FREQ value, must be >= 0 and <= 255".into()
            }
            // Redis's wording, "connecting to the client" included.
            CommandError::MigrateIo(MigrateStage::Connect) => {
                "IOERR error or timeout connecting to the client".into()
            }
            CommandError::MigrateIo(MigrateStage::Write) => {
                "IOERR error or timeout writing to target instance".into()
            }
            CommandError::MigrateIo(MigrateStage::Read) => {
                "IOERR error or timeout reading to target instance".into()
            }
            CommandError::MigrateTarget(line) => {
                format!("ERR Target instance replied with error: {line}").into()
            }
            CommandError::BusyKey => "BUSYKEY Target key name already exists.".into(),
            CommandError::Dump(e) => format!("ERR {e}").into(),
            CommandError::Other(text) | CommandError::Counted(text) => text.clone(),
            CommandError::Data(D::WrongType) | CommandError::DestinationWrongType => {
                "WRONGTYPE Operation against a key holding the wrong kind of value".into()
            }
            CommandError::Data(D::Overflow) => "ERR increment or decrement would overflow".into(),
            CommandError::Data(D::NanOrInfinity) => {
                "ERR increment would produce NaN or Infinity".into()
            }
            CommandError::Data(D::NoSuchKey) => "ERR no such key".into(),
            CommandError::Data(D::HashNotInteger) => "ERR hash value is not an integer".into(),
            CommandError::Data(D::HashNotFloat) => "ERR hash value is not a float".into(),
            CommandError::Data(D::StringTooLong) => {
                "ERR string exceeds maximum allowed size (proto-max-bulk-len)".into()
            }
            CommandError::Data(D::InvalidCursor) => "ERR invalid cursor".into(),
            CommandError::Data(D::LcsTooLarge) => {
                "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
                    .into()
            }
            CommandError::Data(D::Stream(e)) => e.to_string().into(),
            CommandError::Data(D::Bloom(e)) => e.to_string().into(),
            CommandError::Data(D::NotDumpable(kind)) => {
                format!("ERR DUMP is not supported for {kind} keys (a module type in Redis)").into()
            }
            CommandError::Data(D::Json(e)) => e.to_string().into(),
            CommandError::Data(D::ScoreNan) => "ERR resulting score is not a number (NaN)".into(),
            CommandError::Data(D::BitmapTooLarge(mb)) => {
                format!("ERR the bitmap is larger than max-bitmap-to-string-mb ({mb} MB)").into()
            }
            CommandError::Data(D::CorruptHyperLogLog) => {
                "INVALIDOBJ Corrupted HLL object detected".into()
            }
            CommandError::Data(D::NotHyperLogLog) => {
                "WRONGTYPE Key is not a valid HyperLogLog string value.".into()
            }
            CommandError::Data(D::Engine(basalt_engine::EngineError::ReplicaReadOnly)) => {
                "READONLY You can't write against a read only replica.".into()
            }
            CommandError::Data(D::Engine(e)) => {
                tracing::error!("storage error: {e}");
                format!("ERR storage error: {e}").into()
            }
            CommandError::Config(e) => format!("ERR {e}").into(),
            CommandError::Tracking(e) => tracking_text(e),
        };
        Reply::Error(text)
    }
}

/// CLIENT TRACKING and CLIENT CACHING errors, as Redis 7.2 words them.
fn tracking_text(e: &crate::tracking::TrackingError) -> Cow<'static, str> {
    use crate::tracking::TrackingError as T;
    let overlap = |prefix: &[u8], kind: &str, other: &[u8]| -> Cow<'static, str> {
        format!(
            "ERR Prefix '{}' overlaps with {kind} prefix '{}'. Prefixes for a single client must not overlap.",
            String::from_utf8_lossy(prefix),
            String::from_utf8_lossy(other)
        )
        .into()
    };
    match e {
        T::RedirectTwice => "ERR A client can only redirect to a single other client".into(),
        T::NoRedirectTarget => "ERR The client ID you want redirect to does not exist".into(),
        T::PrefixWithoutBcast => "ERR PREFIX option requires BCAST mode to be enabled".into(),
        T::BcastSwitch => "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.".into(),
        T::OptWithBcast => "ERR OPTIN and OPTOUT are not compatible with BCAST".into(),
        T::OptinAndOptout => "ERR You can't specify both OPTIN mode and OPTOUT mode".into(),
        T::OptSwitch => "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.".into(),
        T::PrefixOverlapsExisting { prefix, existing } => overlap(prefix, "an existing", existing),
        T::PrefixOverlapsGiven { prefix, other } => overlap(prefix, "another provided", other),
        T::CachingNotTracking => "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled".into(),
        T::CachingYesWithoutOptin => "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.".into(),
        T::CachingNoWithoutOptout => "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.".into(),
    }
}

/// Where MIGRATE's exchange with its target failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MigrateStage {
    Connect,
    Write,
    Read,
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

pub type CommandResult = Result<Reply, CommandError>;
