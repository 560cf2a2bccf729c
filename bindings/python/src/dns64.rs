//! DNS64 (RFC 6147) and NAT64 prefix discovery (RFC 7050, RFC 8781).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nat64_core::dns64::discovery::{self, Pref64};
use nat64_core::dns64::reverse::InAddrName;
use nat64_core::dns64::{ClientPrefix, Decision, Dns64 as CoreDns64, Dns64Config as CoreDns64Config, Plan};
use nat64_core::dns64::{PrefixRule as CorePrefixRule, Query, Written as CoreWritten};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::conv::{
    addr, err, lit, lit_list, opt_bytes, parse, prefix_arg, text, with_bytes, Call, Prefix64, QueryError,
};
use crate::exchange::Dns64Exchange;

// -------------------------------------------------------------------- DNS64

/// One synthesis prefix and the IPv4 ranges it is used for (empty: all).
#[pyclass(frozen, module = "nat64")]
#[derive(Clone)]
pub(crate) struct PrefixRule {
    pub(crate) inner: CorePrefixRule,
}

#[pymethods]
impl PrefixRule {
    #[new]
    #[pyo3(signature = (prefix, mapped=None))]
    fn new(prefix: &Bound<'_, PyAny>, mapped: Option<Vec<Bound<'_, PyAny>>>) -> PyResult<Self> {
        let mut r = CorePrefixRule::new(prefix_arg(prefix)?);
        for m in mapped.unwrap_or_default() {
            r.mapped.push(parse(&text(&m)?)?);
        }
        Ok(PrefixRule { inner: r })
    }
    /// `PrefixRule(Prefix64('2001:db8:1::/96'), ['192.0.2.0/24', '!10.0.0.0/8'])`.
    fn __repr__(&self) -> String {
        rule_repr(&self.inner)
    }
}

fn rule_repr(r: &CorePrefixRule) -> String {
    let mut call = Call::new("PrefixRule");
    call.arg(format!("Prefix64({})", lit(r.prefix)));
    if !r.mapped.is_empty() {
        call.arg(lit_list(&r.mapped, lit));
    }
    call.finish()
}

/// DNS64 configuration: the fields of the core's `Dns64Config`.
#[pyclass(frozen, module = "nat64")]
#[derive(Clone)]
pub(crate) struct Dns64Config {
    pub(crate) inner: CoreDns64Config,
}

#[pymethods]
impl Dns64Config {
    #[new]
    #[pyo3(signature = (*, prefixes=None, exclude=None, clients=None, translate_all=false, allow_ipv4=false,
        allow_non_global=false, edns_udp_size=1232, upstream_validates=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        prefixes: Option<Vec<Bound<'_, PyAny>>>,
        exclude: Option<Vec<Bound<'_, PyAny>>>,
        clients: Option<Vec<Bound<'_, PyAny>>>,
        translate_all: bool,
        allow_ipv4: bool,
        allow_non_global: bool,
        edns_udp_size: u16,
        upstream_validates: bool,
    ) -> PyResult<Self> {
        let mut c = CoreDns64Config::default();
        for p in prefixes.unwrap_or_default() {
            c.prefixes.push(match p.cast::<PrefixRule>() {
                Ok(r) => r.get().inner.clone(),
                Err(_) => CorePrefixRule::new(prefix_arg(&p)?),
            });
        }
        if let Some(ex) = exclude {
            c.exclude = ex.iter().map(|e| parse(&text(e)?)).collect::<PyResult<_>>()?;
        }
        for cl in clients.unwrap_or_default() {
            c.clients.push(parse::<ClientPrefix>(&text(&cl)?)?);
        }
        c.translate_all = translate_all;
        c.allow_ipv4 = allow_ipv4;
        c.allow_non_global = allow_non_global;
        c.edns_udp_size = edns_udp_size;
        c.upstream_validates = upstream_validates;
        Ok(Dns64Config { inner: c })
    }
    /// `Dns64Config(prefixes=[PrefixRule(Prefix64('2001:db8:64::/96'))], ...)`:
    /// the fields that are not the default.
    fn __repr__(&self) -> String {
        let (c, d) = (&self.inner, CoreDns64Config::default());
        Call::new("Dns64Config")
            .kw(!c.prefixes.is_empty(), "prefixes", lit_list(&c.prefixes, rule_repr))
            .kw(c.exclude != d.exclude, "exclude", lit_list(&c.exclude, lit))
            .kw(!c.clients.is_empty(), "clients", lit_list(&c.clients, lit))
            .kw(c.translate_all, "translate_all", "True")
            .kw(c.allow_ipv4, "allow_ipv4", "True")
            .kw(c.allow_non_global, "allow_non_global", "True")
            .field("edns_udp_size", c.edns_udp_size, d.edns_udp_size)
            .kw(c.upstream_validates, "upstream_validates", "True")
            .finish()
    }
}

