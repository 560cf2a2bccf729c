//! One client query, from its bytes to the response: the resolution
//! sequence of RFC 6147 section 5.1 as a state machine with no I/O.
//!
//! The caller owns the sockets, the upstreams and their timeouts. It makes
//! an [`Exchange`] for each client message, calls [`Exchange::start`], and
//! while the answer is [`Step::Ask`] sends the upstream query
//! ([`Exchange::write_query`], with a fresh ID for each upstream it tries),
//! checks what comes back ([`Exchange::judge`]) and hands the answer, or
//! `None` when no upstream gave one, to [`Exchange::on_answer`]. The last
//! step is [`Step::Done`] with the response in the caller's buffer.
//!
//! The sequence:
//!
//! - a message that is not a query is dropped; a malformed one gets
//!   FORMERR, another opcode NOTIMP, another EDNS version BADVERS
//!   ([`Query::parse`]);
//! - a fresh cached response is the answer ([`Cache`]);
//! - [`Plan::Local`] (RFC 8880) is answered without asking anyone;
//! - [`Plan::Forward`] (section 5.3.3): the query is asked as it is and the
//!   answer relayed;
//! - [`Plan::Aaaa`] (section 5.1): AAAA is asked; when it gives no usable
//!   record (5.1.2, 5.1.4, 5.1.5, 5.1.6; no answer counts as SERVFAIL,
//!   5.1.3, and so as an empty answer) A is asked too; then the response is
//!   synthesized (5.1.7);
//! - [`Plan::Ptr`] (section 5.3.1): PTR is asked for the `in-addr.arpa`
//!   name; when that gives no answer to build on, the query is forwarded;
//! - a forwarded query without an answer, or an answer that cannot be used,
//!   gets SERVFAIL (section 5.1.3: every upstream failed).
//!
//! A response that is complete and not SERVFAIL is left in the cache.
//!
//! [`OwnedExchange`] is the same machine for callers that cannot keep a
//! borrow of the message and the [`Dns64`] across calls (the Python, Node
//! and C bindings): it owns the message and takes the `Dns64` at each step.

use alloc::vec::Vec;
use core::net::IpAddr;

use super::cache::{Cache, CacheKey, Hit};
use super::wire::{flags, rcode, rtype, Message};
use super::{Decision, Dns64, Dns64Error, Plan, Query, Written};
use crate::nat64::Instant;

/// What the caller does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Ask the upstreams a question of this type ([`Exchange::write_query`]
    /// writes it) and give the answer to [`Exchange::on_answer`].
    Ask {
        /// The question's type (AAAA, A, PTR, or the client's).
        qtype: u16,
    },
    /// Finished.
    Done(Outcome),
}

/// How an exchange ended; the response, if any, is in the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A response: `written.len` bytes.
    Answered {
        /// What it holds (for a response from the cache, which does not
        /// say how it was made: [`Answer::Relayed`](super::Answer::Relayed)).
        written: Written,
        /// Whether it came from the cache.
        from_cache: bool,
    },
    /// An error response (FORMERR, NOTIMP, BADVERS, SERVFAIL): `len` bytes.
    Error {
        /// Its length.
        len: usize,
        /// Its RCODE (extended RCODEs included).
        rcode: u16,
    },
    /// No answer at all: the message is not a query (RFC 1035 section
    /// 7.3: answering responses invites loops).
    Silent,
}

/// How an upstream's message came in, for [`Exchange::judge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// A whole UDP datagram.
    Udp,
    /// A UDP datagram larger than the EDNS payload size the query
    /// advertised (RFC 6891 section 6.2.3: the responder must not send
    /// more), cut to the buffer: only its header is trusted.
    UdpOversized,
    /// A TCP message (RFC 7766).
    Tcp,
}

/// What an upstream's message is to the question asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// Not the answer (not a response, another ID or question, not DNS):
    /// ignore it and keep waiting (RFC 5452 section 9.1).
    Foreign,
    /// The answer was truncated (TC, or oversized): ask the same upstream
    /// over TCP (RFC 7766 section 5, RFC 1035 section 4.2.1).
    Truncated,
    /// The answer. `failed`: it is SERVFAIL or REFUSED, so another
    /// upstream is worth trying; when none does better, it is the answer.
    Answer {
        /// SERVFAIL or REFUSED.
        failed: bool,
    },
}

/// Where an exchange stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Not started.
    New,
    /// Asked the client's question as it is ([`Plan::Forward`], or the PTR
    /// fallback).
    Forward,
    /// Asked AAAA.
    Aaaa,
    /// Asked A, after the AAAA answer.
    A,
    /// Asked PTR for the `in-addr.arpa` name.
    Ptr,
    /// Finished.
    Done,
}

