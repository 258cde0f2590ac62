//! Property tests: the parser against generated streams, the encoder against
//! an independent decoder.

use std::borrow::Cow;

use basalt_resp::{format_double, Limits, Protocol, Reply, RequestParser};
use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

fn encode_multibulk(args: &[Vec<u8>], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Quotes every argument, escaping all but plain printable bytes as `\xHH`.
fn encode_inline(args: &[Vec<u8>], out: &mut Vec<u8>) {
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.push(b'"');
        for &b in a {
            if b.is_ascii_graphic() && b != b'"' && b != b'\\' || b == b' ' {
                out.push(b);
            } else {
                out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
            }
        }
        out.push(b'"');
    }
    out.extend_from_slice(b"\r\n");
}

/// Cuts `input` at the given (unsorted, possibly repeated) points.
fn chunks(input: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    points.push(0);
    points.push(input.len());
    points.sort_unstable();
    points.dedup();
    points
        .windows(2)
        .map(|w| input[w[0]..w[1]].to_vec())
        .collect()
}

/// Feeds the chunks one by one, draining complete requests after each.
fn feed(
    parts: &[Vec<u8>],
    limits: &Limits,
) -> (
    Vec<Vec<Bytes>>,
    Option<basalt_resp::ProtocolError>,
    BytesMut,
) {
    let mut parser = RequestParser::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for part in parts {
        buf.extend_from_slice(part);
        loop {
            match parser.parse(&mut buf, limits) {
                Ok(Some(req)) => out.push(req),
                Ok(None) => break,
                Err(e) => return (out, Some(e), buf),
            }
        }
    }
    (out, None, buf)
}

fn arg() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => prop::collection::vec(any::<u8>(), 0..24),
        1 => prop::collection::vec(any::<u8>(), 0..3000),
        1 => prop::collection::vec(prop::sample::select(b"\r\n*$\0 \"'\\".to_vec()), 0..8),
    ]
}

fn request() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(arg(), 1..6)
}

/// Bytes that look like RESP often enough to reach deep parser states.
fn resp_like() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(b"*".to_vec()),
        Just(b"$".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"-1".to_vec()),
        Just(b"0".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"'".to_vec()),
        Just(b"\\x4".to_vec()),
        Just(b"\\".to_vec()),
        Just(b" ".to_vec()),
        Just(b"99999999999999999999".to_vec()),
        (0u32..40).prop_map(|n| n.to_string().into_bytes()),
        prop::collection::vec(any::<u8>(), 1..6),
    ];
    prop::collection::vec(token, 0..60).prop_map(|t| t.concat())
}

