//! What JS hands in, checked before the core sees it, with messages that say
//! what was expected and where:
//! - bytes ([`Bin`], [`OutBuf`], [`Packets`]): a `Buffer` or `Uint8Array`,
//!   else a `TypeError` naming the argument ("packet must be a Buffer or
//!   Uint8Array, got string");
//! - integers ([`Int`]: ports, MTUs, ids, limits, timestamps ([`Now`]) and
//!   other 64-bit counts ([`U64`])): a `number` or a `bigint` (what
//!   `process.hrtime.bigint()` returns) holding an integer in range for the
//!   Rust type, else a `RangeError` (`ERR_OUT_OF_RANGE`) naming the argument
//!   or field and the range; nothing is wrapped, truncated or rounded;
//! - durations ([`Secs`]): a finite, non-negative number of seconds;
//! - configuration objects ([`Strict`]): every key must be one the object
//!   has; an unknown one (`mtu`, `pool_6`) is an error that names it and the
//!   object it was in, nested objects included ("Nat64Config.pool4\[0\]").
//!
//! Borrowed bytes and JS: a [`Bin`], [`OutBuf`] or [`Packets`] points into a
//! JS `ArrayBuffer` that JS can detach (`structuredClone(x, { transfer })`)
//! or shrink (a resizable `ArrayBuffer`) whenever JS runs. So once a borrow is
//! taken, no JS may run until the call's Rust code is done with it: the
//! converters here that come after a byte argument in any method ([`Int`],
//! [`Bin`], [`OutBuf`], strings, booleans, and the exchange's `cache`,
//! `CacheArg`) read values with Node-API calls that never call into JS (no
//! getters, no `valueOf`); [`Strict`] objects,
//! which do run getters, are never in the same call as a byte argument; and
//! [`Packets`] reads every element (which may run an index getter or a Proxy
//! trap) before it takes the bytes of any.

use std::marker::PhantomData;
use std::ops::Deref;

use napi::bindgen_prelude::{FromNapiValue, ToNapiValue, TypeName, ValueType};
use napi::{sys, Error, Result, Status};

use crate::check;

// ------------------------------------------------------------------ helpers

/// Throws a JS error of `kind` (`napi_throw_type_error`, `napi_throw_range_error`)
/// with Node's `code` convention, and returns the `Error` that tells napi-rs
/// an exception is already pending.
unsafe fn throw(
    env: sys::napi_env,
    kind: unsafe fn(sys::napi_env, *const std::ffi::c_char, *const std::ffi::c_char) -> sys::napi_status,
    code: &std::ffi::CStr,
    msg: String,
) -> Error {
    let text = std::ffi::CString::new(msg.replace('\0', "\\0")).unwrap_or_default();
    // SAFETY: `env` is the live environment of the call; both strings are
    // NUL-terminated and outlive it.
    unsafe { kind(env, code.as_ptr(), text.as_ptr()) };
    Error::new(Status::PendingException, msg)
}

pub(crate) fn type_error(env: sys::napi_env, msg: String) -> Error {
    // SAFETY: as for `throw`.
    unsafe { throw(env, sys::napi_throw_type_error, c"ERR_INVALID_ARG_TYPE", msg) }
}

fn range_error(env: sys::napi_env, msg: String) -> Error {
    // SAFETY: as for `throw`.
    unsafe { throw(env, sys::napi_throw_range_error, c"ERR_OUT_OF_RANGE", msg) }
}

unsafe fn type_of(env: sys::napi_env, v: sys::napi_value) -> Result<sys::napi_valuetype> {
    let mut t = 0;
    // SAFETY: the caller's `env` and `v`.
    check(unsafe { sys::napi_typeof(env, v, &mut t) })?;
    Ok(t)
}

unsafe fn is(
    env: sys::napi_env,
    v: sys::napi_value,
    f: unsafe fn(sys::napi_env, sys::napi_value, *mut bool) -> sys::napi_status,
) -> Result<bool> {
    let mut b = false;
    // SAFETY: the caller's `env` and `v`.
    check(unsafe { f(env, v, &mut b) })?;
    Ok(b)
}

