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

/// The arguments of SCAN, HSCAN, SSCAN and ZSCAN: the cursor and the
/// options after it. TYPE (SCAN) and NOVALUES (HSCAN) are accepted only
/// where the command has them.
pub struct ScanArgs<'a> {
    pub cursor: u64,
    pub pattern: Option<&'a [u8]>,
    pub count: usize,
    pub kind: Option<String>,
    pub novalues: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ScanExtra {
    None,
    Type,
    NoValues,
}

/// `cursor` is the cursor argument's index; options follow it.
pub fn scan_args(
    args: &[bytes::Bytes],
    cursor: usize,
    extra: ScanExtra,
) -> Result<ScanArgs<'_>, CommandError> {
    // Redis parses cursors with strtoul, which also takes "-1" as 2^64-1.
    let c = &args[cursor];
    let cursor_value = number::parse_u64(c)
        .or_else(|| number::parse_i64(c).map(|v| v as u64))
        .or_else(|| std::str::from_utf8(c).ok()?.parse().ok())
        .ok_or(basalt_types::Error::InvalidCursor)?;
    let mut out = ScanArgs {
        cursor: cursor_value,
        pattern: None,
        count: 10,
        kind: None,
        novalues: false,
    };
    let mut i = cursor + 1;
    while i < args.len() {
        if extra == ScanExtra::NoValues && is(&args[i], "novalues") {
            out.novalues = true;
            i += 1;
            continue;
        }
        let value = args.get(i + 1).ok_or(CommandError::Syntax)?;
        if is(&args[i], "match") {
            out.pattern = Some(value.as_ref());
        } else if is(&args[i], "count") {
            let n = int(value)?;
            if n < 1 {
                return Err(CommandError::Syntax);
            }
            out.count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if extra == ScanExtra::Type && is(&args[i], "type") {
            out.kind = Some(text(value));
        } else {
            return Err(CommandError::Syntax);
        }
        i += 2;
    }
    Ok(out)
}
