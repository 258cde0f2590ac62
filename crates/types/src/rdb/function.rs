//! FUNCTION DUMP / RESTORE payloads: `(0xF5 rdb-string(library code))*`
//! and the common footer, as Redis writes them.

use super::reader::Reader;
use super::{open, seal, writer, Error, WRITE_VERSION};

/// RDB_OPCODE_FUNCTION2.
const OPCODE_FUNCTION: u8 = 245;

/// A payload holding the libraries' code.
pub fn dump<'a>(libraries: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for code in libraries {
        out.push(OPCODE_FUNCTION);
        writer::string(code, &mut out);
    }
    seal(out, WRITE_VERSION)
}

/// The library codes in a payload.
pub fn restore(payload: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    let mut r = Reader::new(open(payload)?);
    let mut libraries = Vec::new();
    while !r.is_empty() {
        if r.u8()? != OPCODE_FUNCTION {
            return Err(Error::NotAFunction);
        }
        libraries.push(r.string()?);
    }
    Ok(libraries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restores_a_redis_7_dump() {
        // FUNCTION DUMP from redis-server 7.0.15 (RDB version 10).
        let code = "#!lua name=a\nredis.register_function('f', function() return 1 end)";
        let mut payload = vec![0xf5, 0x40, 0x42];
        payload.extend_from_slice(code.as_bytes());
        payload.extend_from_slice(&[0x0a, 0x00, 0xe3, 0xd1, 0xb9, 0x83, 0x19, 0xf4, 0xe3, 0x84]);
        assert_eq!(restore(&payload).unwrap(), vec![code.as_bytes().to_vec()]);
        let mut bad = payload.clone();
        bad[5] ^= 1;
        assert_eq!(restore(&bad), Err(Error::Payload));
    }

    #[test]
    fn round_trip() {
        let long = "x".repeat(20000);
        let libs = [b"#!lua name=a\n".as_slice(), long.as_bytes()];
        let payload = dump(libs);
        assert_eq!(
            restore(&payload).unwrap(),
            libs.iter().map(|l| l.to_vec()).collect::<Vec<_>>()
        );
        assert_eq!(restore(&dump([])).unwrap(), Vec::<Vec<u8>>::new());
        assert_eq!(
            restore(&super::super::dump(&crate::value::Value::String(
                b"x".to_vec()
            ))),
            Err(Error::NotAFunction)
        );
    }
}
