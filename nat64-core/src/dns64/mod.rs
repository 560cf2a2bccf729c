//! DNS64 (RFC 6147): AAAA records synthesized from A records, on DNS wire
//! format, with no I/O and no clock.
//!
//! The caller (a resolver such as `nat64 dns64`) owns the sockets, the
//! clock and the cache's storage; this module owns the rules. An
//! [`Exchange`] takes one client query through them (see [`exchange`]):
//! it says what to ask the upstreams, takes their answers (or their
//! absence), and writes the response. Its steps are these functions, which
//! a caller may also use on its own:
//!
//! 1. [`Query::parse`] checks the query (or says which error RCODE to answer).
//! 2. [`Dns64::plan`] says what to do: forward it unchanged ([`Plan::Forward`],
//!    RFC 6147 section 5.3.3), answer it here ([`Plan::Local`], RFC 8880),
//!    resolve a AAAA query with synthesis ([`Plan::Aaaa`], section 5.1) or a
//!    PTR query under a pool6 prefix ([`Plan::Ptr`], section 5.3.1).
//! 3. For [`Plan::Aaaa`]: send [`Dns64::upstream_query`] for AAAA, give the
//!    answer (or `None` after a timeout, section 5.1.3) to
//!    [`Dns64::needs_a_query`]; on [`Decision::QueryA`] also ask for A; then
//!    [`Dns64::synthesize`] writes the response into the caller's buffer.
//!
//! Responses are cached ([`cache`]) for the TTL of RFC 2181 section 8 and
//! RFC 2308 section 5; the cache takes `now` as an argument.
//!
//! A PTR query for an `ip6.arpa` name under a synthesis prefix
//! ([`Plan::Ptr`]) is answered from the PTR query for the matching
//! `in-addr.arpa` name: a CNAME to it when it has PTR data, and its NXDOMAIN
//! or empty answer (with its SOA) for the `ip6.arpa` name when it has none
//! ([`Dns64::synthesize_ptr`]).
//!
//! DNSSEC (section 5.5): a client that sets both CD and DO gets no synthesis
//! (item 3: its query is forwarded and the answer relayed, AD as the
//! upstream set it); a client that sets CD alone gets synthesis, with the
//! upstream queries carrying CD, and never AD on a synthesized answer. A
//! synthesized answer carries AD only behind an upstream the operator marks
//! as validating ([`Dns64Config::upstream_validates`]), for a client that
//! set DO and not CD, when the negative AAAA answer and the A answer both
//! carried AD (item 2); relayed upstream answers keep the upstream's AD,
//! except when excluded AAAA records were removed (section 5.1.4).
//!
//! `translate_all` (section 5.1.1's non-default option, Appendix A): AAAA
//! records are synthesized from the A records even when real AAAA records
//! exist, and replace them; a name with real AAAA records and nothing to
//! synthesize from (no A record, none a prefix is used for, or a failed A
//! query) keeps its real, non-excluded AAAA records (see
//! [`Dns64Config::translate_all`]).
//!
//! Every function that writes a response honours the length of the buffer it
//! is given: when the full response does not fit, it writes a truncated one
//! (TC set, RFC 1035 section 4.2.1 / RFC 2181 section 9) so the client retries
//! over TCP. [`Dns64::response_limit`] gives the right length for UDP
//! (RFC 6891 section 6.2.5) and TCP.
//!
//! ```
//! use nat64_core::dns64::{Dns64, Dns64Config, Exchange, NoCache, Outcome, Received, Reply, Step};
//! use nat64_core::nat64::Instant;
//! let dns64 = Dns64::new(Dns64Config::default()).unwrap(); // 64:ff9b::/96
//! // A client's AAAA query for example.net (ID 0x1234, RD set).
//! let name = b"\x07example\x03net\x00";
//! let query = [&[0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0][..], name, &[0, 28, 0, 1]].concat();
//! let mut ex = Exchange::new(&dns64, &query, "2001:db8::1".parse().unwrap(), false);
//! let mut out = vec![0u8; ex.response_limit()];
//! let now = Instant::from_secs(1);
//! assert_eq!(ex.start(&NoCache, now, &mut out), Step::Ask { qtype: 28 });
//! // An upstream answer with this ID: QR RD RA, `an` answers, the question.
//! let answer = |id: u16, qtype: u8, an: u8, records: &[u8]| {
//!     let h = [(id >> 8) as u8, id as u8, 0x81, 0x80, 0, 1, 0, an, 0, 0, 0, 0];
//!     [&h[..], name, &[0, qtype, 0, 1], records].concat()
//! };
//! let mut up = [0u8; 300];
//! ex.write_query(0xbeef, &mut up).unwrap(); // sent to the upstream
//! let aaaa = answer(0xbeef, 28, 0, &[]); // NOERROR, no AAAA record
//! assert_eq!(ex.judge(0xbeef, &aaaa, Received::Udp), Reply::Answer { failed: false });
//! // RFC 6147 section 5.1.6: no AAAA, so A is asked.
//! assert_eq!(ex.on_answer(Some(&aaaa), &NoCache, now, &mut out), Step::Ask { qtype: 1 });
//! ex.write_query(0xcafe, &mut up).unwrap();
//! let a = answer(0xcafe, 1, 1, &[0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 34]);
//! let Step::Done(Outcome::Answered { written, .. }) = ex.on_answer(Some(&a), &NoCache, now, &mut out) else {
//!     panic!("a response")
//! };
//! // One AAAA record, 64:ff9b::93.184.216.34, ends the response.
//! let synthesized: std::net::Ipv6Addr = "64:ff9b::5db8:d822".parse().unwrap();
//! assert_eq!(out[written.len - 16..written.len], synthesized.octets());
//! ```

