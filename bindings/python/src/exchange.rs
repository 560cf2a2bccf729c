//! The DNS64 exchange (the core's `OwnedExchange`: the RFC 6147 section 5.1
//! sequence as a state machine with no I/O) and its response cache: the
//! caller owns the sockets, the upstreams, their timeouts and the clock.

use std::cell::RefCell;
use std::net::IpAddr;

use nat64_core::dns64::{Cache, NoCache, Outcome, OwnedExchange, Received, Reply, ResponseCache, Step};
use nat64_core::nat64::Instant;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::conv::{addr, err, lit, lit_bool, opt_bytes, with_bytes, Call, Nat64Error};
use crate::dns64::{plan_obj, Dns64, Dns64Plan};

/// The cache size `nat64 dns64` uses (the core's default; the signature
/// of `Dns64Cache.__new__` repeats it for Python's help text, and a test
/// checks the two agree).
const DEFAULT_CAPACITY: usize = ResponseCache::DEFAULT_CAPACITY;
/// The longest `nat64 dns64` keeps a response, in seconds.
const DEFAULT_MAX_TTL: u32 = ResponseCache::DEFAULT_MAX_TTL;

/// Responses kept for `Dns64Exchange.start` (RFC 2181 section 8 and RFC
/// 2308 section 5 TTLs, aged when served): at most `capacity` (0: caches
/// nothing; when full the entry stored longest ago goes), each at most
/// `max_ttl` seconds. `len(cache)` counts the responses held (some perhaps
/// expired). Shared by any number of exchanges of one `Dns64` (the cache
/// key does not name the DNS64 rules); `max_ttl` also caps every TTL served.
#[pyclass(module = "nat64")]
pub(crate) struct Dns64Cache {
    inner: ResponseCache,
    #[pyo3(get)]
    capacity: usize,
    #[pyo3(get)]
    max_ttl: u32,
}

#[pymethods]
impl Dns64Cache {
    #[new]
    // Literals, not the constants: they are what `__text_signature__` (and
    // so stubtest) shows. test_exchange.py checks that they agree.
    #[pyo3(signature = (capacity=10000, max_ttl=86400))]
    fn new(capacity: usize, max_ttl: u32) -> Self {
        Dns64Cache {
            inner: ResponseCache::new(capacity, max_ttl),
            capacity,
            max_ttl,
        }
    }
    fn __len__(&self) -> usize {
        self.inner.len()
    }
    /// `Dns64Cache(capacity=100)`: the arguments that are not the default.
    fn __repr__(&self) -> String {
        Call::new("Dns64Cache")
            .field("capacity", self.capacity, DEFAULT_CAPACITY)
            .field("max_ttl", self.max_ttl, DEFAULT_MAX_TTL)
            .finish()
    }
}

/// What a `Dns64Exchange` step says to do. `kind` "ask": send the upstream
/// query for `qtype` (`write_query`) and give the answer to `on_answer`.
/// `kind` "done", with `outcome` "answered" (`response`, `answer` as in
/// `Written.answer`, `records`, `truncated`, `from_cache`), "error" (an
/// error `response` with RCODE `rcode`) or "silent" (send nothing: the
/// message was not a query). Attributes that do not apply are None.
#[pyclass(frozen, module = "nat64")]
pub(crate) struct Dns64Step {
    #[pyo3(get)]
    kind: &'static str,
    #[pyo3(get)]
    qtype: Option<u16>,
    #[pyo3(get)]
    outcome: Option<&'static str>,
    #[pyo3(get)]
    response: Option<Py<PyBytes>>,
    #[pyo3(get)]
    answer: Option<&'static str>,
    #[pyo3(get)]
    records: Option<u16>,
    #[pyo3(get)]
    truncated: Option<bool>,
    #[pyo3(get)]
    from_cache: Option<bool>,
    #[pyo3(get)]
    rcode: Option<u16>,
}

