//! The stateful NAT64 (RFC 6146).

use std::net::Ipv6Addr;
use std::time::Duration;

use napi::{Env, Error, Result};
use napi_derive::napi;
use nat64_core::nat64::{
    Bib as CoreBib, Instant, Nat64 as CoreNat64, Nat64Config as CoreNat64Config, Pool4Entry as CorePool4Entry, Proto,
    Session as CoreSession, SessionFilter, Taddr4, Taddr6,
};

use crate::args::{Int, Now, Secs, Shape, Shaped, U64};
use crate::stateless::{core_config, Config, CONFIG};
use crate::verdict::{translator_class, JsVerdict};
use crate::{addr, err, parse};

fn proto(s: &str) -> Result<Proto> {
    s.parse::<Proto>()
        .map_err(|_| Error::from_reason(format!("protocol {s:?}: use 'tcp', 'udp' or 'icmp'")))
}

/// A transport address: address and port (or ICMP identifier).
#[napi(object)]
pub struct Taddr {
    pub addr: String,
    #[napi(ts_type = "number")]
    pub port: Int<u16>,
}

/// One pool4 entry (ports default to 61001-65535, protocols to all three).
#[napi(object, object_to_js = false)]
pub struct Pool4Entry {
    pub prefix: String,
    #[napi(ts_type = "number")]
    pub first_port: Option<Int<u16>>,
    #[napi(ts_type = "number")]
    pub last_port: Option<Int<u16>>,
    #[napi(ts_type = "Array<'tcp' | 'udp' | 'icmp'>")]
    pub protocols: Option<Vec<String>>,
}

/// A BIB entry.
#[napi(object)]
pub struct Bib {
    #[napi(ts_type = "'tcp' | 'udp' | 'icmp'")]
    pub proto: String,
    pub v6: Taddr,
    pub v4: Taddr,
    pub is_static: Option<bool>,
}

/// RFC 6146 section 4 session lifetimes, in seconds.
#[napi(object, object_to_js = false)]
pub struct Timeouts {
    #[napi(ts_type = "number")]
    pub udp: Option<Secs>,
    #[napi(ts_type = "number")]
    pub tcp_est: Option<Secs>,
    #[napi(ts_type = "number")]
    pub tcp_trans: Option<Secs>,
    #[napi(ts_type = "number")]
    pub icmp: Option<Secs>,
    #[napi(ts_type = "number")]
    pub tcp_incoming_syn: Option<Secs>,
}

/// Session caps.
#[napi(object, object_to_js = false)]
pub struct TableLimits {
    #[napi(ts_type = "number")]
    pub max_sessions: Option<Int<u32>>,
    #[napi(ts_type = "number")]
    pub max_sessions_per_client: Option<Int<u32>>,
    #[napi(ts_type = "number")]
    pub client_prefix_len: Option<Int<u8>>,
}

/// The stateful NAT64's configuration: `xlat` (shared settings, with
/// pool6), pool4, and the fields of the core's `Nat64Config`.
#[napi(object, object_to_js = false)]
pub struct Nat64Config {
    pub xlat: Config,
    pub pool4: Vec<Pool4Entry>,
    pub static_bib: Option<Vec<Bib>>,
    pub timeouts: Option<Timeouts>,
    pub address_dependent_filtering: Option<bool>,
    pub drop_externally_initiated_tcp: Option<bool>,
    pub drop_icmpv6_info: Option<bool>,
    #[napi(ts_type = "number")]
    pub max_simultaneous_opens: Option<Int<u32>>,
    pub source_icmpv6_errors_better: Option<bool>,
    pub handle_rst_during_fin_rcv: Option<bool>,
    /// The bound on port searches per new binding (a `number` or a `bigint`).
    #[napi(ts_type = "number | bigint")]
    pub max_iterations: Option<U64>,
    pub limits: Option<TableLimits>,
}

const TADDR: Shape = Shape {
    name: "Taddr",
    keys: &[("addr", None), ("port", None)],
};

const POOL4_ENTRY: Shape = Shape {
    name: "Pool4Entry",
    keys: &[
        ("prefix", None),
        ("firstPort", None),
        ("lastPort", None),
        ("protocols", None),
    ],
};

const BIB: Shape = Shape {
    name: "Bib",
    keys: &[
        ("proto", None),
        ("v6", Some(&TADDR)),
        ("v4", Some(&TADDR)),
        ("isStatic", None),
    ],
};

const TIMEOUTS: Shape = Shape {
    name: "Timeouts",
    keys: &[
        ("udp", None),
        ("tcpEst", None),
        ("tcpTrans", None),
        ("icmp", None),
        ("tcpIncomingSyn", None),
    ],
};

