//! Sets: one subkey per member in the default column family, empty value.
