//! What a write command leaves in its batch's WAL log data for replicas:
//! `B ` followed by a RESP array of the command's name and its keys.
//! A replica applies batches, not commands; this is what lets it raise the
//! command's keyspace notifications (`basalt-replication`'s `events`).
//!
//! Kvrocks reads its own log data by its first byte (a digit for its
//! `WriteBatchLogData`, `r` for the replication id) and ignores the rest
//! when applying a batch, so a Kvrocks replica of a Basalt master is not
//! disturbed by these. Only the keys travel, never the values: the WAL
//! grows by a few bytes per command.

use bytes::Bytes;

const TAG: &[u8] = b"B ";

/// The name the active expire cycle writes its deletions under.
pub const EXPIRED: &str = "expired";

/// The blob for `name` run on `keys`.
pub fn encode(name: &str, keys: &[Bytes]) -> Vec<u8> {
    use std::io::Write;
    let size = 16 + name.len() + keys.iter().map(|k| k.len() + 8).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(TAG);
    // Writing into a Vec cannot fail.
    let _ = write!(out, "*{}\r\n", keys.len() + 1);
    for part in std::iter::once(name.as_bytes()).chain(keys.iter().map(|k| &k[..])) {
        let _ = write!(out, "${}\r\n", part.len());
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A blob written by `encode`: the command's name and keys. `None` for
/// any other log data (Kvrocks', the replication id) or a damaged one.
pub fn decode(blob: &[u8]) -> Option<(String, Vec<Vec<u8>>)> {
    let mut rest = blob.strip_prefix(TAG)?;
    let count: usize = number(&mut rest, b'*')?;
    let mut parts = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let len: usize = number(&mut rest, b'$')?;
        if rest.len() < len + 2 || &rest[len..len + 2] != b"\r\n" {
            return None;
        }
        parts.push(rest[..len].to_vec());
        rest = &rest[len + 2..];
    }
    if !rest.is_empty() || parts.is_empty() {
        return None;
    }
    let name = String::from_utf8(parts.remove(0)).ok()?;
    Some((name, parts))
}

/// `<prefix><decimal>\r\n`.
fn number(rest: &mut &[u8], prefix: u8) -> Option<usize> {
    let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
    let line = rest.get(..line_end)?;
    let digits = line.strip_prefix(&[prefix])?;
    let n = std::str::from_utf8(digits).ok()?.parse().ok()?;
    *rest = &rest[line_end + 2..];
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_foreign_log_data() {
        let keys = vec![Bytes::from_static(b"a\r\nb"), Bytes::new()];
        let blob = encode("rename", &keys);
        let (name, decoded) = decode(&blob).unwrap();
        assert_eq!(name, "rename");
        assert_eq!(decoded, vec![b"a\r\nb".to_vec(), Vec::new()]);
        assert_eq!(decode(&encode(EXPIRED, &[])).unwrap().0, "expired");
        assert!(decode(b"r ABCDEFGHIJKLMNOP").is_none());
        assert!(decode(b"1 2 3").is_none());
        for cut in 0..blob.len() {
            assert!(decode(&blob[..cut]).is_none(), "cut at {cut}");
        }
    }
}
