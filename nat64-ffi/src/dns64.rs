//! DNS64 (RFC 6147) and NAT64 prefix discovery (RFC 7050, RFC 8781): the
//! core's `dns64::Dns64` and `dns64::discovery`. Messages are DNS wire
//! format; responses are written to the caller's buffer.

use std::ffi::c_char;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use nat64_core::dns64::discovery::{self, Pref64};
use nat64_core::dns64::reverse::InAddrName;
use nat64_core::dns64::{Answer, ClientPrefix, Decision, Dns64, Dns64Config, Plan, PrefixRule, Query, Written};
use nat64_core::{Prefix64, PrefixError};

use crate::error::{cstr, fail, nat64_result};
use crate::prefix::nat64_prefix64;
use crate::{ffi_panic_boundary, free_box, slice, slice_mut, try_mut, try_ref, try_res};

/// The DNS64's configuration (the core's `Dns64Config`).
pub struct nat64_dns64_config {
    inner: Dns64Config,
}

/// A DNS64 (the core's `Dns64`): configured once, then shared; it holds no
/// state that changes, so one may be used from several threads. Exchanges
/// made from it (nat64_dns64_exchange_new) share it.
pub struct nat64_dns64 {
    pub(crate) inner: Arc<Dns64>,
}

/// What to do with a client query (nat64_dns64_plan).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum nat64_plan_kind {
    /// Forward it unchanged and relay the answer (nat64_dns64_relay).
    Forward = 1,
    /// An RFC 8880 name: answer it with nat64_dns64_answer_local.
    Local = 2,
    /// A AAAA query: RFC 6147 section 5.1 (nat64_dns64_needs_a_query, nat64_dns64_synthesize).
    Aaaa = 3,
    /// A PTR query under a synthesis prefix: resolve PTR for `ptr_target`'s
    /// in-addr.arpa name, then nat64_dns64_synthesize_ptr.
    Ptr = 4,
}

/// The plan for a query.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct nat64_plan {
    /// A nat64_plan_kind; 0 when the query gets no normal answer (see `rcode`).
    pub kind: u32,
    /// Local: whether AAAA records are synthesized for this client.
    pub synthesize: bool,
    /// Ptr: the IPv4 address whose in-addr.arpa name to resolve.
    pub ptr_target: [u8; 4],
    /// When nat64_dns64_plan returned NAT64_RESULT_DNS_BAD_QUERY: the RCODE
    /// to answer with (nat64_dns64_error_response), or -1 to stay silent.
    pub rcode: i32,
}

/// What a written response holds.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum nat64_answer {
    /// An upstream response relayed.
    Relayed = 1,
    /// The AAAA response without `records` excluded AAAA records.
    Filtered = 2,
    /// `records` synthesized AAAA records.
    Synthesized = 3,
    /// The empty answer or error of the upstream is the response.
    Empty = 4,
    /// A CNAME from ip6.arpa to in-addr.arpa.
    PtrCname = 5,
    /// An RFC 8880 name answered here.
    Local = 6,
    /// An error response.
    Error = 7,
}

/// A response written to the caller's buffer.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct nat64_written {
    /// Its length.
    pub len: usize,
    /// Whether it did not fit and was truncated (TC set).
    pub truncated: bool,
    /// A nat64_answer.
    pub answer: u32,
    /// Records synthesized (Synthesized) or removed (Filtered).
    pub records: u16,
}

pub(crate) fn written(w: Written) -> nat64_written {
    let answer = match w.answer {
        Answer::Relayed => nat64_answer::Relayed,
        Answer::Filtered { .. } => nat64_answer::Filtered,
        Answer::Synthesized { .. } => nat64_answer::Synthesized,
        Answer::Empty => nat64_answer::Empty,
        Answer::PtrCname => nat64_answer::PtrCname,
        Answer::Local => nat64_answer::Local,
        Answer::Error => nat64_answer::Error,
    };
    nat64_written {
        len: w.len,
        truncated: w.truncated,
        answer: answer as u32,
        records: w.answer.records(),
    }
}

