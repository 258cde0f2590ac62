//! Load generators for benchmark rows that `redis-benchmark` cannot drive,
//! run by `bench/run.sh` against Basalt and Redis alike:
//!
//!   basalt-bench multi   --port P [--clients 50] [--requests N] [--pipeline 1]
//!   basalt-bench publish --port P [--subscribers 100] [--publishers 4]
//!                        [--requests N] [--pipeline 1] [--size 100]
//!
//! `multi` sends MULTI / SET / SET / GET / EXEC and checks every reply byte
//! for byte; it prints transactions per second. `publish` subscribes N
//! connections to one channel and publishes to it; it prints messages
//! delivered per second (publishes × subscribers). Replies have a fixed
//! shape, so clients compare or count bytes instead of parsing RESP: the
//! client side must stay far cheaper than the server it measures.
//!
//! The output is one CSV line, `"label","rps"`, like `redis-benchmark --csv`.

use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Opts {
    port: u16,
    clients: usize,
    requests: usize,
    pipeline: usize,
    subscribers: usize,
    publishers: usize,
    size: usize,
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        port: 6379,
        clients: 50,
        requests: 100_000,
        pipeline: 1,
        subscribers: 100,
        publishers: 4,
        size: 100,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let n: usize = value
            .parse()
            .map_err(|_| format!("{flag}: bad number {value}"))?;
        match flag.as_str() {
            "--port" => o.port = u16::try_from(n).map_err(|_| "bad port")?,
            "--clients" => o.clients = n.max(1),
            "--requests" => o.requests = n.max(1),
            "--pipeline" => o.pipeline = n.max(1),
            "--subscribers" => o.subscribers = n.max(1),
            "--publishers" => o.publishers = n.max(1),
            "--size" => o.size = n,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(o)
}

fn resp(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

async fn connect(port: u16) -> std::io::Result<TcpStream> {
    let s = TcpStream::connect(("127.0.0.1", port)).await?;
    s.set_nodelay(true)?;
    Ok(s)
}

/// One client's share of the transactions.
async fn multi_client(o: &Opts, id: usize, count: usize) -> std::io::Result<()> {
    let mut s = connect(o.port).await?;
    let value = vec![b'v'; o.size];
    let (k1, k2) = (format!("txn:{id}:a"), format!("txn:{id}:b"));
    let mut one = Vec::new();
    one.extend(resp(&[b"MULTI"]));
    one.extend(resp(&[b"SET", k1.as_bytes(), &value]));
    one.extend(resp(&[b"SET", k2.as_bytes(), &value]));
    one.extend(resp(&[b"GET", k1.as_bytes()]));
    one.extend(resp(&[b"EXEC"]));
    let mut expect = b"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n+OK\r\n".to_vec();
    expect.extend(format!("${}\r\n", o.size).as_bytes());
    expect.extend(&value);
    expect.extend(b"\r\n");
    let mut done = 0;
    let mut buf = Vec::new();
    while done < count {
        let batch = o.pipeline.min(count - done);
        s.write_all(&one.repeat(batch)).await?;
        buf.resize(expect.len() * batch, 0);
        s.read_exact(&mut buf).await?;
        for chunk in buf.chunks(expect.len()) {
            if chunk != expect.as_slice() {
                return Err(std::io::Error::other(format!(
                    "unexpected reply: {:?}",
                    String::from_utf8_lossy(chunk)
                )));
            }
        }
        done += batch;
    }
    Ok(())
}

async fn multi(o: Opts) -> Result<f64, String> {
    let o = std::sync::Arc::new(o);
    let per = o.requests.div_ceil(o.clients);
    let started = Instant::now();
    let tasks: Vec<_> = (0..o.clients)
        .map(|id| {
            let o = o.clone();
            tokio::spawn(async move { multi_client(&o, id, per).await })
        })
        .collect();
    for t in tasks {
        t.await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    }
    Ok((per * o.clients) as f64 / started.elapsed().as_secs_f64())
}

async fn publish(o: Opts) -> Result<f64, String> {
    const CHANNEL: &[u8] = b"bench:channel";
    let payload = vec![b'm'; o.size];
    let message_len = format!(
        "*3\r\n$7\r\nmessage\r\n${}\r\n{}\r\n${}\r\n",
        CHANNEL.len(),
        String::from_utf8_lossy(CHANNEL),
        o.size
    )
    .len()
        + o.size
        + 2;
    let confirm = format!(
        "*3\r\n$9\r\nsubscribe\r\n${}\r\n{}\r\n:1\r\n",
        CHANNEL.len(),
        String::from_utf8_lossy(CHANNEL)
    );
    let per = o.requests.div_ceil(o.publishers);
    let total = per * o.publishers;
    let mut subscribers = Vec::new();
    for _ in 0..o.subscribers {
        let mut s = connect(o.port).await.map_err(|e| e.to_string())?;
        s.write_all(&resp(&[b"SUBSCRIBE", CHANNEL]))
            .await
            .map_err(|e| e.to_string())?;
        let mut got = vec![0; confirm.len()];
        s.read_exact(&mut got).await.map_err(|e| e.to_string())?;
        if got != confirm.as_bytes() {
            return Err(format!(
                "bad SUBSCRIBE reply {:?}",
                String::from_utf8_lossy(&got)
            ));
        }
        subscribers.push(s);
    }
    let expected_bytes = total * message_len;
    let receivers: Vec<_> = subscribers
        .into_iter()
        .map(|mut s| {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 256 * 1024];
                let mut received = 0;
                while received < expected_bytes {
                    let n = s.read(&mut buf).await?;
                    if n == 0 {
                        return Err(std::io::Error::other("subscriber disconnected"));
                    }
                    received += n;
                }
                Ok::<(), std::io::Error>(())
            })
        })
        .collect();
    let started = Instant::now();
    let command = resp(&[b"PUBLISH", CHANNEL, &payload]);
    let reply = format!(":{}\r\n", o.subscribers).into_bytes();
    let publishers: Vec<_> = (0..o.publishers)
        .map(|_| {
            let (command, reply, pipeline, port) =
                (command.clone(), reply.clone(), o.pipeline, o.port);
            tokio::spawn(async move {
                let mut s = connect(port).await?;
                let mut done = 0;
                let mut buf = Vec::new();
                while done < per {
                    let batch = pipeline.min(per - done);
                    s.write_all(&command.repeat(batch)).await?;
                    buf.resize(reply.len() * batch, 0);
                    s.read_exact(&mut buf).await?;
                    if buf.chunks(reply.len()).any(|c| c != reply.as_slice()) {
                        return Err(std::io::Error::other(format!(
                            "PUBLISH did not reach every subscriber: {:?}",
                            String::from_utf8_lossy(&buf[..reply.len()])
                        )));
                    }
                    done += batch;
                }
                Ok::<(), std::io::Error>(())
            })
        })
        .collect();
    for t in publishers.into_iter().chain(receivers) {
        let outcome = tokio::time::timeout(Duration::from_secs(600), t)
            .await
            .map_err(|_| "timed out".to_string())?;
        outcome
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    }
    Ok((total * o.subscribers) as f64 / started.elapsed().as_secs_f64())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(mode) = args.first().cloned() else {
        eprintln!("usage: basalt-bench multi|publish --port P [options]");
        std::process::exit(2);
    };
    let opts = match parse(&args[1..]) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("basalt-bench: {e}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (label, result) = match mode.as_str() {
        "multi" => ("MULTI/EXEC (3 commands)", runtime.block_on(multi(opts))),
        "publish" => (
            "PUBLISH to 100 subscribers (deliveries)",
            runtime.block_on(publish(opts)),
        ),
        other => {
            eprintln!("basalt-bench: unknown mode {other}");
            std::process::exit(2);
        }
    };
    match result {
        Ok(rps) => println!("\"{label}\",\"{rps:.2}\""),
        Err(e) => {
            eprintln!("basalt-bench {mode}: {e}");
            std::process::exit(1);
        }
    }
}