const TABLE_LIMITS: Shape = Shape {
    name: "TableLimits",
    keys: &[
        ("maxSessions", None),
        ("maxSessionsPerClient", None),
        ("clientPrefixLen", None),
    ],
};

/// The keys of [`Nat64Config`], as JS spells them.
const NAT64_CONFIG: Shape = Shape {
    name: "Nat64Config",
    keys: &[
        ("xlat", Some(&CONFIG)),
        ("pool4", Some(&POOL4_ENTRY)),
        ("staticBib", Some(&BIB)),
        ("timeouts", Some(&TIMEOUTS)),
        ("addressDependentFiltering", None),
        ("dropExternallyInitiatedTcp", None),
        ("dropIcmpv6Info", None),
        ("maxSimultaneousOpens", None),
        ("sourceIcmpv6ErrorsBetter", None),
        ("handleRstDuringFinRcv", None),
        ("maxIterations", None),
        ("limits", Some(&TABLE_LIMITS)),
    ],
};

impl Shaped for Nat64Config {
    const SHAPE: &'static Shape = &NAT64_CONFIG;
}

fn secs(s: &Option<Secs>, default: Duration) -> Duration {
    s.as_ref().map_or(default, |s| s.0)
}

fn core_nat64_config(c: &Nat64Config) -> Result<CoreNat64Config> {
    let xlat = core_config(&c.xlat)?;
    let pool6 = xlat
        .pool6
        .ok_or_else(|| Error::from_reason("stateful NAT64 needs pool6 (e.g. 64:ff9b::/96)"))?;
    let mut pool4 = Vec::new();
    for e in &c.pool4 {
        let mut p = CorePool4Entry::new(parse(&e.prefix)?);
        p.first_port = e.first_port.as_ref().map_or(p.first_port, |n| n.0);
        p.last_port = e.last_port.as_ref().map_or(p.last_port, |n| n.0);
        if let Some(ps) = &e.protocols {
            p.protocols = [false; 3];
            for x in ps {
                p.protocols[proto(x)?.index()] = true;
            }
        }
        pool4.push(p);
    }
    let mut o = CoreNat64Config::new(pool6, pool4);
    o.xlat = xlat;
    for b in c.static_bib.iter().flatten() {
        o.static_bib.push(CoreBib {
            proto: proto(&b.proto)?,
            v6: Taddr6 {
                addr: addr(&b.v6.addr)?,
                port: b.v6.port.0,
            },
            v4: Taddr4 {
                addr: addr(&b.v4.addr)?,
                port: b.v4.port.0,
            },
            is_static: b.is_static.unwrap_or(true),
        });
    }
    if let Some(t) = &c.timeouts {
        let d = o.timeouts;
        o.timeouts.udp = secs(&t.udp, d.udp);
        o.timeouts.tcp_est = secs(&t.tcp_est, d.tcp_est);
        o.timeouts.tcp_trans = secs(&t.tcp_trans, d.tcp_trans);
        o.timeouts.icmp = secs(&t.icmp, d.icmp);
        o.timeouts.tcp_incoming_syn = secs(&t.tcp_incoming_syn, d.tcp_incoming_syn);
    }
    let flag = |v: Option<bool>, d: bool| v.unwrap_or(d);
    o.address_dependent_filtering = flag(c.address_dependent_filtering, o.address_dependent_filtering);
    o.drop_externally_initiated_tcp = flag(c.drop_externally_initiated_tcp, o.drop_externally_initiated_tcp);
    o.drop_icmpv6_info = flag(c.drop_icmpv6_info, o.drop_icmpv6_info);
    o.source_icmpv6_errors_better = flag(c.source_icmpv6_errors_better, o.source_icmpv6_errors_better);
    o.handle_rst_during_fin_rcv = flag(c.handle_rst_during_fin_rcv, o.handle_rst_during_fin_rcv);
    if let Some(n) = &c.max_simultaneous_opens {
        o.max_simultaneous_opens = n.0 as usize;
    }
    if let Some(n) = &c.max_iterations {
        o.max_iterations = n.0;
    }
    if let Some(l) = &c.limits {
        o.limits.max_sessions = l.max_sessions.as_ref().map_or(o.limits.max_sessions, |n| n.0 as usize);
        o.limits.max_sessions_per_client = l
            .max_sessions_per_client
            .as_ref()
            .map_or(o.limits.max_sessions_per_client, |n| n.0 as usize);
        o.limits.client_prefix_len = l.client_prefix_len.as_ref().map_or(o.limits.client_prefix_len, |n| n.0);
    }
    Ok(o)
}

