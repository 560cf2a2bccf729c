//! Result codes and error messages.
//!
//! [`nat64_result`] values are numbered once and never renumbered or
//! reused: a new failure gets a new number. [`nat64_result_text`] names a
//! code; [`nat64_last_error`] gives the core's own message (what is wrong and
//! what to do) for the last failure on the calling thread.

use std::cell::RefCell;
use std::ffi::c_char;
use std::fmt::Display;

use crate::ffi_panic_boundary;

/// What a call did. `NAT64_RESULT_OK` is 0; every other value is a failure.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum nat64_result {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullParameter = 1,
    /// The library panicked (a bug; please report it). The object involved
    /// should be freed and not used again.
    Panic = 2,
    /// A string argument is not UTF-8.
    InvalidUtf8 = 3,
    /// A prefix was refused (syntax, length, host bits, RFC 6052 rules).
    InvalidPrefix = 4,
    /// An address is not valid text for its family.
    InvalidAddress = 5,
    /// The configuration cannot work (the translator refused it).
    InvalidConfig = 6,
    /// An RFC 7757 EAMT entry was refused.
    InvalidEam = 7,
    /// A pool4 entry was refused.
    InvalidPool4 = 8,
    /// An enumeration argument holds no known value.
    InvalidValue = 9,
    /// The output buffer is too small; nothing useful was written.
    BufferTooSmall = 10,
    /// The address is not under the prefix (nat64_prefix64_extract).
    NotUnderPrefix = 11,
    /// DNS64: the client message gets no normal answer (see the plan's `rcode`).
    DnsBadQuery = 12,
    /// DNS64: an upstream response is unusable, or there is none (answer SERVFAIL).
    DnsUpstream = 13,
    /// Discovery: no NAT64 prefix in the answer.
    NoPrefix = 14,
    /// DNS64 exchange: no question for the upstreams is pending (the
    /// exchange is not started, or finished).
    DnsNoQuestion = 15,
}

impl nat64_result {
    fn text(self) -> &'static str {
        match self {
            nat64_result::Ok => "ok\0",
            nat64_result::NullParameter => "a required pointer argument was NULL\0",
            nat64_result::Panic => "the library panicked (a bug: please report it)\0",
            nat64_result::InvalidUtf8 => "a string argument is not UTF-8\0",
            nat64_result::InvalidPrefix => "invalid prefix\0",
            nat64_result::InvalidAddress => "invalid address\0",
            nat64_result::InvalidConfig => "invalid configuration\0",
            nat64_result::InvalidEam => "invalid EAMT entry\0",
            nat64_result::InvalidPool4 => "invalid pool4 entry\0",
            nat64_result::InvalidValue => "an enumeration argument holds no known value\0",
            nat64_result::BufferTooSmall => "the output buffer is too small\0",
            nat64_result::NotUnderPrefix => "the address is not under the prefix\0",
            nat64_result::DnsBadQuery => "the DNS message is not a query that gets a normal answer\0",
            nat64_result::DnsUpstream => "the upstream DNS responses cannot make a response\0",
            nat64_result::NoPrefix => "no NAT64 prefix found\0",
            nat64_result::DnsNoQuestion => "the DNS64 exchange has no question for the upstreams now\0",
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records the core's message for `code` and returns `code`.
pub(crate) fn fail(code: nat64_result, msg: impl Display) -> nat64_result {
    LAST_ERROR.with(|e| *e.borrow_mut() = msg.to_string());
    code
}

/// A static, NUL-terminated description of a result code ("unknown result
/// code" for a number this version does not know).
#[no_mangle]
pub extern "C" fn nat64_result_text(result: u32) -> *const c_char {
    ffi_panic_boundary! {
        let all = [
            nat64_result::Ok,
            nat64_result::NullParameter,
            nat64_result::Panic,
            nat64_result::InvalidUtf8,
            nat64_result::InvalidPrefix,
            nat64_result::InvalidAddress,
            nat64_result::InvalidConfig,
            nat64_result::InvalidEam,
            nat64_result::InvalidPool4,
            nat64_result::InvalidValue,
            nat64_result::BufferTooSmall,
            nat64_result::NotUnderPrefix,
            nat64_result::DnsBadQuery,
            nat64_result::DnsUpstream,
            nat64_result::NoPrefix,
            nat64_result::DnsNoQuestion,
        ];
        let t = all.iter().find(|r| **r as u32 == result).map_or("unknown result code\0", |r| r.text());
        t.as_ptr().cast()
    }
}

/// Copies the message of the last failure on this thread (the core's words:
/// what is wrong and what to do) into `buf`, NUL-terminated and truncated to
/// `len - 1` bytes; `*out_len` (if not NULL) gets the full message length
/// without the NUL. An empty message when nothing failed yet.
///
/// # Safety
/// `buf` must point to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn nat64_last_error(buf: *mut c_char, len: usize, out_len: *mut usize) -> nat64_result {
    ffi_panic_boundary! {
        if buf.is_null() || len == 0 {
            return nat64_result::NullParameter;
        }
        LAST_ERROR.with(|e| {
            let e = e.borrow();
            let n = e.len().min(len - 1);
            std::ptr::copy_nonoverlapping(e.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
            if let Some(o) = out_len.as_mut() {
                *o = e.len();
            }
        });
        nat64_result::Ok
    }
}

/// Reads a NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `p` must be NULL or a NUL-terminated string.
pub(crate) unsafe fn cstr<'a>(p: *const c_char) -> Result<&'a str, nat64_result> {
    if p.is_null() {
        return Err(nat64_result::NullParameter);
    }
    std::ffi::CStr::from_ptr(p)
        .to_str()
        .map_err(|e| fail(nat64_result::InvalidUtf8, e))
}
