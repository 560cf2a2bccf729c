//! The DNS64 exchange (the core's `dns64::OwnedExchange`): one client
//! query, from its bytes to the response, as the RFC 6147 section 5.1
//! sequence with no I/O, and the response cache (`dns64::ResponseCache`,
//! RFC 2181 section 8, RFC 2308 section 5). The caller owns the sockets,
//! the upstreams and their timeouts:
//!
//! 1. nat64_dns64_exchange_new() for each client message;
//! 2. nat64_dns64_exchange_start(); while the step is
//!    NAT64_DNS64_STEP_KIND_ASK: nat64_dns64_exchange_write_query() (a fresh
//!    ID for each upstream tried), nat64_dns64_exchange_judge() on what comes
//!    back, and nat64_dns64_exchange_on_answer() with the answer (NULL when no
//!    upstream gave one);
//! 3. at NAT64_DNS64_STEP_KIND_DONE the response, if any, is in `out`.
//!
//! Time is an argument, microseconds since an epoch the caller chooses (as
//! for the stateful NAT64).

use std::cell::RefCell;
use std::ffi::c_char;
use std::sync::Arc;

use nat64_core::dns64::cache::{Cache, CacheKey, Hit, ResponseCache};
use nat64_core::dns64::exchange::{Outcome, OwnedExchange, Received, Reply, Step};
use nat64_core::dns64::{Dns64, Dns64Error, Query};
use nat64_core::nat64::Instant;

use crate::dns64::{client_addr, nat64_dns64, nat64_plan, nat64_written, plan_into, written};
use crate::error::{fail, nat64_result};
use crate::{ffi_panic_boundary, free_box, slice, slice_mut, try_mut, try_ref, try_res};

/// What `nat64 dns64` uses for `--cache-size`: responses kept at the most.
pub const NAT64_DNS64_CACHE_CAPACITY: usize = 10_000;
/// What `nat64 dns64` uses for `--max-cache-ttl`: seconds a response is kept
/// at the most.
pub const NAT64_DNS64_CACHE_MAX_TTL: u32 = 86_400;

/// A cache of final DNS64 responses (the core's `ResponseCache`): a hit is
/// the stored response with the asking client's ID, RD bit and question
/// spelling and its TTLs aged. Not thread-safe: use one per thread, or lock.
pub struct nat64_dns64_cache {
    inner: ResponseCache,
}

/// One client query being answered (the core's `OwnedExchange`). It keeps
/// its own reference to the DNS64 it was made from. Not thread-safe.
pub struct nat64_dns64_exchange {
    dns64: Arc<Dns64>,
    inner: OwnedExchange,
}

/// Which kind of step (`kind` of nat64_dns64_step).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum nat64_dns64_step_kind {
    /// Ask the upstreams a question of type `qtype`
    /// (nat64_dns64_exchange_write_query writes it) and give the answer to
    /// nat64_dns64_exchange_on_answer.
    Ask = 1,
    /// Finished: `outcome` says how.
    Done = 2,
}

/// How an exchange ended (`outcome` of nat64_dns64_step).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum nat64_dns64_outcome {
    /// A response, `len` bytes of `out`; `written` says what it holds and
    /// `from_cache` where it came from.
    Answered = 1,
    /// An error response (FORMERR, NOTIMP, BADVERS, SERVFAIL), `len` bytes
    /// of `out`, with RCODE `rcode`.
    Error = 2,
    /// No response at all: the message is not a query (RFC 1035 section
    /// 7.3: answering responses invites loops).
    Silent = 3,
}

/// How an upstream's message came in (nat64_dns64_exchange_judge).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum nat64_dns64_received {
    /// A whole UDP datagram.
    Udp = 1,
    /// A UDP datagram larger than the EDNS payload size the query
    /// advertised (RFC 6891 section 6.2.3), cut to the buffer: only its
    /// header is trusted.
    UdpOversized = 2,
    /// A TCP message (RFC 7766).
    Tcp = 3,
}

