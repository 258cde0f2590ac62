//! INFO errorstats: error replies counted by their code (the first word,
//! "WRONGTYPE", "ERR", a script's own "MY_CODE"), as Redis counts them.

use parking_lot::Mutex;
use std::collections::BTreeMap;

/// Redis keeps at most this many codes: scripts can make up any number of
/// them with `redis.error_reply`, and the table must not grow without
/// bound. Past it the table is replaced by one ERRORSTATS_DISABLED entry
/// until CONFIG RESETSTAT.
const MAX_CODES: usize = 128;
const DISABLED: &str = "ERRORSTATS_DISABLED";

/// Redis looks for the space ending the code only this far into the reply
/// ("-" included); an error without one counts as ERR.
const CODE_SEARCH: usize = 32;

#[derive(Default)]
pub struct ErrorStats {
    inner: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    /// Ordered by code, as Redis lists them (it keeps them in a radix tree).
    counts: BTreeMap<String, u64>,
    disabled: bool,
}

impl ErrorStats {
    /// Counts one error reply; `text` is the reply without the leading "-".
    pub fn record(&self, text: &str) {
        let code = error_code(text);
        let mut table = self.inner.lock();
        if table.disabled {
            return;
        }
        if let Some(n) = table.counts.get_mut(code) {
            *n += 1;
            return;
        }
        if table.counts.len() >= MAX_CODES {
            tracing::warn!(
                "Errorstats stopped adding new errors because the number of errors reached the limit, may be misuse of lua error_reply, please check INFO ERRORSTATS, this can be re-enabled via CONFIG RESETSTAT."
            );
            table.counts.clear();
            table.counts.insert(DISABLED.to_string(), 1);
            table.disabled = true;
            return;
        }
        table.counts.insert(code.to_string(), 1);
    }

    /// The codes and their counts, in INFO's order.
    pub fn snapshot(&self) -> Vec<(String, u64)> {
        let table = self.inner.lock();
        table.counts.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    /// CONFIG RESETSTAT: empty, and counting again.
    pub fn reset(&self) {
        *self.inner.lock() = Table::default();
    }
}

/// The code an error reply counts under: its first word when a space ends
/// it early enough, else ERR.
pub fn error_code(text: &str) -> &str {
    let window = &text.as_bytes()[..text.len().min(CODE_SEARCH - 1)];
    match window.iter().position(|&c| c == b' ') {
        // A space at 0 would make an empty code; Redis takes that too, but
        // it cannot be listed, so it counts as ERR.
        Some(i) if i > 0 => &text[..i],
        _ => "ERR",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_as_redis_finds_them() {
        assert_eq!(error_code("WRONGTYPE Operation against a key"), "WRONGTYPE");
        assert_eq!(error_code("MY_ERR_CODE custom msg"), "MY_ERR_CODE");
        assert_eq!(error_code("ERR "), "ERR");
        assert_eq!(error_code("nospace"), "ERR");
        assert_eq!(error_code(""), "ERR");
        // The space must come within the first 32 bytes of "-CODE ...".
        let long = format!("{} x", "A".repeat(31));
        assert_eq!(error_code(&long), "ERR");
        let fits = format!("{} x", "A".repeat(30));
        assert_eq!(error_code(&fits), "A".repeat(30));
    }

    #[test]
    fn counts_by_code_and_stops_at_the_limit() {
        let stats = ErrorStats::default();
        stats.record("ERR one");
        stats.record("ERR two");
        stats.record("WRONGTYPE x");
        assert_eq!(
            stats.snapshot(),
            vec![("ERR".to_string(), 2), ("WRONGTYPE".to_string(), 1)]
        );
        for i in 0..MAX_CODES {
            stats.record(&format!("C{i} x"));
        }
        assert_eq!(stats.snapshot(), vec![(DISABLED.to_string(), 1)]);
        stats.record("ERR again");
        assert_eq!(stats.snapshot(), vec![(DISABLED.to_string(), 1)]);
        stats.reset();
        stats.record("ERR again");
        assert_eq!(stats.snapshot(), vec![("ERR".to_string(), 1)]);
    }
}
