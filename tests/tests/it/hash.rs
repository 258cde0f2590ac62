//! hash integration tests.
