//! What a Basalt master leaves in its batches' WAL log data for its
//! replicas, which apply batches and never see commands:
//!
//! - the keyspace notifications the batch's writes raised (`E ` then, per
//!   event, three RESP bulk strings: its name, its class as a decimal
//!   `notify-keyspace-events` bit set, its key), so that a replica raises
//!   exactly those, in that order; written only while the master feeds a
//!   replica (`crate::notify`, `crate::dispatch`);
//! - a marker (`B ` and a RESP array of a name and `0`, the form of the
//!   command records before the events replaced them) for batches whose
//!   meaning is not in their events: `spublish` (the message put in the
//!   batch is a shard message) and `expired` (the active expire cycle's
//!   deletions).
//!
//! Kvrocks reads its own log data by its first byte (a digit for its
//! `WriteBatchLogData`, `r` for the replication id) and ignores the rest
//! when applying a batch, so a Kvrocks replica of a Basalt master is not
//! disturbed by these. Values never travel here.

use std::io::Write;

const MARKER: &[u8] = b"B ";

/// The tag of an events record.
pub const EVENTS: &[u8] = b"E ";

/// The marker the active expire cycle writes its deletions under.
pub const EXPIRED: &str = "expired";

/// The marker of an SPUBLISH message's batch.
pub const SPUBLISH: &str = "spublish";

/// The blob of the marker `name`.
pub fn marker(name: &str) -> Vec<u8> {
    let mut out = MARKER.to_vec();
    // Writing into a Vec cannot fail.
    let _ = write!(out, "*2\r\n${}\r\n{name}\r\n$1\r\n0\r\n", name.len());
    out
}

/// The name of a marker; `None` for any other log data (Kvrocks', the
/// replication id, events) or a damaged one.
pub fn decode_marker(blob: &[u8]) -> Option<String> {
    let rest = blob.strip_prefix(MARKER)?;
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
    String::from_utf8(parts[0].to_vec()).ok()
}

/// One keyspace notification a master raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub name: String,
    /// The `notify-keyspace-events` class bit(s) it belongs to.
    pub class: u32,
    pub key: Vec<u8>,
}

/// Appends one event to an events record (after its tag).
pub fn push_event(out: &mut Vec<u8>, name: &str, class: u32, key: &[u8]) {
    let class = class.to_string();
    for part in [name.as_bytes(), class.as_bytes(), key] {
        let _ = write!(out, "${}\r\n", part.len());
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
}

/// The events of an events record; `None` for any other log data or a
/// damaged record.
pub fn decode_events(blob: &[u8]) -> Option<Vec<Event>> {
    let mut rest = blob.strip_prefix(EVENTS)?;
    let mut events = Vec::new();
    while !rest.is_empty() {
        let name = bulk(&mut rest)?;
        let class = std::str::from_utf8(bulk(&mut rest)?).ok()?.parse().ok()?;
        let key = bulk(&mut rest)?;
        events.push(Event {
            name: String::from_utf8(name.to_vec()).ok()?,
            class,
            key: key.to_vec(),
        });
    }
    Some(events)
}

/// Reads one `$<len>\r\n<bytes>\r\n` off the front of `rest`.
fn bulk<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let body = rest.strip_prefix(b"$")?;
    let end = body.iter().position(|&b| b == b'\r')?;
    let len: usize = std::str::from_utf8(&body[..end]).ok()?.parse().ok()?;
    let body = body.get(end..)?.strip_prefix(b"\r\n")?;
    let (value, after) = (body.get(..len)?, body.get(len..)?);
    *rest = after.strip_prefix(b"\r\n")?;
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_and_foreign_log_data_is_not_one() {
        assert_eq!(decode_marker(&marker(EXPIRED)).as_deref(), Some(EXPIRED));
        assert_eq!(decode_marker(&marker(SPUBLISH)).as_deref(), Some(SPUBLISH));
        assert!(decode_marker(b"r ABCDEFGHIJKLMNOP").is_none());
        assert!(decode_marker(b"1 2 3").is_none());
        let blob = marker(SPUBLISH);
        for cut in 0..blob.len() {
            assert!(decode_marker(&blob[..cut]).is_none(), "cut at {cut}");
        }
    }

    #[test]
    fn events_round_trip_in_order_with_any_key() {
        let mut blob = EVENTS.to_vec();
        push_event(&mut blob, "rename_from", 4, b"a\r\nb");
        push_event(&mut blob, "rename_to", 4, b"");
        push_event(&mut blob, "hset", 64, b"h");
        let events = decode_events(&blob).unwrap();
        assert_eq!(
            events,
            vec![
                Event {
                    name: "rename_from".into(),
                    class: 4,
                    key: b"a\r\nb".to_vec()
                },
                Event {
                    name: "rename_to".into(),
                    class: 4,
                    key: Vec::new()
                },
                Event {
                    name: "hset".into(),
                    class: 64,
                    key: b"h".to_vec()
                },
            ]
        );
        assert_eq!(decode_events(EVENTS), Some(Vec::new()));
        assert!(decode_events(&marker(EXPIRED)).is_none());
        for cut in EVENTS.len() + 1..blob.len() {
            let cut_blob = &blob[..cut];
            // A cut between two events is a shorter, valid record.
            if let Some(events) = decode_events(cut_blob) {
                assert!(events.len() < 3, "cut at {cut}");
            }
        }
    }
}