/// How far an exchange has come: all it keeps between steps besides the
/// message (what [`OwnedExchange`] stores while no borrow is held).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Progress {
    state: State,
    /// The AAAA answer, kept while A is asked.
    aaaa: Option<Vec<u8>>,
}

impl Progress {
    const NEW: Progress = Progress {
        state: State::New,
        aaaa: None,
    };
}

/// One client query being answered (see the [module](self) docs).
#[derive(Debug)]
pub struct Exchange<'a> {
    dns64: &'a Dns64,
    msg: &'a [u8],
    /// The checked query and its plan, or the RCODE to refuse it with
    /// (`None`: silence).
    query: Result<(Query<'a>, Plan), Option<u16>>,
    limit: usize,
    state: State,
    /// The AAAA answer, kept while A is asked.
    aaaa: Option<Vec<u8>>,
}

impl<'a> Exchange<'a> {
    /// An exchange for the message `msg` from `client`, over TCP or UDP
    /// (which bounds the response, [`Dns64::response_limit`]).
    pub fn new(dns64: &'a Dns64, msg: &'a [u8], client: IpAddr, tcp: bool) -> Self {
        let (query, limit) = match Query::parse(msg) {
            Ok(q) => {
                let limit = dns64.response_limit(&q, tcp);
                (Ok((q, dns64.plan(&q, client))), limit)
            }
            Err(e) => (Err(e.rcode()), super::wire::MIN_UDP_PAYLOAD),
        };
        Exchange {
            dns64,
            msg,
            query,
            limit,
            state: State::New,
            aaaa: None,
        }
    }

    fn resume(dns64: &'a Dns64, msg: &'a [u8], client: IpAddr, tcp: bool, p: Progress) -> Self {
        let mut ex = Exchange::new(dns64, msg, client, tcp);
        ex.state = p.state;
        ex.aaaa = p.aaaa;
        ex
    }

    fn suspend(self) -> Progress {
        Progress {
            state: self.state,
            aaaa: self.aaaa,
        }
    }

