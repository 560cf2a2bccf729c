//! Verdicts, batches and counters on their way to JS.

use napi::bindgen_prelude::{ToNapiValue, TypeName, ValueType};
use napi::{sys, Env, Error, Result};
use napi_derive::napi;
use nat64_core::{
    Counters as CoreCounters, Direction, DropReason, Held, NotOurs, Verdict as CoreVerdict,
    OUTPUT_BUFFER_LEN as CORE_OUTPUT_BUFFER_LEN,
};

use crate::args::{Index, Int, OutBuf, Packets};
use crate::check;

/// Packet bytes handed to JS as a new `Buffer` holding a copy
/// (`napi_create_buffer_copy`): for packet-sized data this costs far less
/// than the external buffer (and its finalizer) that `Buffer::from(Vec)` makes.
pub struct Bytes(pub(crate) Vec<u8>);

impl TypeName for Bytes {
    fn type_name() -> &'static str {
        "Buffer"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for Bytes {
    unsafe fn to_napi_value(env: napi::sys::napi_env, val: Self) -> Result<napi::sys::napi_value> {
        let mut ret = std::ptr::null_mut();
        // SAFETY: `val.0` outlives the call, which copies it.
        let status = unsafe {
            napi::sys::napi_create_buffer_copy(env, val.0.len(), val.0.as_ptr().cast(), std::ptr::null_mut(), &mut ret)
        };
        if status != napi::sys::Status::napi_ok {
            return Err(Error::from_reason("cannot create a Buffer"));
        }
        Ok(ret)
    }
}

/// Declares a verdict type for TypeScript (a union discriminated on `kind`),
/// with the fields that hold the bytes, if any, before the others: the one
/// shape of [`Verdict`] and [`VerdictInto`]. Verdicts are built by `JsVerdict`
/// (below), which makes the same objects faster. Every verdict object has all
/// eight keys; those a kind does not list are undefined (`len`, `count`,
/// `firstLen`: 0). The docs are `#[doc = "..."]` attributes: napi-rs reads
/// `///` comments passed through a macro (raw strings) as `r"..."`.
macro_rules! verdict_type {
    ($(#[$doc:meta])* $name:ident { Translated { $($packets:tt)* } IcmpError { $($packet:tt)* } }) => {
        $(#[$doc])*
        #[napi(discriminant = "kind", object_from_js = false)]
        pub enum $name {
            Translated {
                $($packets)*
                #[napi(ts_type = "'6to4' | '4to6' | '6to6'")]
                direction: String,
                len: u32,
                count: u32,
                first_len: u32,
            },
            IcmpError {
                $($packet)*
                len: u32,
                reason: String,
            },
            Dropped {
                reason: String,
            },
            NotOurs {
                reason: String,
            },
            Held {
                #[napi(ts_type = "'fragment' | 'simultaneous_open'")]
                reason: String,
            },
        }
    };
}

verdict_type!(
    #[doc = " What happened to a packet (`translate`, `translateBatch`, `poll`)."]
    #[doc = " `kind` says which verdict, and TypeScript narrows on it:"]
    #[doc = " - `Translated`: `packets` (one unless fragmented), `direction`, `len`"]
    #[doc = "   (bytes in all), `count`, `firstLen` (of each packet but the last);"]
    #[doc = " - `IcmpError`: `packet`, the ICMP error for the sender, and `reason`;"]
    #[doc = " - `Dropped`, `NotOurs`: `reason` (a label such as \"hop_limit_exceeded\";"]
    #[doc = "   `explain(reason)` says what it means and what to do);"]
    #[doc = " - `Held`: `reason` (\"fragment\" or \"simultaneous_open\")."]
    Verdict {
        Translated {
            #[napi(ts_type = "Array<Buffer>")]
            packets: Vec<Bytes>,
        }
        IcmpError {
            #[napi(ts_type = "Buffer")]
            packet: Bytes,
        }
    }
);

verdict_type!(
    #[doc = " What happened to a packet translated by `translateInto`: as [`Verdict`],"]
    #[doc = " without the bytes, which are in the caller's buffer (`len` bytes in all;"]
    #[doc = " each packet but the last is `firstLen` long; an ICMP error is `len` long)."]
    VerdictInto {
        Translated {}
        IcmpError {}
    }
);

/// A verdict on its way to JS. Built by hand rather than by
/// `#[napi(object)]`: the kind and direction strings are made once per thread,
/// and the object by one call of a small JS function (`BUILD_VERDICT`).
pub struct JsVerdict {
    kind: usize,
    /// The packets are in this translator's `Scratch`.
    scratch: Option<sys::napi_ref>,
    packets: Option<Vec<Vec<u8>>>,
    direction: Option<usize>,
    len: u32,
    count: u32,
    first_len: u32,
    reason: Option<&'static str>,
}

/// The strings kept per thread: the kinds (`K_*`), then the directions (`D_64` + 0, 1, 2).
const STRINGS: [&str; 8] = [
    "Translated",
    "IcmpError",
    "Dropped",
    "NotOurs",
    "Held",
    "6to4",
    "4to6",
    "6to6",
];
const K_TRANSLATED: usize = 0;
const K_ICMP_ERROR: usize = 1;
const K_DROPPED: usize = 2;
const K_NOT_OURS: usize = 3;
const K_HELD: usize = 4;
const D_64: usize = 5;

struct Strings {
    env: sys::napi_env,
    /// An array holding the strings: Node-API references to primitives need
    /// Node 22, references to objects work everywhere.
    array: sys::napi_ref,
    /// [`BUILD_VERDICT`], compiled once.
    build: sys::napi_ref,
}

/// Makes the verdict object in JS: an object literal gets its shape from the
/// JIT once, where setting its properties one by one through Node-API takes
/// V8's slow path for each (about 0.2 us a property).
/// The packets come either in `scratch` (the translator's output buffer, a
/// Buffer: JS copies them out, from its Buffer pool) or as `first` (the first
/// or only one) and `more` (all of them, when there are several).
/// `Buffer.from` and `subarray` are whatever the globals are when it runs:
/// code that replaced them sees views of `scratch`, which is why
/// [`Scratch::bytes`] checks the buffer on every call.
const BUILD_VERDICT: &str = "(function (kind, first, more, direction, len, count, firstLen, reason, scratch) { \
     let packets, packet; \
     if (scratch !== undefined) { \
       if (kind === 'Translated') { \
         packets = []; \
         for (let i = 0, s = 0; i < count; i++, s += firstLen) \
           packets.push(Buffer.from(scratch.subarray(s, i + 1 === count ? len : s + firstLen))); \
       } else if (kind === 'IcmpError') packet = Buffer.from(scratch.subarray(0, len)); \
     } else { \
       packets = kind === 'Translated' && first !== undefined ? (more === undefined ? [first] : more) : undefined; \
       packet = kind === 'IcmpError' ? first : undefined; \
     } \
     return { kind, packets, packet, direction, len, count, firstLen, reason } })";

/// A translator's output buffer, made as a JS `Buffer` so that the packets
/// of a verdict are copied out of it by JS (`BUILD_VERDICT`), from Node's
/// Buffer pool: a third of the cost of a new Buffer per packet from Rust.
///
/// JS can reach this Buffer: `BUILD_VERDICT` hands views of it to
/// `Buffer.from`, which code in the process may have replaced, and so could
/// keep it and detach its ArrayBuffer (`structuredClone` with `transfer`) or
/// write into it. Writing only spoils that verdict's copy; a detach would
/// free the memory the core writes into. So [`Scratch::bytes`] looks the
/// memory up on every call and replaces a buffer that is no longer whole.
pub(crate) struct Scratch {
    buf: sys::napi_ref,
}

impl Scratch {
    pub(crate) fn new(env: &Env) -> Result<Self> {
        let (mut data, mut v, mut r) = (std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut());
        // SAFETY: `env` is the live environment of the call.
        unsafe {
            check(sys::napi_create_buffer(
                env.raw(),
                CORE_OUTPUT_BUFFER_LEN,
                &mut data,
                &mut v,
            ))?;
            check(sys::napi_create_reference(env.raw(), v, 1, &mut r))?;
        }
        Ok(Scratch { buf: r })
    }
    /// The buffer's `OUTPUT_BUFFER_LEN` bytes, for the core to write into
    /// during this call, where no JS runs (the verdict is made afterwards).
    /// A buffer JS detached is replaced by a new one.
    pub(crate) fn bytes(&mut self, env: &Env) -> Result<&mut [u8]> {
        let (mut v, mut data, mut len) = (std::ptr::null_mut(), std::ptr::null_mut(), 0);
        // SAFETY: the reference belongs to `env` and keeps the Buffer alive.
        unsafe {
            check(sys::napi_get_reference_value(env.raw(), self.buf, &mut v))?;
            check(sys::napi_get_buffer_info(env.raw(), v, &mut data, &mut len))?;
        }
        if len != CORE_OUTPUT_BUFFER_LEN || data.is_null() {
            // Detached (length 0): a new buffer; the old one is JS's to keep.
            self.release(env)?;
            *self = Scratch::new(env)?;
            return self.bytes(env);
        }
        // SAFETY: a live Buffer of `len` bytes, just looked up; until the
        // slice is dropped (within this call) no JS runs that could detach it.
        Ok(unsafe { std::slice::from_raw_parts_mut(data.cast(), len) })
    }
    pub(crate) fn release(&self, env: &Env) -> Result<()> {
        // SAFETY: the reference belongs to `env`; called once, when the
        // buffer is replaced or the translator finalized.
        check(unsafe { sys::napi_delete_reference(env.raw(), self.buf) })
    }
}

thread_local! {
    static STRING_REFS: std::cell::RefCell<Option<Strings>> = const { std::cell::RefCell::new(None) };
}

/// first use (per thread, so per worker).
unsafe fn strings(env: sys::napi_env) -> Result<(sys::napi_value, sys::napi_value)> {
    STRING_REFS.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.as_ref().is_none_or(|s| s.env != env) {
            let mut arr = std::ptr::null_mut();
            let mut r = std::ptr::null_mut();
            // SAFETY: `env` is the live environment of this call.
            unsafe {
                check(sys::napi_create_array_with_length(env, STRINGS.len(), &mut arr))?;
                for (i, t) in STRINGS.iter().enumerate() {
                    let mut v = std::ptr::null_mut();
                    check(sys::napi_create_string_latin1(
                        env,
                        t.as_ptr().cast(),
                        t.len() as isize,
                        &mut v,
                    ))?;
                    check(sys::napi_set_element(env, arr, i as u32, v))?;
                }
                check(sys::napi_create_reference(env, arr, 1, &mut r))?;
            }
            let mut b = std::ptr::null_mut();
            // SAFETY: as above; the script is a constant function expression.
            unsafe {
                let mut src = std::ptr::null_mut();
                check(sys::napi_create_string_latin1(
                    env,
                    BUILD_VERDICT.as_ptr().cast(),
                    BUILD_VERDICT.len() as isize,
                    &mut src,
                ))?;
                let mut f = std::ptr::null_mut();
                check(sys::napi_run_script(env, src, &mut f))?;
                check(sys::napi_create_reference(env, f, 1, &mut b))?;
            }
            *cell = Some(Strings {
                env,
                array: r,
                build: b,
            });
        }
        let s = cell.as_ref().ok_or_else(|| Error::from_reason("no strings"))?;
        let (mut a, mut b) = (std::ptr::null_mut(), std::ptr::null_mut());
        // SAFETY: the references belong to `env`.
        unsafe {
            check(sys::napi_get_reference_value(env, s.array, &mut a))?;
            check(sys::napi_get_reference_value(env, s.build, &mut b))?;
        }
        Ok((a, b))
    })
}

unsafe fn buffer(env: sys::napi_env, b: &[u8]) -> Result<sys::napi_value> {
    let mut v = std::ptr::null_mut();
    // SAFETY: the call copies `b`.
    check(unsafe { sys::napi_create_buffer_copy(env, b.len(), b.as_ptr().cast(), std::ptr::null_mut(), &mut v) })?;
    Ok(v)
}

impl TypeName for JsVerdict {
    fn type_name() -> &'static str {
        "Verdict"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for JsVerdict {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        // SAFETY (whole body): `env` is the live environment of this call.
        unsafe {
            let (strs, build) = strings(env)?;
            let s = |i: usize| -> Result<sys::napi_value> {
                let mut v = std::ptr::null_mut();
                check(sys::napi_get_element(env, strs, i as u32, &mut v))?;
                Ok(v)
            };
            let uint = |n: u32| -> Result<sys::napi_value> {
                let mut v = std::ptr::null_mut();
                check(sys::napi_create_uint32(env, n, &mut v))?;
                Ok(v)
            };
            let mut undefined = std::ptr::null_mut();
            check(sys::napi_get_undefined(env, &mut undefined))?;
            let mut args = [undefined; 9];
            if let Some(r) = val.scratch {
                check(sys::napi_get_reference_value(env, r, &mut args[8]))?;
            }
            args[0] = s(val.kind)?;
            if let Some(ps) = &val.packets {
                if let Some(p) = ps.first() {
                    args[1] = buffer(env, p)?;
                }
                if ps.len() > 1 {
                    let mut arr = std::ptr::null_mut();
                    check(sys::napi_create_array_with_length(env, ps.len(), &mut arr))?;
                    check(sys::napi_set_element(env, arr, 0, args[1]))?;
                    for (i, p) in ps.iter().enumerate().skip(1) {
                        check(sys::napi_set_element(env, arr, i as u32, buffer(env, p)?))?;
                    }
                    args[2] = arr;
                }
            }
            if let Some(d) = val.direction {
                args[3] = s(d)?;
            }
            args[4] = uint(val.len)?;
            args[5] = uint(val.count)?;
            args[6] = uint(val.first_len)?;
            if let Some(r) = val.reason {
                check(sys::napi_create_string_latin1(
                    env,
                    r.as_ptr().cast(),
                    r.len() as isize,
                    &mut args[7],
                ))?;
            }
            let mut obj = std::ptr::null_mut();
            check(sys::napi_call_function(
                env,
                undefined,
                build,
                args.len(),
                args.as_ptr(),
                &mut obj,
            ))?;
            Ok(obj)
        }
    }
}

pub(crate) fn verdict(v: CoreVerdict, out: Option<&[u8]>) -> JsVerdict {
    let mut o = JsVerdict {
        kind: K_TRANSLATED,
        scratch: None,
        packets: None,
        direction: None,
        len: 0,
        count: 0,
        first_len: 0,
        reason: None,
    };
    match v {
        CoreVerdict::Translated(e) => {
            o.direction = Some(
                D_64 + match e.direction {
                    Direction::SixToFour => 0,
                    Direction::FourToSix => 1,
                    Direction::SixToSix => 2,
                },
            );
            (o.len, o.count, o.first_len) = (e.len, u32::from(e.count), u32::from(e.first_len));
            o.packets = out.map(|b| e.packets(b).map(<[u8]>::to_vec).collect());
        }
        CoreVerdict::IcmpError { len, reason } => {
            o.kind = K_ICMP_ERROR;
            (o.len, o.count, o.first_len) = (len, 1, len);
            o.packets = out.map(|b| vec![b[..len as usize].to_vec()]);
            o.reason = Some(reason.label());
        }
        CoreVerdict::Dropped(r) => {
            o.kind = K_DROPPED;
            o.reason = Some(r.label());
        }
        CoreVerdict::NotOurs(r) => {
            o.kind = K_NOT_OURS;
            o.reason = Some(r.label());
        }
        CoreVerdict::Held(h) => {
            o.kind = K_HELD;
            o.reason = Some(match h {
                Held::Fragment => "fragment",
                Held::SimultaneousOpen => "simultaneous_open",
                _ => "unknown",
            });
        }
    }
    o
}

/// What a reason label ("hop_limit_exceeded", "destination_not_mapped", ...)
/// means and what a person can do about it; null for an unknown label.
#[napi]
pub fn explain(reason: String) -> Option<String> {
    let d = DropReason::ALL
        .iter()
        .find(|r| r.label() == reason)
        .map(|r| r.explain());
    let n = NotOurs::ALL.iter().find(|r| r.label() == reason).map(|r| r.explain());
    d.or(n).map(str::to_owned)
}

/// A label and its explanation.
#[napi(object)]
pub struct Reason {
    pub label: String,
    pub explain: String,
}

/// Each of `all` as a [`Reason`].
fn reasons<R: Copy>(all: &[R], label: fn(R) -> &'static str, explain: fn(R) -> &'static str) -> Vec<Reason> {
    all.iter()
        .map(|&r| Reason {
            label: label(r).into(),
            explain: explain(r).into(),
        })
        .collect()
}

/// The drop reasons, in the core's counter order.
#[napi]
pub fn drop_reasons() -> Vec<Reason> {
    reasons(DropReason::ALL, DropReason::label, DropReason::explain)
}

/// The not-ours reasons.
#[napi]
pub fn not_ours_reasons() -> Vec<Reason> {
    reasons(NotOurs::ALL, NotOurs::label, NotOurs::explain)
}

/// Counters per verdict and per reason; `dropped` and `notOurs` map labels
/// to nonzero counts.
#[napi(object)]
pub struct Counters {
    #[napi(js_name = "translated6to4")]
    pub translated_6to4: i64,
    #[napi(js_name = "translated4to6")]
    pub translated_4to6: i64,
    pub hairpinned: i64,
    pub fragments_emitted: i64,
    pub icmp_errors_generated: i64,
    pub held: i64,
    pub dropped: std::collections::HashMap<String, i64>,
    pub not_ours: std::collections::HashMap<String, i64>,
}

pub(crate) fn counters(c: &CoreCounters) -> Counters {
    Counters {
        translated_6to4: c.translated_6to4 as i64,
        translated_4to6: c.translated_4to6 as i64,
        hairpinned: c.hairpinned as i64,
        fragments_emitted: c.fragments_emitted as i64,
        icmp_errors_generated: c.icmp_errors_generated as i64,
        held: c.held as i64,
        dropped: c.drop_reasons().map(|(r, n)| (r.label().into(), n as i64)).collect(),
        not_ours: c
            .not_ours_reasons()
            .map(|(r, n)| (r.label().into(), n as i64))
            .collect(),
    }
}

/// The outcome of `translateBatch`: the verdicts (made on access by `get`)
/// over one buffer holding every output back to back (`data`; packet `i`'s
/// bytes start at `offsets[i]`).
#[napi]
pub struct Batch {
    verdicts: Vec<CoreVerdict>,
    offsets: Vec<u32>,
    data: Vec<u8>,
}

#[napi]
impl Batch {
    /// How many packets.
    #[napi(getter)]
    pub fn length(&self) -> u32 {
        self.verdicts.len() as u32
    }
    /// The verdict of packet `i` (negative counts from the end).
    #[napi(ts_return_type = "Verdict")]
    pub fn get(&self, #[napi(ts_arg_type = "number")] i: Int<i32, Index>) -> Result<JsVerdict> {
        let (i, n) = (i.0, self.verdicts.len() as i64);
        let j = if i < 0 { i64::from(i) + n } else { i64::from(i) };
        if j < 0 || j >= n {
            return Err(Error::from_reason("batch index out of range"));
        }
        let j = j as usize;
        Ok(verdict(self.verdicts[j], Some(&self.data[self.offsets[j] as usize..])))
    }
    /// Every verdict, as an array.
    #[napi(ts_return_type = "Array<Verdict>")]
    pub fn verdicts(&self) -> Vec<JsVerdict> {
        self.verdicts
            .iter()
            .zip(&self.offsets)
            .map(|(v, &at)| verdict(*v, Some(&self.data[at as usize..])))
            .collect()
    }
    /// Every output byte, back to back.
    #[napi(getter, ts_return_type = "Buffer")]
    pub fn data(&self) -> Bytes {
        Bytes(self.data.clone())
    }
    /// Where each packet's output starts in `data`.
    #[napi(getter)]
    pub fn offsets(&self) -> Vec<u32> {
        self.offsets.clone()
    }
    /// How many packets were translated.
    #[napi(getter)]
    pub fn translated(&self) -> u32 {
        self.verdicts
            .iter()
            .filter(|v| matches!(v, CoreVerdict::Translated(_)))
            .count() as u32
    }
    /// The receiver check of the getters (see lib.rs).
    #[napi(skip_typescript, js_name = "__nat64Receiver")]
    pub fn receiver(&self) {}
}

/// What a translator object (`Translator`, `Nat64`) keeps for its verdicts
/// between calls: the output buffer of `translate` and `poll` (a
/// [`Scratch`]) and the one `translateBatch` writes into (zeroed and grown
/// only once). Released when the object is finalized ([`release_outputs`]).
pub(crate) struct Outputs {
    one: Scratch,
    batch: Vec<u8>,
}

impl Outputs {
    pub(crate) fn new(env: &Env) -> Result<Self> {
        Ok(Outputs {
            one: Scratch::new(env)?,
            batch: Vec::new(),
        })
    }

