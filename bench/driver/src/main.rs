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
//!
//! Two more modes drive `bench/large.sh` (a data set far larger than the
//! block cache, Basalt and Redis alike):
//!
//!   basalt-bench load --port P --kind string|hash --keys N [--size 1000]
//!                     [--fields 10] [--clients 50] [--pipeline 64] [--seed 1]
//!   basalt-bench zipf --port P --op get|hget|set --keys N [--theta 0.99]
//!                     [--size 1000] [--fields 10] [--clients 50]
//!                     [--duration 60] [--warmup 5] [--seed 1]
//!
//! `load` writes keys `s:000000000000`... (SET, one value each) or
//! `h:000000000000`... (one HSET of `--fields` fields `field:000`...) in a
//! scrambled order, pipelined; every value is `--size` bytes, its first half
//! random bytes (a fresh stream per value) and its second half repeated
//! English text, so about half of it compresses. It prints
//! `kind,keys,commands,raw_bytes,seconds`, raw bytes being exactly the key,
//! field and value bytes sent (each hash key counted once).
//!
//! `zipf` runs one request at a time per connection on keys drawn from a
//! scrambled zipfian distribution (YCSB's generator; rank r is key
//! `(r * 2654435761 + 12345) mod N`, so hot keys are spread over the key
//! space), HGET of a uniform random field. It checks every reply's shape and
//! size (a miss or a wrong size counts as an error), records each latency
//! after the warm-up in a log-bucketed histogram (buckets 1/32 wide, the
//! upper edge is reported) and prints
//! `op,clients,theta,keys,seconds,requests,errors,ops_per_sec,p50_ms,p99_ms,p999_ms,max_ms`.

use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

struct Opts {
    port: u16,
    clients: usize,
    requests: usize,
    pipeline: usize,
    subscribers: usize,
    publishers: usize,
    size: usize,
    keys: u64,
    fields: u64,
    duration: f64,
    warmup: f64,
    theta: f64,
    seed: u64,
    kind: String,
    op: String,
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
        keys: 1_000_000,
        fields: 10,
        duration: 60.0,
        warmup: 5.0,
        theta: 0.99,
        seed: 1,
        kind: "string".into(),
        op: "get".into(),
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let float = || -> Result<f64, String> {
            match value.parse::<f64>() {
                Ok(f) if f.is_finite() && f >= 0.0 => Ok(f),
                _ => Err(format!("{flag}: bad number {value}")),
            }
        };
        match flag.as_str() {
            "--kind" => o.kind = value.clone(),
            "--op" => o.op = value.clone(),
            "--duration" => o.duration = float()?,
            "--warmup" => o.warmup = float()?,
            "--theta" => o.theta = float()?,
            _ => {
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
                    "--keys" => o.keys = n.max(1) as u64,
                    "--fields" => o.fields = n.max(1) as u64,
                    "--seed" => o.seed = n as u64,
                    _ => return Err(format!("unknown option {flag}")),
                }
            }
        }
    }
    if o.theta >= 1.0 {
        return Err("--theta must be below 1".into());
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
    let o = Arc::new(o);
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

// --- large data sets: `load` and `zipf` --------------------------------------

/// splitmix64: a tiny, good-enough generator (the crate depends on tokio only).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const TEXT: &[u8] =
    b"Basalt keeps every key on disk in RocksDB; memory holds only the hot blocks. ";

/// A value of `size` bytes: random first half (from `seed`), text second half.
fn fill_value(out: &mut Vec<u8>, size: usize, seed: u64) {
    let mut rng = Rng(seed);
    let random = size / 2;
    while out.len() < random {
        let word = rng.next().to_le_bytes();
        out.extend_from_slice(&word[..(random - out.len()).min(8)]);
    }
    out.extend(TEXT.iter().cycle().take(size - random));
}

/// Spreads ranks (or load order) over the key space: a bijection on 0..n.
fn scramble(i: u64, n: u64) -> u64 {
    const STRIDE: u128 = 2_654_435_761; // prime; n is never a multiple of it here
    ((i as u128 * STRIDE + 12_345) % n as u128) as u64
}

fn key_name(kind: &str, i: u64) -> Vec<u8> {
    let prefix = if kind == "hash" { "h" } else { "s" };
    format!("{prefix}:{i:012}").into_bytes()
}

fn field_name(f: u64) -> Vec<u8> {
    format!("field:{f:03}").into_bytes()
}

/// One connection's share of `load`: keys j = id, id + clients, ...; returns raw bytes.
async fn load_client(o: &Opts, id: usize) -> std::io::Result<u64> {
    let mut s = connect(o.port).await?;
    let hash = o.kind == "hash";
    let expect = if hash {
        format!(":{}\r\n", o.fields).into_bytes()
    } else {
        b"+OK\r\n".to_vec()
    };
    let (mut raw, mut batch, mut buf, mut value) = (0u64, Vec::new(), Vec::new(), Vec::new());
    let mut j = id as u64;
    while j < o.keys {
        batch.clear();
        let mut count = 0;
        while count < o.pipeline && j < o.keys {
            let i = scramble(j, o.keys);
            let key = key_name(&o.kind, i);
            raw += key.len() as u64;
            if hash {
                let mut parts: Vec<Vec<u8>> = vec![b"HSET".to_vec(), key];
                for f in 0..o.fields {
                    value.clear();
                    fill_value(&mut value, o.size, o.seed ^ (i << 16) ^ f ^ 0x4841_5348);
                    let field = field_name(f);
                    raw += (field.len() + value.len()) as u64;
                    parts.push(field);
                    parts.push(value.clone());
                }
                let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_slice()).collect();
                batch.extend(resp(&refs));
            } else {
                value.clear();
                fill_value(&mut value, o.size, o.seed ^ (i << 16));
                raw += value.len() as u64;
                batch.extend(resp(&[b"SET", &key, &value]));
            }
            count += 1;
            j += o.clients as u64;
        }
        s.write_all(&batch).await?;
        buf.resize(expect.len() * count, 0);
        s.read_exact(&mut buf).await?;
        if let Some(bad) = buf.chunks(expect.len()).find(|c| *c != expect.as_slice()) {
            return Err(std::io::Error::other(format!(
                "unexpected reply: {:?}",
                String::from_utf8_lossy(bad)
            )));
        }
    }
    Ok(raw)
}