pub mod cache;
mod config;
pub mod discovery;
pub mod exchange;
mod query;
pub mod reverse;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod wire;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_exchange;
#[cfg(test)]
mod tests_options;

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::addr::{is_non_global_v4, Prefix64};
pub use cache::{Cache, CacheKey, CachedResponse, Hit, NoCache, ResponseCache};
use config::unmap;
pub use config::{default_exclude, ClientPrefix, Dns64Config, Dns64ConfigError, Dns64Options, MappedRange, PrefixRule};
use discovery::{IPV4ONLY_ARPA, WELL_KNOWN_IPV4};
pub use exchange::{Exchange, Outcome, OwnedExchange, Received, Reply, Step};
pub use query::{Query, QueryError};
use reverse::{parse_in_addr_arpa, parse_ip6_arpa, InAddrName};
use wire::{
    flags, name_eq, negative_ttl, rcode, rtype, strip_suffix, CopyError, Message, Section, WireError, Writer, CLASS_IN,
    HEADER_LEN, MIN_UDP_PAYLOAD,
};

/// RFC 6147 section 5.1.7: without an SOA in the negative AAAA answer, a
/// synthesized record lives at most 600 seconds.
pub const NO_SOA_TTL_CAP: u32 = 600;

/// TTL of the records this module answers for the RFC 8880 names.
pub const LOCAL_TTL: u32 = 86400;

/// The EDNS UDP payload size we advertise and accept by default: the 2020
/// DNS Flag Day value, which avoids IP fragmentation on common paths.
pub const DEFAULT_EDNS_UDP_SIZE: u16 = 1232;

/// `::ffff:0:0/96`, excluded from AAAA answers by default (RFC 6147 section
/// 5.1.4).
pub const IPV4_MAPPED: Ipv6Addr = Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0);

/// What an error of [`Dns64`] means for the response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Dns64Error {
    /// An upstream response is not valid DNS.
    #[error("the upstream {which} response is not valid DNS ({err}): answer SERVFAIL or try another upstream")]
    UpstreamMalformed {
        /// Which response (`"AAAA"`, `"A"`, `"PTR"`, `"forwarded"`).
        which: &'static str,
        /// What is wrong.
        err: WireError,
    },
    /// An upstream message is a query, not a response.
    #[error("the upstream {which} message has QR clear: it is a query, not a response; discard it")]
    NotAResponse {
        /// Which response.
        which: &'static str,
    },
    /// An upstream response does not answer the question we asked.
    #[error(
        "the upstream {which} response answers another question than the one asked: \
         discard it (spoofed, or a broken upstream) and wait for the real one"
    )]
    QuestionMismatch {
        /// Which response.
        which: &'static str,
    },
    /// Neither upstream answer is there.
    #[error("no upstream answer to build a response from: answer SERVFAIL (RFC 6147 section 5.1.3)")]
    NoAnswer,
    /// [`Exchange::write_query`](exchange::Exchange::write_query) was
    /// called when no question is pending (before the start, or after the
    /// end, or for a refused query).
    #[error("no upstream question is pending: write a query only after a step that asks one (start or on_answer)")]
    NoQuestion,
    /// The output buffer is too small even for a truncated response.
    #[error("output buffer of {len} bytes cannot hold even a truncated response: pass at least 512 bytes")]
    BufferTooSmall {
        /// Its length.
        len: usize,
    },
}

/// What to do with a client query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Not DNS64's business (another type or class, a client DNS64 does not
    /// serve, or CD and DO both set, RFC 6147 section 5.5 item 3): forward
    /// and [`Dns64::relay`] the answer (section 5.3.3).
    Forward,
    /// An RFC 8880 name: [`Dns64::answer_local`] answers it without asking
    /// anyone; `synthesize` says whether AAAA records are synthesized.
    Local {
        /// Whether this client gets DNS64.
        synthesize: bool,
    },
    /// A AAAA query in class IN: RFC 6147 section 5.1.
    Aaaa,
    /// A PTR query for an address under a synthesis prefix (section
    /// 5.3.1): resolve PTR for this `in-addr.arpa` name, then
    /// [`Dns64::synthesize_ptr`] (a CNAME, or the negative answer for the
    /// `ip6.arpa` name; `None`: forward the query as it is).
    Ptr(InAddrName),
}

/// After the AAAA answer: what next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The AAAA answer is the basis of the response: real AAAA records
    /// (section 5.1.1, excluded ones removed, 5.1.4) or NXDOMAIN (5.1.2).
    /// Call [`Dns64::synthesize`] with no A response.
    Respond,
    /// No usable AAAA: ask for A records of the same name (sections 5.1.2,
    /// 5.1.4, 5.1.5, 5.1.6), then call [`Dns64::synthesize`].
    QueryA,
}

