//! The servers: worker threads, each a single-threaded runtime reading the
//! same UDP and TCP sockets; cache hits answered in the UDP receive loop;
//! the client TCP connections and their limits (RFC 7766).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use crate::metrics::{inc, Counters, WORKER};
use crate::resolver::Resolver;
use crate::settings::Settings;
use crate::{Error, JOSTLE, MAX_IN_FLIGHT, MAX_MSG, MAX_TCP_CONNS, TCP_IDLE, UDP_RCVBUF};

/// One worker's UDP loop. Every worker reads the same socket (each through
/// its own descriptor, registered with its own runtime); whichever wakes
/// first takes the datagram. Cache hits are answered right here; the rest
/// become tasks.
async fn serve_udp(r: Arc<Resolver>, sock: Arc<UdpSocket>) {
    let mut buf = vec![0u8; MAX_MSG];
    let mut out = vec![0u8; MAX_MSG];
    loop {
        let (n, peer) = match sock.recv_from(&mut buf).await {
            Ok(x) => x,
            // ICMP errors from earlier sends surface here on some systems.
            Err(_) => continue,
        };
        let m = r.metrics.mine();
        inc(&m.c.queries_udp);
        let now = Instant::now();
        if let Some(len) = r.answer_cached(&buf[..n], peer.ip(), now, &mut out) {
            match sock.try_send_to(&out[..len], peer) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let (resp, s2) = (out[..len].to_vec(), sock.clone());
                    tokio::spawn(async move {
                        let _ = s2.send_to(&resp, peer).await;
                    });
                }
                _ => {}
            }
            inc(&m.c.responses);
            m.dns64_latency.record(now.elapsed());
            continue;
        }
        if r.in_flight.load(Relaxed) >= MAX_IN_FLIGHT {
            inc(&m.c.dropped);
            continue;
        }
        r.in_flight.fetch_add(1, Relaxed);
        let pkt = buf[..n].to_vec();
        let (r2, s2) = (r.clone(), sock.clone());
        tokio::spawn(async move {
            let mut answer = std::pin::pin!(r2.handle(&pkt, peer.ip(), false));
            let resp = match tokio::time::timeout(JOSTLE, &mut answer).await {
                Ok(resp) => resp,
                // Slow: room among the slow half, or given up (see
                // `Resolver::slow_in_flight`).
                Err(_) if r2.slow_in_flight.fetch_add(1, Relaxed) < MAX_IN_FLIGHT / 2 => {
                    let resp = answer.await;
                    r2.slow_in_flight.fetch_sub(1, Relaxed);
                    resp
                }
                Err(_) => {
                    r2.slow_in_flight.fetch_sub(1, Relaxed);
                    inc(&r2.metrics.mine().c.slow_abandoned);
                    None
                }
            };
            if let Some(resp) = resp {
                let _ = s2.send_to(&resp, peer).await;
            }
            r2.in_flight.fetch_sub(1, Relaxed);
        });
    }
}

/// The client TCP connections, at most [`MAX_TCP_CONNS`] at once.
///
/// RFC 7766 section 10 advises limiting the number of connections and how
/// long one may stay idle; section 6.2.3 lets a server close idle
/// connections, sooner when short of resources, and clients must expect it.
/// A cap alone lets a crowd of idle or stalled connections (slowloris) hold
/// every slot and lock other clients out for as long as it likes, so when
/// the slots are full a new connection takes the one that has gone longest
/// without completing a message, unless it is answering a query (bounded by
/// the upstream timeouts). Only when every connection is answering a query
/// is the new one refused.
#[derive(Default)]
pub(crate) struct TcpConns {
    open: Mutex<TcpSlots>,
}

#[derive(Default)]
struct TcpSlots {
    next_id: u64,
    slots: HashMap<u64, TcpSlot>,
}

struct TcpSlot {
    /// The same socket through another descriptor: shutting it down from
    /// any worker ends the connection's task (its read or write fails).
    sock: std::net::TcpStream,
    /// When it was accepted or last had an answer written.
    progress: Instant,
    /// Whether one of its queries is being answered.
    busy: bool,
}

impl TcpConns {
    fn slots(&self) -> std::sync::MutexGuard<'_, TcpSlots> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a new connection, closing the stalest idle one when full;
    /// `None` when every slot is busy.
    fn admit(&self, sock: std::net::TcpStream, c: &Counters) -> Option<u64> {
        let mut t = self.slots();
        if t.slots.len() >= MAX_TCP_CONNS {
            let stalest = t.slots.iter().filter(|(_, s)| !s.busy).min_by_key(|(_, s)| s.progress);
            let Some(id) = stalest.map(|(&id, _)| id) else {
                inc(&c.tcp_refused);
                return None;
            };
            if let Some(old) = t.slots.remove(&id) {
                let _ = old.sock.shutdown(std::net::Shutdown::Both);
                inc(&c.tcp_evicted);
            }
        }
        let id = t.next_id;
        t.next_id += 1;
        let progress = Instant::now();
        t.slots.insert(
            id,
            TcpSlot {
                sock,
                progress,
                busy: false,
            },
        );
        Some(id)
    }

