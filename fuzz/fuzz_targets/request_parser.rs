//! Fuzzes `RequestParser` with arbitrary bytes arriving in two reads.
//!
//! Run from `fuzz/` (needs a nightly toolchain and `cargo install cargo-fuzz`):
//!
//! ```sh
//! cargo +nightly fuzz run request_parser
//! ```
//!
//! Without cargo-fuzz, the same build by hand:
//!
//! ```sh
//! RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module \
//!   -Cllvm-args=-sanitizer-coverage-level=4 \
//!   -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
//!   -Cllvm-args=-sanitizer-coverage-pc-table \
//!   -Cllvm-args=-sanitizer-coverage-trace-compares -Zsanitizer=address" \
//!   cargo +nightly build --release --target x86_64-unknown-linux-gnu
//! mkdir -p corpus/request_parser
//! target/x86_64-unknown-linux-gnu/release/request_parser corpus/request_parser -max_total_time=300
//! ```
//!
//! The first input byte picks where the data is cut in two, with its top
//! bit tiny limits instead of Redis's defaults, and with the next bit the
//! caps for a client that has not authenticated. Besides not panicking,
//! the parser must give the same requests and error whether the bytes come
//! in one read or two, as long as the cut cannot change which size limit
//! is hit.

#![no_main]

use basalt_resp::{Limits, ProtocolError, RequestParser};
use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;

type Outcome = (Vec<Vec<Bytes>>, Option<ProtocolError>);

fn run(chunks: &[&[u8]], limits: &Limits, auth_required: bool) -> Outcome {
    let mut parser = RequestParser::new();
    parser.set_auth_required(auth_required);
    let mut buf = BytesMut::new();
    let mut requests = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match parser.parse(&mut buf, limits) {
                Ok(Some(args)) => {
                    assert!(!args.is_empty(), "empty requests are skipped");
                    requests.push(args);
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = e.to_reply();
                    return (requests, Some(e));
                }
            }
        }
    }
    (requests, None)
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let limits = if control & 0x80 != 0 {
        Limits {
            max_bulk_len: 16,
            max_multibulk_len: 4,
            max_inline_len: 16,
        }
    } else {
        Limits::default()
    };
    let auth_required = control & 0x40 != 0;
    let cut = usize::from(control & 0x3f) * input.len() / 0x3f;
    let (first, second) = input.split_at(cut.min(input.len()));

    let split = run(&[first, second], &limits, auth_required);
    if input.len() <= limits.max_inline_len {
        let whole = run(&[input], &limits, auth_required);
        assert_eq!(split, whole, "outcome depends on how the bytes were read");
    }
});
