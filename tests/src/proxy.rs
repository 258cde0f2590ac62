//! A TCP proxy for fault injection between two servers: it forwards every
//! connection it accepts to a target port, and on demand cuts every
//! connection open through it, refuses new ones, delays what it
//! forwards, or freezes (holds everything, closing nothing, as a network
//! partition does).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

pub struct Proxy {
    pub port: u16,
    state: Arc<State>,
    accept: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct State {
    stop: AtomicBool,
    refuse: AtomicBool,
    delay_ms: AtomicU64,
    frozen: AtomicBool,
    /// Both ends of every forwarded connection, to cut them.
    open: Mutex<Vec<TcpStream>>,
    /// Connections accepted and forwarded so far.
    accepted: AtomicU64,
}

impl Proxy {
    /// Forwards 127.0.0.1:`port` (an ephemeral port) to 127.0.0.1:`target`.
    pub fn start(target: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let state = Arc::new(State::default());
        let s = state.clone();
        let accept = std::thread::spawn(move || accept_loop(listener, target, &s));
        Proxy {
            port,
            state,
            accept: Some(accept),
        }
    }

    /// Closes every connection open through the proxy, both ways.
    pub fn cut(&self) {
        for s in self.state.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// While set, new connections are accepted and closed at once.
    pub fn refuse(&self, refuse: bool) {
        self.state.refuse.store(refuse, Ordering::Release);
    }

    /// Holds every chunk this long before forwarding it.
    pub fn delay(&self, delay: Duration) {
        self.state
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::Release);
    }

    /// While set, nothing is forwarded either way and every connection
    /// stays open: both ends see silence, not a close.
    pub fn freeze(&self, frozen: bool) {
        self.state.frozen.store(frozen, Ordering::Release);
    }

    pub fn accepted(&self) -> u64 {
        self.state.accepted.load(Ordering::Acquire)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::Release);
        self.cut();
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: TcpListener, target: u16, state: &Arc<State>) {
    while !state.stop.load(Ordering::Acquire) {
        let client = match listener.accept() {
            Ok((c, _)) => c,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        if state.refuse.load(Ordering::Acquire) {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        let _ = client.set_nonblocking(false);
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        state.accepted.fetch_add(1, Ordering::AcqRel);
        {
            let mut open = state.open.lock().unwrap();
            for s in [&client, &server] {
                if let Ok(c) = s.try_clone() {
                    open.push(c);
                }
            }
        }
        for (from, to) in [(&client, &server), (&server, &client)] {
            let (Ok(from), Ok(to)) = (from.try_clone(), to.try_clone()) else {
                continue;
            };
            let s = state.clone();
            std::thread::spawn(move || pump(from, to, &s));
        }
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, state: &State) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let delay = state.delay_ms.load(Ordering::Acquire);
        if delay > 0 {
            std::thread::sleep(Duration::from_millis(delay));
        }
        while state.frozen.load(Ordering::Acquire) && !state.stop.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(10));
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
