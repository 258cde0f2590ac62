//! The RESP wire format, as spoken by Redis 7.2.
//!
//! This crate owns the bytes on the socket and nothing else: it turns the
//! client's byte stream into requests (lists of binary-safe arguments) and
//! turns [`Reply`] values into RESP2 or RESP3 bytes. It knows no command
//! names, no arity and no data types; those belong to the server.
//!
//! - [`RequestParser`] reads requests incrementally from a read buffer,
//!   both the multibulk form (`*N\r\n$len\r\n...`) and the inline form
//!   (`SET k v\n`), with Redis's limits and its exact protocol error texts
//!   ([`ProtocolError`]). Multibulk arguments are zero-copy slices of the
//!   read buffer.
//! - [`Reply`] is a reply tree; [`Reply::encode`] writes it for either
//!   [`Protocol`] version, downgrading RESP3-only types the way Redis does
//!   for a RESP2 client.
//! - [`format_double`] is Redis 7.2's text for a double, shared by RESP3
//!   doubles and RESP2 bulk replies.
//!
//! Where Redis's behaviour is an accident of its C implementation (a NUL
//! byte hiding the rest of a header line from `strchr`, the byte after a
//! header's `\r` never being checked to be `\n`), this crate reproduces it,
//! so a client sees the same thing from Basalt as from Redis.

mod double;
mod encode;
mod error;
mod inline;
mod number;
mod reply;
mod request;

pub use double::format_double;
pub use error::ProtocolError;
pub use inline::split_args;
pub use reply::{Protocol, Reply};
pub use request::{Limits, RequestParser};