    /// The verdict of `f`, which writes into the output buffer.
    pub(crate) fn verdict(&mut self, env: &Env, f: impl FnOnce(&mut [u8]) -> CoreVerdict) -> Result<JsVerdict> {
        let v = f(self.one.bytes(env)?);
        Ok(self.js(v))
    }

    /// As [`Outputs::verdict`], for a call that may have none (`poll`).
    pub(crate) fn maybe(
        &mut self,
        env: &Env,
        f: impl FnOnce(&mut [u8]) -> Option<CoreVerdict>,
    ) -> Result<Option<JsVerdict>> {
        let v = f(self.one.bytes(env)?);
        Ok(v.map(|v| self.js(v)))
    }

    /// A verdict whose packets are in the output buffer.
    fn js(&self, v: CoreVerdict) -> JsVerdict {
        let mut o = verdict(v, None);
        o.scratch = Some(self.one.buf);
        o
    }

    /// Runs `f` on every packet, writing outputs back to back, then copies
    /// them into the `Batch`.
    pub(crate) fn batch(&mut self, packets: Packets, mut f: impl FnMut(&[u8], &mut [u8]) -> CoreVerdict) -> Batch {
        let (packets, scratch) = (packets.0, &mut self.batch);
        let mut verdicts = Vec::with_capacity(packets.len());
        let mut offsets = Vec::with_capacity(packets.len());
        let mut at = 0;
        for p in packets {
            // Room for this packet's worst case (fragments, or an ICMP error
            // quoting it); OUTPUT_BUFFER_LEN for large ones.
            let room = (p.len() * 2 + 1024).min(CORE_OUTPUT_BUFFER_LEN);
            if scratch.len() < at + room {
                scratch.resize(at + room, 0);
            }
            let v = f(p, &mut scratch[at..]);
            offsets.push(at as u32);
            at += match v {
                CoreVerdict::Translated(e) => e.total_len(),
                CoreVerdict::IcmpError { len, .. } => len as usize,
                _ => 0,
            };
            verdicts.push(v);
        }
        Batch {
            verdicts,
            offsets,
            data: scratch[..at].to_vec(),
        }
    }