/// What an upstream's message is to the question asked
/// (nat64_dns64_exchange_judge).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum nat64_dns64_reply {
    /// Not the answer (not a response, another ID or question, not DNS):
    /// ignore it and keep waiting (RFC 5452 section 9.1).
    Foreign = 1,
    /// The answer was truncated (TC, or oversized): ask the same upstream
    /// over TCP (RFC 7766 section 5, RFC 1035 section 4.2.1).
    Truncated = 2,
    /// The answer: give it to nat64_dns64_exchange_on_answer.
    Answer = 3,
    /// The answer is SERVFAIL or REFUSED: another upstream is worth trying;
    /// when none does better, give it to nat64_dns64_exchange_on_answer.
    Failed = 4,
}

/// A step of an exchange (nat64_dns64_exchange_start,
/// nat64_dns64_exchange_on_answer). Fields that do not apply are 0.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct nat64_dns64_step {
    /// A nat64_dns64_step_kind; 0 when the call failed.
    pub kind: u32,
    /// Ask: the question's type (AAAA, A, PTR, or the client's).
    pub qtype: u16,
    /// Done: a nat64_dns64_outcome.
    pub outcome: u32,
    /// Answered and Error: the response is the first `len` bytes of `out`.
    /// When the call returned NAT64_RESULT_BUFFER_TOO_SMALL: the size `out`
    /// needs (nat64_dns64_exchange_response_limit).
    pub len: usize,
    /// Error: the response's RCODE (extended RCODEs included).
    pub rcode: u16,
    /// Answered: whether the response came from the cache.
    pub from_cache: bool,
    /// Answered: what the response holds (`written.len` is `len`; a response
    /// from the cache, which does not say how it was made, is
    /// NAT64_ANSWER_RELAYED).
    pub written: nat64_written,
}

impl nat64_dns64_step {
    const NONE: nat64_dns64_step = nat64_dns64_step {
        kind: 0,
        qtype: 0,
        outcome: 0,
        len: 0,
        rcode: 0,
        from_cache: false,
        written: nat64_written {
            len: 0,
            truncated: false,
            answer: 0,
            records: 0,
        },
    };

    fn of(s: Step) -> Self {
        let mut r = Self::NONE;
        let o = match s {
            Step::Ask { qtype } => {
                r.kind = nat64_dns64_step_kind::Ask as u32;
                r.qtype = qtype;
                return r;
            }
            Step::Done(o) => o,
        };
        r.kind = nat64_dns64_step_kind::Done as u32;
        r.outcome = match o {
            Outcome::Answered { written: w, from_cache } => {
                r.len = w.len;
                r.from_cache = from_cache;
                r.written = written(w);
                nat64_dns64_outcome::Answered
            }
            Outcome::Error { len, rcode } => {
                r.len = len;
                r.rcode = rcode;
                nat64_dns64_outcome::Error
            }
            Outcome::Silent => nat64_dns64_outcome::Silent,
        } as u32;
        r
    }
}

/// The cache argument of a step: the caller's cache, or none (NULL).
enum StepCache<'a> {
    None,
    Some(RefCell<&'a mut ResponseCache>),
}

impl Cache for StepCache<'_> {
    fn get(&self, key: &CacheKey, q: &Query<'_>, now: Instant, out: &mut [u8]) -> Option<Hit> {
        match self {
            StepCache::None => None,
            StepCache::Some(c) => c.get(key, q, now, out),
        }
    }
    fn put(&self, key: &CacheKey, response: &[u8], now: Instant) {
        if let StepCache::Some(c) = self {
            c.put(key, response, now);
        }
    }
    fn max_ttl(&self) -> Option<u32> {
        match self {
            StepCache::None => None,
            StepCache::Some(c) => c.max_ttl(),
        }
    }
}

/// A new response cache of at most `capacity` responses (0: it keeps
/// none), each kept at most `max_ttl` seconds (and never longer than its
/// TTLs allow). `nat64 dns64` uses NAT64_DNS64_CACHE_CAPACITY and
/// NAT64_DNS64_CACHE_MAX_TTL.
///
/// # Safety
/// `out` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_cache_new(
    capacity: usize,
    max_ttl: u32,
    out: *mut *mut nat64_dns64_cache,
) -> nat64_result {
    ffi_panic_boundary! {
        let out = try_mut!(out);
        *out = Box::into_raw(Box::new(nat64_dns64_cache { inner: ResponseCache::new(capacity, max_ttl) }));
        nat64_result::Ok
    }
}

