//! The Node.js face of `nat64-core` (napi-rs v3). Newtype wrappers over the
//! core's types, one error-mapping function (`err`), no logic of their own.
//! Packets come in as `Buffer` / `Uint8Array` and go out as `Buffer`; names
//! are the core's, in camelCase.

use std::fmt::Display;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::time::Duration;

use napi::bindgen_prelude::ObjectFinalize;
use napi::bindgen_prelude::{Buffer, Either, FromNapiValue, ToNapiValue, TypeName, Uint8Array, ValueType};
use napi::sys;
use napi::{Env, Error, Result};
use napi_derive::napi;
use nat64_core::dns64::discovery::{self, Pref64 as CorePref64};
use nat64_core::dns64::reverse::InAddrName;
use nat64_core::dns64::{Answer, ClientPrefix, Decision, Dns64 as CoreDns64, Dns64Config as CoreDns64Config, Plan};
use nat64_core::dns64::{PrefixRule as CorePrefixRule, Query, Written as CoreWritten};
use nat64_core::nat64::{
    Bib as CoreBib, Instant, Nat64 as CoreNat64, Nat64Config as CoreNat64Config, Pool4Entry as CorePool4Entry, Proto,
    Session as CoreSession, SessionFilter, Taddr4, Taddr6,
};
use nat64_core::{
    Config as CoreConfig, Counters as CoreCounters, Direction, DropReason, HairpinMode, Held, Ipv4IdPolicy, Ipv4Prefix,
    Ipv6Prefix, NotOurs, Prefix64 as CorePrefix64, Translator as CoreTranslator, Verdict as CoreVerdict,
    OUTPUT_BUFFER_LEN as CORE_OUTPUT_BUFFER_LEN,
};

/// The one error mapping: a JS `Error` with the core's message.
fn err(e: impl Display) -> Error {
    Error::from_reason(e.to_string())
}

fn parse<T: FromStr>(s: &str) -> Result<T>
where
    T::Err: Display,
{
    s.parse::<T>().map_err(err)
}

fn addr<T: FromStr>(s: &str) -> Result<T>
where
    T::Err: Display,
{
    s.parse::<T>()
        .map_err(|e| Error::from_reason(format!("{s:?} is not a valid address: {e}")))
}

/// `OUTPUT_BUFFER_LEN` of the core: an output buffer this large holds the
/// result of any one packet.
#[napi]
pub const OUTPUT_BUFFER_LEN: u32 = CORE_OUTPUT_BUFFER_LEN as u32;

// ------------------------------------------------------------------ prefixes

/// An RFC 6052 translation prefix (/32, /40, /48, /56, /64 or /96).
#[napi]
pub struct Prefix64 {
    inner: CorePrefix64,
}

#[napi]
impl Prefix64 {
    #[napi(constructor)]
    pub fn new(prefix: String) -> Result<Self> {
        Ok(Prefix64 { inner: parse(&prefix)? })
    }
    /// 64:ff9b::/96.
    #[napi(factory)]
    pub fn well_known() -> Self {
        Prefix64 {
            inner: CorePrefix64::well_known(),
        }
    }
    /// RFC 6052 section 2.2: the IPv4-embedded IPv6 address of `v4`.
    #[napi]
    pub fn embed(&self, v4: String) -> Result<String> {
        Ok(self.inner.embed(addr(&v4)?).to_string())
    }
    /// RFC 6052 section 2.3: the IPv4 address embedded in `v6`, or null
    /// when `v6` is not under the prefix.
    #[napi]
    pub fn extract(&self, v6: String) -> Result<Option<String>> {
        Ok(self.inner.extract(addr(&v6)?).map(|a| a.to_string()))
    }
    /// Whether `v6` is under the prefix.
    #[napi]
    pub fn contains(&self, v6: String) -> Result<bool> {
        Ok(self.inner.contains(addr(&v6)?))
    }
    #[napi(getter)]
    pub fn prefix_len(&self) -> u8 {
        self.inner.prefix_len()
    }
    #[napi(getter)]
    pub fn is_well_known(&self) -> bool {
        self.inner.is_well_known()
    }
    #[napi(js_name = "toString")]
    pub fn to_text(&self) -> String {
        self.inner.to_string()
    }
}

// ------------------------------------------------------------------ verdicts

/// Packet bytes handed to JS as a new `Buffer` holding a copy
/// (`napi_create_buffer_copy`): for packet-sized data this costs far less
/// than the external buffer (and its finalizer) that `Buffer::from(Vec)` makes.
pub struct Bytes(Vec<u8>);