async fn load(o: Opts) -> Result<String, String> {
    if o.kind != "string" && o.kind != "hash" {
        return Err(format!("--kind {}: expected string or hash", o.kind));
    }
    let o = Arc::new(o);
    let started = Instant::now();
    let tasks: Vec<_> = (0..o.clients)
        .map(|id| {
            let o = o.clone();
            tokio::spawn(async move { load_client(&o, id).await })
        })
        .collect();
    let mut raw = 0;
    for t in tasks {
        raw += t
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    }
    Ok(format!(
        "kind,keys,commands,raw_bytes,seconds\n{},{},{},{raw},{:.1}",
        o.kind,
        o.keys,
        o.keys,
        started.elapsed().as_secs_f64()
    ))
}

/// YCSB's zipfian generator (Gray et al., "Quickly generating billion-record
/// synthetic databases"): rank 0 is the most popular.
struct Zipf {
    n: f64,
    theta: f64,
    alpha: f64,
    zetan: f64,
    eta: f64,
}

impl Zipf {
    fn new(n: u64, theta: f64) -> Zipf {
        let zetan: f64 = (1..=n).map(|i| (i as f64).powf(-theta)).sum();
        let zeta2 = 1.0 + 0.5f64.powf(theta);
        let n = n as f64;
        Zipf {
            n,
            theta,
            alpha: 1.0 / (1.0 - theta),
            zetan,
            eta: (1.0 - (2.0 / n).powf(1.0 - theta)) / (1.0 - zeta2 / zetan),
        }
    }

    fn sample(&self, u: f64) -> u64 {
        let uz = u * self.zetan;
        if uz < 1.0 {
            return 0;
        }
        if uz < 1.0 + 0.5f64.powf(self.theta) {
            return 1;
        }
        let r = self.n * (self.eta * u - self.eta + 1.0).powf(self.alpha);
        (r as u64).min(self.n as u64 - 1)
    }
}

/// Latency histogram in nanoseconds: exact below 64, then 32 buckets per
/// power of two (each at most 1/32 of its value wide).
struct Hist(Vec<u64>);

impl Hist {
    fn new() -> Hist {
        Hist(vec![0; 64 + 58 * 32])
    }

    fn index(v: u64) -> usize {
        if v < 64 {
            return v as usize;
        }
        let msb = 63 - u64::from(v.leading_zeros());
        (64 + (msb - 6) * 32 + ((v >> (msb - 5)) - 32)) as usize
    }

    /// Largest value that lands in bucket `i`.
    fn upper(i: usize) -> u64 {
        if i < 64 {
            return i as u64;
        }
        let (msb, m) = ((i as u64 - 64) / 32 + 6, (i as u64 - 64) % 32 + 32);
        ((m + 1) << (msb - 5)) - 1
    }

    fn record(&mut self, ns: u64) {
        self.0[Self::index(ns)] += 1;
    }