/// Frees a response cache (NULL is accepted).
///
/// # Safety
/// `c` from nat64_dns64_cache_new(), not used afterwards (nor by a step in
/// progress).
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_cache_free(c: *mut nat64_dns64_cache) {
    ffi_panic_boundary! {
        // SAFETY: `c` is NULL or from its _new function, not used again (see # Safety).
        free_box(c)
    }
}

/// How many responses the cache holds (some perhaps expired); 0 for NULL.
///
/// # Safety
/// `c` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_cache_len(c: *const nat64_dns64_cache) -> usize {
    ffi_panic_boundary! {
        // SAFETY: `c` is NULL or valid (see # Safety).
        c.as_ref().map_or(0, |c| c.inner.len())
    }
}

/// A new exchange for the client message `query` (`query_len` bytes, copied)
/// from `client` (IPv4 or IPv6 text, as for nat64_dns64_plan), asked over
/// TCP or UDP (which bounds the response). Any message is accepted: one
/// that is not a query gets its error response (or silence) from the
/// first step. The exchange keeps its own reference to `d`'s DNS64: `d`
/// may be freed before it.
///
/// # Safety
/// `d` and `out` valid; `query` points to `query_len` bytes; `client`
/// NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_exchange_new(
    d: *const nat64_dns64,
    query: *const u8,
    query_len: usize,
    client: *const c_char,
    tcp: bool,
    out: *mut *mut nat64_dns64_exchange,
) -> nat64_result {
    ffi_panic_boundary! {
        let d = try_ref!(d);
        let out = try_mut!(out);
        // SAFETY: `client` is NUL-terminated (see # Safety).
        let client = try_res!(client_addr(client));
        // SAFETY: `query` points to `query_len` readable bytes (see # Safety).
        let msg = try_res!(slice(query, query_len));
        *out = Box::into_raw(Box::new(nat64_dns64_exchange {
            dns64: Arc::clone(&d.inner),
            inner: OwnedExchange::new(msg, client, tcp),
        }));
        nat64_result::Ok
    }
}

/// Frees an exchange (NULL is accepted), finished or not.
///
/// # Safety
/// `ex` from nat64_dns64_exchange_new(), not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_exchange_free(ex: *mut nat64_dns64_exchange) {
    ffi_panic_boundary! {
        // SAFETY: `ex` is NULL or from its _new function, not used again (see # Safety).
        free_box(ex)
    }
}

/// What the calls that take a step share: `ex` and `step` checked, `out`
/// checked against the exchange's response limit (too small: nothing is
/// done, NAT64_RESULT_BUFFER_TOO_SMALL with the size needed in `step->len`),
/// then `f` run with the cache (`cache` NULL: none) and its step stored.
///
/// # Safety
/// `ex`, `step` and `cache` NULL or valid; `out` NULL or `out_len` writable bytes.
unsafe fn take_step(
    ex: *mut nat64_dns64_exchange,
    cache: *mut nat64_dns64_cache,
    out: *mut u8,
    out_len: usize,
    step: *mut nat64_dns64_step,
    f: impl FnOnce(&mut OwnedExchange, &Dns64, &StepCache<'_>, &mut [u8]) -> Step,
) -> nat64_result {
    let ex = try_mut!(ex);
    let step = try_mut!(step);
    *step = nat64_dns64_step::NONE;
    let limit = ex.inner.response_limit(&ex.dns64);
    if out_len < limit {
        step.len = limit;
        return fail(
            nat64_result::BufferTooSmall,
            format!(
                "out holds {out_len} bytes, and this exchange's response may take {limit} \
                 (nat64_dns64_exchange_response_limit): pass a buffer of at least {limit} bytes"
            ),
        );
    }
    // SAFETY: `out` is NULL or `out_len` writable bytes (see # Safety).
    let out = try_res!(slice_mut(out, out_len));
    // SAFETY: `cache` is NULL or valid, and not used elsewhere during the call (see # Safety).
    let cache = match cache.as_mut() {
        Some(c) => StepCache::Some(RefCell::new(&mut c.inner)),
        None => StepCache::None,
    };
    *step = nat64_dns64_step::of(f(&mut ex.inner, &ex.dns64, &cache, out));
    nat64_result::Ok
}

/// The first step at `now` (microseconds): the response from `cache` (NULL:
/// no cache), a local answer (RFC 8880) or an error response, or the first
/// question for the upstreams. A response is written to `out`, which must
/// hold nat64_dns64_exchange_response_limit() bytes. Called again, or after
/// the exchange finished, the step is a SERVFAIL response.
///
/// # Safety
/// `ex` and `step` valid; `cache` NULL or valid (and not used by another
/// thread during the call); `out` points to `out_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_exchange_start(
    ex: *mut nat64_dns64_exchange,
    now: u64,
    cache: *mut nat64_dns64_cache,
    out: *mut u8,
    out_len: usize,
    step: *mut nat64_dns64_step,
) -> nat64_result {
    ffi_panic_boundary! {
        // SAFETY: the pointers are as take_step needs (see # Safety).
        take_step(ex, cache, out, out_len, step, |ex, d, cache, out| {
            ex.start(d, cache, Instant::from_micros(now), out)
        })
    }
}

