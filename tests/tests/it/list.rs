//! list integration tests.
