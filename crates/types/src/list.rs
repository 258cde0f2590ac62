//! Lists: u64 index subkeys in the default column family; head/tail in the metadata trailer.