/// What to do with a client query: `kind` is "forward", "local", "aaaa" or
/// "ptr"; `synthesize` (local) says whether AAAA records are synthesized;
/// `ptr_target` (ptr) is the IPv4 address whose in-addr.arpa name to resolve.
#[pyclass(frozen, module = "nat64")]
pub(crate) struct Dns64Plan {
    #[pyo3(get)]
    kind: &'static str,
    #[pyo3(get)]
    synthesize: bool,
    #[pyo3(get)]
    ptr_target: Option<String>,
}

#[pymethods]
impl Dns64Plan {
    fn __repr__(&self) -> String {
        format!("Dns64Plan(kind='{}')", self.kind)
    }
}

/// A response written by the DNS64: `response` (bytes), `truncated` (TC
/// set), `answer` ("relayed", "filtered", "synthesized", "empty",
/// "ptr_cname", "local", "error") and `records` (synthesized or removed).
#[pyclass(frozen, module = "nat64")]
pub(crate) struct Written {
    #[pyo3(get)]
    response: Py<PyBytes>,
    #[pyo3(get)]
    truncated: bool,
    #[pyo3(get)]
    answer: &'static str,
    #[pyo3(get)]
    records: u16,
}

#[pymethods]
impl Written {
    fn __repr__(&self) -> String {
        format!(
            "Written(answer='{}', records={}, truncated={})",
            self.answer, self.records, self.truncated
        )
    }
}

pub(crate) fn written(py: Python<'_>, w: CoreWritten, out: &[u8]) -> Written {
    Written {
        response: PyBytes::new(py, &out[..w.len]).unbind(),
        truncated: w.truncated,
        answer: w.answer.label(),
        records: w.answer.records(),
    }
}

pub(crate) fn plan_obj(p: Plan) -> Dns64Plan {
    let (kind, synthesize, ptr_target) = match p {
        Plan::Forward => ("forward", false, None),
        Plan::Local { synthesize } => ("local", synthesize, None),
        Plan::Aaaa => ("aaaa", true, None),
        Plan::Ptr(name) => ("ptr", true, Some(name.addr().to_string())),
    };
    Dns64Plan {
        kind,
        synthesize,
        ptr_target,
    }
}

pub(crate) fn with_query<R>(query: &Bound<'_, PyAny>, f: impl FnOnce(&Query<'_>) -> PyResult<R>) -> PyResult<R> {
    with_bytes(query, |q| match Query::parse(q) {
        Ok(q) => f(&q),
        Err(e) => {
            let py = query.py();
            let exc = QueryError::new_err(e.to_string());
            exc.value(py).setattr("rcode", e.rcode())?;
            Err(exc)
        }
    })?
}

/// DNS64 (RFC 6147) on DNS wire format: the caller owns sockets and cache.
/// Queries and responses are any buffer; responses come back as `Written`.
#[pyclass(frozen, module = "nat64")]
pub(crate) struct Dns64 {
    pub(crate) inner: CoreDns64,
}

