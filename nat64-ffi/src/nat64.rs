//! The stateful NAT64 (the core's `nat64::Nat64`, RFC 6146). Time is an
//! argument: microseconds since an epoch the caller chooses (a monotonic
//! clock), as in the core.

use nat64_core::nat64::{Bib, Instant, Nat64, Proto, Session, SessionFilter};

use crate::codes::{nat64_counters, nat64_proto, nat64_tcp_state, nat64_verdict};
use crate::config::nat64_nat64_config;
use crate::error::{fail, nat64_result};
use crate::{ffi_panic_boundary, free_box, nat64_packet, slice, slice_mut, try_mut, try_ref, try_res};

/// A stateful NAT64. Not thread-safe: use one per thread, or lock.
pub struct nat64_nat64 {
    inner: Nat64,
}

/// A session (RFC 6146 section 3.1), as nat64_nat64_sessions() lists it.
/// Addresses are in network order.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct nat64_session {
    /// A nat64_proto.
    pub proto: u32,
    /// A nat64_tcp_state (NAT64_TCP_STATE_NONE for UDP and ICMP).
    pub state: u32,
    /// The IPv6 client's address.
    pub v6_addr: [u8; 16],
    /// Its port (or ICMP identifier).
    pub v6_port: u16,
    /// The pool4 port it is mapped to.
    pub v4_port: u16,
    /// The pool4 address it is mapped to.
    pub v4_addr: [u8; 4],
    /// The IPv4 remote address (the client sees it under pool6).
    pub remote_addr: [u8; 4],
    /// The remote port.
    pub remote_port: u16,
    /// When it expires unless refreshed, in the caller's microseconds.
    pub expires: u64,
}

impl nat64_session {
    fn of(s: &Session) -> Self {
        nat64_session {
            proto: nat64_proto::of(s.proto) as u32,
            state: nat64_tcp_state::of(s.state) as u32,
            v6_addr: s.v6.addr.octets(),
            v6_port: s.v6.port,
            v4_port: s.v4.port,
            v4_addr: s.v4.addr.octets(),
            remote_addr: s.remote.addr.octets(),
            remote_port: s.remote.port,
            expires: s.expires.as_micros(),
        }
    }
}

/// A BIB entry (RFC 6146 section 3.1), as nat64_nat64_bibs() lists it.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct nat64_bib {
    /// A nat64_proto.
    pub proto: u32,
    /// The IPv6 client's address.
    pub v6_addr: [u8; 16],
    /// Its port (or ICMP identifier).
    pub v6_port: u16,
    /// The pool4 port.
    pub v4_port: u16,
    /// The pool4 address.
    pub v4_addr: [u8; 4],
    /// Configured (static) rather than made by traffic.
    pub is_static: bool,
}

impl nat64_bib {
    fn of(b: &Bib) -> Self {
        nat64_bib {
            proto: nat64_proto::of(b.proto) as u32,
            v6_addr: b.v6.addr.octets(),
            v6_port: b.v6.port,
            v4_port: b.v4.port,
            v4_addr: b.v4.addr.octets(),
            is_static: b.is_static,
        }
    }
}

/// Table sizes (the core's `Nat64Stats`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct nat64_stats {
    /// Sessions.
    pub sessions: usize,
    /// BIB entries.
    pub bib_entries: usize,
    /// pool4 transport addresses per protocol: TCP, UDP, ICMP.
    pub pool4_size: [u64; 3],
    /// Unsolicited SYNs held.
    pub held_syns: usize,
    /// Half-open or closing TCP sessions evicted to make room for new
    /// flows in a full table, since creation.
    pub sessions_evicted: u64,
}