    /// Once, when the object holding them is finalized.
    pub(crate) fn release(&self, env: &Env) -> Result<()> {
        self.one.release(env)
    }
}

/// `translateInto`: the verdict of `f`, which writes the output of `packet`
/// into `out` (checked not to overlap it).
pub(crate) fn verdict_into(
    packet: &[u8],
    out: &mut OutBuf,
    f: impl FnOnce(&[u8], &mut [u8]) -> CoreVerdict,
) -> Result<JsVerdict> {
    Ok(verdict(f(packet, out.slice(packet)?), None))
}

/// A translator class (`Translator`, `Nat64`): the struct (the core's
/// engine `inner` and its [`Outputs`]), its finalizer, its constructor (from
/// the configuration object, by `$make`), and the methods both have:
/// `translate`, `translateInto`, `translateBatch`, `counters`; with `now:
/// "doc"`, the first three take a timestamp `now` last, which the doc line
/// describes. The class's own methods go in
/// another `#[napi] impl` block. Docs are `#[doc = "..."]`: napi-rs reads
/// `///` comments that pass through a macro (raw strings) as `r"..."`. The
/// caller has `napi::Env` in scope as `Env` (how napi-rs knows the argument).
macro_rules! translator_class {
    (
        $(#[doc = $doc:tt])*
        $class:ident { inner: $core:ty, config: $config:ty = $ts_config:tt, make: $make:path $(, $now:ident: $at:tt)? }
    ) => {
        $(#[doc = $doc])*
        #[napi(custom_finalize)]
        pub struct $class {
            inner: $core,
            out: $crate::verdict::Outputs,
        }

        impl napi::bindgen_prelude::ObjectFinalize for $class {
            fn finalize(self, env: napi::Env) -> napi::Result<()> {
                self.out.release(&env)
            }
        }

        #[napi]
        impl $class {
            #[napi(constructor)]
            pub fn new(
                env: Env,
                #[napi(ts_arg_type = $ts_config)] config: $crate::args::Strict<$config>,
            ) -> napi::Result<Self> {
                Ok($class {
                    inner: $make(&config.0)?,
                    out: $crate::verdict::Outputs::new(&env)?,
                })
            }
            #[doc = " Translates one packet."]
            $(#[doc = $at])?
            #[napi(ts_return_type = "Verdict")]
            pub fn translate(
                &mut self,
                env: Env,
                #[napi(ts_arg_type = "Uint8Array")] packet: $crate::args::Bin<$crate::args::Packet>,
                $(#[napi(ts_arg_type = "number | bigint")] $now: $crate::args::Now,)?
            ) -> napi::Result<$crate::verdict::JsVerdict> {
                $(let $now = nat64_core::nat64::Instant::from_micros($now.0);)?
                let t = &mut self.inner;
                self.out.verdict(&env, |out| t.translate(&packet, out $(, $now)?))
            }
            #[doc = " Translates one packet into `out` (`OUTPUT_BUFFER_LEN` bytes always"]
            #[doc = " suffice); the verdict says where the bytes are."]
            $(#[doc = $at])?
            #[napi(ts_return_type = "VerdictInto")]
            pub fn translate_into(
                &mut self,
                #[napi(ts_arg_type = "Uint8Array")] packet: $crate::args::Bin<$crate::args::Packet>,
                #[napi(ts_arg_type = "Uint8Array")] mut out: $crate::args::OutBuf,
                $(#[napi(ts_arg_type = "number | bigint")] $now: $crate::args::Now,)?
            ) -> napi::Result<$crate::verdict::JsVerdict> {
                $(let $now = nat64_core::nat64::Instant::from_micros($now.0);)?
                let t = &mut self.inner;
                $crate::verdict::verdict_into(&packet, &mut out, |p, o| t.translate(p, o $(, $now)?))
            }
            #[doc = " Translates every packet in one call."]
            $(#[doc = $at])?
            #[napi]
            pub fn translate_batch(
                &mut self,
                #[napi(ts_arg_type = "Array<Uint8Array>")] packets: $crate::args::Packets,
                $(#[napi(ts_arg_type = "number | bigint")] $now: $crate::args::Now,)?
            ) -> $crate::verdict::Batch {
                $(let $now = nat64_core::nat64::Instant::from_micros($now.0);)?
                let t = &mut self.inner;
                self.out.batch(packets, |p, out| t.translate(p, out $(, $now)?))
            }
            #[doc = " Counters per verdict and per reason."]
            #[napi]
            pub fn counters(&self) -> $crate::verdict::Counters {
                $crate::verdict::counters(self.inner.counters())
            }
        }
    };
}
pub(crate) use translator_class;