#[pymethods]
impl Dns64 {
    #[new]
    #[pyo3(signature = (config=None))]
    fn new(config: Option<&Dns64Config>) -> PyResult<Self> {
        let c = config.map(|c| c.inner.clone()).unwrap_or_default();
        Ok(Dns64 {
            inner: CoreDns64::new(c).map_err(err)?,
        })
    }
    /// Whether `client` gets DNS64 (client ACL, allow_ipv4).
    fn serves(&self, client: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.inner.serves(addr::<IpAddr>(client)?))
    }
    /// The largest response for this query over UDP or TCP.
    #[pyo3(signature = (query, tcp=false))]
    fn response_limit(&self, query: &Bound<'_, PyAny>, tcp: bool) -> PyResult<usize> {
        with_query(query, |q| Ok(self.inner.response_limit(q, tcp)))
    }
    /// What to do with `query` from `client`. Raises QueryError (with
    /// `rcode`) for a message that gets no normal answer.
    fn plan(&self, query: &Bound<'_, PyAny>, client: &Bound<'_, PyAny>) -> PyResult<Dns64Plan> {
        let client = addr::<IpAddr>(client)?;
        with_query(query, |q| Ok(plan_obj(self.inner.plan(q, client))))
    }
    /// A `Dns64Exchange` for the client message `query` (any buffer,
    /// copied) from `client`, over TCP or UDP: the whole RFC 6147 section
    /// 5.1 sequence, step by step, with the caller's I/O. The message is
    /// checked by `start()`, which answers a malformed one with FORMERR.
    #[pyo3(signature = (query, client, tcp=false))]
    fn exchange(
        slf: &Bound<'_, Self>,
        query: &Bound<'_, PyAny>,
        client: &Bound<'_, PyAny>,
        tcp: bool,
    ) -> PyResult<Dns64Exchange> {
        Dns64Exchange::new(slf, query, client, tcp)
    }
    /// The query to send upstream for `qname` (wire format) / `qtype`.
    fn upstream_query<'py>(
        &self,
        py: Python<'py>,
        query: &Bound<'_, PyAny>,
        id: u16,
        qname: &Bound<'_, PyAny>,
        qtype: u16,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let mut out = [0u8; 512];
        let n = with_query(query, |q| {
            with_bytes(qname, |name| self.inner.upstream_query(q, id, name, qtype, &mut out))?.map_err(err)
        })?;
        Ok(PyBytes::new(py, &out[..n]))
    }
    /// RFC 6147 sections 5.1.1-5.1.5: "query_a" when an A query is needed,
    /// "respond" when the AAAA answer (None: timed out) is the basis.
    #[pyo3(signature = (query, aaaa_response=None))]
    fn needs_a_query(
        &self,
        query: &Bound<'_, PyAny>,
        aaaa_response: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<&'static str> {
        with_query(query, |q| {
            opt_bytes(aaaa_response, |a| {
                Ok(match self.inner.needs_a_query(q, a).map_err(err)? {
                    Decision::QueryA => "query_a",
                    Decision::Respond => "respond",
                })
            })
        })
    }
    /// The response to a AAAA query from the upstream AAAA and A answers
    /// (None: timed out or not asked), at most `max_len` bytes.
    #[pyo3(signature = (query, aaaa_response=None, a_response=None, max_len=65535))]
    fn synthesize(
        &self,
        py: Python<'_>,
        query: &Bound<'_, PyAny>,
        aaaa_response: Option<&Bound<'_, PyAny>>,
        a_response: Option<&Bound<'_, PyAny>>,
        max_len: usize,
    ) -> PyResult<Written> {
        let mut out = vec![0u8; max_len];
        with_query(query, |q| {
            opt_bytes(aaaa_response, |aaaa| {
                opt_bytes(a_response, |a| {
                    let w = self.inner.synthesize(q, aaaa, a, &mut out).map_err(err)?;
                    Ok(written(py, w, &out))
                })
            })
        })
    }
    /// An upstream response relayed to the client (RFC 6147 section 5.3.3).
    #[pyo3(signature = (query, response, max_len=65535))]
    fn relay(
        &self,
        py: Python<'_>,
        query: &Bound<'_, PyAny>,
        response: &Bound<'_, PyAny>,
        max_len: usize,
    ) -> PyResult<Written> {
        let mut out = vec![0u8; max_len];
        with_query(query, |q| {
            let w = with_bytes(response, |r| self.inner.relay(q, r, &mut out))?.map_err(err)?;
            Ok(written(py, w, &out))
        })
    }
    /// RFC 6147 section 5.3.1: the PTR answer for `target` (the plan's
    /// `ptr_target`) from the upstream PTR response, or None: forward the
    /// original query instead.
    #[pyo3(signature = (query, target, response, max_len=65535))]
    fn synthesize_ptr(
        &self,
        py: Python<'_>,
        query: &Bound<'_, PyAny>,
        target: &Bound<'_, PyAny>,
        response: &Bound<'_, PyAny>,
        max_len: usize,
    ) -> PyResult<Option<Written>> {
        let name = InAddrName::new(addr::<Ipv4Addr>(target)?);
        let mut out = vec![0u8; max_len];
        with_query(query, |q| {
            let w = with_bytes(response, |r| self.inner.synthesize_ptr(q, &name, r, &mut out))?.map_err(err)?;
            Ok(w.map(|w| written(py, w, &out)))
        })
    }
    /// The answer to an RFC 8880 special name (plan kind "local").
    #[pyo3(signature = (query, synthesize, max_len=65535))]
    fn answer_local(
        &self,
        py: Python<'_>,
        query: &Bound<'_, PyAny>,
        synthesize: bool,
        max_len: usize,
    ) -> PyResult<Written> {
        let mut out = vec![0u8; max_len];
        with_query(query, |q| {
            let w = self.inner.answer_local(q, synthesize, &mut out).map_err(err)?;
            Ok(written(py, w, &out))
        })
    }
    /// An error response with RCODE `rcode` to any client message, or None
    /// when it must not be answered.
    #[pyo3(signature = (client_msg, rcode, max_len=65535))]
    fn error_response<'py>(
        &self,
        py: Python<'py>,
        client_msg: &Bound<'_, PyAny>,
        rcode: u16,
        max_len: usize,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let mut out = vec![0u8; max_len];
        let n = with_bytes(client_msg, |m| self.inner.error_response(m, rcode, &mut out))?.map_err(err)?;
        Ok(n.map(|n| PyBytes::new(py, &out[..n])))
    }
}