/// The element type of a typed array, or None for any other value.
unsafe fn typed_array_type(env: sys::napi_env, v: sys::napi_value) -> Result<Option<sys::napi_typedarray_type>> {
    // SAFETY: the caller's `env` and `v`.
    if !unsafe { is(env, v, sys::napi_is_typedarray)? } {
        return Ok(None);
    }
    let (mut t, mut len, mut data, mut ab, mut off) = (0, 0, std::ptr::null_mut(), std::ptr::null_mut(), 0);
    // SAFETY: `v` is a typed array.
    check(unsafe { sys::napi_get_typedarray_info(env, v, &mut t, &mut len, &mut data, &mut ab, &mut off) })?;
    Ok(Some(t))
}

/// What a value is, for a message: "string", "an Array", "an Int16Array".
pub(crate) unsafe fn describe(env: sys::napi_env, v: sys::napi_value) -> String {
    // SAFETY (whole body): the caller's `env` and `v`.
    unsafe {
        let name = match type_of(env, v) {
            Ok(sys::ValueType::napi_undefined) => "undefined",
            Ok(sys::ValueType::napi_null) => "null",
            Ok(sys::ValueType::napi_boolean) => "boolean",
            Ok(sys::ValueType::napi_number) => "number",
            Ok(sys::ValueType::napi_string) => "string",
            Ok(sys::ValueType::napi_symbol) => "symbol",
            Ok(sys::ValueType::napi_bigint) => "bigint",
            Ok(sys::ValueType::napi_function) => "a function",
            Ok(sys::ValueType::napi_object) => {
                if is(env, v, sys::napi_is_array).unwrap_or(false) {
                    "an Array"
                } else if is(env, v, sys::napi_is_arraybuffer).unwrap_or(false) {
                    "an ArrayBuffer (wrap it: new Uint8Array(buf))"
                } else if is(env, v, sys::napi_is_dataview).unwrap_or(false) {
                    "a DataView"
                } else if let Ok(Some(t)) = typed_array_type(env, v) {
                    match t {
                        sys::TypedarrayType::uint8_array => "a Uint8Array",
                        sys::TypedarrayType::int8_array => "an Int8Array",
                        sys::TypedarrayType::uint8_clamped_array => "a Uint8ClampedArray",
                        sys::TypedarrayType::int16_array => "an Int16Array",
                        sys::TypedarrayType::uint16_array => "a Uint16Array",
                        sys::TypedarrayType::int32_array => "an Int32Array",
                        sys::TypedarrayType::uint32_array => "a Uint32Array",
                        sys::TypedarrayType::float32_array => "a Float32Array",
                        sys::TypedarrayType::float64_array => "a Float64Array",
                        sys::TypedarrayType::bigint64_array => "a BigInt64Array",
                        sys::TypedarrayType::biguint64_array => "a BigUint64Array",
                        _ => "a typed array",
                    }
                } else {
                    "an object"
                }
            }
            _ => "a value of another type",
        };
        name.to_string()
    }
}

/// Where the bytes of a `Buffer` or `Uint8Array` are (one Node-API call when
/// it is one); anything else is a `TypeError` naming the argument.
unsafe fn raw_bytes(env: sys::napi_env, v: sys::napi_value, name: &dyn Fn() -> String) -> Result<(*mut u8, usize)> {
    let (mut t, mut len, mut data, mut ab, mut off) = (0, 0, std::ptr::null_mut(), std::ptr::null_mut(), 0);
    // SAFETY: the caller's `env` and `v`; on anything but a typed array the
    // call fails without touching the outputs.
    let status = unsafe { sys::napi_get_typedarray_info(env, v, &mut t, &mut len, &mut data, &mut ab, &mut off) };
    if status == sys::Status::napi_ok && t == sys::TypedarrayType::uint8_array {
        return Ok((data.cast(), len));
    }
    // SAFETY: as above.
    let got = unsafe { describe(env, v) };
    Err(type_error(
        env,
        format!("{} must be a Buffer or Uint8Array, got {got}", name()),
    ))
}

