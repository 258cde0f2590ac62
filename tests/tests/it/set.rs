//! set integration tests.
