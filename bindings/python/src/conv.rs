//! Conversions shared by every class: the exceptions, the one error mapping,
//! address and buffer arguments, and `Prefix64` (RFC 6052), which all the
//! configurations take.

use std::fmt::Display;
use std::str::FromStr;

use nat64_core::Prefix64 as CorePrefix64;
use pyo3::buffer::PyUntypedBuffer;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

pyo3::create_exception!(
    nat64,
    Nat64Error,
    PyValueError,
    "A value the core refused (a prefix, an address, a configuration); the message is the core's."
);
pyo3::create_exception!(
    nat64,
    QueryError,
    Nat64Error,
    "A client DNS message that gets no normal answer; `rcode` is the RCODE to answer with (None: stay silent)."
);

/// The one error mapping: the core's message in a `Nat64Error`.
pub(crate) fn err(e: impl Display) -> PyErr {
    Nat64Error::new_err(e.to_string())
}

pub(crate) fn parse<T: FromStr>(s: &str) -> PyResult<T>
where
    T::Err: Display,
{
    s.parse::<T>().map_err(err)
}

/// An address or prefix argument: `str`, or anything whose `str()` is one
/// (`ipaddress` objects).
pub(crate) fn text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(obj.str()?.to_cow()?.into_owned())
}

pub(crate) fn addr<T: FromStr>(obj: &Bound<'_, PyAny>) -> PyResult<T>
where
    T::Err: Display,
{
    addr_str(&text(obj)?)
}

pub(crate) fn addr_str<T: FromStr>(s: &str) -> PyResult<T>
where
    T::Err: Display,
{
    s.parse::<T>()
        .map_err(|e| Nat64Error::new_err(format!("{s:?} is not a valid address: {e}")))
}

/// Runs `f` on the bytes of any buffer: `bytes` directly, anything else
/// through the buffer protocol (C-contiguous).
pub(crate) fn with_bytes<R>(obj: &Bound<'_, PyAny>, f: impl FnOnce(&[u8]) -> R) -> PyResult<R> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(f(b.as_bytes()));
    }
    let buf = PyUntypedBuffer::get(obj)?;
    if !buf.is_c_contiguous() {
        return Err(PyValueError::new_err("the packet buffer must be C-contiguous"));
    }
    // SAFETY: the buffer is held (and its memory pinned) for the duration of
    // `f`, which runs with the GIL held and calls no Python code.
    let s = unsafe { std::slice::from_raw_parts(buf.buf_ptr() as *const u8, buf.len_bytes()) };
    Ok(f(s))
}

pub(crate) fn opt_bytes<R>(
    obj: Option<&Bound<'_, PyAny>>,
    f: impl FnOnce(Option<&[u8]>) -> PyResult<R>,
) -> PyResult<R> {
    match obj {
        None => f(None),
        Some(o) if o.is_none() => f(None),
        Some(o) => with_bytes(o, |b| f(Some(b)))?,
    }
}

// ------------------------------------------------------------------ prefixes

/// An RFC 6052 translation prefix (/32, /40, /48, /56, /64 or /96).
#[pyclass(frozen, eq, hash, module = "nat64")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Prefix64 {
    pub(crate) inner: CorePrefix64,
}

#[pymethods]
impl Prefix64 {
    #[new]
    fn new(prefix: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Prefix64 {
            inner: parse(&text(prefix)?)?,
        })
    }
    /// 64:ff9b::/96.
    #[staticmethod]
    fn well_known() -> Self {
        Prefix64 {
            inner: CorePrefix64::well_known(),
        }
    }
    /// RFC 6052 section 2.2: the IPv4-embedded IPv6 address of `v4`.
    fn embed(&self, v4: &Bound<'_, PyAny>) -> PyResult<String> {
        Ok(self.inner.embed(addr(v4)?).to_string())
    }
    /// RFC 6052 section 2.3: the IPv4 address embedded in `v6`, or None when
    /// `v6` is not under the prefix.
    fn extract(&self, v6: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
        Ok(self.inner.extract(addr(v6)?).map(|a| a.to_string()))
    }
    /// Whether `v6` is under the prefix.
    fn contains(&self, v6: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.inner.contains(addr(v6)?))
    }
    #[getter]
    fn prefix_len(&self) -> u8 {
        self.inner.prefix_len()
    }
    #[getter]
    fn is_well_known(&self) -> bool {
        self.inner.is_well_known()
    }
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
    fn __repr__(&self) -> String {
        format!("Prefix64('{}')", self.inner)
    }
}

