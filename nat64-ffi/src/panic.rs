//! The panic boundary: every exported function runs its body inside
//! [`ffi_panic_boundary!`], so a panic (a bug: the core does not panic on any
//! input) never unwinds into C. Functions that return a [`nat64_result`] then
//! return [`nat64_result::Panic`]; the others return a neutral value.

use std::ffi::c_char;

use crate::error::nat64_result;

/// The value a function returns when its body panicked.
pub(crate) trait PanicOrDefault {
    fn value() -> Self;
}

impl PanicOrDefault for nat64_result {
    fn value() -> Self {
        nat64_result::Panic
    }
}
impl PanicOrDefault for bool {
    fn value() -> Self {
        false
    }
}
impl PanicOrDefault for u8 {
    fn value() -> Self {
        0
    }
}
impl PanicOrDefault for usize {
    fn value() -> Self {
        0
    }
}
impl PanicOrDefault for () {
    fn value() -> Self {}
}
impl PanicOrDefault for *const c_char {
    fn value() -> Self {
        c"".as_ptr()
    }
}

/// Runs the body, turning a panic into [`PanicOrDefault::value`].
#[macro_export]
#[doc(hidden)]
macro_rules! ffi_panic_boundary {
    ( $($tt:tt)* ) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| { $($tt)* })) {
            Ok(ret) => ret,
            Err(_) => return $crate::panic::PanicOrDefault::value(),
        }
    };
}

/// Dereferences a pointer argument, or returns
/// [`nat64_result::NullParameter`] from the function.
#[macro_export]
#[doc(hidden)]
macro_rules! try_ref {
    ($p:expr) => {
        // SAFETY: every exported function's # Safety asks for pointer
        // arguments that are NULL or valid.
        match unsafe { $p.as_ref() } {
            Some(r) => r,
            None => return $crate::error::nat64_result::NullParameter,
        }
    };
}

/// Mutable version of [`try_ref!`].
#[macro_export]
#[doc(hidden)]
macro_rules! try_mut {
    ($p:expr) => {
        // SAFETY: as in try_ref!.
        match unsafe { $p.as_mut() } {
            Some(r) => r,
            None => return $crate::error::nat64_result::NullParameter,
        }
    };
}

/// Unwraps a `Result<T, nat64_result>`, returning the code from the function.
#[macro_export]
#[doc(hidden)]
macro_rules! try_res {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(code) => return code,
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boom(code: bool) -> nat64_result {
        ffi_panic_boundary! {
            if code {
                panic!("a bug");
            }
            nat64_result::Ok
        }
    }

    #[test]
    fn a_panic_becomes_a_code() {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        assert_eq!(boom(true), nat64_result::Panic);
        std::panic::set_hook(hook);
        assert_eq!(boom(false), nat64_result::Ok);
    }
}
