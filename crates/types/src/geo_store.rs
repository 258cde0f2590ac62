//! GEORADIUS STORE and GEOSEARCHSTORE: a search whose results replace the
//! destination key, read and written under both keys' locks so no writer
//! slips in between.

use crate::database::Database;
use crate::error::Result;
use crate::zset::ScoredMember;
use basalt_engine::WriteBatch;

impl Database {
    /// Runs `search` on `src`, then stores what it returns in `dst` as a
    /// new sorted set (none deletes `dst`). Returns how many were stored.
    pub fn geo_search_store<F>(&self, dst: &[u8], src: &[u8], search: F) -> Result<u64>
    where
        F: FnOnce(&Database) -> Result<Vec<ScoredMember>>,
    {
        let _guard = self.storage().locks().lock_many(&[dst, src]);
        let items = search(self)?;
        let mut batch = WriteBatch::default();
        self.put_new_zset(&mut batch, dst, &items, 0);
        self.storage().write(batch)?;
        Ok(items.len() as u64)
    }
}
