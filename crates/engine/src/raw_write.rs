//! A write that tells which sequence RocksDB gave the batch, for the
//! replication backlog (`backlog.rs`).
//!
//! RocksDB stores a batch's sequence in the batch's header when it writes
//! it, but the rocksdb crate's `write_opt` consumes the batch, and with
//! concurrent writers `latest_sequence_number()` after the write may
//! already count someone else's. So this goes through RocksDB's C API:
//! write a C batch we own, then read its header.

use crate::error::EngineError;
use librocksdb_sys as ffi;
use rocksdb::AsRawPtr;
use std::ffi::{c_char, c_void, CStr};
use std::sync::Arc;

/// RocksDB's write options as the C API holds them (the same settings as
/// the rocksdb crate's `WriteOptions::default()`, plus `sync`).
pub(crate) struct RawWriteOptions(*mut ffi::rocksdb_writeoptions_t);

// SAFETY: RocksDB's WriteOptions is a plain struct, read (never changed)
// by concurrent writes once made.
unsafe impl Send for RawWriteOptions {}
unsafe impl Sync for RawWriteOptions {}

impl RawWriteOptions {
    pub(crate) fn new(sync: bool) -> RawWriteOptions {
        // SAFETY: creates a fresh object that this value owns.
        unsafe {
            let opts = ffi::rocksdb_writeoptions_create();
            ffi::rocksdb_writeoptions_set_sync(opts, u8::from(sync));
            RawWriteOptions(opts)
        }
    }
}

impl Drop for RawWriteOptions {
    fn drop(&mut self) {
        // SAFETY: made by `new`, destroyed once.
        unsafe { ffi::rocksdb_writeoptions_destroy(self.0) }
    }
}

/// A batch after its write: its bytes, with the sequence RocksDB gave it.
pub(crate) struct Written {
    pub sequence: u64,
    pub count: u64,
    pub data: Arc<[u8]>,
}

/// Writes `data` (a WriteBatch representation) and returns it as written.
pub(crate) fn write(
    db: &rocksdb::DB,
    opts: &RawWriteOptions,
    data: &[u8],
) -> Result<Written, EngineError> {
    // SAFETY: the DB outlives the call (borrowed); the batch is created,
    // written and destroyed here; RocksDB's error string is copied, then
    // freed with RocksDB's allocator; the batch's bytes are copied out
    // before it is destroyed.
    unsafe {
        let batch = ffi::rocksdb_writebatch_create_from(data.as_ptr() as *const c_char, data.len());
        let mut err: *mut c_char = std::ptr::null_mut();
        ffi::rocksdb_write(db.as_raw_ptr(), opts.0, batch, &mut err);
        if !err.is_null() {
            let message = CStr::from_ptr(err).to_string_lossy().into_owned();
            ffi::rocksdb_free(err as *mut c_void);
            ffi::rocksdb_writebatch_destroy(batch);
            return Err(EngineError::Write(message));
        }
        let mut len = 0usize;
        let ptr = ffi::rocksdb_writebatch_data(batch, &mut len);
        let written: Arc<[u8]> = std::slice::from_raw_parts(ptr as *const u8, len).into();
        ffi::rocksdb_writebatch_destroy(batch);
        let header = |at: usize, n: usize| {
            let mut b = [0u8; 8];
            b[..n].copy_from_slice(&written[at..at + n]);
            u64::from_le_bytes(b)
        };
        let (sequence, count) = if written.len() >= 12 {
            (header(0, 8), header(8, 4))
        } else {
            (0, 0)
        };
        Ok(Written {
            sequence,
            count,
            data: written,
        })
    }
}