/// The bytes of a `Buffer` or `Uint8Array`, borrowed (shared) for the call.
unsafe fn bytes<'a>(env: sys::napi_env, v: sys::napi_value, name: &dyn Fn() -> String) -> Result<&'a [u8]> {
    // SAFETY: the caller's `env` and `v`.
    let (data, len) = unsafe { raw_bytes(env, v, name)? };
    Ok(if len == 0 {
        &[]
    } else {
        // SAFETY: a Uint8Array of `len` bytes at `data`. The value is held by
        // the call's handle scope, so its ArrayBuffer is not collected; only
        // JS can detach or shrink it, and none runs while the slice is in use
        // (the module invariant above).
        unsafe { std::slice::from_raw_parts(data, len) }
    })
}

// -------------------------------------------------------------------- bytes

/// The JS name of an argument, for messages.
pub trait ArgName {
    const NAME: &'static str;
}

macro_rules! arg_names {
    ($($t:ident = $n:literal),* $(,)?) => {
        $(
            #[doc = concat!("The argument `", $n, "`.")]
            pub struct $t;
            impl ArgName for $t {
                const NAME: &'static str = $n;
            }
        )*
    };
}

arg_names!(
    Packet = "packet",
    Query = "query",
    Response = "response",
    AaaaResponse = "aaaaResponse",
    AResponse = "aResponse",
    Qname = "qname",
    ClientMsg = "clientMsg",
    Pref64Option = "option",
    AnswerArg = "answer",
    ReplyArg = "reply",
);

/// A `Buffer` or `Uint8Array` argument named `N`, borrowed for the call.
pub struct Bin<'a, N>(&'a [u8], PhantomData<N>);

impl<N> Deref for Bin<'_, N> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.0
    }
}

impl<N: ArgName> FromNapiValue for Bin<'_, N> {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> Result<Self> {
        // SAFETY: as for any argument conversion.
        Ok(Bin(unsafe { bytes(env, v, &|| N::NAME.to_string())? }, PhantomData))
    }
}

/// The `out` argument of `translateInto`: a `Buffer` or `Uint8Array` the
/// core writes into. Kept as a pointer until [`OutBuf::slice`] has checked
/// that it does not overlap the packet.
pub struct OutBuf {
    data: *mut u8,
    len: usize,
}

impl FromNapiValue for OutBuf {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> Result<Self> {
        // SAFETY: as for any argument conversion.
        let (data, len) = unsafe { raw_bytes(env, v, &|| "out".to_string())? };
        Ok(OutBuf { data, len })
    }
}

impl OutBuf {
    /// The buffer to write into, which must not overlap `packet`.
    pub fn slice(&mut self, packet: &[u8]) -> Result<&mut [u8]> {
        let (p0, p1) = (packet.as_ptr() as usize, packet.as_ptr() as usize + packet.len());
        let (o0, o1) = (self.data as usize, self.data as usize + self.len);
        if p0 < o1 && o0 < p1 {
            return Err(Error::from_reason("packet and out must not overlap"));
        }
        if self.len == 0 {
            return Ok(&mut []);
        }
        // SAFETY: a Uint8Array of `len` bytes, neither collected, detached nor
        // shrunk while the call's Rust code runs (as for `bytes`: no JS runs
        // meanwhile, and other threads cannot touch a JS heap object), and
        // disjoint from `packet`.
        Ok(unsafe { std::slice::from_raw_parts_mut(self.data, self.len) })
    }
}

/// The `packets` argument of `translateBatch`: an array of `Buffer` or
/// `Uint8Array`, each borrowed for the call.
pub struct Packets<'a>(pub Vec<&'a [u8]>);

impl FromNapiValue for Packets<'_> {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> Result<Self> {
        // SAFETY (whole body): as for any argument conversion.
        unsafe {
            if !is(env, v, sys::napi_is_array)? {
                let got = describe(env, v);
                return Err(type_error(
                    env,
                    format!("packets must be an Array of Buffer or Uint8Array, got {got}"),
                ));
            }
            let mut n = 0;
            check(sys::napi_get_array_length(env, v, &mut n))?;
            // First every element: reading one may run JS (an index getter,
            // a Proxy trap), which could detach or shrink a buffer read
            // before it, so no bytes are borrowed yet. The values stay alive
            // in the call's handle scope.
            let mut elements = Vec::with_capacity(n as usize);
            for i in 0..n {
                let mut e = std::ptr::null_mut();
                check(sys::napi_get_element(env, v, i, &mut e))?;
                elements.push(e);
            }
            // Then the bytes of each, as they are now; from here until the
            // batch is translated no JS runs (see the module invariant).
            let mut out = Vec::with_capacity(elements.len());
            for (i, e) in elements.into_iter().enumerate() {
                out.push(bytes(env, e, &|| format!("packets[{i}]"))?);
            }
            Ok(Packets(out))
        }
    }
}