// ---------------------------------------------------------------- discovery

/// RFC 7050 section 3: the NAT64 prefixes revealed by a response to
/// `ipv4only.arpa. IN AAAA`.
#[pyfunction]
pub(crate) fn prefixes_from_response(response: &Bound<'_, PyAny>) -> PyResult<Vec<Prefix64>> {
    let v = with_bytes(response, discovery::prefixes_from_response)?.map_err(err)?;
    Ok(v.into_iter().map(|p| Prefix64 { inner: p }).collect())
}

/// The RFC 7050 section 3 heuristic on a list of IPv6 addresses.
#[pyfunction]
pub(crate) fn prefixes_from_addresses(addrs: Vec<Bound<'_, PyAny>>) -> PyResult<Vec<Prefix64>> {
    let a: Vec<Ipv6Addr> = addrs.iter().map(addr::<Ipv6Addr>).collect::<PyResult<_>>()?;
    let v = discovery::prefixes_from_addresses(a).map_err(err)?;
    Ok(v.into_iter().map(|p| Prefix64 { inner: p }).collect())
}

/// The PREF64 Router Advertisement option (RFC 8781).
#[pyclass(frozen, name = "Pref64", module = "nat64")]
pub(crate) struct PyPref64 {
    pub(crate) inner: Pref64,
}

#[pymethods]
impl PyPref64 {
    #[new]
    fn new(prefix: &Bound<'_, PyAny>, lifetime_secs: u32) -> PyResult<Self> {
        Ok(PyPref64 {
            inner: Pref64::new(prefix_arg(prefix)?, lifetime_secs),
        })
    }
    /// Reads an option (16 bytes).
    #[staticmethod]
    fn decode(option: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PyPref64 {
            inner: with_bytes(option, Pref64::decode)?.map_err(err)?,
        })
    }
    /// The 16 option bytes.
    fn encode<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &self.inner.encode().map_err(err)?))
    }
    #[getter]
    fn prefix(&self) -> Prefix64 {
        Prefix64 {
            inner: self.inner.prefix,
        }
    }
    #[getter]
    fn lifetime_secs(&self) -> u32 {
        self.inner.lifetime_secs()
    }
    #[getter]
    fn scaled_lifetime(&self) -> u16 {
        self.inner.scaled_lifetime
    }
    fn __repr__(&self) -> String {
        format!("Pref64('{}', {})", self.inner.prefix, self.inner.lifetime_secs())
    }
}
