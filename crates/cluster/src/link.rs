//! The migration's connection to the destination: RESP commands over a
//! blocking TCP stream, one reply read per command (the replies it expects
//! are simple strings, errors and integers).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long a connect, a send or a reply may take before the destination
/// counts as dead.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Option<Vec<u8>>),
}

pub(crate) struct Link {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

fn io(what: &str, e: std::io::Error) -> String {
    format!("{what}: {e}")
}

impl Link {
    pub(crate) fn connect(host: &str, port: u16) -> Result<Link, String> {
        let addr = (host, port)
            .to_socket_addrs()
            .map_err(|e| io("resolve the destination", e))?
            .next()
            .ok_or_else(|| format!("no address for {host}:{port}"))?;
        let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)
            .map_err(|e| io("connect to the destination", e))?;
        stream
            .set_read_timeout(Some(IO_TIMEOUT))
            .and_then(|_| stream.set_write_timeout(Some(IO_TIMEOUT)))
            .and_then(|_| stream.set_nodelay(true))
            .map_err(|e| io("set up the connection", e))?;
        let reader = BufReader::new(stream.try_clone().map_err(|e| io("clone", e))?);
        Ok(Link {
            writer: stream,
            reader,
        })
    }

    /// Sends one command and reads its reply.
    pub(crate) fn call(&mut self, args: &[&[u8]]) -> Result<Answer, String> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.writer
            .write_all(&out)
            .map_err(|e| io("send to the destination", e))?;
        self.read_answer()
    }

    /// `call`, where anything but `+OK` or an integer is a failure.
    pub(crate) fn expect_ok(&mut self, args: &[&[u8]]) -> Result<(), String> {
        match self.call(args)? {
            Answer::Simple(_) | Answer::Integer(_) => Ok(()),
            Answer::Error(e) => Err(format!("the destination answered: {e}")),
            other => Err(format!("the destination answered {other:?}")),
        }
    }

    fn line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        let n = self
            .reader
            .read_line(&mut line)
            .map_err(|e| io("read from the destination", e))?;
        if n == 0 {
            return Err("the destination closed the connection".into());
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }

    fn read_answer(&mut self) -> Result<Answer, String> {
        let line = self.line()?;
        let (kind, rest) = line.split_at(line.len().min(1));
        let int = || {
            rest.parse::<i64>()
                .map_err(|_| format!("bad reply from the destination: {line}"))
        };
        match kind {
            "+" => Ok(Answer::Simple(rest.to_string())),
            "-" => Ok(Answer::Error(rest.to_string())),
            ":" => Ok(Answer::Integer(int()?)),
            "$" => {
                let len = int()?;
                if len < 0 {
                    return Ok(Answer::Bulk(None));
                }
                let mut data = vec![0; len as usize + 2];
                self.reader
                    .read_exact(&mut data)
                    .map_err(|e| io("read from the destination", e))?;
                data.truncate(len as usize);
                Ok(Answer::Bulk(Some(data)))
            }
            _ => Err(format!("unexpected reply from the destination: {line}")),
        }
    }
}