/// What a written response holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// An upstream response relayed (RFC 6147 sections 5.1.1, 5.1.2, 5.3.3).
    Relayed,
    /// The upstream AAAA response without `removed` excluded AAAA records
    /// (section 5.1.4).
    Filtered {
        /// How many were removed.
        removed: u16,
    },
    /// `records` synthesized AAAA records (section 5.1.7).
    Synthesized {
        /// How many.
        records: u16,
    },
    /// Nothing to synthesize: the empty answer or error of the A query (or
    /// of the AAAA query) is the response (section 5.1.6); or, to a PTR
    /// query under a synthesis prefix, the NXDOMAIN or empty answer of its
    /// `in-addr.arpa` name (section 5.3.1, see [`Dns64::synthesize_ptr`]).
    Empty,
    /// A CNAME from `ip6.arpa` to `in-addr.arpa` (section 5.3.1).
    PtrCname,
    /// An RFC 8880 name answered here.
    Local,
    /// An error response written by [`Dns64::error_response`].
    Error,
}

impl Answer {
    /// A stable lowercase name for it (`relayed`, `filtered`,
    /// `synthesized`, `empty`, `ptr_cname`, `local`, `error`): the form
    /// the bindings, logs and metrics show.
    pub const fn label(&self) -> &'static str {
        match self {
            Answer::Relayed => "relayed",
            Answer::Filtered { .. } => "filtered",
            Answer::Synthesized { .. } => "synthesized",
            Answer::Empty => "empty",
            Answer::PtrCname => "ptr_cname",
            Answer::Local => "local",
            Answer::Error => "error",
        }
    }

    /// The records it counts: synthesized, or removed for `Filtered`;
    /// 0 for the others.
    pub const fn records(&self) -> u16 {
        match *self {
            Answer::Filtered { removed } => removed,
            Answer::Synthesized { records } => records,
            _ => 0,
        }
    }
}

/// A response written into the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Its length.
    pub len: usize,
    /// Whether it did not fit and was truncated (TC set, sections empty).
    pub truncated: bool,
    /// What it holds.
    pub answer: Answer,
}

/// The DNS64 function, configured once and then shared (it holds no state
/// that changes).
#[derive(Clone, Debug)]
pub struct Dns64 {
    cfg: Dns64Config,
}

/// The records of a response body: answer, authority, additional counts.
type Counts = [u16; 3];

#[derive(Clone, Copy)]
enum Special {
    /// `ipv4only.arpa.` itself.
    Ipv4Only,
    /// A name below it: does not exist.
    BelowIpv4Only,
    /// `170.0.0.192.in-addr.arpa.` or `171.0.0.192.in-addr.arpa.`
    Reverse,
}

fn special(name: &[u8]) -> Option<Special> {
    match strip_suffix(name, 0, IPV4ONLY_ARPA) {
        Some(0) => return Some(Special::Ipv4Only),
        Some(_) => return Some(Special::BelowIpv4Only),
        None => {}
    }
    match parse_in_addr_arpa(name, 0) {
        Some(a) if WELL_KNOWN_IPV4.contains(&a) => Some(Special::Reverse),
        _ => None,
    }
}

impl Dns64 {
    /// Checks the configuration.
    pub fn new(mut cfg: Dns64Config) -> Result<Self, Dns64ConfigError> {
        cfg.check()?;
        if cfg.prefixes.is_empty() {
            // RFC 6147 section 5.2: without a configured prefix, the
            // Well-Known Prefix.
            cfg.prefixes.push(PrefixRule::new(Prefix64::well_known()));
        }
        Ok(Dns64 { cfg })
    }

    /// The configuration in force (the Well-Known Prefix filled in).
    pub fn config(&self) -> &Dns64Config {
        &self.cfg
    }

    /// Whether a client gets DNS64: the client ACL, and for IPv4 clients
    /// `allow_ipv4`.
    pub fn serves(&self, client: IpAddr) -> bool {
        let c = unmap(client);
        if c.is_ipv4() && !self.cfg.allow_ipv4 {
            return false;
        }
        self.cfg.clients.is_empty() || self.cfg.clients.iter().any(|p| p.contains(c))
    }

    /// The largest response for this query: 65535 over TCP; over UDP 512, or
    /// with EDNS the client's size bounded by ours (RFC 6891 section 6.2.5).
    pub fn response_limit(&self, query: &Query<'_>, tcp: bool) -> usize {
        if tcp {
            return 65535;
        }
        match query.edns() {
            Some(e) => usize::from(e.udp_size.clamp(512, self.cfg.edns_udp_size)),
            None => MIN_UDP_PAYLOAD,
        }
    }

    /// What to do with a query from `client`.
    pub fn plan(&self, query: &Query<'_>, client: IpAddr) -> Plan {
        let serves = self.serves(client) && !(query.checking_disabled() && query.dnssec_ok());
        if query.qclass() != CLASS_IN {
            // RFC 6147 section 5.1: other classes behave as with no DNS64.
            return Plan::Forward;
        }
        let qname = query.qname_wire();
        if special(qname).is_some() {
            return Plan::Local { synthesize: serves };
        }
        if !serves {
            return Plan::Forward;
        }
        match query.qtype() {
            rtype::AAAA => Plan::Aaaa,
            rtype::PTR => match parse_ip6_arpa(qname, 0)
                .and_then(|a| self.cfg.prefixes.iter().find_map(|r| r.prefix.extract(a)))
            {
                Some(v4) => Plan::Ptr(InAddrName::new(v4)),
                None => Plan::Forward,
            },
            _ => Plan::Forward,
        }
    }

