//! Number parsing and formatting with Redis's exact rules, so that replies and
//! errors match what clients see from Redis (`string2ll`, `string2ld`).

/// Redis's `string2ll`: optional '-', no '+', no leading zeros, no spaces.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let first = *digits.first()?;
    if !(b'1'..=b'9').contains(&first) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((d - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

pub fn parse_u64(s: &[u8]) -> Option<u64> {
    let v = parse_i64(s)?;
    u64::try_from(v).ok()
}

/// Redis's `string2ld`/`strtold` acceptance: no leading space, whole input
/// consumed, NaN rejected. "inf" and "-inf" parse (callers reject them where
/// Redis does).
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s.len() > 5120 {
        return None;
    }
    if s[0].is_ascii_whitespace() || s[s.len() - 1].is_ascii_whitespace() {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    let v: f64 = match text.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => {
            // Rust's parser accepts forms strtold does not ("1_0" no, but
            // "nan" yes): reject nan explicitly, accept hex not at all.
            let v: f64 = text.parse().ok()?;
            v
        }
    };
    if v.is_nan() {
        return None;
    }
    Some(v)
}

/// How INCRBYFLOAT prints an f64 result: fixed notation, shortest digits
/// that round-trip, no trailing zeros (Redis's LD_STR_HUMAN mode).
pub fn format_human_f64(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    format!("{v}")
}

/// INCRBYFLOAT's sum, printed as Redis prints it. Redis adds in long double
/// and prints 17 significant digits, so `0.1 + 0.2` is "0.3", not f64's
/// "0.30000000000000004". Exact decimal addition rounded to 17 significant
/// digits gives the same text; operands outside what a 96-bit decimal
/// holds fall back to f64. Returns `None` when the sum is not finite.
pub fn add_human(current: &[u8], delta: &[u8]) -> Option<String> {
    let (a, b) = (parse_f64(current)?, parse_f64(delta)?);
    let sum = a + b;
    if !sum.is_finite() {
        return None;
    }
    if let (Some(x), Some(y)) = (parse_decimal(current), parse_decimal(delta)) {
        if let Some(exact) = x.checked_add(y) {
            if let Some(rounded) = exact.round_sf(17) {
                let text = rounded.normalize().to_string();
                return Some(if text == "-0" { "0".into() } else { text });
            }
        }
    }
    Some(format_human_f64(sum))
}

fn parse_decimal(s: &[u8]) -> Option<rust_decimal::Decimal> {
    use rust_decimal::Decimal;
    let text = std::str::from_utf8(s).ok()?;
    if text.contains(['e', 'E']) {
        Decimal::from_scientific(text).ok()
    } else {
        text.parse::<Decimal>().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_follow_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"+1",
            b"01",
            b"-0",
            b" 1",
            b"1 ",
            b"1.0",
            b"9223372036854775808",
            b"abc",
            b"-",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn floats() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"5.0e3"), Some(5000.0));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b""), None);
        assert_eq!(format_human_f64(5200.0), "5200");
        assert_eq!(format_human_f64(10.5 + 0.1), "10.6");
        assert_eq!(format_human_f64(1e20), "100000000000000000000");
        assert_eq!(format_human_f64(-0.0), "0");
        assert_eq!(add_human(b"0.1", b"0.2").unwrap(), "0.3");
        assert_eq!(add_human(b"10.50", b"0.1").unwrap(), "10.6");
        assert_eq!(add_human(b"5.0e3", b"2.0e2").unwrap(), "5200");
        assert_eq!(add_human(b"1", b"-1").unwrap(), "0");
        assert_eq!(add_human(b"1e300", b"1e300").unwrap().len(), 301);
        assert_eq!(add_human(b"1.7e308", b"1.7e308"), None);
    }
}