/// A new DNS64 configuration with the core's defaults (the Well-Known
/// Prefix when no prefix is added; ::ffff:0:0/96 excluded).
///
/// # Safety
/// `out` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_config_new(out: *mut *mut nat64_dns64_config) -> nat64_result {
    ffi_panic_boundary! {
        let out = try_mut!(out);
        *out = Box::into_raw(Box::new(nat64_dns64_config { inner: Dns64Config::default() }));
        nat64_result::Ok
    }
}

/// Frees a DNS64 configuration (NULL is accepted).
///
/// # Safety
/// `cfg` from nat64_dns64_config_new(), not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_config_free(cfg: *mut nat64_dns64_config) {
    ffi_panic_boundary! {
        // SAFETY: `cfg` is NULL or from its _new function, not used again (see # Safety).
        free_box(cfg)
    }
}

unsafe fn parse<T: std::str::FromStr<Err = PrefixError>>(text: *const c_char) -> Result<T, nat64_result> {
    cstr(text)?
        .parse::<T>()
        .map_err(|e| fail(nat64_result::InvalidPrefix, e))
}

/// Adds a synthesis prefix ("64:ff9b::/96"), used for the IPv4 addresses of
/// the ranges added with nat64_dns64_config_add_mapped (all when none).
///
/// # Safety
/// `cfg` valid; `prefix` a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_config_add_prefix(
    cfg: *mut nat64_dns64_config,
    prefix: *const c_char,
) -> nat64_result {
    ffi_panic_boundary! {
        let cfg = try_mut!(cfg);
        let p: Prefix64 = try_res!(parse(prefix));
        cfg.inner.prefixes.push(PrefixRule::new(p));
        nat64_result::Ok
    }
}

/// Adds an element to the IPv4 ranges of the synthesis prefix `prefix`
/// (added before): "192.0.2.0/24" (used for it), "!10.0.0.0/8" (not used
/// for it) or "any". The first element holding an address decides; with
/// only "!" elements, every other address is used (the core's
/// `PrefixRule::maps`).
///
/// # Safety
/// `cfg` valid; the strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_config_add_mapped(
    cfg: *mut nat64_dns64_config,
    prefix: *const c_char,
    mapped: *const c_char,
) -> nat64_result {
    ffi_panic_boundary! {
        let cfg = try_mut!(cfg);
        let p: Prefix64 = try_res!(parse(prefix));
        let m = try_res!(parse(mapped));
        match cfg.inner.prefixes.iter_mut().find(|r| r.prefix == p) {
            Some(r) => {
                r.mapped.push(m);
                nat64_result::Ok
            }
            None => fail(nat64_result::InvalidConfig, format!("{p} is not a synthesis prefix yet: add it first")),
        }
    }
}

/// Adds an IPv6 range whose AAAA records are treated as absent (RFC 6147
/// section 5.1.4). The first call replaces the default ::ffff:0:0/96.
///
/// # Safety
/// `cfg` valid; `prefix` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_config_add_exclude(
    cfg: *mut nat64_dns64_config,
    prefix: *const c_char,
) -> nat64_result {
    ffi_panic_boundary! {
        let cfg = try_mut!(cfg);
        let p = try_res!(parse(prefix));
        if cfg.inner.exclude == Dns64Config::default().exclude {
            cfg.inner.exclude.clear();
        }
        cfg.inner.exclude.push(p);
        nat64_result::Ok
    }
}

/// Adds a client range served with synthesis ("2001:db8::/32" or an IPv4
/// range); none means every client.
///
/// # Safety
/// `cfg` valid; `prefix` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_config_add_client(
    cfg: *mut nat64_dns64_config,
    prefix: *const c_char,
) -> nat64_result {
    ffi_panic_boundary! {
        let cfg = try_mut!(cfg);
        let c: ClientPrefix = try_res!(parse(prefix));
        cfg.inner.clients.push(c);
        nat64_result::Ok
    }
}

