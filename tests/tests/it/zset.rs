//! zset integration tests.