/// A stateful NAT64 with a copy of `cfg`, or NAT64_RESULT_INVALID_CONFIG /
/// NAT64_RESULT_INVALID_POOL4 (see nat64_last_error()).
///
/// # Safety
/// `cfg` valid; `out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_new(cfg: *const nat64_nat64_config, out: *mut *mut nat64_nat64) -> nat64_result {
    ffi_panic_boundary! {
        let cfg = try_ref!(cfg);
        let out = try_mut!(out);
        match Nat64::new(cfg.inner.clone()) {
            Ok(n) => {
                *out = Box::into_raw(Box::new(nat64_nat64 { inner: n }));
                nat64_result::Ok
            }
            Err(e @ nat64_core::nat64::Nat64ConfigError::Pool4(_)) => fail(nat64_result::InvalidPool4, e),
            Err(e) => fail(nat64_result::InvalidConfig, e),
        }
    }
}

/// Frees a stateful NAT64 (NULL is accepted).
///
/// # Safety
/// `n` must come from nat64_nat64_new() and not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_free(n: *mut nat64_nat64) {
    ffi_panic_boundary! {
        // SAFETY: `n` is NULL or from its _new function, not used again (see # Safety).
        free_box(n)
    }
}

/// Translates one packet at time `now` (microseconds), as
/// nat64_translator_translate() does; a fragment or an unsolicited IPv4 SYN
/// may be HELD.
///
/// # Safety
/// As nat64_translator_translate().
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_translate(
    n: *mut nat64_nat64,
    r#in: *const u8,
    in_len: usize,
    out: *mut u8,
    out_len: usize,
    now: u64,
    verdict: *mut nat64_verdict,
) -> nat64_result {
    ffi_panic_boundary! {
        let n = try_mut!(n);
        let verdict = try_mut!(verdict);
        let input = try_res!(slice(r#in, in_len));
        let out = try_res!(slice_mut(out, out_len));
        *verdict = nat64_verdict::of(n.inner.translate(input, out, Instant::from_micros(now)));
        nat64_result::Ok
    }
}

/// Translates `n` packets at `now` in one call, as
/// nat64_translator_translate_batch() does.
///
/// # Safety
/// As nat64_translator_translate_batch().
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_translate_batch(
    n: *mut nat64_nat64,
    packets: *const nat64_packet,
    count: usize,
    out: *mut u8,
    out_len: usize,
    now: u64,
    verdicts: *mut nat64_verdict,
    offsets: *mut usize,
) -> nat64_result {
    ffi_panic_boundary! {
        let n = try_mut!(n);
        if count == 0 {
            return nat64_result::Ok;
        }
        if packets.is_null() || verdicts.is_null() || offsets.is_null() {
            return nat64_result::NullParameter;
        }
        let packets = std::slice::from_raw_parts(packets, count);
        let verdicts = std::slice::from_raw_parts_mut(verdicts, count);
        let offsets = std::slice::from_raw_parts_mut(offsets, count);
        let out = try_res!(slice_mut(out, out_len));
        let now = Instant::from_micros(now);
        let mut at = 0;
        for i in 0..count {
            let input = try_res!(slice(packets[i].data, packets[i].len));
            offsets[i] = at;
            let v = nat64_verdict::of(n.inner.translate(input, &mut out[at..], now));
            at += v.len;
            verdicts[i] = v;
        }
        nat64_result::Ok
    }
}

/// Runs the timers at `now`: expires sessions and partial datagrams, and may
/// write one ICMP error for a held SYN that timed out. `verdict->kind` is
/// NAT64_VERDICT_KIND_NONE when there was nothing to send; call it again
/// until then.
///
/// # Safety
/// `n` and `verdict` valid; `out` points to `out_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_poll(
    n: *mut nat64_nat64,
    now: u64,
    out: *mut u8,
    out_len: usize,
    verdict: *mut nat64_verdict,
) -> nat64_result {
    ffi_panic_boundary! {
        let n = try_mut!(n);
        let verdict = try_mut!(verdict);
        let out = try_res!(slice_mut(out, out_len));
        *verdict = n.inner.poll(Instant::from_micros(now), out).map_or(nat64_verdict::NONE, nat64_verdict::of);
        nat64_result::Ok
    }
}

/// When nat64_nat64_poll() next has work, in microseconds; false (and
/// `*at` untouched) when nothing is pending.
///
/// # Safety
/// `n` and `at` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_next_expiry(n: *const nat64_nat64, at: *mut u64) -> bool {
    ffi_panic_boundary! {
        let (Some(n), Some(at)) = (n.as_ref(), at.as_mut()) else {
            return false;
        };
        match n.inner.next_expiry() {
            Some(t) => {
                *at = t.as_micros();
                true
            }
            None => false,
        }
    }
}

