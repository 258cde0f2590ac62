//! Hashes: one subkey per field in the default column family, value = field value.
