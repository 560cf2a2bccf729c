//! The upstream resolvers: one query at a time from a fresh socket, in
//! order from the one that last answered, failing over on timeouts,
//! network errors, SERVFAIL and REFUSED; over TCP after a truncated UDP
//! answer. Which reply is the answer is the core's call
//! ([`Exchange::judge`]).

use std::hash::BuildHasher;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use nat64_core::dns64::{Exchange, Received, Reply};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use crate::metrics::{inc, Metrics};

/// Why an upstream exchange gave nothing.
#[derive(Debug)]
enum UpstreamError {
    Timeout,
    Io,
}

/// The upstream resolvers and how to reach them.
pub(crate) struct Upstreams {
    addrs: Vec<SocketAddr>,
    timeout: Duration,
    /// The EDNS UDP payload size our queries advertise.
    max_udp: usize,
    /// The upstream tried first (the last one that answered).
    preferred: AtomicUsize,
    ids: std::collections::hash_map::RandomState,
    id_counter: AtomicU64,
}

impl Upstreams {
    pub(crate) fn new(addrs: Vec<SocketAddr>, timeout: Duration, edns_udp_size: u16) -> Self {
        Upstreams {
            addrs,
            timeout,
            max_udp: usize::from(edns_udp_size.max(512)),
            preferred: AtomicUsize::new(0),
            ids: std::collections::hash_map::RandomState::new(),
            id_counter: AtomicU64::new(0),
        }
    }

    /// An unpredictable query ID (RFC 5452 section 9.2): SipHash with a
    /// random key over a counter.
    fn next_id(&self) -> u16 {
        self.ids.hash_one(self.id_counter.fetch_add(1, Relaxed)) as u16
    }

    /// Asks the upstreams, in order from the preferred one, the question
    /// `ex` asks. Timeouts, errors, SERVFAIL and REFUSED move on to the
    /// next; when every upstream failed, the last SERVFAIL/REFUSED answer
    /// (if any) is returned.
    pub(crate) async fn ask(&self, ex: &Exchange<'_>, metrics: &Metrics) -> Option<Vec<u8>> {
        let n = self.addrs.len();
        let first = self.preferred.load(Relaxed) % n;
        let mut last = None;
        for i in 0..n {
            let idx = (first + i) % n;
            let up = self.addrs[idx];
            let id = self.next_id();
            let mut qbuf = [0u8; 300];
            let len = ex.write_query(id, &mut qbuf).ok()?;
            let query = &qbuf[..len];
            let t0 = Instant::now();
            inc(&metrics.mine().c.upstream_queries);
            let bad = &metrics.mine().c.upstream_bad_responses;
            let r = match udp_exchange(up, query, id, ex, self.timeout, self.max_udp, bad).await {
                Ok(Udp::Truncated) => {
                    inc(&metrics.mine().c.upstream_tcp_retries);
                    tcp_exchange(up, query, id, ex, self.timeout, bad).await
                }
                Ok(Udp::Answer(r, failed)) => Ok((r, failed)),
                Err(e) => Err(e),
            };
            match r {
                Ok((resp, failed)) => {
                    let m = metrics.mine();
                    m.upstream_latency.record(t0.elapsed());
                    if i > 0 {
                        inc(&m.c.upstream_failovers);
                    }
                    if failed && i + 1 < n {
                        last = Some(resp);
                        continue;
                    }
                    self.preferred.store(idx, Relaxed);
                    return Some(resp);
                }
                Err(UpstreamError::Timeout) => inc(&metrics.mine().c.upstream_timeouts),
                Err(UpstreamError::Io) => inc(&metrics.mine().c.upstream_errors),
            }
        }
        last
    }
}

fn unspecified_for(a: SocketAddr) -> SocketAddr {
    match a {
        SocketAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        SocketAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    }
}

/// What a UDP exchange with an upstream gave.
enum Udp {
    /// A whole answer, and whether it is SERVFAIL or REFUSED.
    Answer(Vec<u8>, bool),
    /// TC set, or more than the advertised size: ask again over TCP.
    Truncated,
}

/// One UDP exchange from a fresh socket (a random source port, RFC 5452
/// section 9.2); datagrams that are not the answer are ignored (and counted
/// in `bad`) until the deadline.
///
/// The receive buffer is the EDNS payload size the query advertised
/// (`max`, RFC 6891 section 6.2.3: the responder must not send more), plus
/// one byte to notice a responder that does: such an answer (with our ID)
/// comes back as [`Udp::Truncated`] and is asked again over TCP, like a TC
/// answer. Thousands of queries in flight then hold a few MiB, not 64 KiB
/// each.
async fn udp_exchange(
    up: SocketAddr,
    query: &[u8],
    id: u16,
    ex: &Exchange<'_>,
    timeout: Duration,
    max: usize,
    bad: &AtomicU64,
) -> Result<Udp, UpstreamError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let sock = UdpSocket::bind(unspecified_for(up))
        .await
        .map_err(|_| UpstreamError::Io)?;
    sock.connect(up).await.map_err(|_| UpstreamError::Io)?;
    sock.send(query).await.map_err(|_| UpstreamError::Io)?;
    let mut buf = vec![0u8; max + 1];
    loop {
        let n = match tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await {
            Err(_) => return Err(UpstreamError::Timeout),
            Ok(Err(_)) => return Err(UpstreamError::Io),
            Ok(Ok(n)) => n,
        };
        // Cut by the buffer: only the header can be trusted to be whole;
        // TCP checks the question.
        let how = if n > max { Received::UdpOversized } else { Received::Udp };
        match ex.judge(id, &buf[..n], how) {
            Reply::Foreign => inc(bad),
            Reply::Truncated => return Ok(Udp::Truncated),
            Reply::Answer { failed } => {
                buf.truncate(n);
                return Ok(Udp::Answer(buf, failed));
            }
        }
    }
}

/// One TCP exchange (RFC 7766), after a truncated UDP answer; an answer
/// that is not the answer to the query is counted in `bad`.
async fn tcp_exchange(
    up: SocketAddr,
    query: &[u8],
    id: u16,
    ex: &Exchange<'_>,
    timeout: Duration,
    bad: &AtomicU64,
) -> Result<(Vec<u8>, bool), UpstreamError> {
    let run = async {
        let mut s = TcpStream::connect(up).await?;
        let mut m = Vec::with_capacity(query.len() + 2);
        m.extend_from_slice(&(query.len() as u16).to_be_bytes());
        m.extend_from_slice(query);
        s.write_all(&m).await?;
        let len = s.read_u16().await?;
        let mut buf = vec![0u8; usize::from(len)];
        s.read_exact(&mut buf).await?;
        Ok::<_, std::io::Error>(buf)
    };
    match tokio::time::timeout(timeout, run).await {
        Err(_) => Err(UpstreamError::Timeout),
        Ok(Err(_)) => Err(UpstreamError::Io),
        Ok(Ok(buf)) => match ex.judge(id, &buf, Received::Tcp) {
            Reply::Answer { failed } => Ok((buf, failed)),
            _ => {
                inc(bad);
                Err(UpstreamError::Io)
            }
        },
    }
}