// ------------------------------------------------------------------ numbers

/// An integer type an [`Int`] can hold, and its range in words.
pub trait IntType: Copy + TryFrom<i128> {
    const RANGE: &'static str;
}

macro_rules! int_types {
    ($($t:ty = $range:literal),* $(,)?) => {
        $(
            impl IntType for $t {
                const RANGE: &'static str = $range;
            }
        )*
    };
}

int_types!(
    u8 = "an integer from 0 to 255",
    u16 = "an integer from 0 to 65535",
    u32 = "an integer from 0 to 4294967295",
    u64 = "a non-negative integer below 2^64",
    i32 = "an integer from -2147483648 to 2147483647",
);

/// Why a value is not an integer of the type asked for.
enum Bad {
    /// Not a number or a bigint: a `TypeError`.
    Type(String),
    /// Not integral, or out of range: a `RangeError`.
    Range(String),
}

/// The exact integer a `number` or a `bigint` holds, as a `T`. Node-API's
/// own conversions would wrap (-1 as 4294967295), truncate (1280.9 as 1280)
/// or saturate; this refuses instead. No JS runs (no `valueOf`).
unsafe fn int_of<T: IntType>(env: sys::napi_env, v: sys::napi_value) -> std::result::Result<T, Bad> {
    let range = |got: String| Bad::Range(format!("must be {}, got {got}", T::RANGE));
    let fail = |e: Error| Bad::Type(e.reason.clone());
    // SAFETY (whole body): the caller's `env` and `v`.
    unsafe {
        // One call for a number, the common case; a bigint is tried next.
        let mut d = 0f64;
        let n: i128 = if sys::napi_get_value_double(env, v, &mut d) == sys::Status::napi_ok {
            // Every integral double below 2^64 in magnitude is exact in i128.
            if !d.is_finite() || d.fract() != 0.0 || d.abs() >= 18_446_744_073_709_551_616.0 {
                return Err(range(d.to_string()));
            }
            d as i128
        } else if type_of(env, v).map_err(fail)? == sys::ValueType::napi_bigint {
            let (mut sign, mut count) = (0, 0);
            // Sign and words both null: only the word count (Node-API's rule).
            check(sys::napi_get_value_bigint_words(
                env,
                v,
                std::ptr::null_mut(),
                &mut count,
                std::ptr::null_mut(),
            ))
            .map_err(fail)?;
            let mut words = vec![0u64; count];
            check(sys::napi_get_value_bigint_words(
                env,
                v,
                &mut sign,
                &mut count,
                words.as_mut_ptr(),
            ))
            .map_err(fail)?;
            if words.iter().skip(1).any(|&w| w != 0) {
                return Err(range("a bigint of more than 64 bits".into()));
            }
            let m = i128::from(words.first().copied().unwrap_or(0));
            if sign != 0 {
                -m
            } else {
                m
            }
        } else {
            return Err(Bad::Type(format!(
                "must be a number or a bigint, got {}",
                describe(env, v)
            )));
        };
        T::try_from(n).map_err(|_| range(n.to_string()))
    }
}

/// The name of a field in a configuration object: napi-rs adds where it was
/// ("on Pool4Entry.lastPort") and [`Strict`] makes the error a JS one.
pub struct Field;

impl ArgName for Field {
    const NAME: &'static str = "";
}

arg_names!(
    NowArg = "now (microseconds)",
    Id = "id",
    Qtype = "qtype",
    Rcode = "rcode",
    MaxLen = "maxLen",
    LifetimeSecs = "lifetimeSecs",
    Index = "index",
);

/// An integer argument named `N` (or a configuration field, [`Field`]) of
/// type `T`: exactly the integer JS passed, or a `RangeError` saying the
/// range ("maxLen must be an integer from 0 to 4294967295, got -1").
pub struct Int<T, N = Field>(pub T, PhantomData<N>);

