//! What a write command leaves in its batch's WAL log data for replicas:
//! `B ` followed by a RESP array: the command's name, how many keys
//! follow, its keys, then the few option words its events depend on (see
//! [`options_of`]). A replica applies batches, not commands; this is what
//! lets it raise the command's keyspace notifications
//! (`basalt-replication`'s `events`).
//!
//! Kvrocks reads its own log data by its first byte (a digit for its
//! `WriteBatchLogData`, `r` for the replication id) and ignores the rest
//! when applying a batch, so a Kvrocks replica of a Basalt master is not
//! disturbed by these. Values never travel here: the WAL grows by a few
//! bytes per command.

use bytes::Bytes;

const TAG: &[u8] = b"B ";

/// The name the active expire cycle writes its deletions under.
pub const EXPIRED: &str = "expired";

/// A decoded record.
#[derive(Debug, PartialEq, Eq)]
pub struct CommandRecord {
    pub name: String,
    pub keys: Vec<Vec<u8>>,
    pub options: Vec<Vec<u8>>,
}

impl CommandRecord {
    /// Whether one of the options is `word` (case-insensitive).
    pub fn has_option(&self, word: &str) -> bool {
        self.options
            .iter()
            .any(|o| o.eq_ignore_ascii_case(word.as_bytes()))
    }
}

/// The blob for `name` run with `args` (the whole command line) on
/// `keys`.
pub fn encode(name: &str, keys: &[Bytes], args: &[Bytes]) -> Vec<u8> {
    use std::io::Write;
    let options = options_of(name, args);
    let parts = keys.iter().chain(options).map(|p| &p[..]);
    let size = 24 + name.len() + parts.clone().map(|p| p.len() + 8).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(TAG);
    let count = keys.len().to_string();
    // Writing into a Vec cannot fail.
    let _ = write!(out, "*{}\r\n", keys.len() + options.len() + 2);
    for part in [name.as_bytes(), count.as_bytes()].into_iter().chain(parts) {
        let _ = write!(out, "${}\r\n", part.len());
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The arguments besides the keys that decide which events a command
/// raises: only for the commands whose events depend on them, and never
/// a value.
fn options_of<'a>(name: &str, args: &'a [Bytes]) -> &'a [Bytes] {
    let options = match name {
        // LMOVE source destination LEFT|RIGHT LEFT|RIGHT [timeout]
        "lmove" | "blmove" => args.get(3..5),
        // SET key value [NX|XX] [GET] [EX s|PX ms|EXAT|PXAT|KEEPTTL]
        "set" => args.get(3..),
        // GETEX key [EX s|PX ms|EXAT|PXAT|PERSIST]
        "getex" => args.get(2..),
        // ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member ...
        "zadd" => {
            let words = args
                .iter()
                .skip(2)
                .take_while(|a| {
                    ["nx", "xx", "gt", "lt", "ch", "incr"]
                        .iter()
                        .any(|w| a.eq_ignore_ascii_case(w.as_bytes()))
                })
                .count();
            args.get(2..2 + words)
        }
        _ => None,
    };
    options.unwrap_or_default()
}

/// A blob written by `encode`. `None` for any other log data (Kvrocks',
/// the replication id) or a damaged one. The array is read by the same
/// parser as client requests.
pub fn decode(blob: &[u8]) -> Option<CommandRecord> {
    let rest = blob.strip_prefix(TAG)?;
    if rest.first() != Some(&b'*') {
        return None;
    }
    let mut buf = bytes::BytesMut::from(rest);
    let parts = basalt_resp::RequestParser::new()
        .parse(&mut buf, &basalt_resp::Limits::default())
        .ok()??;
    if !buf.is_empty() || parts.len() < 2 {
        return None;
    }
    let mut parts = parts.into_iter();
    let name = String::from_utf8(parts.next()?.to_vec()).ok()?;
    let keys: usize = std::str::from_utf8(&parts.next()?).ok()?.parse().ok()?;
    let mut keys_and_options: Vec<Vec<u8>> = parts.map(|p| p.to_vec()).collect();
    if keys > keys_and_options.len() {
        return None;
    }
    let options = keys_and_options.split_off(keys);
    Some(CommandRecord {
        name,
        keys: keys_and_options,
        options,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<Bytes> {
        words
            .iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    #[test]
    fn round_trip_and_foreign_log_data() {
        let keys = vec![Bytes::from_static(b"a\r\nb"), Bytes::new()];
        let blob = encode("rename", &keys, &[]);
        let record = decode(&blob).unwrap();
        assert_eq!(record.name, "rename");
        assert_eq!(record.keys, vec![b"a\r\nb".to_vec(), Vec::new()]);
        assert!(record.options.is_empty());
        assert_eq!(decode(&encode(EXPIRED, &[], &[])).unwrap().name, "expired");
        assert!(decode(b"r ABCDEFGHIJKLMNOP").is_none());
        assert!(decode(b"1 2 3").is_none());
        assert!(decode(b"B *2\r\n$3\r\nset\r\n$1\r\n5\r\n").is_none());
        for cut in 0..blob.len() {
            assert!(decode(&blob[..cut]).is_none(), "cut at {cut}");
        }
    }

    #[test]
    fn options_are_the_words_events_depend_on_never_values() {
        let line = args(&["ZADD", "z", "XX", "INCR", "1", "member"]);
        let record = decode(&encode("zadd", &line[1..2], &line)).unwrap();
        assert_eq!(record.keys, vec![b"z".to_vec()]);
        assert!(record.has_option("incr") && record.has_option("XX"));
        assert_eq!(record.options.len(), 2);
        let line = args(&["SET", "k", "a big value", "KEEPTTL"]);
        let record = decode(&encode("set", &line[1..2], &line)).unwrap();
        assert_eq!(record.options, vec![b"KEEPTTL".to_vec()]);
        let line = args(&["LMOVE", "a", "b", "LEFT", "RIGHT"]);
        let record = decode(&encode("lmove", &line[1..3], &line)).unwrap();
        assert_eq!(record.options, vec![b"LEFT".to_vec(), b"RIGHT".to_vec()]);
        let line = args(&["HSET", "h", "f", "v"]);
        assert!(decode(&encode("hset", &line[1..2], &line))
            .unwrap()
            .options
            .is_empty());
    }
}