/// Synthesize even when real AAAA records exist (default false).
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_config_set_translate_all(cfg: *mut nat64_dns64_config, on: bool) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.translate_all = on;
        nat64_result::Ok
    }
}

/// Also synthesize for clients asking over IPv4 (default false).
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_config_set_allow_ipv4(cfg: *mut nat64_dns64_config, on: bool) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.allow_ipv4 = on;
        nat64_result::Ok
    }
}

/// Synthesize non-global IPv4 addresses under the Well-Known Prefix too
/// (default false, RFC 6052 section 3.1).
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_config_set_allow_non_global(
    cfg: *mut nat64_dns64_config,
    on: bool,
) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.allow_non_global = on;
        nat64_result::Ok
    }
}

/// The upstream resolvers validate DNSSEC and their AD bit is trusted
/// (default false): a synthesized answer to a client that set DO and not CD
/// then carries AD when the negative AAAA answer and the A answer both did
/// (RFC 6147 section 5.5 item 2).
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_config_set_upstream_validates(
    cfg: *mut nat64_dns64_config,
    on: bool,
) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.upstream_validates = on;
        nat64_result::Ok
    }
}

/// Our EDNS(0) UDP payload size (default 1232).
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_config_set_edns_udp_size(cfg: *mut nat64_dns64_config, size: u16) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.edns_udp_size = size;
        nat64_result::Ok
    }
}

/// A DNS64 with a copy of `cfg`.
///
/// # Safety
/// `cfg` and `out` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_new(cfg: *const nat64_dns64_config, out: *mut *mut nat64_dns64) -> nat64_result {
    ffi_panic_boundary! {
        let cfg = try_ref!(cfg);
        let out = try_mut!(out);
        match Dns64::new(cfg.inner.clone()) {
            Ok(d) => {
                *out = Box::into_raw(Box::new(nat64_dns64 { inner: Arc::new(d) }));
                nat64_result::Ok
            }
            Err(e) => fail(nat64_result::InvalidConfig, e),
        }
    }
}

/// Frees a DNS64 (NULL is accepted).
///
/// # Safety
/// `d` from nat64_dns64_new(), not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_free(d: *mut nat64_dns64) {
    ffi_panic_boundary! {
        // SAFETY: `d` is NULL or from its _new function, not used again (see # Safety).
        free_box(d)
    }
}

/// Parses the client's query, or fails with NAT64_RESULT_DNS_BAD_QUERY.
///
/// # Safety
/// `q` NULL or `len` readable bytes.
unsafe fn query<'a>(q: *const u8, len: usize) -> Result<Query<'a>, nat64_result> {
    // SAFETY: the caller passes NULL or `len` readable bytes (see # Safety).
    let b = slice(q, len)?;
    parse_query(b).map_err(|(code, _)| code)
}

/// Parses a client message as a query, or fails with
/// NAT64_RESULT_DNS_BAD_QUERY and the RCODE to answer with (-1: silence).
fn parse_query(b: &[u8]) -> Result<Query<'_>, (nat64_result, i32)> {
    Query::parse(b).map_err(|e| {
        let rc = e.rcode().map_or(-1, i32::from);
        (fail(nat64_result::DnsBadQuery, e), rc)
    })
}

unsafe fn opt_slice<'a>(p: *const u8, len: usize) -> Result<Option<&'a [u8]>, nat64_result> {
    if p.is_null() {
        Ok(None)
    } else {
        slice(p, len).map(Some)
    }
}

fn dns_fail(e: nat64_core::dns64::Dns64Error) -> nat64_result {
    fail(nat64_result::DnsUpstream, e)
}