impl<T, N> Int<T, N> {
    pub fn new(v: T) -> Self {
        Int(v, PhantomData)
    }
}

impl<T: IntType, N: ArgName> FromNapiValue for Int<T, N> {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> Result<Self> {
        // SAFETY: as for any argument conversion.
        match (unsafe { int_of::<T>(env, v) }, N::NAME) {
            (Ok(n), _) => Ok(Int::new(n)),
            // A field: `Strict` throws it once napi-rs has said where.
            (Err(Bad::Type(m)), "") => Err(Error::new(Status::NumberExpected, m)),
            (Err(Bad::Range(m)), "") => Err(Error::new(Status::InvalidArg, m)),
            (Err(Bad::Type(m)), name) => Err(type_error(env, format!("{name} {m}"))),
            (Err(Bad::Range(m)), name) => Err(range_error(env, format!("{name} {m}"))),
        }
    }
}

impl<T: ToNapiValue, N> ToNapiValue for Int<T, N> {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        // SAFETY: as for any return value.
        unsafe { T::to_napi_value(env, val.0) }
    }
}

impl<T: TypeName, N> TypeName for Int<T, N> {
    fn type_name() -> &'static str {
        T::type_name()
    }
    fn value_type() -> ValueType {
        T::value_type()
    }
}

/// A timestamp argument `now`: microseconds since an epoch of the caller's
/// choosing, as a `number` or a `bigint` (`process.hrtime.bigint() / 1000n`).
pub type Now = Int<u64, NowArg>;

/// A 64-bit count in a configuration object (`seed`, `maxIterations`): a
/// `number` or a `bigint`.
pub type U64 = Int<u64>;

/// A duration in seconds in a configuration object (`Timeouts`): a finite,
/// non-negative `number`, fractions allowed.
pub struct Secs(pub std::time::Duration);

impl FromNapiValue for Secs {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> Result<Self> {
        let mut d = 0f64;
        // SAFETY: as for any argument conversion.
        if unsafe { sys::napi_get_value_double(env, v, &mut d) } != sys::Status::napi_ok {
            // SAFETY: as above.
            let got = unsafe { describe(env, v) };
            return Err(Error::new(
                Status::NumberExpected,
                format!("must be a number of seconds, got {got}"),
            ));
        }
        std::time::Duration::try_from_secs_f64(d).map(Secs).map_err(|_| {
            Error::new(
                Status::InvalidArg,
                format!("must be a finite, non-negative number of seconds, got {d}"),
            )
        })
    }
}

// ----------------------------------------------------------- configuration

/// The keys a configuration object may have, in their JS spelling, each
/// with the shape of the objects it holds (an object, or an array of them).
pub struct Shape {
    /// The TypeScript interface name.
    pub name: &'static str,
    pub keys: &'static [(&'static str, Option<&'static Shape>)],
}

/// A `#[napi(object)]` configuration struct and its [`Shape`].
pub trait Shaped {
    const SHAPE: &'static Shape;
}

/// A configuration object whose keys were checked against its [`Shape`],
/// nested objects included, before napi-rs (which ignores unknown keys)
/// converts it.
pub struct Strict<T>(pub T);

impl<T: Shaped + FromNapiValue> FromNapiValue for Strict<T> {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> Result<Self> {
        let mut problems = Vec::new();
        // SAFETY (whole block): as for any argument conversion.
        unsafe {
            if is_record(env, v)? {
                unknown_keys(env, v, T::SHAPE, T::SHAPE.name, &mut problems)?;
            }
            if !problems.is_empty() {
                return Err(Error::new(Status::InvalidArg, problems.join("; ")));
            }
            match T::from_napi_value(env, v) {
                Ok(t) => Ok(Strict(t)),
                Err(e) => Err(field_error(env, e)),
            }
        }
    }
}