/// Takes the answer to the question asked, `answer_len` bytes at `answer`
/// (NULL: every upstream timed out or failed; RFC 6147 section 5.1.3), that
/// came at `now` (microseconds), and says what next; a complete response
/// that is not SERVFAIL is left in `cache` (NULL: no cache). `out` as for
/// nat64_dns64_exchange_start(). After the exchange finished, the step is
/// a SERVFAIL response.
///
/// # Safety
/// `ex` and `step` valid; `answer` NULL or `answer_len` readable bytes;
/// `cache` NULL or valid (and not used by another thread during the call);
/// `out` points to `out_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_exchange_on_answer(
    ex: *mut nat64_dns64_exchange,
    answer: *const u8,
    answer_len: usize,
    now: u64,
    cache: *mut nat64_dns64_cache,
    out: *mut u8,
    out_len: usize,
    step: *mut nat64_dns64_step,
) -> nat64_result {
    ffi_panic_boundary! {
        // SAFETY: `answer` is NULL or `answer_len` readable bytes (see # Safety).
        let answer = if answer.is_null() { None } else { Some(try_res!(slice(answer, answer_len))) };
        // SAFETY: the other pointers are as take_step needs (see # Safety).
        take_step(ex, cache, out, out_len, step, |ex, d, cache, out| {
            ex.on_answer(d, answer, cache, Instant::from_micros(now), out)
        })
    }
}

/// Writes the upstream query for the question being asked, with ID `id`
/// (unpredictable, RFC 5452 section 9.2; a new one for each upstream), into
/// `out` (300 bytes always suffice); `*written` gets its length.
/// NAT64_RESULT_DNS_NO_QUESTION when no question is pending (before
/// nat64_dns64_exchange_start, or once the exchange finished).
///
/// # Safety
/// `ex` and `written` valid; `out` points to `out_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_exchange_write_query(
    ex: *const nat64_dns64_exchange,
    id: u16,
    out: *mut u8,
    out_len: usize,
    written: *mut usize,
) -> nat64_result {
    ffi_panic_boundary! {
        let ex = try_ref!(ex);
        let written = try_mut!(written);
        // SAFETY: `out` points to `out_len` writable bytes (see # Safety).
        let out = try_res!(slice_mut(out, out_len));
        match ex.inner.write_query(&ex.dns64, id, out) {
            Ok(n) => {
                *written = n;
                nat64_result::Ok
            }
            Err(Dns64Error::BufferTooSmall { len }) => fail(
                nat64_result::BufferTooSmall,
                format!("an output buffer of {len} bytes cannot hold the upstream query: pass 300 bytes or more"),
            ),
            Err(Dns64Error::NoQuestion) => fail(
                nat64_result::DnsNoQuestion,
                "the exchange has no question for the upstreams now: write a query only after a step \
                 of kind NAT64_DNS64_STEP_KIND_ASK",
            ),
            Err(e) => fail(nat64_result::InvalidValue, e),
        }
    }
}

