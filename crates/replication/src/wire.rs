//! Blocking RESP over a TCP stream, as much as the replication protocol
//! uses: commands out, and in lines, bulk strings and raw byte runs. Reads
//! wake up every `POLL` to check the stop flag, and every wait has a
//! deadline, so a silent peer can never hold a thread forever.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub const POLL: Duration = Duration::from_millis(200);
/// The longest line a peer may send (a checkpoint's file list is one line).
const MAX_LINE: usize = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("stopped")]
    Stopped,
    #[error("the peer was silent for too long")]
    Timeout,
    #[error("the peer closed the connection")]
    Closed,
    #[error("protocol error: {0}")]
    Protocol(String),
}

pub type WireResult<T> = Result<T, WireError>;

/// A connection with its unread input.
pub struct Wire {
    pub stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
}

/// Encodes a command as a RESP array of bulk strings.
pub fn command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

impl Wire {
    pub fn new(stream: TcpStream, unread: &[u8]) -> io::Result<Wire> {
        stream.set_nonblocking(false)?;
        stream.set_read_timeout(Some(POLL))?;
        stream.set_nodelay(true)?;
        Ok(Wire {
            stream,
            buf: unread.to_vec(),
            start: 0,
        })
    }

    pub fn connect(host: &str, port: u16, timeout: Duration) -> WireResult<Wire> {
        use std::net::ToSocketAddrs;
        let mut last = None;
        for addr in (host, port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(s) => return Ok(Wire::new(s, &[])?),
                Err(e) => last = Some(e),
            }
        }
        Err(last
            .unwrap_or_else(|| io::Error::other(format!("cannot resolve {host}")))
            .into())
    }

    pub fn send(&mut self, args: &[&[u8]]) -> WireResult<()> {
        self.stream.write_all(&command(args))?;
        Ok(())
    }

    /// Input read but not consumed yet.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    fn unread(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
    }

    /// Reads more input; `Ok(false)` when the poll interval passed first.
    fn fill(&mut self) -> WireResult<bool> {
        if self.start > 0 && self.start > self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let mut chunk = [0u8; 64 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => Err(WireError::Closed),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(true)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(false)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Waits for input until `timeout` passes without any.
    fn wait(
        &mut self,
        stop: &AtomicBool,
        last_input: &mut Instant,
        timeout: Duration,
    ) -> WireResult<()> {
        loop {
            if stop.load(Ordering::Acquire) {
                return Err(WireError::Stopped);
            }
            if self.fill()? {
                *last_input = Instant::now();
                return Ok(());
            }
            if last_input.elapsed() > timeout {
                return Err(WireError::Timeout);
            }
        }
    }

    /// One CRLF-terminated line, without the CRLF.
    pub fn line(&mut self, stop: &AtomicBool, timeout: Duration) -> WireResult<Vec<u8>> {
        let mut last_input = Instant::now();
        loop {
            if let Some(line) = self.take_line()? {
                return Ok(line);
            }
            self.wait(stop, &mut last_input, timeout)?;
        }
    }

    fn take_line(&mut self) -> WireResult<Option<Vec<u8>>> {
        let unread = self.unread();
        match unread.windows(2).position(|w| w == b"\r\n") {
            Some(end) => {
                let line = unread[..end].to_vec();
                self.consume(end + 2);
                Ok(Some(line))
            }
            None if unread.len() > MAX_LINE => Err(WireError::Protocol("line too long".into())),
            None => Ok(None),
        }
    }

    /// A bulk string (`$<len>\r\n<bytes>\r\n`) if a whole one is buffered.
    pub fn take_bulk(&mut self, max: usize) -> WireResult<Option<Vec<u8>>> {
        let unread = self.unread();
        let Some(end) = unread.windows(2).position(|w| w == b"\r\n") else {
            if unread.len() > 32 {
                return Err(WireError::Protocol("bulk header too long".into()));
            }
            return Ok(None);
        };
        let header = &unread[..end];
        if header.first() != Some(&b'$') {
            return Err(WireError::Protocol(format!(
                "expected a bulk string, got {:?}",
                String::from_utf8_lossy(header)
            )));
        }
        let len: usize = std::str::from_utf8(&header[1..])
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|&n| n <= max)
            .ok_or_else(|| WireError::Protocol("bad bulk length".into()))?;
        let total = end + 2 + len + 2;
        if unread.len() < total {
            return Ok(None);
        }
        if &unread[total - 2..total] != b"\r\n" {
            return Err(WireError::Protocol("bulk string not terminated".into()));
        }
        let data = unread[end + 2..end + 2 + len].to_vec();
        self.consume(total);
        Ok(Some(data))
    }

    /// The next bulk string, waiting up to `timeout` between inputs.
    /// `Ok(None)`: nothing complete arrived within one poll interval.
    pub fn poll_bulk(&mut self, stop: &AtomicBool, max: usize) -> WireResult<Option<Vec<u8>>> {
        if let Some(bulk) = self.take_bulk(max)? {
            return Ok(Some(bulk));
        }
        if stop.load(Ordering::Acquire) {
            return Err(WireError::Stopped);
        }
        if self.fill()? {
            return self.take_bulk(max);
        }
        Ok(None)
    }

    /// Copies exactly `len` bytes of input into `out`, calling `progress`
    /// with each piece's size.
    pub fn copy_exact(
        &mut self,
        len: u64,
        out: &mut impl Write,
        stop: &AtomicBool,
        timeout: Duration,
        mut progress: impl FnMut(u64),
    ) -> WireResult<()> {
        let mut left = len;
        let mut last_input = Instant::now();
        while left > 0 {
            if self.unread().is_empty() {
                self.wait(stop, &mut last_input, timeout)?;
            }
            let take = self.unread().len().min(left as usize);
            out.write_all(&self.unread()[..take])?;
            self.consume(take);
            left -= take as u64;
            progress(take as u64);
        }
        Ok(())
    }
}