    /// Marks a connection as answering a query, or not.
    fn set_busy(&self, id: u64, busy: bool) {
        if let Some(s) = self.slots().slots.get_mut(&id) {
            s.busy = busy;
        }
    }

    /// Notes that a connection had an answer written.
    fn answered(&self, id: u64) {
        if let Some(s) = self.slots().slots.get_mut(&id) {
            s.progress = Instant::now();
        }
    }

    fn remove(&self, id: u64) {
        self.slots().slots.remove(&id);
    }
}

/// A tokio stream and, for [`TcpConns`], another descriptor of its socket.
fn with_handle(s: TcpStream) -> std::io::Result<(TcpStream, std::net::TcpStream)> {
    let std = s.into_std()?;
    let dup = std.try_clone()?;
    Ok((TcpStream::from_std(std)?, dup))
}

/// One worker's TCP accept loop (the workers share the listening socket
/// like the UDP one).
async fn serve_tcp(r: Arc<Resolver>, l: TcpListener) {
    loop {
        let (s, peer) = match l.accept().await {
            Ok(x) => x,
            Err(_) => {
                // Out of file descriptors (EMFILE, ENFILE) or memory: the
                // connection stays queued and accept fails again at once.
                // Pause instead of spinning; the queries in flight give
                // their descriptors back within the upstream timeout.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok((mut s, handle)) = with_handle(s) else {
            continue;
        };
        let Some(id) = r.tcp_conns.admit(handle, &r.metrics.mine().c) else {
            continue; // dropped: closes the connection
        };
        let r2 = r.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; MAX_MSG];
            loop {
                let len = match tokio::time::timeout(TCP_IDLE, s.read_u16()).await {
                    Ok(Ok(l)) => usize::from(l),
                    _ => break,
                };
                // A message cut short (timeout, end of stream, error) is
                // not answered: the buffer would hold stale bytes.
                match tokio::time::timeout(TCP_IDLE, s.read_exact(&mut buf[..len])).await {
                    Ok(Ok(_)) => {}
                    _ => break,
                }
                inc(&r2.metrics.mine().c.queries_tcp);
                r2.tcp_conns.set_busy(id, true);
                let resp = r2.handle(&buf[..len], peer.ip(), true).await;
                r2.tcp_conns.set_busy(id, false);
                let Some(resp) = resp else {
                    break;
                };
                let mut m = Vec::with_capacity(resp.len() + 2);
                m.extend_from_slice(&(resp.len() as u16).to_be_bytes());
                m.extend_from_slice(&resp);
                // A client that does not read its answers holds the
                // connection no longer than an idle one.
                match tokio::time::timeout(TCP_IDLE, s.write_all(&m)).await {
                    Ok(Ok(())) => r2.tcp_conns.answered(id),
                    _ => break,
                }
            }
            r2.tcp_conns.remove(id);
        });
    }
}

/// Binds UDP and TCP on the same address; with port 0, a port free for both.
/// Both are non-blocking, ready for the workers' runtimes.
fn bind_pair(a: SocketAddr) -> std::io::Result<(std::net::UdpSocket, std::net::TcpListener)> {
    let mut tries = 0;
    loop {
        let u = std::net::UdpSocket::bind(a)?;
        let port = u.local_addr()?.port();
        match std::net::TcpListener::bind(SocketAddr::new(a.ip(), port)) {
            Ok(t) => {
                u.set_nonblocking(true)?;
                t.set_nonblocking(true)?;
                return Ok((u, t));
            }
            Err(_) if a.port() == 0 && tries < 20 => tries += 1,
            Err(e) => return Err(e),
        }
    }
}

/// A worker's runtime and its own handles on every listening socket, made
/// before its thread starts, so that a failure (no descriptors left, say)
/// is reported by [`start`] rather than killing a running process.
struct WorkerIo {
    rt: tokio::runtime::Runtime,
    socks: Vec<(UdpSocket, TcpListener)>,
}

fn worker_io(socks: &[(std::net::UdpSocket, std::net::TcpListener)]) -> std::io::Result<WorkerIo> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut mine = Vec::with_capacity(socks.len());
    {
        // from_std registers the sockets with this runtime's reactor.
        let _in_rt = rt.enter();
        for (u, t) in socks {
            mine.push((
                UdpSocket::from_std(u.try_clone()?)?,
                TcpListener::from_std(t.try_clone()?)?,
            ));
        }
    }
    Ok(WorkerIo { rt, socks: mine })
}