#[pymethods]
impl Dns64Step {
    #[classattr]
    fn __match_args__() -> (&'static str, &'static str) {
        ("kind", "outcome")
    }
    /// `Dns64Step(kind='done', outcome='answered', answer='synthesized',
    /// records=2, truncated=False, from_cache=False, response=<84 bytes>)`:
    /// the attributes that apply.
    fn __repr__(&self, py: Python<'_>) -> String {
        Call::new("Dns64Step")
            .kw(true, "kind", lit(self.kind))
            .some("qtype", self.qtype)
            .some("outcome", self.outcome.map(lit))
            .some("answer", self.answer.map(lit))
            .some("records", self.records)
            .some("truncated", self.truncated.map(lit_bool))
            .some("from_cache", self.from_cache.map(lit_bool))
            .some("rcode", self.rcode)
            .some(
                "response",
                self.response
                    .as_ref()
                    .map(|r| format!("<{} bytes>", r.bind(py).as_bytes().len())),
            )
            .finish()
    }
}

impl Dns64Step {
    /// The step `s`, its response (if any) copied out of `out`.
    fn of(py: Python<'_>, s: Step, out: &[u8]) -> Self {
        let done = Dns64Step {
            kind: "done",
            qtype: None,
            outcome: None,
            response: None,
            answer: None,
            records: None,
            truncated: None,
            from_cache: None,
            rcode: None,
        };
        let bytes = |len: usize| Some(PyBytes::new(py, &out[..len]).unbind());
        match s {
            Step::Ask { qtype } => Dns64Step {
                kind: "ask",
                qtype: Some(qtype),
                ..done
            },
            Step::Done(Outcome::Answered { written, from_cache }) => Dns64Step {
                outcome: Some("answered"),
                response: bytes(written.len),
                answer: Some(written.answer.label()),
                records: Some(written.answer.records()),
                truncated: Some(written.truncated),
                from_cache: Some(from_cache),
                ..done
            },
            Step::Done(Outcome::Error { len, rcode }) => Dns64Step {
                outcome: Some("error"),
                response: bytes(len),
                rcode: Some(rcode),
                ..done
            },
            Step::Done(Outcome::Silent) => Dns64Step {
                outcome: Some("silent"),
                ..done
            },
        }
    }
}

/// How an upstream's message came in, for `Dns64Exchange.judge`.
fn received(how: &str) -> PyResult<Received> {
    match how {
        "udp" => Ok(Received::Udp),
        "udp_oversized" => Ok(Received::UdpOversized),
        "tcp" => Ok(Received::Tcp),
        _ => Err(Nat64Error::new_err(format!(
            "how {how:?}: use \"udp\", \"udp_oversized\" (a datagram larger than the query's EDNS size, cut) or \"tcp\""
        ))),
    }
}

/// What a step is given: nothing (the first), or the upstreams' answer.
enum Input<'a> {
    Start,
    Answer(Option<&'a [u8]>),
}

/// One client message being answered (RFC 6147 section 5.1), made by
/// `Dns64.exchange()`: `start()`, then while the step's `kind` is "ask",
/// send `write_query(id)` (a fresh unpredictable ID per upstream, RFC 5452),
/// `judge()` what comes back and give the answer (None: every upstream
/// timed out or failed) to `on_answer()`. The last step is "done". `now`
/// is microseconds on the caller's monotonic clock (as for `Nat64`); the
/// exchange keeps its `Dns64` alive.
#[pyclass(module = "nat64")]
pub(crate) struct Dns64Exchange {
    dns64: Py<Dns64>,
    inner: OwnedExchange,
    limit: usize,
    /// The response buffer (`limit` bytes), made at the first step.
    out: Vec<u8>,
}

impl Dns64Exchange {
    pub(crate) fn new(
        dns64: &Bound<'_, Dns64>,
        query: &Bound<'_, PyAny>,
        client: &Bound<'_, PyAny>,
        tcp: bool,
    ) -> PyResult<Self> {
        let client = addr::<IpAddr>(client)?;
        let inner = with_bytes(query, |q| OwnedExchange::new(q, client, tcp))?;
        let limit = inner.response_limit(&dns64.get().inner);
        Ok(Dns64Exchange {
            dns64: dns64.clone().unbind(),
            inner,
            limit,
            out: Vec::new(),
        })
    }