/// What the calls that write a response share: `d`, `w`, the client's query
/// and `out` checked, then `write` run on them; the response it wrote (if
/// any) is described in `*w`. `Ok(false)`: it wrote none (`*w` untouched).
///
/// # Safety
/// `d` and `w` NULL or valid; the buffers NULL or as their lengths say.
unsafe fn respond(
    d: *const nat64_dns64,
    query: *const u8,
    query_len: usize,
    out: *mut u8,
    out_len: usize,
    w: *mut nat64_written,
    write: impl FnOnce(&Dns64, &Query<'_>, &mut [u8]) -> Result<Option<Written>, nat64_result>,
) -> Result<bool, nat64_result> {
    // SAFETY: the caller passes NULL or valid pointers (see # Safety).
    let (Some(d), Some(w)) = (d.as_ref(), w.as_mut()) else {
        return Err(nat64_result::NullParameter);
    };
    // SAFETY: the caller passes NULL or `query_len` readable bytes.
    let q = self::query(query, query_len)?;
    // SAFETY: the caller passes NULL or `out_len` writable bytes.
    let out = slice_mut(out, out_len)?;
    let x = write(&d.inner, &q, out)?;
    if let Some(x) = x {
        *w = written(x);
    }
    Ok(x.is_some())
}

/// What to do with a query from `client` (IPv4 or IPv6 text). When the
/// message gets no normal answer, returns NAT64_RESULT_DNS_BAD_QUERY with
/// `plan->rcode` the RCODE to answer with (-1: stay silent).
///
/// # Safety
/// `d`, `plan` valid; `query` points to `query_len` bytes; `client` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_plan(
    d: *const nat64_dns64,
    query: *const u8,
    query_len: usize,
    client: *const c_char,
    plan: *mut nat64_plan,
) -> nat64_result {
    ffi_panic_boundary! {
        let d = try_ref!(d);
        let plan = try_mut!(plan);
        *plan = nat64_plan::NONE;
        // SAFETY: the caller passes a NUL-terminated string (see # Safety).
        let client = try_res!(client_addr(client));
        // SAFETY: the caller passes `query_len` readable bytes (see # Safety).
        let msg = try_res!(slice(query, query_len));
        plan_into(&d.inner, msg, client, plan)
    }
}

impl nat64_plan {
    /// Before a plan is made: no kind, and silence.
    const NONE: nat64_plan = nat64_plan {
        kind: 0,
        synthesize: false,
        ptr_target: [0; 4],
        rcode: -1,
    };
}

/// Reads a client address argument (IPv4 or IPv6 text).
///
/// # Safety
/// `client` NULL or NUL-terminated.
pub(crate) unsafe fn client_addr(client: *const c_char) -> Result<IpAddr, nat64_result> {
    // SAFETY: the caller passes NULL or a NUL-terminated string (see # Safety).
    let c = cstr(client)?;
    c.parse::<IpAddr>()
        .map_err(|_| fail(nat64_result::InvalidAddress, format!("{c:?} is not an IP address")))
}

/// The plan of `d` for the client message `msg` from `client` into `*plan`,
/// or NAT64_RESULT_DNS_BAD_QUERY with `plan->rcode` (nat64_dns64_plan and
/// nat64_dns64_exchange_plan).
pub(crate) fn plan_into(d: &Dns64, msg: &[u8], client: IpAddr, plan: &mut nat64_plan) -> nat64_result {
    *plan = nat64_plan::NONE;
    let q = match parse_query(msg) {
        Ok(q) => q,
        Err((code, rc)) => {
            plan.rcode = rc;
            return code;
        }
    };
    match d.plan(&q, client) {
        Plan::Forward => plan.kind = nat64_plan_kind::Forward as u32,
        Plan::Local { synthesize } => {
            plan.kind = nat64_plan_kind::Local as u32;
            plan.synthesize = synthesize;
        }
        Plan::Aaaa => plan.kind = nat64_plan_kind::Aaaa as u32,
        Plan::Ptr(name) => {
            plan.kind = nat64_plan_kind::Ptr as u32;
            plan.ptr_target = name.addr().octets();
        }
    }
    nat64_result::Ok
}

