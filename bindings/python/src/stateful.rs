//! The stateful NAT64 (RFC 6146): `Nat64Config` and its parts, `Nat64`,
//! sessions and BIB entries.

use std::net::Ipv6Addr;
use std::time::Duration;

use nat64_core::nat64::{
    Bib as CoreBib, Instant, Nat64 as CoreNat64, Nat64Config as CoreNat64Config, Pool4Entry as CorePool4Entry, Proto,
    Session as CoreSession, SessionFilter, TableLimits as CoreTableLimits, Taddr4, Taddr6, Timeouts as CoreTimeouts,
};
use nat64_core::{Prefix64 as CorePrefix64, OUTPUT_BUFFER_LEN};
use pyo3::prelude::*;

use crate::conv::{addr, addr_str, err, fields, lit, lit_list, parse, text, with_bytes, Call, Nat64Error};
use crate::stateless::{config_repr, Config};
use crate::verdict::{batch, counters_obj, into, into_buf, verdict_obj, Batch, Counters, Out};

// ----------------------------------------------------------------- stateful

pub(crate) fn proto(s: &str) -> PyResult<Proto> {
    s.parse::<Proto>()
        .map_err(|_| Nat64Error::new_err(format!("protocol {s:?}: use \"tcp\", \"udp\" or \"icmp\"")))
}

/// One pool4 entry: addresses, a port (or ICMP identifier) range, protocols.
#[pyclass(frozen, module = "nat64")]
#[derive(Clone)]
pub(crate) struct Pool4Entry {
    pub(crate) inner: CorePool4Entry,
}

#[pymethods]
impl Pool4Entry {
    #[new]
    #[pyo3(signature = (prefix, first_port=61001, last_port=65535, protocols=None))]
    fn new(
        prefix: &Bound<'_, PyAny>,
        first_port: u16,
        last_port: u16,
        protocols: Option<Vec<String>>,
    ) -> PyResult<Self> {
        let mut e = CorePool4Entry::new(parse(&text(prefix)?)?);
        e.first_port = first_port;
        e.last_port = last_port;
        if let Some(ps) = protocols {
            e.protocols = [false; 3];
            for p in ps {
                e.protocols[proto(&p)?.index()] = true;
            }
        }
        Ok(Pool4Entry { inner: e })
    }
    /// `Pool4Entry('198.51.100.0/24', first_port=1024, protocols=['udp'])`.
    fn __repr__(&self) -> String {
        pool4_repr(&self.inner)
    }
}

/// A BIB entry: `proto` ("tcp", "udp", "icmp"), `v6` and `v4` as
/// (address, port). Given to `Nat64Config(static_bib=...)` and listed by
/// `Nat64.bibs()`.
#[pyclass(frozen, from_py_object, module = "nat64")]
#[derive(Clone)]
pub(crate) struct Bib {
    #[pyo3(get)]
    proto: &'static str,
    #[pyo3(get)]
    v6: (String, u16),
    #[pyo3(get)]
    v4: (String, u16),
    #[pyo3(get)]
    is_static: bool,
}

#[pymethods]
impl Bib {
    #[new]
    #[pyo3(signature = (proto, v6, v4, is_static=true))]
    fn new(proto: &str, v6: (String, u16), v4: (String, u16), is_static: bool) -> PyResult<Self> {
        // Checked (and written canonically) now, not when a Nat64Config takes it.
        let core = CoreBib {
            proto: self::proto(proto)?,
            v6: Taddr6 {
                addr: addr_str(&v6.0)?,
                port: v6.1,
            },
            v4: Taddr4 {
                addr: addr_str(&v4.0)?,
                port: v4.1,
            },
            is_static,
        };
        Ok(Bib::of(&core))
    }
    /// `Bib('udp', ('2001:db8::9', 53), ('198.51.100.1', 53))`.
    fn __repr__(&self) -> String {
        Call::new("Bib")
            .arg(lit(self.proto))
            .arg(format!("({}, {})", lit(&self.v6.0), self.v6.1))
            .arg(format!("({}, {})", lit(&self.v4.0), self.v4.1))
            .kw(!self.is_static, "is_static", "False")
            .finish()
    }
}

impl Bib {
    fn of(b: &CoreBib) -> Self {
        Bib {
            proto: b.proto.name(),
            v6: (b.v6.addr.to_string(), b.v6.port),
            v4: (b.v4.addr.to_string(), b.v4.port),
            is_static: b.is_static,
        }
    }
    fn core(&self) -> PyResult<CoreBib> {
        Ok(CoreBib {
            proto: proto(self.proto)?,
            v6: Taddr6 {
                addr: parse(&self.v6.0)?,
                port: self.v6.1,
            },
            v4: Taddr4 {
                addr: parse(&self.v4.0)?,
                port: self.v4.1,
            },
            is_static: self.is_static,
        })
    }
}

