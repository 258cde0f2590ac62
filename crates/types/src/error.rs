use basalt_engine::EngineError;

/// Every way a data-type operation can fail. The server turns these into RESP
/// errors in one place.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("wrong type")]
    WrongType,
    #[error("not an integer")]
    NotInteger,
    #[error("not a float")]
    NotFloat,
    #[error("hash value is not an integer")]
    HashNotInteger,
    #[error("hash value is not a float")]
    HashNotFloat,
    #[error("overflow")]
    Overflow,
    #[error("NaN or infinity")]
    NanOrInfinity,
    #[error("no such key")]
    NoSuchKey,
    #[error("string too long")]
    StringTooLong,
    #[error("invalid cursor")]
    InvalidCursor,
    #[error("LCS input too large")]
    LcsTooLarge,
    #[error("resulting score is not a number")]
    ScoreNan,
    /// A HyperLogLog whose stored registers are not Kvrocks' dense layout.
    #[error("corrupted HyperLogLog")]
    CorruptHyperLogLog,
    /// PF* on a string that is not Redis's HyperLogLog form.
    #[error("not a HyperLogLog string")]
    NotHyperLogLog,
    /// A bitmap read as a string is larger than `max-bitmap-to-string-mb`
    /// (the limit in MB).
    #[error("bitmap larger than {0} MB")]
    BitmapTooLarge(u64),
    #[error(transparent)]
    Bloom(crate::bloom::BloomError),
    /// DUMP of a type Redis keeps in a module (no RDB form of its own).
    #[error("module type")]
    NotDumpable(&'static str),
    #[error(transparent)]
    Stream(crate::stream::StreamError),
    #[error(transparent)]
    Json(crate::json::JsonError),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

pub type Result<T> = std::result::Result<T, Error>;
