//! The resolver state every task shares, and one query answered: the
//! core's [`Exchange`] driven with the upstreams, the cache and the clock.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

use nat64_core::dns64::wire::rcode;
use nat64_core::dns64::{Answer, Dns64, Exchange, Hit, Outcome, Step};

use crate::cache::{Clock, SharedCache};
use crate::metrics::{inc, Metrics};
use crate::server::TcpConns;
use crate::settings::Settings;
use crate::upstream::Upstreams;
use crate::Error;

/// The resolver state shared by every task.
pub struct Resolver {
    pub(crate) dns64: Dns64,
    upstreams: Upstreams,
    cache: SharedCache,
    clock: Clock,
    /// Metrics.
    pub metrics: Metrics,
    /// UDP queries being answered by tasks (see [`crate::MAX_IN_FLIGHT`]).
    pub(crate) in_flight: AtomicUsize,
    /// The UDP queries in flight that have waited longer than
    /// [`crate::JOSTLE`]: at most half of [`crate::MAX_IN_FLIGHT`]. A slow
    /// query finding no room among them is given up (no answer;
    /// `slow_abandoned`), so that a burst of queries for names whose
    /// servers do not answer, each holding its slot for the whole upstream
    /// timeout, cannot take every slot and starve the names answered in
    /// time (as unbound, which lets half of its queries run to completion
    /// and replaces the others once older than jostle-timeout).
    pub(crate) slow_in_flight: AtomicUsize,
    pub(crate) tcp_conns: TcpConns,
}

impl Resolver {
    /// A resolver for these settings.
    pub fn new(s: &Settings) -> Result<Self, Error> {
        let dns64 = Dns64::new(s.dns64.clone())?;
        let edns = dns64.config().edns_udp_size;
        Ok(Resolver {
            dns64,
            upstreams: Upstreams::new(s.upstreams.clone(), s.timeout, edns),
            cache: SharedCache::new(s.cache_size, s.max_cache_ttl),
            clock: Clock::new(),
            metrics: Metrics::new(s.threads),
            in_flight: AtomicUsize::new(0),
            slow_in_flight: AtomicUsize::new(0),
            tcp_conns: TcpConns::default(),
        })
    }

    /// The DNS64 rules in force.
    pub fn dns64(&self) -> &Dns64 {
        &self.dns64
    }

    /// The answer to one client message, or `None` to stay silent.
    pub async fn handle(&self, msg: &[u8], client: IpAddr, tcp: bool) -> Option<Vec<u8>> {
        let start = Instant::now();
        let r = self.answer(msg, client, tcp).await;
        if r.is_some() {
            let m = self.metrics.mine();
            inc(&m.c.responses);
            m.dns64_latency.record(start.elapsed());
        }
        r
    }

    /// The answer to a UDP query from the cache, written into `out`: the
    /// common case, answered without a task or an allocation. `None` sends
    /// the query the full way ([`Resolver::handle`]).
    pub fn answer_cached(&self, msg: &[u8], client: IpAddr, now: Instant, out: &mut [u8]) -> Option<usize> {
        if !self.cache.enabled() {
            return None;
        }
        let ex = Exchange::new(&self.dns64, msg, client, false);
        match ex.lookup(&self.cache, self.clock.at(now), out)? {
            Hit::Written(n) => {
                inc(&self.metrics.mine().c.cache_hits);
                Some(n)
            }
            Hit::TooBig(_) => None,
        }
    }

    async fn answer(&self, msg: &[u8], client: IpAddr, tcp: bool) -> Option<Vec<u8>> {
        let mut ex = Exchange::new(&self.dns64, msg, client, tcp);
        let mut out = vec![0u8; ex.response_limit()];
        let mut step = ex.start(&self.cache, self.clock.now(), &mut out);
        let outcome = loop {
            match step {
                Step::Done(o) => break o,
                Step::Ask { .. } => {
                    let answer = self.upstreams.ask(&ex, &self.metrics).await;
                    step = ex.on_answer(answer.as_deref(), &self.cache, self.clock.now(), &mut out);
                }
            }
        };
        let c = &self.metrics.mine().c;
        let len = match outcome {
            Outcome::Silent => {
                inc(&c.dropped);
                return None;
            }
            Outcome::Error { len, rcode: rc } => {
                if ex.query().is_some() {
                    inc(&c.cache_misses);
                }
                inc(match rc {
                    rcode::FORMERR => &c.formerr,
                    rcode::NOTIMP => &c.notimp,
                    rcode::BADVERS => &c.badvers,
                    _ => &c.servfail,
                });
                len
            }
            Outcome::Answered { written: w, from_cache } => {
                if from_cache {
                    inc(&c.cache_hits);
                } else {
                    inc(&c.cache_misses);
                    match w.answer {
                        Answer::Synthesized { records } => {
                            inc(&c.synthesized);
                            c.synthesized_records.fetch_add(u64::from(records), Relaxed);
                        }
                        Answer::Filtered { .. } => inc(&c.filtered),
                        Answer::Relayed => inc(&c.relayed),
                        Answer::Empty => inc(&c.empty),
                        Answer::PtrCname => inc(&c.ptr_cname),
                        Answer::Local => inc(&c.local),
                        _ => {}
                    }
                }
                if w.truncated {
                    inc(&c.truncated);
                }
                w.len
            }
        };
        out.truncate(len);
        Some(out)
    }
}