    fn run(
        &mut self,
        py: Python<'_>,
        cache: Option<PyRefMut<'_, Dns64Cache>>,
        now: u64,
        input: Input<'_>,
    ) -> Dns64Step {
        match cache {
            Some(mut c) => self.step(py, &RefCell::new(&mut c.inner), now, input),
            None => self.step(py, &NoCache, now, input),
        }
    }

    fn step(&mut self, py: Python<'_>, cache: &impl Cache, now: u64, input: Input<'_>) -> Dns64Step {
        let d = &self.dns64.get().inner;
        self.out.resize(self.limit, 0);
        let now = Instant::from_micros(now);
        let s = match input {
            Input::Start => self.inner.start(d, cache, now, &mut self.out),
            Input::Answer(a) => self.inner.on_answer(d, a, cache, now, &mut self.out),
        };
        Dns64Step::of(py, s, &self.out)
    }
}

#[pymethods]
impl Dns64Exchange {
    /// The first step: the answer from `cache`, a local answer (RFC 8880)
    /// or an error response (FORMERR, NOTIMP, BADVERS), silence for a
    /// message that is not a query, or the first question to ask.
    #[pyo3(signature = (now, cache=None))]
    fn start(&mut self, py: Python<'_>, now: u64, cache: Option<PyRefMut<'_, Dns64Cache>>) -> Dns64Step {
        self.run(py, cache, now, Input::Start)
    }
    /// The next step, given the answer to the question asked (any buffer;
    /// None: no upstream answered). A complete response other than SERVFAIL
    /// is left in `cache`. After "done", every call answers SERVFAIL.
    #[pyo3(signature = (answer, now, cache=None))]
    fn on_answer(
        &mut self,
        py: Python<'_>,
        answer: Option<&Bound<'_, PyAny>>,
        now: u64,
        cache: Option<PyRefMut<'_, Dns64Cache>>,
    ) -> PyResult<Dns64Step> {
        opt_bytes(answer, |a| Ok(self.run(py, cache, now, Input::Answer(a))))
    }
    /// The upstream query for the question being asked, with this ID.
    /// Raises Nat64Error when no question is pending.
    fn write_query<'py>(&self, py: Python<'py>, id: u16) -> PyResult<Bound<'py, PyBytes>> {
        let mut out = [0u8; 512];
        let n = self
            .inner
            .write_query(&self.dns64.get().inner, id, &mut out)
            .map_err(err)?;
        Ok(PyBytes::new(py, &out[..n]))
    }
    /// What an upstream's message is to the query sent with `id`, received
    /// as `how` ("udp", "udp_oversized": larger than the query's EDNS size
    /// and cut, only its header is trusted, or "tcp"): "foreign" (not the
    /// answer: ignore it, keep waiting), "truncated" (ask again over TCP),
    /// "answer", or "failed" (SERVFAIL or REFUSED: another upstream is
    /// worth trying; when none does better, it is the answer).
    fn judge(&self, id: u16, reply: &Bound<'_, PyAny>, how: &str) -> PyResult<&'static str> {
        let how = received(how)?;
        let d = &self.dns64.get().inner;
        Ok(match with_bytes(reply, |r| self.inner.judge(d, id, r, how))? {
            Reply::Foreign => "foreign",
            Reply::Truncated => "truncated",
            Reply::Answer { failed: false } => "answer",
            Reply::Answer { failed: true } => "failed",
        })
    }
    /// What the DNS64 does with the query (None: it gets an error response
    /// or silence).
    #[getter]
    fn plan(&self) -> Option<Dns64Plan> {
        self.inner.plan(&self.dns64.get().inner).map(plan_obj)
    }
    /// The largest response the client takes (512 for UDP without EDNS,
    /// 65535 over TCP).
    #[getter]
    fn response_limit(&self) -> usize {
        self.limit
    }
    /// Whether the last step was "done".
    #[getter]
    fn is_done(&self) -> bool {
        self.inner.is_done()
    }
    fn __repr__(&self) -> String {
        Call::new("Dns64Exchange")
            .kw(true, "client", lit(self.inner.client()))
            .kw(true, "tcp", lit_bool(self.inner.tcp()))
            .kw(true, "is_done", lit_bool(self.inner.is_done()))
            .finish()
    }
}