/// A field's error from [`Int`] or [`Secs`] ("must be ... on Pool4Entry.lastPort
/// on Nat64Config.pool4", napi-rs having added where, innermost first) as a
/// JS `RangeError` or `TypeError` that starts with the field:
/// "Pool4Entry.lastPort (in Nat64Config.pool4) must be ...". Other errors
/// pass unchanged.
fn field_error(env: sys::napi_env, e: Error) -> Error {
    let ours = matches!(e.status, Status::InvalidArg | Status::NumberExpected) && e.reason.starts_with("must be ");
    if !ours {
        return e;
    }
    let mut parts = e.reason.split(" on ");
    let what = parts.next().unwrap_or_default();
    let wheres: Vec<_> = parts.collect();
    let msg = match wheres.split_first() {
        None => format!("value {what}"),
        Some((field, [])) => format!("{field} {what}"),
        Some((field, outer)) => {
            let outer: Vec<_> = outer.iter().rev().copied().collect();
            format!("{field} (in {}) {what}", outer.join(" > "))
        }
    };
    if e.status == Status::InvalidArg {
        range_error(env, msg)
    } else {
        type_error(env, msg)
    }
}

/// An object that is not an array, a Buffer or null.
unsafe fn is_record(env: sys::napi_env, v: sys::napi_value) -> Result<bool> {
    // SAFETY: the caller's `env` and `v`.
    unsafe {
        Ok(type_of(env, v)? == sys::ValueType::napi_object
            && !is(env, v, sys::napi_is_array)?
            && !is(env, v, sys::napi_is_typedarray)?)
    }
}

/// Lowercase without separators: `pool_6` and `Pool6` meet `pool6`.
fn norm(k: &str) -> String {
    k.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The known keys an unknown one may have meant.
fn near(key: &str, shape: &Shape) -> Vec<&'static str> {
    let k = norm(key);
    let same: Vec<_> = shape.keys.iter().map(|e| e.0).filter(|c| norm(c) == k).collect();
    if !same.is_empty() || k.len() < 3 {
        return same;
    }
    shape
        .keys
        .iter()
        .map(|e| e.0)
        .filter(|c| {
            let c = norm(c);
            c.starts_with(&k) || k.starts_with(&c)
        })
        .collect()
}

/// Adds to `problems` every key of `obj` (at `path`) that `shape` does not
/// have, then looks into the known keys that hold objects.
unsafe fn unknown_keys(
    env: sys::napi_env,
    obj: sys::napi_value,
    shape: &Shape,
    path: &str,
    problems: &mut Vec<String>,
) -> Result<()> {
    // SAFETY (whole body): `obj` is an object of this call's `env`.
    unsafe {
        let mut names = std::ptr::null_mut();
        check(sys::napi_get_property_names(env, obj, &mut names))?;
        let mut n = 0;
        check(sys::napi_get_array_length(env, names, &mut n))?;
        for i in 0..n {
            let mut kv = std::ptr::null_mut();
            check(sys::napi_get_element(env, names, i, &mut kv))?;
            let key = String::from_napi_value(env, kv)?;
            let Some(&(_, sub)) = shape.keys.iter().find(|e| e.0 == key) else {
                let near = near(&key, shape);
                let hint = if near.is_empty() {
                    String::new()
                } else {
                    format!(" (did you mean {}?)", near.join(" or "))
                };
                let known: Vec<_> = shape.keys.iter().map(|e| e.0).collect();
                let an = if shape.name.starts_with(['A', 'E', 'I', 'O', 'U']) {
                    "an"
                } else {
                    "a"
                };
                problems.push(format!(
                    "{path}: unknown key '{key}'{hint}; {an} {} has {}",
                    shape.name,
                    known.join(", ")
                ));
                continue;
            };
            let Some(sub) = sub else { continue };
            let mut val = std::ptr::null_mut();
            check(sys::napi_get_property(env, obj, kv, &mut val))?;
            if is(env, val, sys::napi_is_array)? {
                let mut len = 0;
                check(sys::napi_get_array_length(env, val, &mut len))?;
                for j in 0..len {
                    let mut e = std::ptr::null_mut();
                    check(sys::napi_get_element(env, val, j, &mut e))?;
                    if is_record(env, e)? {
                        unknown_keys(env, e, sub, &format!("{path}.{key}[{j}]"), problems)?;
                    }
                }
            } else if is_record(env, val)? {
                unknown_keys(env, val, sub, &format!("{path}.{key}"), problems)?;
            }
        }
    }
    Ok(())
}