/// Lists the sessions of `proto` (a nat64_proto; NAT64_PROTO_ANY for all)
/// and, when `client` (16 bytes) is not NULL, of that IPv6 client: the first
/// `cap` go to `sessions`, and `*count` gets how many there are in all
/// (call with `cap` 0 to size the array).
///
/// # Safety
/// `n` and `count` valid; `sessions` points to `cap` elements; `client`
/// NULL or 16 readable bytes.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_sessions(
    n: *const nat64_nat64,
    proto: u32,
    client: *const u8,
    sessions: *mut nat64_session,
    cap: usize,
    count: *mut usize,
) -> nat64_result {
    ffi_panic_boundary! {
        list(n, proto, sessions, cap, count, |n, proto, put| {
            // SAFETY: the caller passes NULL or 16 readable bytes (see # Safety).
            let client = client.cast::<[u8; 16]>().as_ref().map(|a| std::net::Ipv6Addr::from(*a));
            n.for_each_session(SessionFilter { proto, client }, &mut |s| put(nat64_session::of(s)));
        })
    }
}

/// Lists the BIB entries of `proto` (a nat64_proto; NAT64_PROTO_ANY for
/// all): the first `cap` go to `bibs`, `*count` gets how many there are.
///
/// # Safety
/// `n` and `count` valid; `bibs` points to `cap` elements.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_bibs(
    n: *const nat64_nat64,
    proto: u32,
    bibs: *mut nat64_bib,
    cap: usize,
    count: *mut usize,
) -> nat64_result {
    ffi_panic_boundary! {
        list(n, proto, bibs, cap, count, |n, proto, put| {
            n.for_each_bib(proto, &mut |b| put(nat64_bib::of(b)));
        })
    }
}

/// What the listing calls share: `n`, `count` and the array checked, `proto`
/// (a nat64_proto) read, then `each` lists with `put`, which stores the first
/// `cap` items at `items` and counts them all into `*count`.
///
/// # Safety
/// `n` and `count` NULL or valid; `items` NULL or `cap` writable elements.
unsafe fn list<T>(
    n: *const nat64_nat64,
    proto: u32,
    items: *mut T,
    cap: usize,
    count: *mut usize,
    each: impl FnOnce(&Nat64, Option<Proto>, &mut dyn FnMut(T)),
) -> nat64_result {
    let n = try_ref!(n);
    let count = try_mut!(count);
    if items.is_null() && cap > 0 {
        return nat64_result::NullParameter;
    }
    let Ok(proto) = nat64_proto::core(proto) else {
        return fail(nat64_result::InvalidValue, format!("{proto} is not a nat64_proto"));
    };
    let mut i = 0;
    each(&n.inner, proto, &mut |t| {
        if i < cap {
            // SAFETY: `items` holds `cap` elements (checked non-NULL above when `cap` > 0).
            *items.add(i) = t;
        }
        i += 1;
    });
    *count = i;
    nat64_result::Ok
}

/// Copies the table sizes to `*out`.
///
/// # Safety
/// `n` and `out` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_stats(n: *const nat64_nat64, out: *mut nat64_stats) -> nat64_result {
    ffi_panic_boundary! {
        let s = try_ref!(n).inner.stats();
        *try_mut!(out) = nat64_stats {
            sessions: s.sessions,
            bib_entries: s.bib_entries,
            pool4_size: s.pool4_size,
            held_syns: s.held_syns,
            sessions_evicted: s.sessions_evicted,
        };
        nat64_result::Ok
    }
}

/// Copies the counters to `*out`.
///
/// # Safety
/// `n` and `out` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_counters(n: *const nat64_nat64, out: *mut nat64_counters) -> nat64_result {
    ffi_panic_boundary! {
        let n = try_ref!(n);
        *try_mut!(out) = nat64_counters::of(n.inner.counters());
        nat64_result::Ok
    }
}
