//! The stateless translator (the core's `Translator`).

use nat64_core::Translator;

use crate::codes::{nat64_counters, nat64_verdict};
use crate::config::nat64_config;
use crate::error::{fail, nat64_result};
use crate::{ffi_panic_boundary, free_box, nat64_packet, slice, slice_mut, try_mut, try_ref, try_res};

/// A stateless translator (SIIT: RFC 7915 with RFC 6052, RFC 7757, RFC 6791).
/// Not thread-safe: use one per thread, or lock.
pub struct nat64_translator {
    inner: Translator,
}

/// A translator with a copy of `cfg`, or NAT64_RESULT_INVALID_CONFIG (see
/// nat64_last_error() for what is wrong).
///
/// # Safety
/// `cfg` valid; `out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn nat64_translator_new(
    cfg: *const nat64_config,
    out: *mut *mut nat64_translator,
) -> nat64_result {
    ffi_panic_boundary! {
        let cfg = try_ref!(cfg);
        let out = try_mut!(out);
        match Translator::new(cfg.inner.clone()) {
            Ok(t) => {
                *out = Box::into_raw(Box::new(nat64_translator { inner: t }));
                nat64_result::Ok
            }
            Err(e) => fail(nat64_result::InvalidConfig, e),
        }
    }
}

/// Frees a translator (NULL is accepted).
///
/// # Safety
/// `t` must come from nat64_translator_new() and not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nat64_translator_free(t: *mut nat64_translator) {
    ffi_panic_boundary! {
        // SAFETY: `t` is NULL or from its _new function, not used again (see # Safety).
        free_box(t)
    }
}

/// Replaces the configuration with a copy of `cfg`, keeping the counters;
/// on NAT64_RESULT_INVALID_CONFIG the old configuration stays.
///
/// # Safety
/// `t` and `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_translator_set_config(
    t: *mut nat64_translator,
    cfg: *const nat64_config,
) -> nat64_result {
    ffi_panic_boundary! {
        let t = try_mut!(t);
        let cfg = try_ref!(cfg);
        match t.inner.set_config(cfg.inner.clone()) {
            Ok(()) => nat64_result::Ok,
            Err(e) => fail(nat64_result::InvalidConfig, e),
        }
    }
}

/// Translates the `in_len` bytes at `in` (an IPv4 or IPv6 packet, IP header
/// first) into `out` (`out_len` bytes; NAT64_OUTPUT_BUFFER_LEN always
/// suffice) and describes the outcome in `*verdict`. Returns NAT64_RESULT_OK
/// for every packet, whatever its verdict; failures are argument errors.
///
/// # Safety
/// `t` and `verdict` valid; `in` points to `in_len` readable bytes, `out` to
/// `out_len` writable bytes, and the two do not overlap.
#[no_mangle]
pub unsafe extern "C" fn nat64_translator_translate(
    t: *mut nat64_translator,
    r#in: *const u8,
    in_len: usize,
    out: *mut u8,
    out_len: usize,
    verdict: *mut nat64_verdict,
) -> nat64_result {
    ffi_panic_boundary! {
        let t = try_mut!(t);
        let verdict = try_mut!(verdict);
        let input = try_res!(slice(r#in, in_len));
        let out = try_res!(slice_mut(out, out_len));
        *verdict = nat64_verdict::of(t.inner.translate(input, out));
        nat64_result::Ok
    }
}

/// Translates `n` packets in one call. Packet i's output is written at
/// `out + offsets[i]`, right after packet i-1's (`offsets[0]` is 0), and
/// `verdicts[i]` describes it; when the rest of `out` is too small for a
/// packet, its verdict is DROPPED with NAT64_DROP_REASON_OUTPUT_TOO_SMALL.
///
/// # Safety
/// `t` valid; `packets`, `verdicts` and `offsets` point to `n` elements;
/// `out` to `out_len` writable bytes not overlapping any packet.
#[no_mangle]
pub unsafe extern "C" fn nat64_translator_translate_batch(
    t: *mut nat64_translator,
    packets: *const nat64_packet,
    n: usize,
    out: *mut u8,
    out_len: usize,
    verdicts: *mut nat64_verdict,
    offsets: *mut usize,
) -> nat64_result {
    ffi_panic_boundary! {
        let t = try_mut!(t);
        if n == 0 {
            return nat64_result::Ok;
        }
        if packets.is_null() || verdicts.is_null() || offsets.is_null() {
            return nat64_result::NullParameter;
        }
        let packets = std::slice::from_raw_parts(packets, n);
        let verdicts = std::slice::from_raw_parts_mut(verdicts, n);
        let offsets = std::slice::from_raw_parts_mut(offsets, n);
        let out = try_res!(slice_mut(out, out_len));
        let mut at = 0;
        for i in 0..n {
            let input = try_res!(slice(packets[i].data, packets[i].len));
            offsets[i] = at;
            let v = nat64_verdict::of(t.inner.translate(input, &mut out[at..]));
            at += v.len;
            verdicts[i] = v;
        }
        nat64_result::Ok
    }
}

/// Copies the translator's counters to `*out`.
///
/// # Safety
/// `t` and `out` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_translator_counters(
    t: *const nat64_translator,
    out: *mut nat64_counters,
) -> nat64_result {
    ffi_panic_boundary! {
        let t = try_ref!(t);
        *try_mut!(out) = nat64_counters::of(t.inner.counters());
        nat64_result::Ok
    }
}