    /// The query to send upstream for `qname`/`qtype` on behalf of `query`:
    /// RD set, CD and DO as the client set them (RFC 6147 section 5.5), our
    /// EDNS UDP size. Returns its length.
    pub fn upstream_query(
        &self,
        query: &Query<'_>,
        id: u16,
        qname: &[u8],
        qtype: u16,
        out: &mut [u8],
    ) -> Result<usize, Dns64Error> {
        let len = out.len();
        let mut w = Writer::new(out);
        let f = flags::RD | (query.message().flags() & (flags::CD | flags::AD));
        let ok = (|| {
            w.header(id, f)?;
            w.name(qname, 0, false)?;
            w.u16(qtype)?;
            w.u16(query.qclass())?;
            w.opt(self.cfg.edns_udp_size, 0, query.dnssec_ok())
        })();
        if ok.is_err() {
            return Err(Dns64Error::BufferTooSmall { len });
        }
        w.set_counts(1, 0, 0, 1);
        Ok(w.finish())
    }

    fn excluded(&self, a: Ipv6Addr) -> bool {
        self.cfg.exclude.iter().any(|p| p.contains(a))
    }

    fn aaaa_of(buf: &[u8], rr: &wire::Rr) -> Option<Ipv6Addr> {
        let rd = rr.rdata(buf);
        if rr.rtype != rtype::AAAA || rr.class != CLASS_IN || rd.len() != 16 {
            return None;
        }
        let mut o = [0u8; 16];
        o.copy_from_slice(rd);
        Some(Ipv6Addr::from(o))
    }

    fn a_of(buf: &[u8], rr: &wire::Rr) -> Option<Ipv4Addr> {
        let rd = rr.rdata(buf);
        if rr.rtype != rtype::A || rr.class != CLASS_IN || rd.len() != 4 {
            return None;
        }
        Some(Ipv4Addr::new(rd[0], rd[1], rd[2], rd[3]))
    }

