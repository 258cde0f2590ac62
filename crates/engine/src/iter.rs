//! The iterator commands use: RocksDB's raw iterator, merged inside a
//! transaction with the transaction's pending writes so that a command sees
//! what earlier commands of the same MULTI or script wrote.

use crate::txn::{CfOverlay, OverlaySlice};
use rocksdb::DBRawIterator;

pub struct StorageIter<'a> {
    base: DBRawIterator<'a>,
    delta: Option<Delta>,
}

/// A snapshot of the overlay within the iterator's bounds, and where the
/// merge currently stands.
struct Delta {
    entries: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    overlay: CfOverlay,
    /// Index into `entries`; `entries.len()` (forward) or -1 (backward)
    /// when exhausted.
    pos: isize,
    forward: bool,
    current: Current,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Current {
    Base,
    Delta,
    None,
}

impl<'a> StorageIter<'a> {
    pub(crate) fn plain(base: DBRawIterator<'a>) -> StorageIter<'a> {
        StorageIter { base, delta: None }
    }

    pub(crate) fn merged(base: DBRawIterator<'a>, overlay: OverlaySlice) -> StorageIter<'a> {
        let (entries, tombstones) = overlay;
        StorageIter {
            base,
            delta: Some(Delta {
                entries,
                overlay: CfOverlay {
                    entries: Default::default(),
                    tombstones,
                },
                pos: 0,
                forward: true,
                current: Current::None,
            }),
        }
    }

    pub fn valid(&self) -> bool {
        match &self.delta {
            None => self.base.valid(),
            Some(d) => d.current != Current::None,
        }
    }

    pub fn key(&self) -> Option<&[u8]> {
        match &self.delta {
            None => self.base.key(),
            Some(d) => match d.current {
                Current::Base => self.base.key(),
                Current::Delta => Some(&d.entries[d.pos as usize].0),
                Current::None => None,
            },
        }
    }

    pub fn value(&self) -> Option<&[u8]> {
        match &self.delta {
            None => self.base.value(),
            Some(d) => match d.current {
                Current::Base => self.base.value(),
                Current::Delta => d.entries[d.pos as usize].1.as_deref(),
                Current::None => None,
            },
        }
    }

    pub fn status(&self) -> Result<(), rocksdb::Error> {
        self.base.status()
    }

    pub fn seek<K: AsRef<[u8]>>(&mut self, key: K) {
        let key = key.as_ref();
        self.base.seek(key);
        if let Some(d) = &mut self.delta {
            d.pos = d.entries.partition_point(|(k, _)| k.as_slice() < key) as isize;
            d.forward = true;
            self.settle_forward();
        }
    }

    pub fn seek_for_prev<K: AsRef<[u8]>>(&mut self, key: K) {
        let key = key.as_ref();
        self.base.seek_for_prev(key);
        if let Some(d) = &mut self.delta {
            d.pos = d.entries.partition_point(|(k, _)| k.as_slice() <= key) as isize - 1;
            d.forward = false;
            self.settle_backward();
        }
    }

    pub fn seek_to_first(&mut self) {
        self.base.seek_to_first();
        if let Some(d) = &mut self.delta {
            d.pos = 0;
            d.forward = true;
            self.settle_forward();
        }
    }

    pub fn seek_to_last(&mut self) {
        self.base.seek_to_last();
        if let Some(d) = &mut self.delta {
            d.pos = d.entries.len() as isize - 1;
            d.forward = false;
            self.settle_backward();
        }
    }

    pub fn next(&mut self) {
        let Some(d) = &mut self.delta else {
            self.base.next();
            return;
        };
        if !d.forward {
            // Turn around: re-seek to the current key, then step past it.
            let Some(k) = self.key().map(<[u8]>::to_vec) else {
                return;
            };
            self.seek(&k);
        }
        let d = self.delta.as_mut().expect("merged iterator");
        match d.current {
            Current::None => return,
            Current::Base => self.base.next(),
            Current::Delta => {
                let dk = &d.entries[d.pos as usize].0;
                if self.base.valid() && self.base.key() == Some(dk.as_slice()) {
                    self.base.next();
                }
                d.pos += 1;
            }
        }
        self.settle_forward();
    }

    pub fn prev(&mut self) {
        let Some(d) = &mut self.delta else {
            self.base.prev();
            return;
        };
        if d.forward {
            let Some(k) = self.key().map(<[u8]>::to_vec) else {
                return;
            };
            self.seek_for_prev(&k);
        }
        let d = self.delta.as_mut().expect("merged iterator");
        match d.current {
            Current::None => return,
            Current::Base => self.base.prev(),
            Current::Delta => {
                let dk = &d.entries[d.pos as usize].0;
                if self.base.valid() && self.base.key() == Some(dk.as_slice()) {
                    self.base.prev();
                }
                d.pos -= 1;
            }
        }
        self.settle_backward();
    }

    fn settle_forward(&mut self) {
        self.settle(true);
    }

    fn settle_backward(&mut self) {
        self.settle(false);
    }

    /// Positions on the nearest visible entry at or beyond both cursors in
    /// the direction of travel (the smallest key going forwards, the largest
    /// going backwards): overlay entries win over equal base keys, and
    /// deletions and range tombstones hide base entries.
    fn settle(&mut self, forward: bool) {
        use std::cmp::Ordering::{Equal, Greater, Less};
        // Going forwards, an overlay key beyond the base key (Greater) means
        // the base entry comes first; going backwards, one below it (Less).
        let base_first = if forward { Greater } else { Less };
        let d = self.delta.as_mut().expect("merged iterator");
        loop {
            while self.base.valid() && d.overlay.hides_base(self.base.key().unwrap_or_default()) {
                step(&mut self.base, forward);
            }
            let base_key = if self.base.valid() {
                self.base.key()
            } else {
                None
            };
            let delta = if d.pos >= 0 {
                d.entries.get(d.pos as usize)
            } else {
                None
            };
            match (base_key, delta) {
                (None, None) => {
                    d.current = Current::None;
                    return;
                }
                (Some(_), None) => {
                    d.current = Current::Base;
                    return;
                }
                (b, Some((dk, dv))) => {
                    let order = b.map(|b| dk.as_slice().cmp(b));
                    if order == Some(base_first) {
                        d.current = Current::Base;
                        return;
                    }
                    if dv.is_some() {
                        d.current = Current::Delta;
                        return;
                    }
                    // A deletion: skip it and the base entry it hides.
                    if order == Some(Equal) {
                        step(&mut self.base, forward);
                    }
                    d.pos += if forward { 1 } else { -1 };
                }
            }
        }
    }
}

fn step(it: &mut DBRawIterator<'_>, forward: bool) {
    if forward {
        it.next();
    } else {
        it.prev();
    }
}