fn limits() -> impl Strategy<Value = Limits> {
    prop_oneof![
        Just(Limits::default()),
        (0usize..40, 0usize..8, 0usize..40).prop_map(|(b, m, i)| Limits {
            max_bulk_len: b,
            max_multibulk_len: m,
            max_inline_len: i,
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn multibulk_round_trip(
        reqs in prop::collection::vec(request(), 1..6),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
        noise in prop::collection::vec(0u8..4, 6),
    ) {
        let mut input = Vec::new();
        for (i, r) in reqs.iter().enumerate() {
            // Requests Redis skips, between real ones.
            match noise[i % noise.len()] {
                1 => input.extend_from_slice(b"*0\r\n"),
                2 => input.extend_from_slice(b"*-1\r\n"),
                3 => input.extend_from_slice(b"\r\n"),
                _ => {}
            }
            encode_multibulk(r, &mut input);
        }
        let (got, err, rest) = feed(&chunks(&input, &cuts), &Limits::default());
        prop_assert_eq!(err, None);
        prop_assert!(rest.is_empty());
        let want: Vec<Vec<Bytes>> = reqs
            .iter()
            .map(|r| r.iter().map(|a| Bytes::copy_from_slice(a)).collect())
            .collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn inline_round_trip(
        reqs in prop::collection::vec(prop::collection::vec(prop::collection::vec(any::<u8>(), 0..12), 1..5), 1..5),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut input = Vec::new();
        for r in &reqs {
            encode_inline(r, &mut input);
        }
        let (got, err, rest) = feed(&chunks(&input, &cuts), &Limits::default());
        prop_assert_eq!(err, None);
        prop_assert!(rest.is_empty());
        let want: Vec<Vec<Bytes>> = reqs
            .iter()
            .map(|r| r.iter().map(|a| Bytes::copy_from_slice(a)).collect())
            .collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn chunking_does_not_change_the_outcome(
        input in resp_like(),
        cuts in prop::collection::vec(any::<usize>(), 0..10),
    ) {
        let whole = feed(std::slice::from_ref(&input), &Limits::default());
        let split = feed(&chunks(&input, &cuts), &Limits::default());
        prop_assert_eq!(whole.0, split.0);
        prop_assert_eq!(whole.1, split.1);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        input in prop_oneof![prop::collection::vec(any::<u8>(), 0..512), resp_like()],
        cuts in prop::collection::vec(any::<usize>(), 0..10),
        limits in limits(),
    ) {
        let (reqs, _, rest) = feed(&chunks(&input, &cuts), &limits);
        let produced: usize = reqs.iter().flatten().map(Bytes::len).sum();
        prop_assert!(produced + rest.len() <= input.len());
    }
}

/// A RESP3 (and so RESP2) reader written for the test, independent of the
/// encoder. Returns the reply and the bytes it used.
fn decode(input: &[u8]) -> Option<(Reply, usize)> {
    let line_end = input.windows(2).position(|w| w == b"\r\n")?;
    let (&kind, line) = input[..line_end].split_first()?;
    let text = std::str::from_utf8(line).ok()?;
    let mut used = line_end + 2;
    let items = |n: usize, used: &mut usize| -> Option<Vec<Reply>> {
        let mut v = Vec::new();
        for _ in 0..n {
            let (r, u) = decode(&input[*used..])?;
            *used += u;
            v.push(r);
        }
        Some(v)
    };
    let reply = match kind {
        b'+' => Reply::Simple(Cow::Owned(text.to_owned())),
        b'-' => Reply::Error(Cow::Owned(text.to_owned())),
        b':' => Reply::Integer(text.parse().ok()?),
        b'_' => Reply::Null,
        b'#' => Reply::Bool(match text {
            "t" => true,
            "f" => false,
            _ => return None,
        }),
        b',' => Reply::Double(text.parse().ok()?),
        b'$' | b'=' => {
            let n: i64 = text.parse().ok()?;
            if n == -1 && kind == b'$' {
                Reply::Null
            } else {
                let n = usize::try_from(n).ok()?;
                let data = input.get(used..used + n)?;
                if input.get(used + n..used + n + 2)? != b"\r\n" {
                    return None;
                }
                used += n + 2;
                if kind == b'$' {
                    Reply::Bulk(Bytes::copy_from_slice(data))
                } else {
                    let fmt = std::str::from_utf8(data.get(..3)?).ok()?.to_owned();
                    if data.get(3) != Some(&b':') {
                        return None;
                    }
                    Reply::Verbatim(Cow::Owned(fmt), Bytes::copy_from_slice(&data[4..]))
                }
            }
        }
        b'*' if text == "-1" => Reply::NullArray,
        b'*' | b'~' | b'>' | b'%' => {
            let n: usize = text.parse().ok()?;
            match kind {
                b'*' => Reply::Array(items(n, &mut used)?),
                b'~' => Reply::Set(items(n, &mut used)?),
                b'>' => Reply::Push(items(n, &mut used)?),
                _ => {
                    let flat = items(n * 2, &mut used)?;
                    let mut pairs = Vec::new();
                    let mut it = flat.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        pairs.push((k, v));
                    }
                    Reply::Map(pairs)
                }
            }
        }
        _ => return None,
    };
    Some((reply, used))
}

/// What a RESP3 client reads back: both nulls are `_`.
fn as_resp3(r: &Reply) -> Reply {
    match r {
        Reply::NullArray => Reply::Null,
        Reply::Array(v) => Reply::Array(v.iter().map(as_resp3).collect()),
        Reply::Set(v) => Reply::Set(v.iter().map(as_resp3).collect()),
        Reply::Push(v) => Reply::Push(v.iter().map(as_resp3).collect()),
        Reply::Map(v) => Reply::Map(v.iter().map(|(k, v)| (as_resp3(k), as_resp3(v))).collect()),
        other => other.clone(),
    }
}

/// What a RESP2 client reads back: Redis's downgrade of each RESP3 type.
fn as_resp2(r: &Reply) -> Reply {
    match r {
        Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => {
            Reply::Array(v.iter().map(as_resp2).collect())
        }
        Reply::Map(v) => Reply::Array(
            v.iter()
                .flat_map(|(k, v)| [as_resp2(k), as_resp2(v)])
                .collect(),
        ),
        Reply::Double(d) => {
            let mut text = Vec::new();
            format_double(*d, &mut text);
            Reply::Bulk(Bytes::from(text))
        }
        Reply::Bool(b) => Reply::Integer(i64::from(*b)),
        Reply::Verbatim(_, text) => Reply::Bulk(text.clone()),
        other => other.clone(),
    }
}

fn reply() -> impl Strategy<Value = Reply> {
    let leaf = prop_oneof![
        "[ -~]{0,16}".prop_map(|s| Reply::Simple(Cow::Owned(s))),
        "[A-Z]{1,9} [ -~]{0,16}".prop_map(|s| Reply::Error(Cow::Owned(s))),
        any::<i64>().prop_map(Reply::Integer),
        prop::collection::vec(any::<u8>(), 0..32).prop_map(|b| Reply::Bulk(Bytes::from(b))),
        Just(Reply::Null),
        Just(Reply::NullArray),
        any::<f64>()
            .prop_filter("NaN is not equal to itself", |d| !d.is_nan())
            .prop_map(Reply::Double),
        any::<bool>().prop_map(Reply::Bool),
        ("[a-z]{3}", prop::collection::vec(any::<u8>(), 0..32))
            .prop_map(|(f, t)| Reply::Verbatim(Cow::Owned(f), Bytes::from(t))),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Reply::Array),
            prop::collection::vec(inner.clone(), 0..6).prop_map(Reply::Set),
            prop::collection::vec(inner.clone(), 0..6).prop_map(Reply::Push),
            prop::collection::vec((inner.clone(), inner), 0..4).prop_map(Reply::Map),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn resp3_encoding_decodes_back(r in reply()) {
        let mut out = BytesMut::new();
        r.encode(Protocol::Resp3, &mut out);
        let (back, used) = decode(&out).expect("valid RESP3");
        prop_assert_eq!(used, out.len());
        prop_assert_eq!(back, as_resp3(&r));
    }

    #[test]
    fn resp2_encoding_decodes_back(r in reply()) {
        let mut out = BytesMut::new();
        r.encode(Protocol::Resp2, &mut out);
        let (back, used) = decode(&out).expect("valid RESP2");
        prop_assert_eq!(used, out.len());
        prop_assert_eq!(back, as_resp2(&r));
        // A RESP2 client never sees a RESP3-only type.
        prop_assert!(is_resp2_only(&out));
    }

    #[test]
    fn doubles_read_back_exactly(bits in any::<u64>()) {
        let v = f64::from_bits(bits);
        let mut text = Vec::new();
        format_double(v, &mut text);
        let text = String::from_utf8(text).unwrap();
        let back: f64 = text.parse().unwrap();
        if v.is_nan() {
            prop_assert!(back.is_nan());
        } else {
            prop_assert_eq!(back, v, "{}", text);
        }
    }
}

/// True when `out` is one reply built only from RESP2 types.
fn is_resp2_only(out: &[u8]) -> bool {
    fn walk(input: &[u8]) -> Option<usize> {
        let line_end = input.windows(2).position(|w| w == b"\r\n")?;
        let (&kind, line) = input[..line_end].split_first()?;
        let text = std::str::from_utf8(line).ok()?;
        let mut used = line_end + 2;
        match kind {
            b'+' | b'-' | b':' => Some(used),
            b'$' => {
                let n: i64 = text.parse().ok()?;
                if n >= 0 {
                    used += usize::try_from(n).ok()? + 2;
                }
                Some(used)
            }
            b'*' => {
                let n: i64 = text.parse().ok()?;
                for _ in 0..n.max(0) {
                    used += walk(&input[used..])?;
                }
                Some(used)
            }
            _ => None,
        }
    }
    walk(out) == Some(out.len())
}