    /// Whether it has finished ([`Step::Done`] was returned).
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The checked query (`None` when it is refused).
    pub fn query(&self) -> Option<&Query<'a>> {
        self.query.as_ref().ok().map(|(q, _)| q)
    }

    /// What DNS64 does with it (`None` when it is refused).
    pub fn plan(&self) -> Option<&Plan> {
        self.query.as_ref().ok().map(|(_, p)| p)
    }

    /// The largest response the client takes: give a buffer at least this
    /// long to [`Exchange::start`] and [`Exchange::on_answer`].
    pub fn response_limit(&self) -> usize {
        self.limit
    }

    /// The query's cache key (`None` when it is refused).
    pub fn cache_key(&self) -> Option<CacheKey> {
        self.query.as_ref().ok().and_then(|(q, p)| CacheKey::for_plan(q, p))
    }

    /// The cached response, if any, for a buffer of `out.len()` bytes
    /// (bounded by [`Exchange::response_limit`]): a resolver's fast path,
    /// which sends the query the full way when this says nothing.
    pub fn lookup(&self, cache: &impl Cache, now: Instant, out: &mut [u8]) -> Option<Hit> {
        let (q, _) = self.query.as_ref().ok()?;
        let key = self.cache_key()?;
        let n = self.limit.min(out.len());
        cache.get(&key, q, now, &mut out[..n])
    }

    /// Begins: the answer from the cache, a local answer or an error
    /// response, or the first question for the upstreams.
    pub fn start(&mut self, cache: &impl Cache, now: Instant, out: &mut [u8]) -> Step {
        if self.state != State::New {
            return self.finish_error(rcode::SERVFAIL, out);
        }
        let (q, plan) = match self.query {
            Ok(qp) => qp,
            Err(Some(rc)) => return self.finish_error(rc, out),
            Err(None) => {
                self.state = State::Done;
                return Step::Done(Outcome::Silent);
            }
        };
        let n = self.limit.min(out.len());
        match self.lookup(cache, now, out) {
            Some(Hit::Written(len)) => {
                return self.done(Written {
                    len,
                    truncated: false,
                    answer: super::Answer::Relayed,
                });
            }
            Some(Hit::TooBig(c)) => {
                if let Ok(w) = self.dns64.relay(&q, &c, &mut out[..n]) {
                    return self.done(w);
                }
            }
            None => {}
        }
        match plan {
            Plan::Forward => self.ask(State::Forward, q.qtype()),
            Plan::Local { synthesize } => {
                let w = self.dns64.answer_local(&q, synthesize, &mut out[..n]);
                self.finish(w, cache, now, out)
            }
            Plan::Aaaa => self.ask(State::Aaaa, rtype::AAAA),
            Plan::Ptr(_) => self.ask(State::Ptr, rtype::PTR),
        }
    }

    /// The name and type of the question being asked.
    fn question(&self) -> Option<(&[u8], u16)> {
        let (q, plan) = self.query.as_ref().ok()?;
        match (self.state, plan) {
            (State::Forward, _) => Some((q.qname_wire(), q.qtype())),
            (State::Aaaa, _) => Some((q.qname_wire(), rtype::AAAA)),
            (State::A, _) => Some((q.qname_wire(), rtype::A)),
            (State::Ptr, Plan::Ptr(target)) => Some((target.wire(), rtype::PTR)),
            _ => None,
        }
    }

    /// Writes the upstream query for the question being asked, with this
    /// ID (unpredictable, RFC 5452 section 9.2; a new one for each
    /// upstream), into `out` (300 bytes always suffice): see
    /// [`Dns64::upstream_query`]. Returns its length.
    pub fn write_query(&self, id: u16, out: &mut [u8]) -> Result<usize, Dns64Error> {
        let (Ok((q, _)), Some((qname, qtype))) = (&self.query, self.question()) else {
            return Err(Dns64Error::NoQuestion);
        };
        self.dns64.upstream_query(q, id, qname, qtype, out)
    }

    /// What an upstream's message `reply` is to the query sent with `id`.
    /// Over TCP, TC is not looked at: the answer is as whole as it gets.
    pub fn judge(&self, id: u16, reply: &[u8], how: Received) -> Reply {
        let (Ok((q, _)), Some((qname, qtype))) = (&self.query, self.question()) else {
            return Reply::Foreign;
        };
        if how == Received::UdpOversized {
            return if reply.len() >= 3 && reply[..2] == id.to_be_bytes() && reply[2] & 0x80 != 0 {
                Reply::Truncated
            } else {
                Reply::Foreign
            };
        }
        let Ok(m) = Message::parse(reply) else {
            return Reply::Foreign;
        };
        if !(m.is_response() && m.id() == id && m.question_is(qname, qtype, q.qclass())) {
            return Reply::Foreign;
        }
        if how == Received::Udp && m.flags() & flags::TC != 0 {
            return Reply::Truncated;
        }
        let rc = m.flags() & 0xf;
        Reply::Answer {
            failed: rc == rcode::SERVFAIL || rc == rcode::REFUSED,
        }
    }

    /// Takes the answer to the question asked (`None`: every upstream timed
    /// out or failed) and says what next. `now` is when it came (for the
    /// cache).
    pub fn on_answer(&mut self, answer: Option<&[u8]>, cache: &impl Cache, now: Instant, out: &mut [u8]) -> Step {
        let Ok((q, plan)) = self.query else {
            return self.finish_error(rcode::SERVFAIL, out);
        };
        let n = self.limit.min(out.len());
        let d = self.dns64;
        let w = match (self.state, plan) {
            (State::Forward, _) => match answer {
                Some(r) => d.relay(&q, r, &mut out[..n]),
                None => return self.finish_error(rcode::SERVFAIL, out),
            },
            (State::Aaaa, _) => match d.needs_a_query(&q, answer) {
                Ok(Decision::Respond) => d.synthesize(&q, answer, None, &mut out[..n]),
                // An AAAA answer that cannot be read is no better than
                // none: A is asked, and the synthesis reports it.
                Ok(Decision::QueryA) | Err(_) => {
                    self.aaaa = answer.map(<[u8]>::to_vec);
                    return self.ask(State::A, rtype::A);
                }
            },
            (State::A, _) => {
                let aaaa = self.aaaa.take();
                d.synthesize(&q, aaaa.as_deref(), answer, &mut out[..n])
            }
            (State::Ptr, Plan::Ptr(target)) => match answer.map(|p| d.synthesize_ptr(&q, &target, p, &mut out[..n])) {
                Some(Ok(Some(w))) => Ok(w),
                // No PTR data to build on: the query goes as it is.
                _ => return self.ask(State::Forward, q.qtype()),
            },
            _ => return self.finish_error(rcode::SERVFAIL, out),
        };
        self.finish(w, cache, now, out)
    }

    fn ask(&mut self, state: State, qtype: u16) -> Step {
        self.state = state;
        Step::Ask { qtype }
    }

    fn done(&mut self, written: Written) -> Step {
        self.state = State::Done;
        Step::Done(Outcome::Answered {
            written,
            from_cache: true,
        })
    }

    /// A written response (cached unless truncated or SERVFAIL), or
    /// SERVFAIL when none could be written.
    fn finish(&mut self, w: Result<Written, Dns64Error>, cache: &impl Cache, now: Instant, out: &mut [u8]) -> Step {
        let Ok(w) = w else {
            return self.finish_error(rcode::SERVFAIL, out);
        };
        self.state = State::Done;
        if let Some(max) = cache.max_ttl() {
            super::cache::cap_ttls(&mut out[..w.len], max);
        }
        if !w.truncated && u16::from(out[3] & 0xf) != rcode::SERVFAIL {
            if let Some(key) = self.cache_key() {
                cache.put(&key, &out[..w.len], now);
            }
        }
        Step::Done(Outcome::Answered {
            written: w,
            from_cache: false,
        })
    }

    fn finish_error(&mut self, rc: u16, out: &mut [u8]) -> Step {
        self.state = State::Done;
        let n = self.limit.min(out.len());
        match self.dns64.error_response(self.msg, rc, &mut out[..n]) {
            Ok(Some(len)) => Step::Done(Outcome::Error { len, rcode: rc }),
            _ => Step::Done(Outcome::Silent),
        }
    }
}

