//! Argument parsing shared by handlers, with Redis's error for each failure.

use crate::error::CommandError;
use basalt_types::number;

pub fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

pub fn int(arg: &[u8]) -> Result<i64, CommandError> {
    number::parse_i64(arg).ok_or(CommandError::NotInteger)
}

pub fn float(arg: &[u8]) -> Result<f64, CommandError> {
    number::parse_f64(arg).ok_or(CommandError::NotFloat)
}

pub fn text(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}

pub fn lower(arg: &[u8]) -> String {
    text(arg).to_ascii_lowercase()
}