    fn merge(&mut self, other: &Hist) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a += b;
        }
    }

    fn count(&self) -> u64 {
        self.0.iter().sum()
    }

    /// Value at quantile q (0..=1), in milliseconds.
    fn quantile_ms(&self, q: f64) -> f64 {
        let target = ((q * self.count() as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.0.iter().enumerate() {
            seen += c;
            if seen >= target {
                return Self::upper(i) as f64 / 1e6;
            }
        }
        0.0
    }
}

/// One connection of `zipf`: returns its histogram and error count.
async fn zipf_client(
    o: Arc<Opts>,
    zipf: Arc<Zipf>,
    id: usize,
    measure_from: Instant,
    end: Instant,
) -> std::io::Result<(Hist, u64)> {
    let (r, mut w) = connect(o.port).await?.into_split();
    let mut r = BufReader::with_capacity(64 * 1024, r);
    let mut rng = Rng(o.seed.wrapping_mul(1_000_003) ^ id as u64);
    let (mut hist, mut errors) = (Hist::new(), 0);
    let (mut line, mut body, mut value) = (Vec::new(), Vec::new(), Vec::new());
    let kind = if o.op == "hget" { "hash" } else { "string" };
    loop {
        let key = key_name(kind, scramble(zipf.sample(rng.unit()), o.keys));
        let cmd = match o.op.as_str() {
            "get" => resp(&[b"GET", &key]),
            "hget" => resp(&[b"HGET", &key, &field_name(rng.next() % o.fields)]),
            _ => {
                value.clear();
                fill_value(&mut value, o.size, rng.next());
                resp(&[b"SET", &key, &value])
            }
        };
        let t0 = Instant::now();
        if t0 >= end {
            break;
        }
        w.write_all(&cmd).await?;
        line.clear();
        if r.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::Error::other("server closed the connection"));
        }
        let ok = match line.first() {
            Some(b'$') => {
                let len: i64 = std::str::from_utf8(&line[1..])
                    .ok()
                    .and_then(|t| t.trim_end().parse().ok())
                    .unwrap_or(-1);
                if len >= 0 {
                    body.resize(len as usize + 2, 0);
                    r.read_exact(&mut body).await?;
                }
                len == o.size as i64
            }
            Some(b'+') => o.op == "set" && line == b"+OK\r\n",
            _ => false,
        };
        if t0 >= measure_from {
            hist.record(t0.elapsed().as_nanos() as u64);
            errors += u64::from(!ok);
        }
    }
    Ok((hist, errors))
}

async fn zipf(o: Opts) -> Result<String, String> {
    if !matches!(o.op.as_str(), "get" | "hget" | "set") {
        return Err(format!("--op {}: expected get, hget or set", o.op));
    }
    let zipf = Arc::new(Zipf::new(o.keys, o.theta));
    let o = Arc::new(o);
    let measure_from = Instant::now() + Duration::from_secs_f64(o.warmup);
    let end = measure_from + Duration::from_secs_f64(o.duration);
    let tasks: Vec<_> = (0..o.clients)
        .map(|id| tokio::spawn(zipf_client(o.clone(), zipf.clone(), id, measure_from, end)))
        .collect();
    let (mut hist, mut errors) = (Hist::new(), 0);
    for t in tasks {
        let (h, e) = t
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        hist.merge(&h);
        errors += e;
    }
    let seconds = o.duration;
    let requests = hist.count();
    Ok(format!(
        "op,clients,theta,keys,seconds,requests,errors,ops_per_sec,p50_ms,p99_ms,p999_ms,max_ms\n\
         {},{},{},{},{seconds:.1},{requests},{errors},{:.0},{:.3},{:.3},{:.3},{:.3}",
        o.op,
        o.clients,
        o.theta,
        o.keys,
        requests as f64 / seconds,
        hist.quantile_ms(0.5),
        hist.quantile_ms(0.99),
        hist.quantile_ms(0.999),
        hist.quantile_ms(1.0),
    ))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(mode) = args.first().cloned() else {
        eprintln!("usage: basalt-bench multi|publish|load|zipf --port P [options]");
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
    let rps =
        |label: &str, r: Result<f64, String>| r.map(|rps| format!("\"{label}\",\"{rps:.2}\""));
    let result = match mode.as_str() {
        "multi" => rps("MULTI/EXEC (3 commands)", runtime.block_on(multi(opts))),
        "publish" => rps(
            "PUBLISH to 100 subscribers (deliveries)",
            runtime.block_on(publish(opts)),
        ),
        "load" => runtime.block_on(load(opts)),
        "zipf" => runtime.block_on(zipf(opts)),
        other => {
            eprintln!("basalt-bench: unknown mode {other}");
            std::process::exit(2);
        }
    };
    match result {
        Ok(out) => println!("{out}"),
        Err(e) => {
            eprintln!("basalt-bench {mode}: {e}");
            std::process::exit(1);
        }
    }
}
