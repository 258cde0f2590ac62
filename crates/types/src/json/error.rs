/// The errors of the JSON.* commands. Each displays as the whole error line
/// RedisJSON sends, code included (RedisJSON passes some texts without an
/// `ERR` code, e.g. serde_json's parse errors and `Err wrong static path`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    #[error("ERR new objects must be created at the root")]
    NewObjectsAtRoot,
    #[error("ERR could not perform this operation on a key that doesn't exist")]
    NoSuchKey,
    #[error("ERR Path does not exist")]
    PathMissing,
    /// `ERR Path does not exist or not an array` and its siblings.
    #[error("ERR Path does not exist or {0}")]
    PathMissingOr(&'static str),
    #[error("WRONGTYPE wrong type of path value - expected {0}")]
    Expected(&'static str),
    /// A document or value argument that is not JSON: serde_json's text.
    #[error("{0}")]
    Parse(String),
    /// A path that does not parse: position and the parser's message.
    #[error("Error occurred at position {0}, {1}")]
    PathSyntax(usize, String),
    #[error("Err wrong static path")]
    WrongStaticPath,
    #[error("Err path must end with object key to set")]
    PathMustEndWithKey,
    #[error("ERR array index out of range")]
    ArrayIndexOutOfRange,
    #[error("ERR index out of bounds")]
    IndexOutOfBounds,
    #[error("ERR numeric overflow")]
    NumericOverflow,
    #[error("ERR result is not a number")]
    NotANumber,
    #[error("bad input number")]
    BadNumber,
    #[error("ERR recursion limit exceeded")]
    RecursionLimit,
    #[error("ERR corrupted JSON value")]
    Corrupt,
}
