//! RFC 6052 prefixes: `nat64_prefix64` wraps the core's `Prefix64`.

use std::ffi::c_char;
use std::net::{Ipv4Addr, Ipv6Addr};

use nat64_core::Prefix64;

use crate::error::{cstr, fail, nat64_result};
use crate::{ffi_panic_boundary, free_box, try_mut, try_ref, try_res};

/// An RFC 6052 translation prefix (/32, /40, /48, /56, /64 or /96).
pub struct nat64_prefix64 {
    pub(crate) inner: Prefix64,
}

/// Parses `text` ("64:ff9b::/96") into a new prefix, stored in `*out`.
/// Free it with nat64_prefix64_free().
///
/// # Safety
/// `text` must be a NUL-terminated string; `out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn nat64_prefix64_new(text: *const c_char, out: *mut *mut nat64_prefix64) -> nat64_result {
    ffi_panic_boundary! {
        let out = try_mut!(out);
        let s = try_res!(cstr(text));
        match s.parse::<Prefix64>() {
            Ok(p) => {
                *out = Box::into_raw(Box::new(nat64_prefix64 { inner: p }));
                nat64_result::Ok
            }
            Err(e) => fail(nat64_result::InvalidPrefix, e),
        }
    }
}

/// Frees a prefix (NULL is accepted).
///
/// # Safety
/// `p` must come from nat64_prefix64_new() and not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nat64_prefix64_free(p: *mut nat64_prefix64) {
    ffi_panic_boundary! {
        // SAFETY: `p` is NULL or from its _new function, not used again (see # Safety).
        free_box(p)
    }
}

/// RFC 6052 section 2.2: writes the IPv4-embedded IPv6 address of `v4` (4
/// bytes, network order) to `v6_out` (16 bytes).
///
/// # Safety
/// `v4` must point to 4 readable bytes, `v6_out` to 16 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn nat64_prefix64_embed(
    p: *const nat64_prefix64,
    v4: *const u8,
    v6_out: *mut u8,
) -> nat64_result {
    ffi_panic_boundary! {
        let p = try_ref!(p);
        let v4 = try_ref!(v4.cast::<[u8; 4]>());
        let v6_out = try_mut!(v6_out.cast::<[u8; 16]>());
        *v6_out = p.inner.embed(Ipv4Addr::from(*v4)).octets();
        nat64_result::Ok
    }
}

/// RFC 6052 section 2.3: writes the IPv4 address embedded in `v6` (16 bytes)
/// to `v4_out` (4 bytes), or returns NAT64_RESULT_NOT_UNDER_PREFIX.
///
/// # Safety
/// `v6` must point to 16 readable bytes, `v4_out` to 4 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn nat64_prefix64_extract(
    p: *const nat64_prefix64,
    v6: *const u8,
    v4_out: *mut u8,
) -> nat64_result {
    ffi_panic_boundary! {
        let p = try_ref!(p);
        let v6 = try_ref!(v6.cast::<[u8; 16]>());
        let v4_out = try_mut!(v4_out.cast::<[u8; 4]>());
        match p.inner.extract(Ipv6Addr::from(*v6)) {
            Some(a) => {
                *v4_out = a.octets();
                nat64_result::Ok
            }
            None => nat64_result::NotUnderPrefix,
        }
    }
}

/// Whether `v6` (16 bytes) is under the prefix (false when an argument is NULL).
///
/// # Safety
/// `p` NULL or valid; `v6` NULL or 16 readable bytes.
#[no_mangle]
pub unsafe extern "C" fn nat64_prefix64_contains(p: *const nat64_prefix64, v6: *const u8) -> bool {
    ffi_panic_boundary! {
        match (p.as_ref(), v6.cast::<[u8; 16]>().as_ref()) {
            (Some(p), Some(a)) => p.inner.contains(Ipv6Addr::from(*a)),
            _ => false,
        }
    }
}

/// The prefix length in bits (0 when `p` is NULL).
///
/// # Safety
/// `p` must be NULL or a valid prefix.
#[no_mangle]
pub unsafe extern "C" fn nat64_prefix64_prefix_len(p: *const nat64_prefix64) -> u8 {
    ffi_panic_boundary! {
        p.as_ref().map_or(0, |p| p.inner.prefix_len())
    }
}

/// Whether this is the Well-Known Prefix 64:ff9b::/96.
///
/// # Safety
/// `p` must be NULL or a valid prefix.
#[no_mangle]
pub unsafe extern "C" fn nat64_prefix64_is_well_known(p: *const nat64_prefix64) -> bool {
    ffi_panic_boundary! {
        p.as_ref().is_some_and(|p| p.inner.is_well_known())
    }
}

/// Writes the prefix as text ("64:ff9b::/96"), NUL-terminated, to `buf`;
/// `*out_len` gets its length without the NUL. NAT64_RESULT_BUFFER_TOO_SMALL
/// when it does not fit (44 bytes always do).
///
/// # Safety
/// `buf` must point to `len` writable bytes; `out_len` may be NULL.
#[no_mangle]
pub unsafe extern "C" fn nat64_prefix64_to_text(
    p: *const nat64_prefix64,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> nat64_result {
    ffi_panic_boundary! {
        let p = try_ref!(p);
        write_text(&p.inner.to_string(), buf, len, out_len)
    }
}

/// Copies `s` and a NUL into `buf`.
///
/// # Safety
/// `buf` must point to `len` writable bytes; `out_len` may be NULL.
pub(crate) unsafe fn write_text(s: &str, buf: *mut c_char, len: usize, out_len: *mut usize) -> nat64_result {
    if buf.is_null() {
        return nat64_result::NullParameter;
    }
    if s.len() + 1 > len {
        return nat64_result::BufferTooSmall;
    }
    std::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast::<u8>(), s.len());
    *buf.add(s.len()) = 0;
    if let Some(o) = out_len.as_mut() {
        *o = s.len();
    }
    nat64_result::Ok
}