    /// The prefixes an IPv4 address is synthesized under: the rules that
    /// [map](PrefixRule::maps) it (section 5.1.7: "check each A RR against
    /// configured IPv4 address ranges and select the corresponding IPv6
    /// prefix"), less the Well-Known Prefix for non-global addresses (RFC
    /// 6052 section 3.1).
    fn rules_for(&self, v4: Ipv4Addr) -> impl Iterator<Item = &PrefixRule> + '_ {
        let non_global = !self.cfg.allow_non_global && is_non_global_v4(v4);
        self.cfg
            .prefixes
            .iter()
            .filter(move |r| r.maps(v4) && !(non_global && r.prefix.is_well_known()))
    }

    fn check<'r>(
        query: &Query<'_>,
        bytes: &'r [u8],
        qname: &[u8],
        qtype: u16,
        which: &'static str,
    ) -> Result<Message<'r>, Dns64Error> {
        let m = Message::parse(bytes).map_err(|err| Dns64Error::UpstreamMalformed { which, err })?;
        if !m.is_response() {
            return Err(Dns64Error::NotAResponse { which });
        }
        if !m.question_is(qname, qtype, query.qclass()) {
            return Err(Dns64Error::QuestionMismatch { which });
        }
        Ok(m)
    }

    fn aaaa_decision(&self, m: &Message<'_>) -> Decision {
        match m.rcode() {
            // Section 5.1.2: NXDOMAIN is returned as it is.
            rcode::NXDOMAIN => return Decision::Respond,
            rcode::NOERROR => {}
            // Section 5.1.2: any other RCODE is an empty NOERROR answer.
            _ => return Decision::QueryA,
        }
        if self.cfg.translate_all {
            return Decision::QueryA;
        }
        // Sections 5.1.1 and 5.1.4: real, non-excluded AAAA data wins.
        if self.has_usable_aaaa(m) {
            Decision::Respond
        } else {
            Decision::QueryA
        }
    }

    /// RFC 6147 sections 5.1.1 to 5.1.5: whether the AAAA answer is the
    /// response or an A query is needed. `None` means the AAAA query timed
    /// out, which section 5.1.3 treats as SERVFAIL and so (5.1.2) as an
    /// empty answer.
    pub fn needs_a_query(&self, query: &Query<'_>, aaaa_response: Option<&[u8]>) -> Result<Decision, Dns64Error> {
        let Some(bytes) = aaaa_response else {
            return Ok(Decision::QueryA);
        };
        let m = Self::check(query, bytes, query.qname_wire(), rtype::AAAA, "AAAA")?;
        Ok(self.aaaa_decision(&m))
    }

    /// Writes the response to a AAAA query (RFC 6147 sections 5.1 and 5.4)
    /// from the upstream AAAA answer (`None`: timed out) and, after
    /// [`Decision::QueryA`], the A answer for the same name (`None`: timed
    /// out or not asked).
    ///
    /// - Real AAAA data or NXDOMAIN: the AAAA answer, excluded AAAA records
    ///   removed (5.1.1, 5.1.2, 5.1.4).
    /// - A records: each becomes one AAAA per applicable prefix (5.1.7, 5.2),
    ///   in place, with TTL min(A TTL, negative TTL of the AAAA answer's SOA),
    ///   or min(A TTL, 600) without SOA (5.1.7); the CNAME/DNAME chain is kept
    ///   (5.1.5); RRSIGs over the A RRset are dropped; authority and
    ///   additional come from the A answer unchanged (5.3.2, 5.4); AD is clear
    ///   unless [`Dns64Config::upstream_validates`] and the rule of section
    ///   5.5 item 2 (DO set, CD clear, both upstream answers with AD) allow it.
    /// - With `translate_all`, a name whose AAAA answer holds real AAAA
    ///   records but whose A answer gives nothing to synthesize (no A record,
    ///   none a prefix is used for, an error, or no answer) gets its real
    ///   AAAA records (less the excluded ones): the operator's choice of section 5.1.1 replaces real
    ///   records by synthesized ones, it does not hide names that have only
    ///   IPv6; exclusion is what [`Dns64Config::exclude`] is for (5.1.4).
    /// - No A record to use: the empty answer or error is the response
    ///   (5.1.6): the AAAA answer if it was an empty NOERROR, else the A
    ///   answer's RCODE, chain, authority and additional.
    pub fn synthesize(
        &self,
        query: &Query<'_>,
        aaaa_response: Option<&[u8]>,
        a_response: Option<&[u8]>,
        out: &mut [u8],
    ) -> Result<Written, Dns64Error> {
        let qname = query.qname_wire();
        let aaaa = match aaaa_response {
            Some(b) => Some(Self::check(query, b, qname, rtype::AAAA, "AAAA")?),
            None => None,
        };
        if let Some(m) = &aaaa {
            if self.aaaa_decision(m) == Decision::Respond {
                return self.copy_aaaa(query, m, out);
            }
        }
        let aaaa_nodata = aaaa.as_ref().filter(|m| m.rcode() == rcode::NOERROR);
        let Some(a_bytes) = a_response else {
            return match aaaa_nodata {
                Some(m) => self.copy_aaaa(query, m, out),
                None => Err(Dns64Error::NoAnswer),
            };
        };
        let am = Self::check(query, a_bytes, qname, rtype::A, "A")?;
        let abuf = am.bytes();
        let n: usize = am
            .records(Section::Answer)
            .filter_map(|rr| Self::a_of(abuf, &rr))
            .map(|v4| self.rules_for(v4).count())
            .sum();
        if am.rcode() != rcode::NOERROR || n == 0 {
            if let Some(m) = aaaa_nodata {
                // Under translate_all the AAAA answer may hold real records:
                // with nothing to replace them by, they are the answer,
                // whatever became of the A query.
                let real = self.has_usable_aaaa(m);
                if am.rcode() == rcode::NOERROR || real {
                    let mut w = self.copy_aaaa(query, m, out)?;
                    if w.answer == Answer::Relayed && !real {
                        w.answer = Answer::Empty;
                    }
                    return Ok(w);
                }
            }
            // The A answer's empty result or error, A records left out.
            return self.emit(query, false, am.rcode(), Answer::Empty, "A", out, |w| {
                let mut an = 0;
                for rr in am.records(Section::Answer) {
                    if rr.rtype == rtype::A || covers(abuf, &rr, rtype::A) {
                        continue;
                    }
                    w.record(abuf, &rr, rr.ttl)?;
                    an += 1;
                }
                let (ns, ar) = copy_tail(w, &am)?;
                Ok([an, ns, ar])
            });
        }
        // Section 5.1.7: TTL cap from the SOA of the negative AAAA answer.
        let cap = aaaa_nodata.and_then(negative_ttl).unwrap_or(NO_SOA_TTL_CAP);
        let records = n.min(usize::from(u16::MAX)) as u16;
        let ad = self.synthesized_ad(query, aaaa_nodata, &am);
        self.emit(
            query,
            ad,
            rcode::NOERROR,
            Answer::Synthesized { records },
            "A",
            out,
            |w| {
                let mut an: u16 = 0;
                for rr in am.records(Section::Answer) {
                    if let Some(v4) = Self::a_of(abuf, &rr) {
                        let ttl = rr.ttl.min(cap);
                        for r in self.rules_for(v4) {
                            w.name(abuf, rr.name, true)?;
                            w.u16(rtype::AAAA)?;
                            w.u16(CLASS_IN)?;
                            w.u32(ttl)?;
                            w.u16(16)?;
                            w.bytes(&r.prefix.embed(v4).octets())?;
                            an = an.saturating_add(1);
                        }
                    } else if rr.rtype == rtype::A || covers(abuf, &rr, rtype::A) {
                        // A records of other classes, and signatures that cannot
                        // cover synthesized data.
                    } else {
                        w.record(abuf, &rr, rr.ttl)?;
                        an = an.saturating_add(1);
                    }
                }
                let (ns, ar) = copy_tail(w, &am)?;
                Ok([an, ns, ar])
            },
        )
    }

    /// Whether a synthesized answer carries AD (RFC 6147 section 5.5).
    ///
    /// Only behind an upstream the operator says validates
    /// ([`Dns64Config::upstream_validates`]: we validate nothing ourselves,
    /// so the upstream's AD is the only evidence), and only for a client that
    /// set DO and not CD (item 2; item 1: without DO, "MUST NOT set the AD
    /// bit in any response"; with CD and DO there is no synthesis at all,
    /// item 3, see [`Plan::Forward`]; with CD alone the upstream was asked
    /// with CD and validated nothing). Both answers the synthesis rests on
    /// must have carried AD: the negative AAAA answer (item 2: "it MUST
    /// validate the negative answer for AAAA queries before proceeding to
    /// query for A records", so a AAAA query that timed out, failed, or
    /// returned usable AAAA records replaced under `translate_all` does not
    /// qualify) and the A answer.
    fn synthesized_ad(&self, query: &Query<'_>, aaaa_nodata: Option<&Message<'_>>, a: &Message<'_>) -> bool {
        let ad = |m: &Message<'_>| m.flags() & flags::AD != 0;
        self.cfg.upstream_validates
            && query.dnssec_ok()
            && !query.checking_disabled()
            && ad(a)
            && aaaa_nodata.is_some_and(|m| ad(m) && !self.has_usable_aaaa(m))
    }

    /// Whether an answer holds a AAAA record outside the excluded ranges
    /// (sections 5.1.1 and 5.1.4).
    fn has_usable_aaaa(&self, m: &Message<'_>) -> bool {
        let buf = m.bytes();
        m.records(Section::Answer)
            .any(|rr| Self::aaaa_of(buf, &rr).is_some_and(|a| !self.excluded(a)))
    }

    /// The AAAA answer without its excluded records (section 5.1.4: "MUST
    /// NOT return the offending AAAA records"); their RRSIGs go too, and AD
    /// is cleared, when any was removed.
    fn copy_aaaa(&self, query: &Query<'_>, m: &Message<'_>, out: &mut [u8]) -> Result<Written, Dns64Error> {
        let buf = m.bytes();
        let removed = m
            .records(Section::Answer)
            .filter(|rr| Self::aaaa_of(buf, rr).is_some_and(|a| self.excluded(a)))
            .count() as u16;
        let answer = if removed > 0 {
            Answer::Filtered { removed }
        } else {
            Answer::Relayed
        };
        let ad = removed == 0 && m.flags() & flags::AD != 0;
        self.emit(query, ad, m.rcode(), answer, "AAAA", out, |w| {
            let mut an = 0;
            for rr in m.records(Section::Answer) {
                let drop = if removed > 0 {
                    Self::aaaa_of(buf, &rr).is_some_and(|a| self.excluded(a)) || covers(buf, &rr, rtype::AAAA)
                } else {
                    false
                };
                if !drop {
                    w.record(buf, &rr, rr.ttl)?;
                    an += 1;
                }
            }
            let (ns, ar) = copy_tail(w, m)?;
            Ok([an, ns, ar])
        })
    }

    /// Relays an upstream response to a forwarded query (RFC 6147 section
    /// 5.3.3: "all other RRs MUST be returned unchanged"): the client's ID
    /// and question spelling, our EDNS, the records as they came.
    pub fn relay(&self, query: &Query<'_>, response: &[u8], out: &mut [u8]) -> Result<Written, Dns64Error> {
        let m = Self::check(query, response, query.qname_wire(), query.qtype(), "forwarded")?;
        let ad = m.flags() & flags::AD != 0;
        self.emit(query, ad, m.rcode(), Answer::Relayed, "forwarded", out, |w| {
            let buf = m.bytes();
            let mut an = 0;
            for rr in m.records(Section::Answer) {
                w.record(buf, &rr, rr.ttl)?;
                an += 1;
            }
            let (ns, ar) = copy_tail(w, &m)?;
            Ok([an, ns, ar])
        })
    }

    /// RFC 6147 section 5.3.1, second option: the answer to a PTR query for
    /// an address under a synthesis prefix, from the upstream's `response`
    /// to the PTR query for `target` (the `in-addr.arpa` name of
    /// [`Plan::Ptr`]):
    ///
    /// - PTR records at `target`: a CNAME from the question's `ip6.arpa`
    ///   name to `target`, followed by the upstream's answer
    ///   ([`Answer::PtrCname`]).
    /// - `target` does not exist (NXDOMAIN) or has no PTR record (NOERROR,
    ///   no data): the same RCODE for the question's `ip6.arpa` name, with an
    ///   empty answer and the upstream's SOA record in the authority section
    ///   ([`Answer::Empty`]). The section's SHOULD forbids a CNAME pointing
    ///   at nothing, and the `ip6.arpa` name of an address under a synthesis
    ///   prefix exists only as the image of its `in-addr.arpa` name: asking
    ///   the global DNS for it would at best repeat this answer and usually
    ///   run into an unresolvable or lame part of the `ip6.arpa` tree (a
    ///   timeout, then SERVFAIL). The SOA is the one of the `in-addr.arpa`
    ///   zone that said so (RFC 2308 section 3: a negative answer carries
    ///   the SOA, whose TTL and MINIMUM bound how long it may be cached,
    ///   section 5); its RRSIGs and NSEC/NSEC3 records prove nothing about
    ///   the `ip6.arpa` name and are left out, and AD is clear.
    ///
    /// `None` for any other answer (another RCODE, or a CNAME or DNAME at
    /// `target`: the section's SHOULD against a longer CNAME chain): then
    /// forward the original query and relay the answer.
    pub fn synthesize_ptr(
        &self,
        query: &Query<'_>,
        target: &InAddrName,
        response: &[u8],
        out: &mut [u8],
    ) -> Result<Option<Written>, Dns64Error> {
        let tw = target.wire();
        let m = Self::check(query, response, tw, rtype::PTR, "PTR")?;
        let rc = m.rcode();
        if rc != rcode::NOERROR && rc != rcode::NXDOMAIN {
            return Ok(None);
        }
        let buf = m.bytes();
        let mut ttl = None::<u32>;
        for rr in m.records(Section::Answer) {
            if rr.rtype == rtype::DNAME || (rr.rtype == rtype::CNAME && name_eq(buf, rr.name, tw, 0)) {
                return Ok(None);
            }
            if rr.rtype == rtype::PTR && name_eq(buf, rr.name, tw, 0) {
                ttl = Some(ttl.map_or(rr.ttl, |t| t.min(rr.ttl)));
            }
        }
        let Some(ttl) = ttl.filter(|_| rc == rcode::NOERROR) else {
            return self
                .emit(query, false, rc, Answer::Empty, "PTR", out, |w| {
                    let mut ns = 0;
                    for rr in m.records(Section::Authority).filter(|rr| rr.rtype == rtype::SOA) {
                        w.record(buf, &rr, rr.ttl)?;
                        ns += 1;
                    }
                    Ok([0, ns, 0])
                })
                .map(Some);
        };
        let qb = query.message().bytes();
        self.emit(query, false, rcode::NOERROR, Answer::PtrCname, "PTR", out, |w| {
            w.name(qb, HEADER_LEN, true)?;
            w.u16(rtype::CNAME)?;
            w.u16(CLASS_IN)?;
            w.u32(ttl)?;
            let at = w.len();
            w.u16(0)?;
            w.name(tw, 0, true)?;
            let rdlen = (w.len() - at - 2) as u16;
            w.patch16(at, rdlen);
            let mut an = 1;
            for rr in m.records(Section::Answer) {
                w.record(buf, &rr, rr.ttl)?;
                an += 1;
            }
            let (ns, ar) = copy_tail(w, &m)?;
            Ok([an, ns, ar])
        })
        .map(Some)
    }

    /// Answers the RFC 8880 special names without asking anyone:
    /// `ipv4only.arpa` A is 192.0.0.170 and 192.0.0.171, its AAAA records
    /// are synthesized from those under every prefix (so that RFC 7050
    /// discovery finds them all; `mapped` and RFC 6052 section 3.1 do not
    /// apply to these two addresses) when `synthesize`; the PTR records of
    /// 170.0.0.192.in-addr.arpa and 171.0.0.192.in-addr.arpa name
    /// `ipv4only.arpa`; names below `ipv4only.arpa` do not exist; anything
    /// else is an empty answer with an SOA.
    pub fn answer_local(&self, query: &Query<'_>, synthesize: bool, out: &mut [u8]) -> Result<Written, Dns64Error> {
        let qb = query.message().bytes();
        let qname = query.qname_wire();
        let kind = special(qname).unwrap_or(Special::BelowIpv4Only);
        let qtype = query.qtype();
        let rc = match kind {
            Special::BelowIpv4Only => rcode::NXDOMAIN,
            _ => rcode::NOERROR,
        };
        self.emit(query, false, rc, Answer::Local, "local", out, |w| {
            let mut an: u16 = 0;
            let rr_head = |w: &mut Writer<'_>, t: u16| local_head(w, qb, t);
            match (kind, qtype) {
                (Special::Ipv4Only, rtype::A) => {
                    for a in WELL_KNOWN_IPV4 {
                        rr_head(w, rtype::A)?;
                        w.u16(4)?;
                        w.bytes(&a.octets())?;
                        an += 1;
                    }
                }
                (Special::Ipv4Only, rtype::AAAA) if synthesize => {
                    for r in &self.cfg.prefixes {
                        for a in WELL_KNOWN_IPV4 {
                            rr_head(w, rtype::AAAA)?;
                            w.u16(16)?;
                            w.bytes(&r.prefix.embed(a).octets())?;
                            an += 1;
                        }
                    }
                }
                (Special::Reverse, rtype::PTR) => {
                    rr_head(w, rtype::PTR)?;
                    let at = w.len();
                    w.u16(0)?;
                    w.name(IPV4ONLY_ARPA, 0, true)?;
                    let rdlen = (w.len() - at - 2) as u16;
                    w.patch16(at, rdlen);
                    an += 1;
                }
                _ => {}
            }
            let mut ns = 0;
            if an == 0 {
                // RFC 2308 section 3: a negative answer carries the SOA.
                let zone: &[u8] = match kind {
                    Special::Reverse => qname,
                    _ => IPV4ONLY_ARPA,
                };
                w.name(zone, 0, true)?;
                w.u16(rtype::SOA)?;
                w.u16(CLASS_IN)?;
                w.u32(LOCAL_TTL)?;
                let at = w.len();
                w.u16(0)?;
                w.name(IPV4ONLY_ARPA, 0, true)?;
                w.name(b"\x06nobody\x07invalid\x00", 0, true)?;
                for v in [0, 0, 0, 0, LOCAL_TTL] {
                    w.u32(v)?;
                }
                let rdlen = (w.len() - at - 2) as u16;
                w.patch16(at, rdlen);
                ns = 1;
            }
            Ok([an, ns, 0])
        })
    }

    /// An error response (FORMERR, SERVFAIL, NOTIMP, REFUSED, BADVERS) to
    /// whatever the client sent: its ID, and its question when that could be
    /// read. `None` when the message must not be answered (shorter than a
    /// header, or a response).
    pub fn error_response(&self, client_msg: &[u8], rc: u16, out: &mut [u8]) -> Result<Option<usize>, Dns64Error> {
        if client_msg.len() < HEADER_LEN || client_msg[2] & 0x80 != 0 {
            return Ok(None);
        }
        let len = out.len();
        let id = u16::from_be_bytes([client_msg[0], client_msg[1]]);
        let qflags = u16::from_be_bytes([client_msg[2], client_msg[3]]);
        let parsed = Message::parse(client_msg).ok();
        let edns = parsed.and_then(|m| m.edns());
        let question = parsed.filter(|m| m.has_question());
        let (low, ext) = split_rcode(rc, edns.is_some());
        let f = flags::QR | flags::RA | (qflags & (flags::OPCODE_MASK | flags::RD | flags::CD)) | low;
        let mut w = Writer::new(out);
        let r = (|| {
            w.header(id, f)?;
            if let Some(q) = &question {
                w.bytes(q.qname_wire())?;
                w.u16(q.qtype())?;
                w.u16(q.qclass())?;
            }
            if let Some(e) = edns {
                w.opt(self.cfg.edns_udp_size, ext, e.dnssec_ok)?;
            }
            Ok::<(), wire::Full>(())
        })();
        if r.is_err() {
            return Err(Dns64Error::BufferTooSmall { len });
        }
        w.set_counts(u16::from(question.is_some()), 0, 0, u16::from(edns.is_some()));
        Ok(Some(w.finish()))
    }

    /// Writes header, question, the body, then our OPT if the client used
    /// EDNS; when the buffer is too small, a truncated response instead.
    #[allow(clippy::too_many_arguments)]
    fn emit(
        &self,
        query: &Query<'_>,
        ad: bool,
        rc: u16,
        answer: Answer,
        which: &'static str,
        out: &mut [u8],
        body: impl FnOnce(&mut Writer<'_>) -> Result<Counts, CopyError>,
    ) -> Result<Written, Dns64Error> {
        let edns = query.edns();
        let (low, ext) = split_rcode(rc, edns.is_some());
        let qf = query.message().flags();
        let mut f = flags::QR | flags::RA | (qf & (flags::RD | flags::CD)) | low;
        if ad {
            f |= flags::AD;
        }
        let len = out.len();
        let mut w = Writer::new(out);
        let full = || -> Result<Counts, CopyError> {
            question(&mut w, query, f)?;
            let [an, ns, mut ar] = body(&mut w)?;
            if let Some(e) = edns {
                w.opt(self.cfg.edns_udp_size, ext, e.dnssec_ok)?;
                ar += 1;
            }
            Ok([an, ns, ar])
        };
        match full() {
            Ok([an, ns, ar]) => {
                w.set_counts(1, an, ns, ar);
                Ok(Written {
                    len: w.finish(),
                    truncated: false,
                    answer,
                })
            }
            Err(CopyError::Wire(err)) => Err(Dns64Error::UpstreamMalformed { which, err }),
            Err(CopyError::Full) => {
                let mut w = Writer::new(out);
                let r = (|| {
                    question(&mut w, query, f | flags::TC)?;
                    if let Some(e) = edns {
                        w.opt(self.cfg.edns_udp_size, ext, e.dnssec_ok)?;
                    }
                    Ok::<(), CopyError>(())
                })();
                if r.is_err() {
                    return Err(Dns64Error::BufferTooSmall { len });
                }
                w.set_counts(1, 0, 0, u16::from(edns.is_some()));
                Ok(Written {
                    len: w.finish(),
                    truncated: true,
                    answer,
                })
            }
        }
    }
}