/// Whether `client` gets DNS64 (client ranges, allow_ipv4).
///
/// # Safety
/// `d`, `out` valid; `client` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_serves(
    d: *const nat64_dns64,
    client: *const c_char,
    out: *mut bool,
) -> nat64_result {
    ffi_panic_boundary! {
        let d = try_ref!(d);
        let out = try_mut!(out);
        let a = try_res!(client_addr(client));
        *out = d.inner.serves(a);
        nat64_result::Ok
    }
}

/// The largest response for this query over UDP or TCP.
///
/// # Safety
/// `d`, `out` valid; `query` points to `query_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_response_limit(
    d: *const nat64_dns64,
    query: *const u8,
    query_len: usize,
    tcp: bool,
    out: *mut usize,
) -> nat64_result {
    ffi_panic_boundary! {
        let d = try_ref!(d);
        let out = try_mut!(out);
        let q = try_res!(self::query(query, query_len));
        *out = d.inner.response_limit(&q, tcp);
        nat64_result::Ok
    }
}

/// Writes the query to send upstream for `qname` (wire format) and `qtype`.
///
/// # Safety
/// `d`, `written` valid; the buffers as their lengths say.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_upstream_query(
    d: *const nat64_dns64,
    query: *const u8,
    query_len: usize,
    id: u16,
    qname: *const u8,
    qname_len: usize,
    qtype: u16,
    out: *mut u8,
    out_len: usize,
    written: *mut usize,
) -> nat64_result {
    ffi_panic_boundary! {
        let d = try_ref!(d);
        let written = try_mut!(written);
        let q = try_res!(self::query(query, query_len));
        let name = try_res!(slice(qname, qname_len));
        let out = try_res!(slice_mut(out, out_len));
        match d.inner.upstream_query(&q, id, name, qtype, out) {
            Ok(n) => {
                *written = n;
                nat64_result::Ok
            }
            Err(e) => fail(nat64_result::BufferTooSmall, e),
        }
    }
}

/// RFC 6147 sections 5.1.1-5.1.5: `*query_a` is true when an A query is
/// needed, false when the AAAA response (NULL: timed out) is the basis.
///
/// # Safety
/// `d`, `query_a` valid; the buffers as their lengths say.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_needs_a_query(
    d: *const nat64_dns64,
    query: *const u8,
    query_len: usize,
    aaaa: *const u8,
    aaaa_len: usize,
    query_a: *mut bool,
) -> nat64_result {
    ffi_panic_boundary! {
        let d = try_ref!(d);
        let query_a = try_mut!(query_a);
        let q = try_res!(self::query(query, query_len));
        let aaaa = try_res!(opt_slice(aaaa, aaaa_len));
        match d.inner.needs_a_query(&q, aaaa) {
            Ok(dec) => {
                *query_a = dec == Decision::QueryA;
                nat64_result::Ok
            }
            Err(e) => dns_fail(e),
        }
    }
}

/// Writes the response to a AAAA query from the upstream AAAA and A
/// responses (NULL: timed out or not asked). NAT64_RESULT_DNS_UPSTREAM
/// when they cannot make one (answer SERVFAIL; see nat64_last_error()).
///
/// # Safety
/// `d`, `w` valid; the buffers as their lengths say.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_synthesize(
    d: *const nat64_dns64,
    query: *const u8,
    query_len: usize,
    aaaa: *const u8,
    aaaa_len: usize,
    a: *const u8,
    a_len: usize,
    out: *mut u8,
    out_len: usize,
    w: *mut nat64_written,
) -> nat64_result {
    ffi_panic_boundary! {
        try_res!(respond(d, query, query_len, out, out_len, w, |d, q, out| {
            // SAFETY: the caller passes NULL or `*_len` readable bytes (see # Safety).
            let (aaaa, a) = (opt_slice(aaaa, aaaa_len)?, opt_slice(a, a_len)?);
            d.synthesize(q, aaaa, a, out).map(Some).map_err(dns_fail)
        }));
        nat64_result::Ok
    }
}