impl TypeName for Bytes {
    fn type_name() -> &'static str {
        "Buffer"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl FromNapiValue for Bytes {
    unsafe fn from_napi_value(env: napi::sys::napi_env, v: napi::sys::napi_value) -> Result<Self> {
        // SAFETY: as for any argument conversion.
        let b = unsafe { Buffer::from_napi_value(env, v)? };
        Ok(Bytes(b.to_vec()))
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

// This struct declares the TypeScript type; verdicts are built by
// `JsVerdict` (below), which makes the same object faster.
/// What happened to a packet. `kind` says which verdict; the other fields
/// are set when they apply:
/// - `Translated`: `packets` (one unless fragmented), `direction`, `len`,
///   `count`, `firstLen`;
/// - `IcmpError`: `packet`, the ICMP error for the sender, and `reason`;
/// - `Dropped`, `NotOurs`: `reason` (a label such as "hop_limit_exceeded";
///   `explain(reason)` says what it means and what to do);
/// - `Held`: `reason` ("fragment" or "simultaneous_open").
///
/// From `translateInto`, `packets` and `packet` are not set: the bytes are
/// in the caller's buffer (`len` bytes; each packet but the last is
/// `firstLen` long).
#[napi(object)]
pub struct Verdict {
    #[napi(ts_type = "'Translated' | 'IcmpError' | 'Dropped' | 'NotOurs' | 'Held'")]
    pub kind: String,
    #[napi(ts_type = "Array<Buffer>")]
    pub packets: Option<Vec<Bytes>>,
    #[napi(ts_type = "Buffer")]
    pub packet: Option<Bytes>,
    #[napi(ts_type = "'6to4' | '4to6' | '6to6'")]
    pub direction: Option<String>,
    pub len: u32,
    pub count: u32,
    pub first_len: u32,
    pub reason: Option<String>,
}

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
/// of a verdict are copied out of it by JS (`BUILD_VERDICT`).
struct Scratch {
    buf: sys::napi_ref,
    ptr: *mut u8,
}

impl Scratch {
    fn new(env: &Env) -> Result<Self> {
        let (mut data, mut v, mut r) = (std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut());
        // SAFETY: `env` is the live environment of the constructor call.
        unsafe {
            check(sys::napi_create_buffer(
                env.raw(),
                CORE_OUTPUT_BUFFER_LEN,
                &mut data,
                &mut v,
            ))?;
            check(sys::napi_create_reference(env.raw(), v, 1, &mut r))?;
        }
        Ok(Scratch {
            buf: r,
            ptr: data.cast(),
        })
    }
    /// The buffer's bytes (they never move: a Buffer's backing store is fixed).
    fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: the reference keeps the Buffer alive while `self` lives,
        // and the JS side never sees it (it only copies out of it, between
        // our calls).
        unsafe { std::slice::from_raw_parts_mut(self.ptr, CORE_OUTPUT_BUFFER_LEN) }
    }
    fn release(&self, env: &Env) -> Result<()> {
        // SAFETY: the reference belongs to `env`; called once, at finalize.
        check(unsafe { sys::napi_delete_reference(env.raw(), self.buf) })
    }
}

thread_local! {
    static STRING_REFS: std::cell::RefCell<Option<Strings>> = const { std::cell::RefCell::new(None) };
}

fn check(status: sys::napi_status) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::from_reason(format!("Node-API call failed ({status})")))
    }
}

/// The array of [`STRINGS`] and the verdict builder for `env`, made on
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