/// A session (RFC 6146 section 3.1). `state` is the TCP state
/// ("ESTABLISHED", ...; "-" for UDP and ICMP); `expires` is in microseconds.
#[napi(object)]
pub struct Session {
    #[napi(ts_type = "'tcp' | 'udp' | 'icmp'")]
    pub proto: String,
    pub v6: Taddr,
    pub v4: Taddr,
    pub remote: Taddr,
    pub state: String,
    pub expires: i64,
}

fn taddr(a: impl ToString, port: u16) -> Taddr {
    Taddr {
        addr: a.to_string(),
        port: Int::new(port),
    }
}

fn session(s: &CoreSession) -> Session {
    Session {
        proto: s.proto.name().into(),
        v6: taddr(s.v6.addr, s.v6.port),
        v4: taddr(s.v4.addr, s.v4.port),
        remote: taddr(s.remote.addr, s.remote.port),
        state: s.state.name().into(),
        expires: s.expires.as_micros() as i64,
    }
}

/// Table sizes; `pool4Size` per protocol (tcp, udp, icmp).
#[napi(object)]
pub struct Nat64Stats {
    pub sessions: u32,
    pub bib_entries: u32,
    pub pool4_size: Vec<i64>,
    pub held_syns: u32,
    /// Half-open or closing TCP sessions evicted to make room in a full table.
    pub sessions_evicted: i64,
}

fn nat64(c: &Nat64Config) -> Result<CoreNat64> {
    CoreNat64::new(core_nat64_config(c)?).map_err(err)
}

translator_class! {
    #[doc = " The stateful NAT64 (RFC 6146). Time is explicit: `now` is microseconds"]
    #[doc = " since an epoch of the caller's choosing."]
    Nat64 { inner: CoreNat64, config: Nat64Config = "Nat64Config", make: nat64, now: " At `now` (microseconds)." }
}

fn instant(now: Now) -> Instant {
    Instant::from_micros(now.0)
}

#[napi]
impl Nat64 {
    /// Runs the timers at `now`: a verdict (an ICMP error for a held SYN
    /// that timed out), or null when there is nothing more to do.
    #[napi(ts_return_type = "Verdict | null")]
    pub fn poll(&mut self, env: Env, #[napi(ts_arg_type = "number | bigint")] now: Now) -> Result<Option<JsVerdict>> {
        let (t, now) = (&mut self.inner, instant(now));
        self.out.maybe(&env, |out| t.poll(now, out))
    }
    /// When `poll` next has work (microseconds), or null.
    #[napi]
    pub fn next_expiry(&self) -> Option<i64> {
        self.inner.next_expiry().map(|t| t.as_micros() as i64)
    }
    /// The sessions, optionally of one protocol and one IPv6 client.
    #[napi]
    pub fn sessions(
        &self,
        #[napi(ts_arg_type = "'tcp' | 'udp' | 'icmp' | null")] proto: Option<String>,
        client: Option<String>,
    ) -> Result<Vec<Session>> {
        let filter = SessionFilter {
            proto: proto.as_deref().map(self::proto).transpose()?,
            client: client.as_deref().map(addr::<Ipv6Addr>).transpose()?,
        };
        let mut v = Vec::new();
        self.inner.for_each_session(filter, &mut |s| v.push(session(s)));
        Ok(v)
    }
    /// The BIB entries, optionally of one protocol.
    #[napi]
    pub fn bibs(
        &self,
        #[napi(ts_arg_type = "'tcp' | 'udp' | 'icmp' | null")] proto: Option<String>,
    ) -> Result<Vec<Bib>> {
        let mut v = Vec::new();
        self.inner
            .for_each_bib(proto.as_deref().map(self::proto).transpose()?, &mut |b| {
                v.push(Bib {
                    proto: b.proto.name().into(),
                    v6: taddr(b.v6.addr, b.v6.port),
                    v4: taddr(b.v4.addr, b.v4.port),
                    is_static: Some(b.is_static),
                })
            });
        Ok(v)
    }
    /// Table sizes.
    #[napi]
    pub fn stats(&self) -> Nat64Stats {
        let s = self.inner.stats();
        Nat64Stats {
            sessions: s.sessions as u32,
            bib_entries: s.bib_entries as u32,
            pool4_size: s.pool4_size.iter().map(|&n| n as i64).collect(),
            held_syns: s.held_syns as u32,
            sessions_evicted: s.sessions_evicted as i64,
        }
    }
}
