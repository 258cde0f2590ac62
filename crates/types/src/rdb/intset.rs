//! Intset, the encoding of small all-integer sets:
//! `encoding u32 LE (2, 4 or 8) | length u32 LE | sorted integers LE`.

use super::Error;

/// The members of an intset, in decimal. Empty, unsorted or duplicated
/// contents are corrupt, as in Redis's deep sanitization.
pub fn members(is: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    let header = is.get(..8).ok_or(Error::BadData)?;
    let width = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let count = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
    if !matches!(width, 2 | 4 | 8) || count == 0 || count.checked_mul(width) != Some(is.len() - 8) {
        return Err(Error::BadData);
    }
    let mut out = Vec::with_capacity(count);
    let mut prev = None;
    for raw in is[8..].chunks_exact(width) {
        let v = match width {
            2 => i64::from(i16::from_le_bytes([raw[0], raw[1]])),
            4 => i64::from(i32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]])),
            _ => i64::from_le_bytes(raw.try_into().map_err(|_| Error::BadData)?),
        };
        if prev.is_some_and(|p| v <= p) {
            return Err(Error::BadData);
        }
        prev = Some(v);
        out.push(v.to_string().into_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intset(width: u32, values: &[i64]) -> Vec<u8> {
        let mut out = width.to_le_bytes().to_vec();
        out.extend_from_slice(&(values.len() as u32).to_le_bytes());
        for v in values {
            out.extend_from_slice(&v.to_le_bytes()[..width as usize]);
        }
        out
    }

    #[test]
    fn widths_and_validation() {
        assert_eq!(
            members(&intset(2, &[-3, 7])).unwrap(),
            vec![b"-3".to_vec(), b"7".to_vec()]
        );
        assert_eq!(
            members(&intset(4, &[70000])).unwrap(),
            vec![b"70000".to_vec()]
        );
        assert_eq!(
            members(&intset(8, &[i64::MIN, 5_000_000_000])).unwrap(),
            vec![i64::MIN.to_string().into_bytes(), b"5000000000".to_vec()]
        );
        assert_eq!(members(&intset(2, &[7, 7])), Err(Error::BadData));
        assert_eq!(members(&intset(2, &[8, 7])), Err(Error::BadData));
        assert_eq!(members(&intset(2, &[])), Err(Error::BadData));
        assert_eq!(members(&intset(3, &[1])), Err(Error::BadData));
        let mut short = intset(4, &[1, 2]);
        short.pop();
        assert_eq!(members(&short), Err(Error::BadData));
    }
}