fn verdict(v: CoreVerdict, out: Option<&[u8]>) -> JsVerdict {
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

/// The drop reasons, in the core's counter order.
#[napi]
pub fn drop_reasons() -> Vec<Reason> {
    DropReason::ALL
        .iter()
        .map(|r| Reason {
            label: r.label().into(),
            explain: r.explain().into(),
        })
        .collect()
}

/// The not-ours reasons.
#[napi]
pub fn not_ours_reasons() -> Vec<Reason> {
    NotOurs::ALL
        .iter()
        .map(|r| Reason {
            label: r.label().into(),
            explain: r.explain().into(),
        })
        .collect()
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

fn counters(c: &CoreCounters) -> Counters {
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

/// The caller's output buffer, which must not overlap the packet.
fn out_slice<'a>(packet: &[u8], out: &'a mut Uint8Array) -> Result<&'a mut [u8]> {
    // SAFETY: the call is synchronous on the JS thread, so nothing else
    // touches the buffer while the core writes to it; overlap with the
    // input is refused below.
    let o = unsafe { out.as_mut() };
    let (p0, p1) = (packet.as_ptr() as usize, packet.as_ptr() as usize + packet.len());
    let (o0, o1) = (o.as_ptr() as usize, o.as_ptr() as usize + o.len());
    if p0 < o1 && o0 < p1 {
        return Err(Error::from_reason("packet and out must not overlap"));
    }
    Ok(o)
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
    pub fn get(&self, i: i32) -> Result<JsVerdict> {
        let n = self.verdicts.len() as i64;
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
}

/// Runs `f` on every packet, writing outputs back to back in `scratch`
/// (kept by the translator between calls, so it is zeroed and grown only
/// once), then copies them into the `Batch`.
fn batch(packets: Vec<&[u8]>, scratch: &mut Vec<u8>, mut f: impl FnMut(&[u8], &mut [u8]) -> CoreVerdict) -> Batch {
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

// ---------------------------------------------------------------- stateless

/// An RFC 7757 EAMT entry.
#[napi(object)]
pub struct Eam {
    pub ipv4: String,
    pub ipv6: String,
    /// Accept an entry that overlaps another.
    pub force: Option<bool>,
}

/// IPv4 Identification of unfragmented 6->4 packets: `fixed` or a
/// `counter` starting at `value`.
#[napi(object)]
pub struct Ipv4Id {
    #[napi(ts_type = "'fixed' | 'counter'")]
    pub kind: String,
    pub value: u16,
}

/// The stateless translator's configuration: the fields of the core's
/// `Config` (every one optional; defaults as in the core).
#[napi(object)]
pub struct Config {
    pub pool6: Option<String>,
    pub wkp_forbids_non_global: Option<bool>,
    pub eamt: Option<Vec<Eam>>,
    #[napi(ts_type = "'off' | 'simple' | 'intrinsic'")]
    pub eam_hairpin_mode: Option<String>,
    pub denylist4: Option<Vec<String>>,
    #[napi(js_name = "rfc6791v4Prefix")]
    pub rfc6791v4_prefix: Option<String>,
    #[napi(js_name = "rfc6791v6Prefix")]
    pub rfc6791v6_prefix: Option<String>,
    pub randomize_rfc6791_addresses: Option<bool>,
    pub own_ipv4: Option<String>,
    pub own_ipv6: Option<String>,
    pub mtu4: Option<u32>,
    pub mtu6: Option<u32>,
    pub lowest_ipv6_mtu: Option<u32>,
    pub mtu_plateaus: Option<Vec<u16>>,
    pub amend_udp_checksum_zero: Option<bool>,
    pub zeroize_traffic_class: Option<bool>,
    pub override_tos: Option<u8>,
    pub error_hop_limit: Option<u8>,
    pub ipv4_id: Option<Ipv4Id>,
    pub seed: Option<i64>,
}

fn core_config(c: &Config) -> Result<CoreConfig> {
    let mut o = CoreConfig {
        pool6: c.pool6.as_deref().map(parse).transpose()?,
        ..CoreConfig::default()
    };
    if let Some(b) = c.wkp_forbids_non_global {
        o.wkp_forbids_non_global = b;
    }
    for e in c.eamt.iter().flatten() {
        o.eamt
            .add(parse(&e.ipv4)?, parse(&e.ipv6)?, e.force.unwrap_or(false))
            .map_err(err)?;
    }
    if let Some(m) = &c.eam_hairpin_mode {
        o.eam_hairpin_mode = match m.as_str() {
            "off" => HairpinMode::Off,
            "simple" => HairpinMode::Simple,
            "intrinsic" => HairpinMode::Intrinsic,
            _ => {
                return Err(Error::from_reason(format!(
                    "eamHairpinMode {m:?}: use 'off', 'simple' or 'intrinsic'"
                )))
            }
        };
    }
    for p in c.denylist4.iter().flatten() {
        o.denylist4.push(parse(p)?);
    }
    o.rfc6791v4_prefix = c.rfc6791v4_prefix.as_deref().map(parse::<Ipv4Prefix>).transpose()?;
    o.rfc6791v6_prefix = c.rfc6791v6_prefix.as_deref().map(parse::<Ipv6Prefix>).transpose()?;
    if let Some(b) = c.randomize_rfc6791_addresses {
        o.randomize_rfc6791_addresses = b;
    }
    o.own_ipv4 = c.own_ipv4.as_deref().map(addr::<Ipv4Addr>).transpose()?;
    o.own_ipv6 = c.own_ipv6.as_deref().map(addr::<Ipv6Addr>).transpose()?;
    o.mtu4 = c.mtu4.unwrap_or(o.mtu4);
    o.mtu6 = c.mtu6.unwrap_or(o.mtu6);
    o.lowest_ipv6_mtu = c.lowest_ipv6_mtu.unwrap_or(o.lowest_ipv6_mtu);
    if let Some(p) = &c.mtu_plateaus {
        o.mtu_plateaus = p.clone();
    }
    o.amend_udp_checksum_zero = c.amend_udp_checksum_zero.unwrap_or(o.amend_udp_checksum_zero);
    o.zeroize_traffic_class = c.zeroize_traffic_class.unwrap_or(o.zeroize_traffic_class);
    o.override_tos = c.override_tos;
    o.error_hop_limit = c.error_hop_limit.unwrap_or(o.error_hop_limit);
    if let Some(id) = &c.ipv4_id {
        o.ipv4_id = match id.kind.as_str() {
            "fixed" => Ipv4IdPolicy::Fixed(id.value),
            "counter" => Ipv4IdPolicy::Counter(id.value),
            _ => return Err(Error::from_reason("ipv4Id.kind is 'fixed' or 'counter'")),
        };
    }
    if let Some(s) = c.seed {
        o.seed = s as u64;
    }
    Ok(o)
}

/// The stateless translator (SIIT: RFC 7915, RFC 6052, RFC 7757, RFC 6791).
#[napi(custom_finalize)]
pub struct Translator {
    inner: CoreTranslator,
    out: Scratch,
    batch_out: Vec<u8>,
}

impl ObjectFinalize for Translator {
    fn finalize(self, env: Env) -> Result<()> {
        self.out.release(&env)
    }
}

/// A verdict whose packets are in `out`.
fn scratch_verdict(v: CoreVerdict, out: &Scratch) -> JsVerdict {
    let mut o = verdict(v, None);
    o.scratch = Some(out.buf);
    o
}

#[napi]
impl Translator {
    #[napi(constructor)]
    pub fn new(env: Env, config: Config) -> Result<Self> {
        Ok(Translator {
            inner: CoreTranslator::new(core_config(&config)?).map_err(err)?,
            out: Scratch::new(&env)?,
            batch_out: Vec::new(),
        })
    }
    /// Translates one packet.
    #[napi(ts_return_type = "Verdict")]
    pub fn translate(&mut self, packet: &[u8]) -> JsVerdict {
        let v = self.inner.translate(packet, self.out.bytes());
        scratch_verdict(v, &self.out)
    }
    /// Translates one packet into `out` (`OUTPUT_BUFFER_LEN` bytes always
    /// suffice); the verdict says where the bytes are.
    #[napi(ts_return_type = "Verdict")]
    pub fn translate_into(&mut self, packet: &[u8], mut out: Uint8Array) -> Result<JsVerdict> {
        let out = out_slice(packet, &mut out)?;
        Ok(verdict(self.inner.translate(packet, out), None))
    }
    /// Translates every packet in one call.
    #[napi]
    pub fn translate_batch(&mut self, packets: Vec<&[u8]>) -> Batch {
        let t = &mut self.inner;
        batch(packets, &mut self.batch_out, |p, out| t.translate(p, out))
    }
    /// Counters per verdict and per reason.
    #[napi]
    pub fn counters(&self) -> Counters {
        counters(self.inner.counters())
    }
    /// Replaces the configuration, keeping the counters (on error the old
    /// one stays).
    #[napi]
    pub fn set_config(&mut self, config: Config) -> Result<()> {
        self.inner.set_config(core_config(&config)?).map_err(err)
    }
}

// ----------------------------------------------------------------- stateful

fn proto(s: &str) -> Result<Proto> {
    Ok(match s {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        "icmp" => Proto::Icmp,
        _ => {
            return Err(Error::from_reason(format!(
                "protocol {s:?}: use 'tcp', 'udp' or 'icmp'"
            )))
        }
    })
}

/// A transport address: address and port (or ICMP identifier).
#[napi(object)]
pub struct Taddr {
    pub addr: String,
    pub port: u16,
}

/// One pool4 entry (ports default to 61001-65535, protocols to all three).
#[napi(object)]
pub struct Pool4Entry {
    pub prefix: String,
    pub first_port: Option<u16>,
    pub last_port: Option<u16>,
    #[napi(ts_type = "Array<'tcp' | 'udp' | 'icmp'>")]
    pub protocols: Option<Vec<String>>,
}

/// A BIB entry.
#[napi(object)]
pub struct Bib {
    #[napi(ts_type = "'tcp' | 'udp' | 'icmp'")]
    pub proto: String,
    pub v6: Taddr,
    pub v4: Taddr,
    pub is_static: Option<bool>,
}

/// RFC 6146 section 4 session lifetimes, in seconds.
#[napi(object)]
pub struct Timeouts {
    pub udp: Option<f64>,
    pub tcp_est: Option<f64>,
    pub tcp_trans: Option<f64>,
    pub icmp: Option<f64>,
    pub tcp_incoming_syn: Option<f64>,
}

/// Session caps.
#[napi(object)]
pub struct TableLimits {
    pub max_sessions: Option<u32>,
    pub max_sessions_per_client: Option<u32>,
    pub client_prefix_len: Option<u8>,
}

/// The stateful NAT64's configuration: `xlat` (shared settings, with
/// pool6), pool4, and the fields of the core's `Nat64Config`.
#[napi(object)]
pub struct Nat64Config {
    pub xlat: Config,
    pub pool4: Vec<Pool4Entry>,
    pub static_bib: Option<Vec<Bib>>,
    pub timeouts: Option<Timeouts>,
    pub address_dependent_filtering: Option<bool>,
    pub drop_externally_initiated_tcp: Option<bool>,
    pub drop_icmpv6_info: Option<bool>,
    pub max_simultaneous_opens: Option<u32>,
    pub source_icmpv6_errors_better: Option<bool>,
    pub handle_rst_during_fin_rcv: Option<bool>,
    pub max_iterations: Option<i64>,
    pub limits: Option<TableLimits>,
}

fn secs(s: Option<f64>, default: Duration) -> Result<Duration> {
    s.map_or(Ok(default), |s| {
        Duration::try_from_secs_f64(s).map_err(|e| Error::from_reason(format!("timeout {s}: {e}")))
    })
}

fn core_nat64_config(c: &Nat64Config) -> Result<CoreNat64Config> {
    let xlat = core_config(&c.xlat)?;
    let pool6 = xlat
        .pool6
        .ok_or_else(|| Error::from_reason("stateful NAT64 needs pool6 (e.g. 64:ff9b::/96)"))?;
    let mut pool4 = Vec::new();
    for e in &c.pool4 {
        let mut p = CorePool4Entry::new(parse(&e.prefix)?);
        p.first_port = e.first_port.unwrap_or(p.first_port);
        p.last_port = e.last_port.unwrap_or(p.last_port);
        if let Some(ps) = &e.protocols {
            p.protocols = [false; 3];
            for x in ps {
                p.protocols[proto(x)?.index()] = true;
            }
        }
        pool4.push(p);
    }
    let mut o = CoreNat64Config::new(pool6, pool4);
    o.xlat = xlat;
    for b in c.static_bib.iter().flatten() {
        o.static_bib.push(CoreBib {
            proto: proto(&b.proto)?,
            v6: Taddr6 {
                addr: addr(&b.v6.addr)?,
                port: b.v6.port,
            },
            v4: Taddr4 {
                addr: addr(&b.v4.addr)?,
                port: b.v4.port,
            },
            is_static: b.is_static.unwrap_or(true),
        });
    }
    if let Some(t) = &c.timeouts {
        let d = o.timeouts;
        o.timeouts.udp = secs(t.udp, d.udp)?;
        o.timeouts.tcp_est = secs(t.tcp_est, d.tcp_est)?;
        o.timeouts.tcp_trans = secs(t.tcp_trans, d.tcp_trans)?;
        o.timeouts.icmp = secs(t.icmp, d.icmp)?;
        o.timeouts.tcp_incoming_syn = secs(t.tcp_incoming_syn, d.tcp_incoming_syn)?;
    }
    let flag = |v: Option<bool>, d: bool| v.unwrap_or(d);
    o.address_dependent_filtering = flag(c.address_dependent_filtering, o.address_dependent_filtering);
    o.drop_externally_initiated_tcp = flag(c.drop_externally_initiated_tcp, o.drop_externally_initiated_tcp);
    o.drop_icmpv6_info = flag(c.drop_icmpv6_info, o.drop_icmpv6_info);
    o.source_icmpv6_errors_better = flag(c.source_icmpv6_errors_better, o.source_icmpv6_errors_better);
    o.handle_rst_during_fin_rcv = flag(c.handle_rst_during_fin_rcv, o.handle_rst_during_fin_rcv);
    if let Some(n) = c.max_simultaneous_opens {
        o.max_simultaneous_opens = n as usize;
    }
    if let Some(n) = c.max_iterations {
        o.max_iterations = n as u64;
    }
    if let Some(l) = &c.limits {
        o.limits.max_sessions = l.max_sessions.map_or(o.limits.max_sessions, |n| n as usize);
        o.limits.max_sessions_per_client = l
            .max_sessions_per_client
            .map_or(o.limits.max_sessions_per_client, |n| n as usize);
        o.limits.client_prefix_len = l.client_prefix_len.unwrap_or(o.limits.client_prefix_len);
    }
    Ok(o)
}

/// A session (RFC 6146 section 3.1). `state` is the TCP state
/// ("ESTABLISHED", ...; "-" for UDP and ICMP); `expires` is in microseconds.
#[napi(object)]
pub struct Session {
    #[napi(ts_type = "'tcp' | 'udp' | 'icmp'")]
    pub proto: String,
    pub v6: Taddr,
    pub v4: Taddr,
    pub remote: Taddr,
    pub state: String,
    pub expires: i64,
}

fn taddr(a: impl ToString, port: u16) -> Taddr {
    Taddr {
        addr: a.to_string(),
        port,
    }
}

fn session(s: &CoreSession) -> Session {
    Session {
        proto: s.proto.name().into(),
        v6: taddr(s.v6.addr, s.v6.port),
        v4: taddr(s.v4.addr, s.v4.port),
        remote: taddr(s.remote.addr, s.remote.port),
        state: s.state.name().into(),
        expires: s.expires.as_micros() as i64,
    }
}

/// Table sizes; `pool4Size` per protocol (tcp, udp, icmp).
#[napi(object)]
pub struct Nat64Stats {
    pub sessions: u32,
    pub bib_entries: u32,
    pub pool4_size: Vec<i64>,
    pub held_syns: u32,
    /// Half-open or closing TCP sessions evicted to make room in a full table.
    pub sessions_evicted: i64,
}

/// The stateful NAT64 (RFC 6146). Time is explicit: `now` is microseconds
/// since an epoch of the caller's choosing.
#[napi(custom_finalize)]
pub struct Nat64 {
    inner: CoreNat64,
    out: Scratch,
    batch_out: Vec<u8>,
}

impl ObjectFinalize for Nat64 {
    fn finalize(self, env: Env) -> Result<()> {
        self.out.release(&env)
    }
}

fn instant(now: i64) -> Instant {
    Instant::from_micros(now.max(0) as u64)
}

#[napi]
impl Nat64 {
    #[napi(constructor)]
    pub fn new(env: Env, config: Nat64Config) -> Result<Self> {
        Ok(Nat64 {
            inner: CoreNat64::new(core_nat64_config(&config)?).map_err(err)?,
            out: Scratch::new(&env)?,
            batch_out: Vec::new(),
        })
    }
    /// Translates one packet at `now`.
    #[napi(ts_return_type = "Verdict")]
    pub fn translate(&mut self, packet: &[u8], now: i64) -> JsVerdict {
        let v = self.inner.translate(packet, self.out.bytes(), instant(now));
        scratch_verdict(v, &self.out)
    }
    /// Translates one packet at `now` into `out`.
    #[napi(ts_return_type = "Verdict")]
    pub fn translate_into(&mut self, packet: &[u8], mut out: Uint8Array, now: i64) -> Result<JsVerdict> {
        let out = out_slice(packet, &mut out)?;
        Ok(verdict(self.inner.translate(packet, out, instant(now)), None))
    }
    /// Translates every packet at `now`, in one call.
    #[napi]
    pub fn translate_batch(&mut self, packets: Vec<&[u8]>, now: i64) -> Batch {
        let t = &mut self.inner;
        batch(packets, &mut self.batch_out, |p, out| t.translate(p, out, instant(now)))
    }
    /// Runs the timers at `now`: a verdict (an ICMP error for a held SYN
    /// that timed out), or null when there is nothing more to do.
    #[napi(ts_return_type = "Verdict | null")]
    pub fn poll(&mut self, now: i64) -> Option<JsVerdict> {
        let v = self.inner.poll(instant(now), self.out.bytes())?;
        Some(scratch_verdict(v, &self.out))
    }
    /// When `poll` next has work (microseconds), or null.
    #[napi]
    pub fn next_expiry(&self) -> Option<i64> {
        self.inner.next_expiry().map(|t| t.as_micros() as i64)
    }
    /// The sessions, optionally of one protocol and one IPv6 client.
    #[napi]
    pub fn sessions(
        &self,
        #[napi(ts_arg_type = "'tcp' | 'udp' | 'icmp' | null")] proto: Option<String>,
        client: Option<String>,
    ) -> Result<Vec<Session>> {
        let filter = SessionFilter {
            proto: proto.as_deref().map(self::proto).transpose()?,
            client: client.as_deref().map(addr::<Ipv6Addr>).transpose()?,
        };
        let mut v = Vec::new();
        self.inner.for_each_session(filter, &mut |s| v.push(session(s)));
        Ok(v)
    }
    /// The BIB entries, optionally of one protocol.
    #[napi]
    pub fn bibs(
        &self,
        #[napi(ts_arg_type = "'tcp' | 'udp' | 'icmp' | null")] proto: Option<String>,
    ) -> Result<Vec<Bib>> {
        let mut v = Vec::new();
        self.inner
            .for_each_bib(proto.as_deref().map(self::proto).transpose()?, &mut |b| {
                v.push(Bib {
                    proto: b.proto.name().into(),
                    v6: taddr(b.v6.addr, b.v6.port),
                    v4: taddr(b.v4.addr, b.v4.port),
                    is_static: Some(b.is_static),
                })
            });
        Ok(v)
    }
    /// Table sizes.
    #[napi]
    pub fn stats(&self) -> Nat64Stats {
        let s = self.inner.stats();
        Nat64Stats {
            sessions: s.sessions as u32,
            bib_entries: s.bib_entries as u32,
            pool4_size: s.pool4_size.iter().map(|&n| n as i64).collect(),
            held_syns: s.held_syns as u32,
            sessions_evicted: s.sessions_evicted as i64,
        }
    }
    /// Counters per verdict and per reason.
    #[napi]
    pub fn counters(&self) -> Counters {
        counters(self.inner.counters())
    }
}

// -------------------------------------------------------------------- DNS64

/// One synthesis prefix and the IPv4 ranges it is used for (none: all).
#[napi(object)]
pub struct PrefixRule {
    pub prefix: String,
    pub mapped: Option<Vec<String>>,
}

/// DNS64 configuration: the fields of the core's `Dns64Config`.
#[napi(object)]
pub struct Dns64Config {
    pub prefixes: Option<Vec<Either<String, PrefixRule>>>,
    pub exclude: Option<Vec<String>>,
    pub clients: Option<Vec<String>>,
    pub translate_all: Option<bool>,
    pub allow_ipv4: Option<bool>,
    pub allow_non_global: Option<bool>,
    pub edns_udp_size: Option<u16>,
}

/// What to do with a client query.
#[napi(object)]
pub struct Dns64Plan {
    #[napi(ts_type = "'forward' | 'local' | 'aaaa' | 'ptr'")]
    pub kind: String,
    pub synthesize: bool,
    /// Plan "ptr": the IPv4 address whose in-addr.arpa name to resolve.
    pub ptr_target: Option<String>,
}

/// A response written by the DNS64.
#[napi(object)]
pub struct Written {
    pub response: Buffer,
    pub truncated: bool,
    #[napi(ts_type = "'relayed' | 'filtered' | 'synthesized' | 'empty' | 'ptr_cname' | 'local' | 'error'")]
    pub answer: String,
    /// Records synthesized (or removed, for "filtered").
    pub records: u32,
}

fn written(w: CoreWritten, out: &[u8]) -> Written {
    let (answer, records) = match w.answer {
        Answer::Relayed => ("relayed", 0),
        Answer::Filtered { removed } => ("filtered", removed),
        Answer::Synthesized { records } => ("synthesized", records),
        Answer::Empty => ("empty", 0),
        Answer::PtrCname => ("ptr_cname", 0),
        Answer::Local => ("local", 0),
        Answer::Error => ("error", 0),
    };
    Written {
        response: Buffer::from(out[..w.len].to_vec()),
        truncated: w.truncated,
        answer: answer.into(),
        records: u32::from(records),
    }
}

fn query(q: &[u8]) -> Result<Query<'_>> {
    Query::parse(q).map_err(|e| {
        let rcode = e.rcode().map_or("none".to_string(), |r| r.to_string());
        Error::from_reason(format!("{e} (rcode {rcode})"))
    })
}

/// DNS64 (RFC 6147) on DNS wire format: the caller owns sockets and cache.
#[napi(js_name = "Dns64")]
pub struct Dns64 {
    inner: CoreDns64,
}

#[napi]
impl Dns64 {
    #[napi(constructor)]
    pub fn new(config: Option<Dns64Config>) -> Result<Self> {
        let mut c = CoreDns64Config::default();
        if let Some(cfg) = config {
            for p in cfg.prefixes.into_iter().flatten() {
                c.prefixes.push(match p {
                    Either::A(s) => CorePrefixRule::new(parse(&s)?),
                    Either::B(r) => {
                        let mut rule = CorePrefixRule::new(parse(&r.prefix)?);
                        for m in r.mapped.iter().flatten() {
                            rule.mapped.push(parse(m)?);
                        }
                        rule
                    }
                });
            }
            if let Some(ex) = cfg.exclude {
                c.exclude = ex.iter().map(|e| parse(e)).collect::<Result<_>>()?;
            }
            for cl in cfg.clients.iter().flatten() {
                c.clients.push(parse::<ClientPrefix>(cl)?);
            }
            c.translate_all = cfg.translate_all.unwrap_or(false);
            c.allow_ipv4 = cfg.allow_ipv4.unwrap_or(false);
            c.allow_non_global = cfg.allow_non_global.unwrap_or(false);
            c.edns_udp_size = cfg.edns_udp_size.unwrap_or(c.edns_udp_size);
        }
        Ok(Dns64 {
            inner: CoreDns64::new(c).map_err(err)?,
        })
    }
    /// Whether `client` gets DNS64.
    #[napi]
    pub fn serves(&self, client: String) -> Result<bool> {
        Ok(self.inner.serves(addr::<IpAddr>(&client)?))
    }
    /// The largest response for this query over UDP or TCP.
    #[napi]
    pub fn response_limit(&self, query: &[u8], tcp: Option<bool>) -> Result<u32> {
        Ok(self.inner.response_limit(&self::query(query)?, tcp.unwrap_or(false)) as u32)
    }
    /// What to do with `query` from `client`.
    #[napi]
    pub fn plan(&self, query: &[u8], client: String) -> Result<Dns64Plan> {
        let q = self::query(query)?;
        let (kind, synthesize, ptr_target) = match self.inner.plan(&q, addr::<IpAddr>(&client)?) {
            Plan::Forward => ("forward", false, None),
            Plan::Local { synthesize } => ("local", synthesize, None),
            Plan::Aaaa => ("aaaa", true, None),
            Plan::Ptr(n) => ("ptr", true, Some(n.addr().to_string())),
        };
        Ok(Dns64Plan {
            kind: kind.into(),
            synthesize,
            ptr_target,
        })
    }
    /// The query to send upstream for `qname` (wire format) / `qtype`.
    #[napi]
    pub fn upstream_query(&self, query: &[u8], id: u16, qname: &[u8], qtype: u16) -> Result<Buffer> {
        let mut out = [0u8; 512];
        let n = self
            .inner
            .upstream_query(&self::query(query)?, id, qname, qtype, &mut out)
            .map_err(err)?;
        Ok(Buffer::from(out[..n].to_vec()))
    }
    /// "query_a" when an A query is needed, "respond" when the AAAA answer
    /// (null: timed out) is the basis of the response.
    #[napi(ts_return_type = "'query_a' | 'respond'")]
    pub fn needs_a_query(&self, query: &[u8], aaaa_response: Option<&[u8]>) -> Result<String> {
        Ok(match self
            .inner
            .needs_a_query(&self::query(query)?, aaaa_response)
            .map_err(err)?
        {
            Decision::QueryA => "query_a",
            Decision::Respond => "respond",
        }
        .into())
    }
    /// The response to a AAAA query from the upstream AAAA and A answers.
    #[napi]
    pub fn synthesize(
        &self,
        query: &[u8],
        aaaa_response: Option<&[u8]>,
        a_response: Option<&[u8]>,
        max_len: Option<u32>,
    ) -> Result<Written> {
        let mut out = vec![0u8; max_len.unwrap_or(65535) as usize];
        let w = self
            .inner
            .synthesize(&self::query(query)?, aaaa_response, a_response, &mut out)
            .map_err(err)?;
        Ok(written(w, &out))
    }
    /// An upstream response relayed to the client.
    #[napi]
    pub fn relay(&self, query: &[u8], response: &[u8], max_len: Option<u32>) -> Result<Written> {
        let mut out = vec![0u8; max_len.unwrap_or(65535) as usize];
        let w = self
            .inner
            .relay(&self::query(query)?, response, &mut out)
            .map_err(err)?;
        Ok(written(w, &out))
    }
    /// RFC 6147 section 5.3.1: the PTR answer for `target` (the plan's
    /// `ptrTarget`), or null: forward the original query instead.
    #[napi]
    pub fn synthesize_ptr(
        &self,
        query: &[u8],
        target: String,
        response: &[u8],
        max_len: Option<u32>,
    ) -> Result<Option<Written>> {
        let name = InAddrName::new(addr(&target)?);
        let mut out = vec![0u8; max_len.unwrap_or(65535) as usize];
        let w = self
            .inner
            .synthesize_ptr(&self::query(query)?, &name, response, &mut out)
            .map_err(err)?;
        Ok(w.map(|w| written(w, &out)))
    }
    /// The answer to an RFC 8880 special name (plan kind "local").
    #[napi]
    pub fn answer_local(&self, query: &[u8], synthesize: bool, max_len: Option<u32>) -> Result<Written> {
        let mut out = vec![0u8; max_len.unwrap_or(65535) as usize];
        let w = self
            .inner
            .answer_local(&self::query(query)?, synthesize, &mut out)
            .map_err(err)?;
        Ok(written(w, &out))
    }
    /// An error response with RCODE `rcode`, or null when the message must
    /// not be answered.
    #[napi]
    pub fn error_response(&self, client_msg: &[u8], rcode: u16, max_len: Option<u32>) -> Result<Option<Buffer>> {
        let mut out = vec![0u8; max_len.unwrap_or(65535) as usize];
        let n = self.inner.error_response(client_msg, rcode, &mut out).map_err(err)?;
        Ok(n.map(|n| Buffer::from(out[..n].to_vec())))
    }
}

// ---------------------------------------------------------------- discovery

/// RFC 7050 section 3: the NAT64 prefixes a response to
/// `ipv4only.arpa. IN AAAA` reveals.
#[napi]
pub fn prefixes_from_response(response: &[u8]) -> Result<Vec<Prefix64>> {
    let v = discovery::prefixes_from_response(response).map_err(err)?;
    Ok(v.into_iter().map(|p| Prefix64 { inner: p }).collect())
}

/// The RFC 7050 section 3 heuristic on a list of IPv6 addresses.
#[napi]
pub fn prefixes_from_addresses(addrs: Vec<String>) -> Result<Vec<Prefix64>> {
    let a: Vec<Ipv6Addr> = addrs.iter().map(|s| addr(s)).collect::<Result<_>>()?;
    let v = discovery::prefixes_from_addresses(a).map_err(err)?;
    Ok(v.into_iter().map(|p| Prefix64 { inner: p }).collect())
}

/// The PREF64 Router Advertisement option (RFC 8781).
#[napi]
pub struct Pref64 {
    inner: CorePref64,
}

#[napi]
impl Pref64 {
    #[napi(constructor)]
    pub fn new(prefix: String, lifetime_secs: u32) -> Result<Self> {
        Ok(Pref64 {
            inner: CorePref64::new(parse(&prefix)?, lifetime_secs),
        })
    }
    /// Reads an option (16 bytes).
    #[napi(factory)]
    pub fn decode(option: &[u8]) -> Result<Self> {
        Ok(Pref64 {
            inner: CorePref64::decode(option).map_err(err)?,
        })
    }
    /// The 16 option bytes.
    #[napi]
    pub fn encode(&self) -> Result<Buffer> {
        Ok(Buffer::from(self.inner.encode().map_err(err)?.to_vec()))
    }
    #[napi(getter)]
    pub fn prefix(&self) -> String {
        self.inner.prefix.to_string()
    }
    #[napi(getter)]
    pub fn lifetime_secs(&self) -> u32 {
        self.inner.lifetime_secs()
    }
    #[napi(getter)]
    pub fn scaled_lifetime(&self) -> u16 {
        self.inner.scaled_lifetime
    }
}