/// One worker thread: a single-threaded runtime serving every listening
/// address until the process stops.
fn worker(index: usize, r: Arc<Resolver>, io: WorkerIo) {
    WORKER.with(|w| w.set(index));
    let WorkerIo { rt, socks } = io;
    rt.block_on(async move {
        let mut tasks = Vec::new();
        for (u, t) in socks {
            tasks.push(tokio::spawn(serve_udp(r.clone(), Arc::new(u))));
            tasks.push(tokio::spawn(serve_tcp(r.clone(), t)));
        }
        for t in tasks {
            let _ = t.await;
        }
    })
}

/// A resolver started by [`start`]: its worker threads run until the
/// process exits.
pub struct Running {
    /// The bound addresses (UDP and TCP on each), ports filled in.
    pub addrs: Vec<SocketAddr>,
}

/// Binds every listening address, sets up every worker's runtime and
/// sockets, then starts the worker threads and the metrics thread and
/// returns. Used by `nat64 dns64` and by `nat64 gateway` when its file has
/// a `[dns64]` table (one process serving both). Everything that can fail
/// fails here, before any thread starts; the serving loops themselves do
/// not end.
pub fn start(s: &Settings) -> Result<Running, Error> {
    let r = Arc::new(Resolver::new(s)?);
    // Every upstream query in flight holds a socket, every TCP client two
    // (the stream and the handle its registry keeps to shut it).
    let fds_needed = (MAX_IN_FLIGHT + 2 * MAX_TCP_CONNS + 64) as u64;
    match crate::sys::raise_nofile_limit() {
        Ok(n) if n < fds_needed => eprintln!(
            "nat64 dns64: warning: the open-file limit is {n} (hard limit), below the {fds_needed} the in-flight \
             and TCP caps can use: under a burst of slow queries others get SERVFAIL; raise it (ulimit -Hn, \
             LimitNOFILE= in systemd)"
        ),
        Ok(_) => {}
        Err(e) => eprintln!("nat64 dns64: warning: cannot raise the open-file limit: {e}"),
    }
    let mut socks = Vec::new();
    let mut addrs = Vec::new();
    for &addr in &s.listen {
        let (u, t) = bind_pair(addr).map_err(|err| Error::Listen { addr, err })?;
        let la = u.local_addr().map_err(Error::Io)?;
        eprintln!("nat64 dns64: listening on udp {la} and tcp {la}");
        // Room for a burst of a few thousand queries while the workers
        // are busy; the kernel default (about 200 KiB) holds ~250.
        // Linux reports twice the size asked (its bookkeeping overhead).
        match crate::sys::set_recv_buffer(&u, UDP_RCVBUF).map(|got| got / 2) {
            Ok(got) if got < UDP_RCVBUF => eprintln!(
                "nat64 dns64: udp {la}: receive buffer {got} bytes, not {UDP_RCVBUF} (net.core.rmem_max caps it \
                 without CAP_NET_ADMIN): bursts beyond it are dropped by the kernel"
            ),
            Ok(_) => {}
            Err(e) => eprintln!("nat64 dns64: udp {la}: cannot size the receive buffer: {e}"),
        }
        addrs.push(la);
        socks.push((u, t));
    }
    let cfg = r.dns64.config();
    let prefixes: Vec<String> = cfg.prefixes.iter().map(|p| p.to_string()).collect();
    let ups: Vec<String> = s.upstreams.iter().map(|u| u.to_string()).collect();
    eprintln!(
        "nat64 dns64: upstreams {}; prefixes {}; translate_all={} upstream_validates={} allow_ipv4={}{}; {} worker \
         thread{}",
        ups.join(", "),
        prefixes.join(", "),
        cfg.translate_all,
        cfg.upstream_validates,
        cfg.allow_ipv4,
        if cfg.allow_ipv4 {
            ""
        } else {
            " (clients asking over IPv4 get no synthesis)"
        },
        s.threads,
        if s.threads == 1 { "" } else { "s" },
    );
    if !s.metrics_interval.is_zero() {
        let (r2, every) = (r.clone(), s.metrics_interval);
        std::thread::Builder::new()
            .name("dns64-metrics".into())
            .spawn(move || loop {
                std::thread::sleep(every);
                eprintln!("{}", r2.metrics.json());
            })
            .map_err(Error::Io)?;
    }
    let ios = (0..s.threads)
        .map(|_| worker_io(&socks))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(Error::Workers)?;
    for (i, io) in ios.into_iter().enumerate() {
        let r2 = r.clone();
        std::thread::Builder::new()
            .name(format!("dns64-{i}"))
            .spawn(move || worker(i, r2, io))
            .map_err(Error::Io)?;
    }
    Ok(Running { addrs })
}
