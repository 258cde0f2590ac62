//! Streams, stored as Kvrocks stores them (metadata type 8, column family
//! `stream`):
//!
//! - the metadata trailer holds five ids (last generated, recorded first,
//!   max deleted, first, last), then `entries_added` and `group_number`;
//!   `size` is the number of entries;
//! - an entry's subkey is `ms ‖ seq` (big-endian u64 each) and its value the
//!   field/value strings, each prefixed by its varint32 length;
//! - consumer groups, consumers and pending entries live under the all-ones
//!   prefix `u64::MAX ‖ kind`, so they sort after every entry id.
//!
//! `layout` holds those byte layouts, `entries` the commands on entries
//! (XADD, XRANGE, XDEL, XTRIM, XSETID), `groups` the consumer groups.

mod entries;
mod error;
mod groups;
mod id;
mod layout;
mod value;

pub use entries::{AddId, Entry, StreamInfo, Trim, TrimRule};
pub use error::StreamError;
pub use groups::{
    AutoClaimed, ClaimOptions, Claimed, ConsumerInfo, GroupInfo, GroupRead, GroupStart, Pending,
    PendingSummary, ReadGroupStart, StreamFull,
};
pub use id::StreamId;
pub use layout::StreamMeta;
pub use value::{GroupValue, StreamValue};