/// RFC 6146 section 4 session lifetimes, in seconds.
#[pyclass(frozen, from_py_object, module = "nat64")]
#[derive(Clone)]
pub(crate) struct Timeouts {
    pub(crate) inner: CoreTimeouts,
}

#[pymethods]
impl Timeouts {
    #[new]
    #[pyo3(signature = (*, udp=300.0, tcp_est=7440.0, tcp_trans=240.0, icmp=60.0, tcp_incoming_syn=6.0))]
    fn new(udp: f64, tcp_est: f64, tcp_trans: f64, icmp: f64, tcp_incoming_syn: f64) -> PyResult<Self> {
        let d = |s: f64| Duration::try_from_secs_f64(s).map_err(|e| Nat64Error::new_err(format!("timeout {s}: {e}")));
        Ok(Timeouts {
            inner: CoreTimeouts {
                udp: d(udp)?,
                tcp_est: d(tcp_est)?,
                tcp_trans: d(tcp_trans)?,
                icmp: d(icmp)?,
                tcp_incoming_syn: d(tcp_incoming_syn)?,
            },
        })
    }
    /// `Timeouts(udp=120.0)`: the lifetimes that are not the default.
    fn __repr__(&self) -> String {
        timeouts_repr(&self.inner)
    }
}

fn timeouts_repr(t: &CoreTimeouts) -> String {
    let d = CoreTimeouts::default();
    let mut call = Call::new("Timeouts");
    for (key, v, def) in [
        ("udp", t.udp, d.udp),
        ("tcp_est", t.tcp_est, d.tcp_est),
        ("tcp_trans", t.tcp_trans, d.tcp_trans),
        ("icmp", t.icmp, d.icmp),
        ("tcp_incoming_syn", t.tcp_incoming_syn, d.tcp_incoming_syn),
    ] {
        // `{:?}` of an f64 is the shortest text that reads back as the same
        // number, in a form Python reads too (`120.0`, `0.25`, `1e-6`).
        call.kw(v != def, key, format!("{:?}", v.as_secs_f64()));
    }
    call.finish()
}

fn limits_repr(l: &CoreTableLimits) -> String {
    let d = CoreTableLimits::default();
    let mut call = Call::new("TableLimits");
    fields!(call, l, d: max_sessions, max_sessions_per_client, client_prefix_len);
    call.finish()
}

const PROTOS: [Proto; 3] = [Proto::Tcp, Proto::Udp, Proto::Icmp];

fn pool4_repr(e: &CorePool4Entry) -> String {
    let d = CorePool4Entry::new(e.prefix);
    let protos = PROTOS.iter().filter(|p| e.protocols[p.index()]);
    Call::new("Pool4Entry")
        .arg(lit(e.prefix))
        .field("first_port", e.first_port, d.first_port)
        .field("last_port", e.last_port, d.last_port)
        .kw(
            e.protocols != d.protocols,
            "protocols",
            lit_list(protos, |p| lit(p.name())),
        )
        .finish()
}

/// Session caps.
#[pyclass(frozen, from_py_object, module = "nat64")]
#[derive(Clone)]
pub(crate) struct TableLimits {
    pub(crate) inner: CoreTableLimits,
}

#[pymethods]
impl TableLimits {
    #[new]
    #[pyo3(signature = (*, max_sessions=1048576, max_sessions_per_client=0, client_prefix_len=128))]
    fn new(max_sessions: usize, max_sessions_per_client: usize, client_prefix_len: u8) -> Self {
        TableLimits {
            inner: CoreTableLimits {
                max_sessions,
                max_sessions_per_client,
                client_prefix_len,
            },
        }
    }
    /// `TableLimits(max_sessions=65536)`: the caps that are not the default.
    fn __repr__(&self) -> String {
        limits_repr(&self.inner)
    }
}

/// The stateful NAT64's configuration: `xlat` (the shared settings, with
/// pool6), pool4 and the fields of the core's `Nat64Config`.
#[pyclass(frozen, module = "nat64")]
#[derive(Clone)]
pub(crate) struct Nat64Config {
    pub(crate) inner: CoreNat64Config,
}