/// Header with `f` and the client's question, as the client spelt it (RFC
/// 6147 section 5.4: "The question section is copied from the original
/// (initiator's) query").
fn question(w: &mut Writer<'_>, query: &Query<'_>, f: u16) -> Result<(), CopyError> {
    w.header(query.id(), f)?;
    w.name(query.message().bytes(), HEADER_LEN, false)?;
    w.u16(query.qtype())?;
    w.u16(query.qclass())?;
    Ok(())
}

/// The header RCODE bits and the OPT's extended RCODE; without EDNS an
/// extended RCODE cannot be said, so SERVFAIL.
fn split_rcode(rc: u16, edns: bool) -> (u16, u8) {
    if rc <= 0xf {
        (rc, 0)
    } else if edns {
        (rc & 0xf, (rc >> 4) as u8)
    } else {
        (rcode::SERVFAIL, 0)
    }
}

/// Owner (the question name), type, class IN and [`LOCAL_TTL`].
fn local_head(w: &mut Writer<'_>, qb: &[u8], t: u16) -> Result<(), CopyError> {
    w.name(qb, HEADER_LEN, true)?;
    w.u16(t)?;
    w.u16(CLASS_IN)?;
    w.u32(LOCAL_TTL)?;
    Ok(())
}

/// Whether `rr` is an RRSIG covering `t` (RFC 4034 section 3.1).
fn covers(buf: &[u8], rr: &wire::Rr, t: u16) -> bool {
    rr.rtype == rtype::RRSIG && wire::be16(buf, rr.rdata) == Some(t) && rr.rdlen >= 2
}

/// Copies the authority section and the additional section (less OPT,
/// which is per hop) of `m`.
fn copy_tail(w: &mut Writer<'_>, m: &Message<'_>) -> Result<(u16, u16), CopyError> {
    let buf = m.bytes();
    let mut ns = 0;
    for rr in m.records(Section::Authority) {
        w.record(buf, &rr, rr.ttl)?;
        ns += 1;
    }
    let mut ar = 0;
    for rr in m.records(Section::Additional) {
        if rr.rtype == rtype::OPT {
            continue;
        }
        w.record(buf, &rr, rr.ttl)?;
        ar += 1;
    }
    Ok((ns, ar))
}