/// What the upstream's message `reply` (`reply_len` bytes), received as
/// `how` says (a nat64_dns64_received), is to the query sent with `id`:
/// `*out` gets a nat64_dns64_reply. Over TCP, TC is not looked at. Before
/// the exchange asks anything, or once it finished, every message is
/// NAT64_DNS64_REPLY_FOREIGN.
///
/// # Safety
/// `ex` and `out` valid; `reply` points to `reply_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_exchange_judge(
    ex: *const nat64_dns64_exchange,
    id: u16,
    reply: *const u8,
    reply_len: usize,
    how: u32,
    out: *mut u32,
) -> nat64_result {
    ffi_panic_boundary! {
        let ex = try_ref!(ex);
        let out = try_mut!(out);
        // SAFETY: `reply` points to `reply_len` readable bytes (see # Safety).
        let reply = try_res!(slice(reply, reply_len));
        let how = match how {
            1 => Received::Udp,
            2 => Received::UdpOversized,
            3 => Received::Tcp,
            _ => {
                return fail(
                    nat64_result::InvalidValue,
                    format!(
                        "{how} is not a nat64_dns64_received: use NAT64_DNS64_RECEIVED_UDP (1), \
                         NAT64_DNS64_RECEIVED_UDP_OVERSIZED (2) or NAT64_DNS64_RECEIVED_TCP (3)"
                    ),
                )
            }
        };
        *out = match ex.inner.judge(&ex.dns64, id, reply, how) {
            Reply::Foreign => nat64_dns64_reply::Foreign,
            Reply::Truncated => nat64_dns64_reply::Truncated,
            Reply::Answer { failed: false } => nat64_dns64_reply::Answer,
            Reply::Answer { failed: true } => nat64_dns64_reply::Failed,
        } as u32;
        nat64_result::Ok
    }
}

/// What DNS64 does with the exchange's query, as nat64_dns64_plan() says
/// for the same message and client (NAT64_RESULT_DNS_BAD_QUERY with
/// `plan->rcode` when it gets no normal answer).
///
/// # Safety
/// `ex` and `plan` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_exchange_plan(
    ex: *const nat64_dns64_exchange,
    plan: *mut nat64_plan,
) -> nat64_result {
    ffi_panic_boundary! {
        let ex = try_ref!(ex);
        let plan = try_mut!(plan);
        plan_into(&ex.dns64, ex.inner.message(), ex.inner.client(), plan)
    }
}

/// The largest response the client takes (65535 over TCP; over UDP 512, or
/// with EDNS its payload size bounded by ours, RFC 6891 section 6.2.5; 512
/// for a message that is not a query): the size `out`
/// must have for nat64_dns64_exchange_start() and
/// nat64_dns64_exchange_on_answer().
///
/// # Safety
/// `ex` and `out` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_exchange_response_limit(
    ex: *const nat64_dns64_exchange,
    out: *mut usize,
) -> nat64_result {
    ffi_panic_boundary! {
        let ex = try_ref!(ex);
        *try_mut!(out) = ex.inner.response_limit(&ex.dns64);
        nat64_result::Ok
    }
}