/// Relays an upstream response to the client (RFC 6147 section 5.3.3).
///
/// # Safety
/// `d`, `w` valid; the buffers as their lengths say.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_relay(
    d: *const nat64_dns64,
    query: *const u8,
    query_len: usize,
    response: *const u8,
    response_len: usize,
    out: *mut u8,
    out_len: usize,
    w: *mut nat64_written,
) -> nat64_result {
    ffi_panic_boundary! {
        try_res!(respond(d, query, query_len, out, out_len, w, |d, q, out| {
            // SAFETY: the caller passes `response_len` readable bytes (see # Safety).
            let r = slice(response, response_len)?;
            d.relay(q, r, out).map(Some).map_err(dns_fail)
        }));
        nat64_result::Ok
    }
}

/// RFC 6147 section 5.3.1: the answer to a PTR query for an address under a
/// synthesis prefix, from the upstream PTR response for `target` (the plan's
/// `ptr_target`). `*answered` false: forward the original query instead.
///
/// # Safety
/// `d`, `w`, `answered` valid; `target` 4 bytes; the buffers as their lengths say.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_synthesize_ptr(
    d: *const nat64_dns64,
    query: *const u8,
    query_len: usize,
    target: *const u8,
    response: *const u8,
    response_len: usize,
    out: *mut u8,
    out_len: usize,
    w: *mut nat64_written,
    answered: *mut bool,
) -> nat64_result {
    ffi_panic_boundary! {
        let answered = try_mut!(answered);
        let target = try_ref!(target.cast::<[u8; 4]>());
        *answered = try_res!(respond(d, query, query_len, out, out_len, w, |d, q, out| {
            // SAFETY: the caller passes `response_len` readable bytes (see # Safety).
            let r = slice(response, response_len)?;
            let name = InAddrName::new(Ipv4Addr::from(*target));
            d.synthesize_ptr(q, &name, r, out).map_err(dns_fail)
        }));
        nat64_result::Ok
    }
}

/// The answer to an RFC 8880 special name (plan Local).
///
/// # Safety
/// `d`, `w` valid; the buffers as their lengths say.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_answer_local(
    d: *const nat64_dns64,
    query: *const u8,
    query_len: usize,
    synthesize: bool,
    out: *mut u8,
    out_len: usize,
    w: *mut nat64_written,
) -> nat64_result {
    ffi_panic_boundary! {
        try_res!(respond(d, query, query_len, out, out_len, w, |d, q, out| {
            d.answer_local(q, synthesize, out).map(Some).map_err(dns_fail)
        }));
        nat64_result::Ok
    }
}

/// An error response with RCODE `rcode` to any client message;
/// `*answered` false when it must not be answered.
///
/// # Safety
/// `d`, `written`, `answered` valid; the buffers as their lengths say.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_error_response(
    d: *const nat64_dns64,
    msg: *const u8,
    msg_len: usize,
    rcode: u16,
    out: *mut u8,
    out_len: usize,
    written: *mut usize,
    answered: *mut bool,
) -> nat64_result {
    ffi_panic_boundary! {
        let d = try_ref!(d);
        let written = try_mut!(written);
        let answered = try_mut!(answered);
        let m = try_res!(slice(msg, msg_len));
        let out = try_res!(slice_mut(out, out_len));
        match d.inner.error_response(m, rcode, out) {
            Ok(n) => {
                *answered = n.is_some();
                *written = n.unwrap_or(0);
                nat64_result::Ok
            }
            Err(e) => dns_fail(e),
        }
    }
}

// ---------------------------------------------------------------- discovery

unsafe fn hand_out(
    found: Vec<Prefix64>,
    prefixes: *mut *mut nat64_prefix64,
    cap: usize,
    count: &mut usize,
) -> nat64_result {
    if prefixes.is_null() && cap > 0 {
        return nat64_result::NullParameter;
    }
    for (i, p) in found.iter().take(cap).enumerate() {
        *prefixes.add(i) = Box::into_raw(Box::new(nat64_prefix64 { inner: *p }));
    }
    *count = found.len();
    nat64_result::Ok
}

