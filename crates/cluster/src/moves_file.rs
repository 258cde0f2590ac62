//! `slot-moves.conf` in the data directory: the slot moves a topology has
//! not caught up with yet, so a restart keeps them (Kvrocks keeps them in
//! memory only).
//!
//! - `migrated <range> <dst-id> <host> <port>`: this node handed the range
//!   over (CLUSTER IMPORT ... 1 was acknowledged); it answers MOVED to the
//!   destination for it, and deletes its data once a topology without the
//!   range arrives.
//! - `imported <range>`: this node took the range in; it serves it before
//!   the topology says so.
//!
//! The file is written (to a temporary file, then renamed) whenever that
//! state changes, and removed when there is nothing left in it.

use crate::migrate::Destination;
use crate::slots::{parse_slot_ranges, SlotRange};
use std::path::Path;

pub const FILE_NAME: &str = "slot-moves.conf";

#[derive(Default)]
pub struct Moves {
    pub migrated: Vec<(SlotRange, Destination)>,
    pub imported: Vec<SlotRange>,
}

pub fn dump(moves: &Moves, path: &Path) -> std::io::Result<()> {
    if moves.migrated.is_empty() && moves.imported.is_empty() {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    let mut text = String::new();
    for (range, d) in &moves.migrated {
        text.push_str(&format!(
            "migrated {range} {} {} {}\n",
            d.id, d.host, d.port
        ));
    }
    for range in &moves.imported {
        text.push_str(&format!("imported {range}\n"));
    }
    let tmp = path.with_extension("conf.tmp");
    std::fs::write(&tmp, text)?;
    // The rename must not reach the disk before the content does.
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn one_range(text: &str) -> Result<SlotRange, String> {
    match parse_slot_ranges(text).map_err(|e| e.to_string())?[..] {
        [range] => Ok(range),
        _ => Err(format!("not one slot range: {text}")),
    }
}

/// An empty `Moves` when there is no file.
pub fn load(path: &Path) -> Result<Moves, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Moves::default()),
        Err(e) => return Err(format!("error opening the file '{}': {e}", path.display())),
    };
    let mut moves = Moves::default();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let bad = || format!("{}: bad line '{line}'", path.display());
        match fields[..] {
            [] => {}
            ["migrated", range, id, host, port] => moves.migrated.push((
                one_range(range).map_err(|e| format!("{}: {e}", bad()))?,
                Destination {
                    id: id.to_string(),
                    host: host.to_string(),
                    port: port.parse().map_err(|_| bad())?,
                },
            )),
            ["imported", range] => moves
                .imported
                .push(one_range(range).map_err(|e| format!("{}: {e}", bad()))?),
            _ => return Err(bad()),
        }
    }
    Ok(moves)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_removal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        assert!(load(&path).unwrap().migrated.is_empty());
        let moves = Moves {
            migrated: vec![(
                SlotRange { start: 0, end: 100 },
                Destination {
                    id: "a".repeat(40),
                    host: "127.0.0.1".into(),
                    port: 7002,
                },
            )],
            imported: vec![SlotRange { start: 7, end: 7 }],
        };
        dump(&moves, &path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!(
                "migrated 0-100 {} 127.0.0.1 7002\nimported 7\n",
                "a".repeat(40)
            )
        );
        let back = load(&path).unwrap();
        assert_eq!(back.migrated[0].0, SlotRange { start: 0, end: 100 });
        assert_eq!(back.migrated[0].1.port, 7002);
        assert_eq!(back.imported, vec![SlotRange { start: 7, end: 7 }]);
        dump(&Moves::default(), &path).unwrap();
        assert!(!path.exists());
        std::fs::write(&path, "migrated 0-100 x\n").unwrap();
        assert!(load(&path).is_err());
    }
}