/// Whether the exchange has finished (a step of kind
/// NAT64_DNS64_STEP_KIND_DONE was returned); false for NULL.
///
/// # Safety
/// `ex` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_dns64_exchange_is_done(ex: *const nat64_dns64_exchange) -> bool {
    ffi_panic_boundary! {
        // SAFETY: `ex` is NULL or valid (see # Safety).
        ex.as_ref().is_some_and(|ex| ex.inner.is_done())
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::ptr::{null, null_mut};

    use nat64_core::dns64::testing::{a_response, aaaa_nodata, answer_aaaa, query};
    use nat64_core::dns64::wire::rtype;

    use super::*;
    use crate::dns64::{
        nat64_dns64_config_add_prefix, nat64_dns64_config_free, nat64_dns64_config_new, nat64_dns64_free,
        nat64_dns64_new,
    };

    const CLIENT: &std::ffi::CStr = c"2001:db8::5";
    const NOW: u64 = 1_000_000_000;

    fn dns64() -> *mut nat64_dns64 {
        let (mut cfg, mut d) = (null_mut(), null_mut());
        // SAFETY: every pointer is valid; the strings are NUL-terminated.
        unsafe {
            assert_eq!(nat64_dns64_config_new(&mut cfg), nat64_result::Ok);
            assert_eq!(
                nat64_dns64_config_add_prefix(cfg, c"2001:db8:64::/96".as_ptr()),
                nat64_result::Ok
            );
            assert_eq!(nat64_dns64_new(cfg, &mut d), nat64_result::Ok);
            nat64_dns64_config_free(cfg);
        }
        d
    }

    fn exchange(d: *const nat64_dns64, msg: &[u8]) -> *mut nat64_dns64_exchange {
        let mut ex = null_mut();
        // SAFETY: `d` is valid, `msg` is `msg.len()` bytes, CLIENT is NUL-terminated.
        let r = unsafe { nat64_dns64_exchange_new(d, msg.as_ptr(), msg.len(), CLIENT.as_ptr(), false, &mut ex) };
        assert_eq!(r, nat64_result::Ok);
        ex
    }

    /// Takes a step through the extern functions (`answer` None: start).
    fn step(
        ex: *mut nat64_dns64_exchange,
        answer: Option<Option<&[u8]>>,
        now: u64,
        cache: *mut nat64_dns64_cache,
        out: &mut [u8],
    ) -> (nat64_result, nat64_dns64_step) {
        let mut st = nat64_dns64_step::NONE;
        // SAFETY: `ex` and `cache` are valid or NULL; the buffers are as their lengths say.
        let r = unsafe {
            match answer {
                None => nat64_dns64_exchange_start(ex, now, cache, out.as_mut_ptr(), out.len(), &mut st),
                Some(a) => {
                    let (p, n) = a.map_or((null(), 0), |a| (a.as_ptr(), a.len()));
                    nat64_dns64_exchange_on_answer(ex, p, n, now, cache, out.as_mut_ptr(), out.len(), &mut st)
                }
            }
        };
        (r, st)
    }

    /// The C steps are the core's steps, and the responses the same bytes:
    /// the same sequence driven through `OwnedExchange` directly is the oracle.
    #[test]
    fn the_extern_functions_take_the_cores_steps() {
        let d = dns64();
        let mut cache = null_mut();
        // SAFETY: `cache` is a valid out pointer.
        assert_eq!(
            unsafe { nat64_dns64_cache_new(100, 3600, &mut cache) },
            nat64_result::Ok
        );
        // SAFETY: `d` is valid until freed below.
        let core = unsafe { Arc::clone(&(*d).inner) };
        let mut core_cache = ResponseCache::new(100, 3600);
        let name = "v4only.example.net";
        let aaaa = aaaa_nodata(name, 300);
        let a = a_response(name, &[Ipv4Addr::new(203, 0, 113, 5)], 3600);
        for (i, msg) in [query(0x1234, name, rtype::AAAA), query(0x4321, name, rtype::AAAA)]
            .iter()
            .enumerate()
        {
            let ex = exchange(d, msg);
            let mut oracle = OwnedExchange::new(msg, CLIENT.to_str().unwrap().parse().unwrap(), false);
            let (mut out, mut want) = (vec![0u8; 512], vec![0u8; 512]);
            let now = NOW + i as u64 * 10_000_000;
            let mut answers = [None, Some(Some(&aaaa[..])), Some(Some(&a[..]))].into_iter();
            loop {
                let Some(answer) = answers.next() else {
                    panic!("more steps than answers")
                };
                let (r, got) = step(ex, answer, now, cache, &mut out);
                assert_eq!(r, nat64_result::Ok);
                let c = StepCache::Some(RefCell::new(&mut core_cache));
                let t = Instant::from_micros(now);
                let expected = match answer {
                    None => oracle.start(&core, &c, t, &mut want),
                    Some(x) => oracle.on_answer(&core, x, &c, t, &mut want),
                };
                assert_eq!(got, nat64_dns64_step::of(expected));
                if got.kind == nat64_dns64_step_kind::Done as u32 {
                    assert_eq!(out[..got.len], want[..got.len]);
                    break;
                }
            }
            // SAFETY: `ex` is valid.
            assert!(unsafe { nat64_dns64_exchange_is_done(ex) });
            // SAFETY: `ex` is not used again.
            unsafe { nat64_dns64_exchange_free(ex) };
        }
        // The second query came from the cache, the first was synthesized.
        // SAFETY: `cache` is valid until freed.
        assert_eq!(unsafe { nat64_dns64_cache_len(cache) }, 1);
        let mut out = vec![0u8; 512];
        let ex = exchange(d, &query(7, name, rtype::AAAA));
        let (_, st) = step(ex, None, NOW + 20_000_000, cache, &mut out);
        assert!(st.from_cache && st.outcome == nat64_dns64_outcome::Answered as u32);
        assert_eq!(
            answer_aaaa(&out[..st.len]),
            ["2001:db8:64::cb00:7105".parse::<Ipv6Addr>().unwrap()]
        );
        // SAFETY: nothing is used again.
        unsafe {
            nat64_dns64_exchange_free(ex);
            nat64_dns64_cache_free(cache);
            nat64_dns64_free(d);
        }
    }

    #[test]
    fn a_small_buffer_changes_nothing_and_says_what_is_needed() {
        let d = dns64();
        let ex = exchange(d, &query(1, "example.net", rtype::AAAA));
        let mut out = vec![0u8; 511];
        let (r, st) = step(ex, None, NOW, null_mut(), &mut out);
        assert_eq!((r, st.kind, st.len), (nat64_result::BufferTooSmall, 0, 512));
        out.push(0);
        let (r, st) = step(ex, None, NOW, null_mut(), &mut out);
        assert_eq!(
            (r, st.kind, st.qtype),
            (nat64_result::Ok, nat64_dns64_step_kind::Ask as u32, rtype::AAAA)
        );
        // SAFETY: nothing is used again; the exchange outlives the nat64_dns64.
        unsafe {
            nat64_dns64_free(d);
            assert!(!nat64_dns64_exchange_is_done(ex));
            nat64_dns64_exchange_free(ex);
        }
    }

    #[test]
    fn no_question_and_unknown_enumerations_are_errors() {
        let d = dns64();
        let ex = exchange(d, &query(1, "example.net", rtype::AAAA));
        let (mut buf, mut n, mut j) = ([0u8; 300], 0usize, 0u32);
        // SAFETY: every pointer is valid and the buffers are as their lengths say.
        unsafe {
            assert_eq!(
                nat64_dns64_exchange_write_query(ex, 9, buf.as_mut_ptr(), buf.len(), &mut n),
                nat64_result::DnsNoQuestion
            );
            assert_eq!(
                nat64_dns64_exchange_judge(ex, 9, buf.as_ptr(), 12, 0, &mut j),
                nat64_result::InvalidValue
            );
            assert_eq!(
                nat64_dns64_exchange_judge(ex, 9, buf.as_ptr(), 12, 4, &mut j),
                nat64_result::InvalidValue
            );
            assert_eq!(
                nat64_dns64_exchange_judge(ex, 9, buf.as_ptr(), 12, 1, &mut j),
                nat64_result::Ok
            );
            assert_eq!(j, nat64_dns64_reply::Foreign as u32);
            nat64_dns64_exchange_free(ex);
            nat64_dns64_free(d);
        }
    }

    /// The C constants (literals, for cbindgen) are the core's defaults,
    /// which `nat64 dns64` uses when no flag or key sets them.
    #[test]
    fn the_cache_defaults_are_those_of_nat64_dns64() {
        assert_eq!(NAT64_DNS64_CACHE_CAPACITY, ResponseCache::DEFAULT_CAPACITY);
        assert_eq!(NAT64_DNS64_CACHE_MAX_TTL, ResponseCache::DEFAULT_MAX_TTL);
    }
}