#[pymethods]
impl Nat64Config {
    #[new]
    #[pyo3(signature = (xlat, pool4, *, static_bib=None, timeouts=None, address_dependent_filtering=false,
        drop_externally_initiated_tcp=false, drop_icmpv6_info=false, max_simultaneous_opens=10,
        source_icmpv6_errors_better=true, handle_rst_during_fin_rcv=false, max_iterations=0, secret=None, limits=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        xlat: &Config,
        pool4: Vec<Bound<'_, PyAny>>,
        static_bib: Option<Vec<Bib>>,
        timeouts: Option<Timeouts>,
        address_dependent_filtering: bool,
        drop_externally_initiated_tcp: bool,
        drop_icmpv6_info: bool,
        max_simultaneous_opens: usize,
        source_icmpv6_errors_better: bool,
        handle_rst_during_fin_rcv: bool,
        max_iterations: u64,
        secret: Option<(u64, u64)>,
        limits: Option<TableLimits>,
    ) -> PyResult<Self> {
        let pool6 = xlat
            .inner
            .pool6
            .ok_or_else(|| Nat64Error::new_err("stateful NAT64 needs pool6 (e.g. 64:ff9b::/96)"))?;
        let mut entries = Vec::new();
        for e in pool4 {
            entries.push(match e.cast::<Pool4Entry>() {
                Ok(p) => p.get().inner.clone(),
                Err(_) => CorePool4Entry::new(parse(&text(&e)?)?),
            });
        }
        let mut c = CoreNat64Config::new(pool6, entries);
        c.xlat = xlat.inner.clone();
        for b in static_bib.unwrap_or_default() {
            c.static_bib.push(b.core()?);
        }
        if let Some(t) = timeouts {
            c.timeouts = t.inner;
        }
        c.address_dependent_filtering = address_dependent_filtering;
        c.drop_externally_initiated_tcp = drop_externally_initiated_tcp;
        c.drop_icmpv6_info = drop_icmpv6_info;
        c.max_simultaneous_opens = max_simultaneous_opens;
        c.source_icmpv6_errors_better = source_icmpv6_errors_better;
        c.handle_rst_during_fin_rcv = handle_rst_during_fin_rcv;
        c.max_iterations = max_iterations;
        if let Some((a, b)) = secret {
            c.secret = [a, b];
        }
        if let Some(l) = limits {
            c.limits = l.inner;
        }
        Ok(Nat64Config { inner: c })
    }
    /// `Nat64Config(Config(pool6=...), [Pool4Entry(...)], static_bib=[...],
    /// ...)`: the fields that are not the default (`secret=...` when a
    /// secret is set, its value kept out of logs).
    fn __repr__(&self) -> String {
        let c = &self.inner;
        let d = CoreNat64Config::new(c.xlat.pool6.unwrap_or_else(CorePrefix64::well_known), Vec::new());
        let mut call = Call::new("Nat64Config");
        call.arg(config_repr(&c.xlat))
            .arg(lit_list(&c.pool4, pool4_repr))
            .kw(
                !c.static_bib.is_empty(),
                "static_bib",
                lit_list(&c.static_bib, |b| Bib::of(b).__repr__()),
            )
            .kw(c.timeouts != d.timeouts, "timeouts", timeouts_repr(&c.timeouts));
        fields!(call, c, d: address_dependent_filtering, drop_externally_initiated_tcp, drop_icmpv6_info,
            max_simultaneous_opens, source_icmpv6_errors_better, handle_rst_during_fin_rcv, max_iterations);
        call.kw(c.secret != d.secret, "secret", "...")
            .kw(c.limits != d.limits, "limits", limits_repr(&c.limits))
            .finish()
    }
}

/// A session (RFC 6146 section 3.1): `proto`, the client's `v6`, its pool4
/// `v4`, the IPv4 `remote` (each as (address, port)), the TCP `state`
/// ("ESTABLISHED", ...; "-" for UDP and ICMP) and `expires` (microseconds).
#[pyclass(frozen, module = "nat64")]
pub(crate) struct Session {
    #[pyo3(get)]
    proto: &'static str,
    #[pyo3(get)]
    v6: (String, u16),
    #[pyo3(get)]
    v4: (String, u16),
    #[pyo3(get)]
    remote: (String, u16),
    #[pyo3(get)]
    state: &'static str,
    #[pyo3(get)]
    expires: u64,
}

#[pymethods]
impl Session {
    fn __repr__(&self) -> String {
        format!(
            "Session('{}', [{}]:{} -> {}:{} via {}:{}, {})",
            self.proto, self.v6.0, self.v6.1, self.remote.0, self.remote.1, self.v4.0, self.v4.1, self.state
        )
    }
}

impl Session {
    fn of(s: &CoreSession) -> Self {
        Session {
            proto: s.proto.name(),
            v6: (s.v6.addr.to_string(), s.v6.port),
            v4: (s.v4.addr.to_string(), s.v4.port),
            remote: (s.remote.addr.to_string(), s.remote.port),
            state: s.state.name(),
            expires: s.expires.as_micros(),
        }
    }
}

