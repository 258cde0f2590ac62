//! Hash slots: the slot of a key (Redis's CRC16 with hash tags, which the
//! engine's key encoding already uses) and the slot lists of CLUSTERX.

use crate::error::ClusterError;

pub const SLOTS: usize = 16384;

pub use basalt_engine::key::key_slot;

/// The one slot every key a SORT BY/GET pattern can form hashes to, or
/// `None` when they may be in different slots (Redis's `patternHashSlot`):
/// a wildcard or an escape before a complete hash tag means any slot.
pub fn pattern_slot(pattern: &[u8]) -> Option<u16> {
    let mut open = None;
    let mut empty_tag = false;
    for (i, &b) in pattern.iter().enumerate() {
        match b {
            b'*' | b'?' | b'[' | b'\\' => return None,
            b'{' if open.is_none() && !empty_tag => open = Some(i),
            b'}' if open == Some(i.wrapping_sub(1)) => {
                open = None;
                empty_tag = true;
            }
            b'}' if open.is_some() => {
                let start = open.unwrap_or_default() + 1;
                return Some(key_slot(&pattern[start..i]));
            }
            _ => {}
        }
    }
    Some(key_slot(pattern))
}

/// An inclusive range of slots, `start <= end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotRange {
    pub start: u16,
    pub end: u16,
}

impl SlotRange {
    pub fn contains(&self, slot: u16) -> bool {
        self.start <= slot && slot <= self.end
    }
}

impl std::fmt::Display for SlotRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.end)
        }
    }
}

/// A slot number as Kvrocks' `ParseInt` with a range reads it; the error
/// is the reason Kvrocks gives.
fn parse_slot(text: &str) -> Result<u16, &'static str> {
    let bytes = text.as_bytes();
    let digits_from = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    if bytes.len() <= digits_from || !bytes[digits_from].is_ascii_digit() {
        return Err("not started as an integer");
    }
    if !bytes[digits_from..].iter().all(u8::is_ascii_digit) {
        return Err("encounter non-integer characters");
    }
    let n: i64 = text.parse().map_err(|_| "out of range of integer type")?;
    if !(0..SLOTS as i64).contains(&n) {
        return Err("out of numeric range");
    }
    Ok(n as u16)
}

/// CLUSTERX SETSLOT's slots: `slot`, `a-b`, or several separated by
/// spaces in one argument, with Kvrocks' errors.
pub fn parse_slot_ranges(text: &str) -> Result<Vec<SlotRange>, ClusterError> {
    if text.is_empty() {
        return Err(ClusterError::NoSlots);
    }
    let mut ranges = Vec::new();
    for part in text.split(' ').filter(|p| !p.is_empty()) {
        if !part.contains('-') {
            let slot = parse_slot(part).map_err(ClusterError::InvalidSlotId)?;
            ranges.push(SlotRange {
                start: slot,
                end: slot,
            });
            continue;
        }
        if part.starts_with('-') || part.ends_with('-') {
            return Err(ClusterError::RangeDash(part.to_string()));
        }
        let fields: Vec<&str> = part.split('-').filter(|f| !f.is_empty()).collect();
        if fields.len() != 2 {
            return Err(ClusterError::RangeForm(part.to_string()));
        }
        match (parse_slot(fields[0]), parse_slot(fields[1])) {
            (Ok(start), Ok(end)) if start <= end => ranges.push(SlotRange { start, end }),
            _ => return Err(ClusterError::RangeOrder(part.to_string())),
        }
    }
    if ranges.is_empty() {
        return Err(ClusterError::NoSlots);
    }
    Ok(ranges)
}

/// A slot in a SETNODES line: `n` or `a-b` with `a < b` (Kvrocks refuses
/// `a-a` there), every error being "Slot is out of range".
pub(crate) fn parse_node_slots(token: &str) -> Result<SlotRange, ClusterError> {
    let fields: Vec<&str> = token.split('-').filter(|f| !f.is_empty()).collect();
    let slot = |t: &str| parse_slot(t).map_err(|_| ClusterError::SlotOutOfRange);
    match fields.as_slice() {
        [one] => {
            let s = slot(one)?;
            Ok(SlotRange { start: s, end: s })
        }
        [a, b] => {
            let (start, end) = (slot(a)?, slot(b)?);
            if start >= end {
                return Err(ClusterError::SlotOutOfRange);
            }
            Ok(SlotRange { start, end })
        }
        _ => Err(ClusterError::SlotOutOfRange),
    }
}

/// Consecutive slots as ranges.
pub fn ranges_of(slots: impl IntoIterator<Item = u16>) -> Vec<SlotRange> {
    let mut out: Vec<SlotRange> = Vec::new();
    for s in slots {
        match out.last_mut() {
            Some(r) if r.end + 1 == s => r.end = s,
            _ => out.push(SlotRange { start: s, end: s }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_setslot_ranges_with_kvrocks_errors() {
        assert_eq!(
            parse_slot_ranges("1 3-5").unwrap(),
            vec![
                SlotRange { start: 1, end: 1 },
                SlotRange { start: 3, end: 5 }
            ]
        );
        assert_eq!(
            parse_slot_ranges("16384").unwrap_err().to_string(),
            "ERR Invalid slot id: out of numeric range"
        );
        assert_eq!(
            parse_slot_ranges("x").unwrap_err().to_string(),
            "ERR Invalid slot id: not started as an integer"
        );
        assert!(parse_slot_ranges("-5")
            .unwrap_err()
            .to_string()
            .contains("can't appear in the first or last position"));
        assert!(parse_slot_ranges("5-3")
            .unwrap_err()
            .to_string()
            .contains("(int1 <= int2)"));
        assert!(parse_slot_ranges("1-2-3")
            .unwrap_err()
            .to_string()
            .contains("of the form `int1-int2`"));
        assert_eq!(parse_slot_ranges("").unwrap_err(), ClusterError::NoSlots);
    }

    #[test]
    fn node_slots_need_increasing_ranges() {
        assert_eq!(
            parse_node_slots("0-100").unwrap(),
            SlotRange { start: 0, end: 100 }
        );
        assert_eq!(
            parse_node_slots("7").unwrap(),
            SlotRange { start: 7, end: 7 }
        );
        assert_eq!(
            parse_node_slots("5-5").unwrap_err(),
            ClusterError::SlotOutOfRange
        );
        assert_eq!(
            parse_node_slots("16384").unwrap_err(),
            ClusterError::SlotOutOfRange
        );
    }

    #[test]
    fn pattern_slots_as_redis() {
        assert_eq!(pattern_slot(b"w_*"), None);
        assert_eq!(pattern_slot(b"{user}w_*"), Some(key_slot(b"user")));
        assert_eq!(pattern_slot(b"*{user}"), None);
        assert_eq!(pattern_slot(b"plain"), Some(key_slot(b"plain")));
        assert_eq!(pattern_slot(b"{}{x}"), Some(key_slot(b"{}{x}")));
        assert_eq!(pattern_slot(b"a\\*"), None);
    }

    #[test]
    fn groups_consecutive_slots() {
        assert_eq!(
            ranges_of([1, 2, 3, 7, 9, 10]),
            vec![
                SlotRange { start: 1, end: 3 },
                SlotRange { start: 7, end: 7 },
                SlotRange { start: 9, end: 10 }
            ]
        );
    }
}