/// RFC 7050 section 3: the NAT64 prefixes revealed by a response to
/// `ipv4only.arpa. IN AAAA`. The first `cap` are stored in `prefixes` as new
/// objects (free each with nat64_prefix64_free); `*count` gets how many
/// there are. NAT64_RESULT_NO_PREFIX when there is none (see nat64_last_error()).
///
/// # Safety
/// `count` valid; `prefixes` points to `cap` pointers; `response` to `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn nat64_prefixes_from_response(
    response: *const u8,
    len: usize,
    prefixes: *mut *mut nat64_prefix64,
    cap: usize,
    count: *mut usize,
) -> nat64_result {
    ffi_panic_boundary! {
        let count = try_mut!(count);
        let r = try_res!(slice(response, len));
        match discovery::prefixes_from_response(r) {
            Ok(found) => hand_out(found, prefixes, cap, count),
            Err(e) => fail(nat64_result::NoPrefix, e),
        }
    }
}

/// The RFC 7050 section 3 heuristic on `n` IPv6 addresses (16 bytes each,
/// back to back at `addrs`); output as nat64_prefixes_from_response().
///
/// # Safety
/// `count` valid; `addrs` points to `16 * n` bytes; `prefixes` to `cap` pointers.
#[no_mangle]
pub unsafe extern "C" fn nat64_prefixes_from_addresses(
    addrs: *const u8,
    n: usize,
    prefixes: *mut *mut nat64_prefix64,
    cap: usize,
    count: *mut usize,
) -> nat64_result {
    ffi_panic_boundary! {
        let count = try_mut!(count);
        let a = try_res!(slice(addrs, n.saturating_mul(16)));
        let list = a.chunks_exact(16).map(|c| {
            let mut o = [0u8; 16];
            o.copy_from_slice(c);
            Ipv6Addr::from(o)
        });
        match discovery::prefixes_from_addresses(list) {
            Ok(found) => hand_out(found, prefixes, cap, count),
            Err(e) => fail(nat64_result::NoPrefix, e),
        }
    }
}

/// RFC 8781: writes the 16-byte PREF64 option for `prefix` valid for
/// `lifetime_secs` (scaled as section 4.1 says) to `out`.
///
/// # Safety
/// `prefix` valid; `out` 16 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn nat64_pref64_encode(
    prefix: *const nat64_prefix64,
    lifetime_secs: u32,
    out: *mut u8,
) -> nat64_result {
    ffi_panic_boundary! {
        let p = try_ref!(prefix);
        let out = try_mut!(out.cast::<[u8; 16]>());
        match Pref64::new(p.inner, lifetime_secs).encode() {
            Ok(o) => {
                *out = o;
                nat64_result::Ok
            }
            Err(e) => fail(nat64_result::InvalidPrefix, e),
        }
    }
}

/// RFC 8781: reads a PREF64 option: a new prefix object (free it with
/// nat64_prefix64_free) and the lifetime in seconds.
///
/// # Safety
/// `option` points to `len` bytes; `prefix` and `lifetime_secs` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_pref64_decode(
    option: *const u8,
    len: usize,
    prefix: *mut *mut nat64_prefix64,
    lifetime_secs: *mut u32,
) -> nat64_result {
    ffi_panic_boundary! {
        let prefix = try_mut!(prefix);
        let lifetime = try_mut!(lifetime_secs);
        let o = try_res!(slice(option, len));
        match Pref64::decode(o) {
            Ok(p) => {
                *prefix = Box::into_raw(Box::new(nat64_prefix64 { inner: p.prefix }));
                *lifetime = p.lifetime_secs();
                nat64_result::Ok
            }
            Err(e) => fail(nat64_result::InvalidPrefix, e),
        }
    }
}