/// Whether a reply line is `+OK`.
pub fn is_ok(line: &[u8]) -> bool {
    line == b"+OK"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (Wire, TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (Wire::new(client, &[]).unwrap(), server)
    }

    #[test]
    fn lines_and_bulks_split_across_reads() {
        let (mut wire, mut peer) = pair();
        let stop = AtomicBool::new(false);
        peer.write_all(b"+O").unwrap();
        peer.write_all(b"K\r\n$4\r\nping\r\n$3\r\nab").unwrap();
        assert_eq!(wire.line(&stop, Duration::from_secs(5)).unwrap(), b"+OK");
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while got.is_empty() && Instant::now() < deadline {
            if let Some(b) = wire.poll_bulk(&stop, 100).unwrap() {
                got.push(b);
            }
        }
        assert_eq!(got, vec![b"ping".to_vec()]);
        assert_eq!(wire.take_bulk(100).unwrap(), None);
        peer.write_all(b"c\r\n").unwrap();
        let mut third = None;
        while third.is_none() && Instant::now() < deadline {
            third = wire.poll_bulk(&stop, 100).unwrap();
        }
        assert_eq!(third, Some(b"abc".to_vec()));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let (mut wire, mut peer) = pair();
        let stop = AtomicBool::new(false);
        peer.write_all(b"*3\r\n").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let err = loop {
            match wire.poll_bulk(&stop, 100) {
                Ok(None) if Instant::now() < deadline => continue,
                other => break other,
            }
        };
        assert!(matches!(err, Err(WireError::Protocol(_))), "{err:?}");
        let (mut wire, mut peer) = pair();
        peer.write_all(b"$999\r\n").unwrap();
        let err = loop {
            match wire.poll_bulk(&stop, 100) {
                Ok(None) if Instant::now() < deadline => continue,
                other => break other,
            }
        };
        assert!(matches!(err, Err(WireError::Protocol(_))), "{err:?}");
    }

    #[test]
    fn a_silent_peer_times_out_and_stop_is_seen() {
        let (mut wire, _peer) = pair();
        let stop = AtomicBool::new(false);
        let err = wire.line(&stop, Duration::from_millis(300)).unwrap_err();
        assert!(matches!(err, WireError::Timeout));
        stop.store(true, Ordering::Release);
        let err = wire.line(&stop, Duration::from_secs(60)).unwrap_err();
        assert!(matches!(err, WireError::Stopped));
    }
}