/// An [`Exchange`] that owns a copy of the client's message and keeps no
/// borrow between steps: each step takes the [`Dns64`] (the same one each
/// time; the query is checked and planned again at each step, which costs
/// a parse of one message). For bindings and callers that store exchanges
/// in maps keyed by upstream query ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedExchange {
    msg: Vec<u8>,
    client: IpAddr,
    tcp: bool,
    progress: Progress,
}

impl OwnedExchange {
    /// An exchange for the message `msg` from `client`, over TCP or UDP.
    pub fn new(msg: &[u8], client: IpAddr, tcp: bool) -> Self {
        OwnedExchange {
            msg: msg.to_vec(),
            client,
            tcp,
            progress: Progress::NEW,
        }
    }

    /// The client's message.
    pub fn message(&self) -> &[u8] {
        &self.msg
    }

    /// The client's address.
    pub fn client(&self) -> IpAddr {
        self.client
    }

    /// Whether the client asked over TCP.
    pub fn tcp(&self) -> bool {
        self.tcp
    }

    /// Whether it has finished ([`Step::Done`] was returned).
    pub fn is_done(&self) -> bool {
        self.progress.state == State::Done
    }

    /// Runs `f` on the borrowed form, then keeps how far it came.
    fn step<R>(&mut self, dns64: &Dns64, f: impl FnOnce(&mut Exchange<'_>) -> R) -> R {
        let p = core::mem::replace(&mut self.progress, Progress::NEW);
        let mut ex = Exchange::resume(dns64, &self.msg, self.client, self.tcp, p);
        let r = f(&mut ex);
        self.progress = ex.suspend();
        r
    }

    /// Runs `f` on the borrowed form without changing it.
    fn view<R>(&self, dns64: &Dns64, f: impl FnOnce(&Exchange<'_>) -> R) -> R {
        let mut ex = Exchange::new(dns64, &self.msg, self.client, self.tcp);
        ex.state = self.progress.state;
        f(&ex)
    }

    /// See [`Exchange::plan`].
    pub fn plan(&self, dns64: &Dns64) -> Option<Plan> {
        self.view(dns64, |ex| ex.plan().copied())
    }

    /// See [`Exchange::response_limit`].
    pub fn response_limit(&self, dns64: &Dns64) -> usize {
        self.view(dns64, |ex| ex.response_limit())
    }

    /// See [`Exchange::cache_key`].
    pub fn cache_key(&self, dns64: &Dns64) -> Option<CacheKey> {
        self.view(dns64, |ex| ex.cache_key())
    }

    /// See [`Exchange::start`].
    pub fn start(&mut self, dns64: &Dns64, cache: &impl Cache, now: Instant, out: &mut [u8]) -> Step {
        self.step(dns64, |ex| ex.start(cache, now, out))
    }

    /// See [`Exchange::write_query`].
    pub fn write_query(&self, dns64: &Dns64, id: u16, out: &mut [u8]) -> Result<usize, Dns64Error> {
        self.view(dns64, |ex| ex.write_query(id, out))
    }

    /// See [`Exchange::judge`].
    pub fn judge(&self, dns64: &Dns64, id: u16, reply: &[u8], how: Received) -> Reply {
        self.view(dns64, |ex| ex.judge(id, reply, how))
    }

    /// See [`Exchange::on_answer`].
    pub fn on_answer(
        &mut self,
        dns64: &Dns64,
        answer: Option<&[u8]>,
        cache: &impl Cache,
        now: Instant,
        out: &mut [u8],
    ) -> Step {
        self.step(dns64, |ex| ex.on_answer(answer, cache, now, out))
    }
}