/// Table sizes: sessions, BIB entries, pool4 size per protocol, held SYNs,
/// sessions evicted to make room in a full table.
#[pyclass(frozen, module = "nat64")]
pub(crate) struct Nat64Stats {
    #[pyo3(get)]
    sessions: usize,
    #[pyo3(get)]
    bib_entries: usize,
    #[pyo3(get)]
    pool4_size: (u64, u64, u64),
    #[pyo3(get)]
    held_syns: usize,
    #[pyo3(get)]
    sessions_evicted: u64,
}

#[pymethods]
impl Nat64Stats {
    fn __repr__(&self) -> String {
        format!(
            "Nat64Stats(sessions={}, bib_entries={}, held_syns={}, sessions_evicted={})",
            self.sessions, self.bib_entries, self.held_syns, self.sessions_evicted
        )
    }
}

/// The stateful NAT64 (RFC 6146). Time is explicit: `now` is microseconds
/// since an epoch of the caller's choosing (e.g. `time.monotonic_ns() // 1000`).
#[pyclass(module = "nat64")]
pub(crate) struct Nat64 {
    pub(crate) inner: CoreNat64,
    out: Vec<u8>,
    batch_out: Vec<u8>,
}

#[pymethods]
impl Nat64 {
    #[new]
    fn new(config: &Nat64Config) -> PyResult<Self> {
        Ok(Nat64 {
            inner: CoreNat64::new(config.inner.clone()).map_err(err)?,
            out: vec![0; OUTPUT_BUFFER_LEN],
            batch_out: Vec::new(),
        })
    }
    /// Translates one packet at `now`.
    fn translate(&mut self, py: Python<'_>, packet: &Bound<'_, PyAny>, now: u64) -> PyResult<Py<PyAny>> {
        let (t, out) = (&mut self.inner, &mut self.out);
        let v = with_bytes(packet, |p| t.translate(p, out, Instant::from_micros(now)))?;
        verdict_obj(py, v, Out::Copy(out))
    }
    /// Translates one packet at `now` into `out` (a bytearray).
    fn translate_into(
        &mut self,
        py: Python<'_>,
        packet: &Bound<'_, PyAny>,
        out: &Bound<'_, PyAny>,
        now: u64,
    ) -> PyResult<Py<PyAny>> {
        let ba = into_buf(out)?;
        let t = &mut self.inner;
        let now = Instant::from_micros(now);
        let v = with_bytes(packet, |p| into(p, &ba, |p, o| t.translate(p, o, now)))??;
        verdict_obj(py, v, Out::View(out))
    }
    /// Translates every packet of `packets` at `now`, in one call.
    fn translate_batch(&mut self, packets: &Bound<'_, PyAny>, now: u64) -> PyResult<Batch> {
        let t = &mut self.inner;
        batch(packets, &mut self.batch_out, |p, out| {
            t.translate(p, out, Instant::from_micros(now))
        })
    }
    /// Runs the timers at `now`; returns a verdict (an ICMP error for a held
    /// SYN that timed out) or None when there is nothing more to do.
    fn poll(&mut self, py: Python<'_>, now: u64) -> PyResult<Option<Py<PyAny>>> {
        match self.inner.poll(Instant::from_micros(now), &mut self.out) {
            Some(v) => Ok(Some(verdict_obj(py, v, Out::Copy(&self.out))?)),
            None => Ok(None),
        }
    }
    /// When `poll` next has work (microseconds), or None.
    fn next_expiry(&self) -> Option<u64> {
        self.inner.next_expiry().map(Instant::as_micros)
    }
    /// The sessions, optionally of one protocol and one IPv6 client.
    #[pyo3(signature = (proto=None, client=None))]
    fn sessions(&self, proto: Option<&str>, client: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Session>> {
        let filter = SessionFilter {
            proto: proto.map(self::proto).transpose()?,
            client: client.map(addr::<Ipv6Addr>).transpose()?,
        };
        let mut v = Vec::new();
        self.inner.for_each_session(filter, &mut |s| v.push(Session::of(s)));
        Ok(v)
    }
    /// The BIB entries, optionally of one protocol.
    #[pyo3(signature = (proto=None))]
    fn bibs(&self, proto: Option<&str>) -> PyResult<Vec<Bib>> {
        let mut v = Vec::new();
        self.inner
            .for_each_bib(proto.map(self::proto).transpose()?, &mut |b| v.push(Bib::of(b)));
        Ok(v)
    }
    /// Table sizes.
    fn stats(&self) -> Nat64Stats {
        let s = self.inner.stats();
        Nat64Stats {
            sessions: s.sessions,
            bib_entries: s.bib_entries,
            pool4_size: (s.pool4_size[0], s.pool4_size[1], s.pool4_size[2]),
            held_syns: s.held_syns,
            sessions_evicted: s.sessions_evicted,
        }
    }
    /// Counters per verdict and per reason.
    fn counters(&self, py: Python<'_>) -> PyResult<Counters> {
        counters_obj(py, self.inner.counters())
    }
}