pub(crate) fn prefix_arg(obj: &Bound<'_, PyAny>) -> PyResult<CorePrefix64> {
    match obj.cast::<Prefix64>() {
        Ok(p) => Ok(p.get().inner),
        Err(_) => parse(&text(obj)?),
    }
}

// -------------------------------------------------------------------- repr

/// A Python string literal of an address, prefix or label (their text has
/// no quote or backslash).
pub(crate) fn lit(s: impl Display) -> String {
    format!("'{s}'")
}

pub(crate) fn lit_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// `call.field("f", c.f, d.f)` for each field `f` (named alike in Python
/// and in the core), in order: the keyword arguments of a configuration's
/// `repr()` for the fields that differ from the default `d`.
macro_rules! fields {
    ($call:ident, $c:ident, $d:ident: $($f:ident),+ $(,)?) => {
        $( $call.field(stringify!($f), $c.$f, $d.$f); )+
    };
}
pub(crate) use fields;

/// A field's value as Python source text (for [`Call::field`]).
pub(crate) trait PyLit {
    fn py_lit(&self) -> String;
}

impl PyLit for bool {
    fn py_lit(&self) -> String {
        lit_bool(*self).to_string()
    }
}

macro_rules! int_lit {
    ($($t:ty),*) => {
        $(impl PyLit for $t {
            fn py_lit(&self) -> String {
                self.to_string()
            }
        })*
    };
}

int_lit!(u8, u16, u32, u64, usize);

pub(crate) fn lit_list<T>(items: impl IntoIterator<Item = T>, f: impl Fn(T) -> String) -> String {
    let v: Vec<String> = items.into_iter().map(f).collect();
    format!("[{}]", v.join(", "))
}

/// Builds the `repr()` of a configuration class as the call that makes it:
/// `Name(positional, key=value, ...)`, keyword arguments only where they
/// differ from the default, so that `eval(repr(x))` in the `nat64`
/// namespace rebuilds `x`. Secrets are shown as `...`, never their value.
pub(crate) struct Call {
    out: String,
    empty: bool,
}

impl Call {
    pub(crate) fn new(name: &str) -> Self {
        Call {
            out: format!("{name}("),
            empty: true,
        }
    }
    fn sep(&mut self) {
        if !self.empty {
            self.out.push_str(", ");
        }
        self.empty = false;
    }
    /// A positional argument.
    pub(crate) fn arg(&mut self, value: impl Display) -> &mut Self {
        self.sep();
        self.out.push_str(&value.to_string());
        self
    }
    /// `key=value` when `differs` (from the default).
    pub(crate) fn kw(&mut self, differs: bool, key: &str, value: impl Display) -> &mut Self {
        if differs {
            self.sep();
            self.out.push_str(key);
            self.out.push('=');
            self.out.push_str(&value.to_string());
        }
        self
    }
    /// `key=value` when there is a value.
    pub(crate) fn some(&mut self, key: &str, value: Option<impl Display>) -> &mut Self {
        match value {
            Some(v) => self.kw(true, key, v),
            None => self,
        }
    }
    /// `key=value` when `value` differs from `default` (the same field of
    /// the default configuration).
    pub(crate) fn field<T: PartialEq + PyLit>(&mut self, key: &str, value: T, default: T) -> &mut Self {
        self.kw(value != default, key, value.py_lit())
    }
    pub(crate) fn finish(&mut self) -> String {
        let mut s = std::mem::take(&mut self.out);
        s.push(')');
        s
    }
}
