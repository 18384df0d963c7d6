//! Connecting the processes of a cluster over TCP, with a deadline and without printing to stdout.
//!
//! Timely's own connector retries forever and prints progress on standard output, which belongs to
//! the flow; weir connects the sockets itself and hands them to timely.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use timely::communication::allocator::zero_copy::stream::Stream;

use timely::communication::allocator::zero_copy::initialize::{initialize_networking_from_sockets, CommsGuard};
use timely::communication::allocator::zero_copy::allocator::TcpBuilder;
use timely::communication::allocator::ProcessBuilder;
use timely::communication::Hooks;

/// Identifies weir's handshake, so a stray connection is rejected rather than misread.
const MAGIC: u32 = 0x7765_6972; // "weir"
const RETRY: Duration = Duration::from_millis(100);

/// The first peer whose connection ended, and when: a clean shutdown ends it too, so the worker
/// treats it as a failure only if its own dataflow does not finish soon after.
#[derive(Default)]
pub struct PeerLoss(Mutex<Option<(usize, Instant)>>);

impl PeerLoss {
    fn record(&self, peer: usize) {
        let mut lost = self.0.lock().unwrap_or_else(|e| e.into_inner());
        lost.get_or_insert((peer, Instant::now()));
    }

    /// The peer lost at least `after` ago.
    pub fn lost_for(&self, after: Duration) -> Option<usize> {
        let lost = self.0.lock().unwrap_or_else(|e| e.into_inner());
        lost.and_then(|(peer, at)| (at.elapsed() >= after).then_some(peer))
    }
}

/// A peer's socket that reports its end (EOF or error) to the fabric's [`PeerLoss`].
pub struct WatchedStream {
    inner: TcpStream,
    peer: usize,
    loss: Arc<PeerLoss>,
}

impl Read for WatchedStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let r = self.inner.read(buf);
        if matches!(r, Ok(0) | Err(_)) && !buf.is_empty() {
            self.loss.record(self.peer);
        }
        r
    }
}

impl Write for WatchedStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.inner.write(buf);
        if r.is_err() {
            self.loss.record(self.peer);
        }
        r
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Stream for WatchedStream {
    fn try_clone(&self) -> io::Result<Self> {
        Ok(WatchedStream { inner: self.inner.try_clone()?, peer: self.peer, loss: Arc::clone(&self.loss) })
    }
    fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.inner.set_nonblocking(nonblocking)
    }
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.shutdown(how)
    }
}

/// What [`connect`] builds: timely's allocators, the network threads' guard, and the loss detector.
pub struct Connected {
    pub builders: Vec<TcpBuilder>,
    pub guard: CommsGuard,
    pub loss: Arc<PeerLoss>,
}

/// Connects process `me` to every other process of `addresses` and builds timely's allocators.
pub fn connect(addresses: &[String], me: usize, threads: usize, timeout: Duration) -> Result<Connected, String> {
    let deadline = Instant::now() + timeout;
    let listener = TcpListener::bind(&addresses[me]).map_err(|e| format!("cannot listen on {}: {e}", addresses[me]))?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let mut sockets: Vec<Option<TcpStream>> = (0..addresses.len()).map(|_| None).collect();
    // Lower-numbered processes accept, higher-numbered ones connect: each pair connects once.
    for (peer, address) in addresses.iter().enumerate().take(me) {
        sockets[peer] = Some(connect_one(address, me, deadline)?);
    }
    let mut missing = addresses.len() - me - 1;
    while missing > 0 {
        match listener.accept() {
            Ok((mut stream, _)) => {
                stream.set_nonblocking(false).map_err(|e| e.to_string())?;
                stream.set_read_timeout(Some(Duration::from_secs(5))).map_err(|e| e.to_string())?;
                let mut buf = [0u8; 12];
                if stream.read_exact(&mut buf).is_err() {
                    continue;
                }
                let magic = u32::from_le_bytes(buf[0..4].try_into().unwrap());
                let peer = u64::from_le_bytes(buf[4..12].try_into().unwrap()) as usize;
                if magic != MAGIC || peer <= me || peer >= addresses.len() || sockets[peer].is_some() {
                    continue;
                }
                stream.set_read_timeout(None).map_err(|e| e.to_string())?;
                stream.set_nodelay(true).map_err(|e| e.to_string())?;
                sockets[peer] = Some(stream);
                missing -= 1;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    let waiting: Vec<&str> = (me + 1..addresses.len()).filter(|p| sockets[*p].is_none()).map(|p| addresses[p].as_str()).collect();
                    return Err(format!("timed out waiting for {} to connect", waiting.join(", ")));
                }
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(format!("accepting connections on {}: {e}", addresses[me])),
        }
    }
    let loss = Arc::new(PeerLoss::default());
    let watched: Vec<Option<WatchedStream>> = sockets
        .into_iter()
        .enumerate()
        .map(|(peer, s)| s.map(|inner| WatchedStream { inner, peer, loss: Arc::clone(&loss) }))
        .collect();
    let hooks = Hooks::default();
    let process_allocators = ProcessBuilder::new_typed_vector(threads, hooks.refill.clone(), hooks.spill.clone());
    let (builders, guard) = initialize_networking_from_sockets(process_allocators, watched, me, threads, hooks).map_err(|e| e.to_string())?;
    Ok(Connected { builders, guard, loss })
}

fn connect_one(address: &str, me: usize, deadline: Instant) -> Result<TcpStream, String> {
    loop {
        let attempt = address
            .to_socket_addrs()
            .map_err(|e| e.to_string())
            .and_then(|mut addrs| addrs.next().ok_or_else(|| "no address".to_string()))
            .and_then(|addr| TcpStream::connect_timeout(&addr, RETRY).map_err(|e| e.to_string()));
        match attempt {
            Ok(mut stream) => {
                stream.set_nodelay(true).map_err(|e| e.to_string())?;
                let mut hello = MAGIC.to_le_bytes().to_vec();
                hello.extend_from_slice(&(me as u64).to_le_bytes());
                stream.write_all(&hello).map_err(|e| e.to_string())?;
                return Ok(stream);
            }
            Err(e) if Instant::now() >= deadline => return Err(format!("cannot connect to {address}: {e}")),
            Err(_) => thread::sleep(RETRY),
        }
    }
}
