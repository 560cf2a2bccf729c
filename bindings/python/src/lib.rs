//! `nat64._nat64`: the Python face of `nat64-core`. Newtype wrappers over the
//! core's types, one error-mapping function (`err`), no logic of their own:
//! arguments are converted, the core is called, its answer is converted back.
//!
//! Packets come in as any buffer (bytes, bytearray, memoryview, `bytes(scapy
//! packet)`) and go out as `bytes`; `*_into` variants write into the caller's
//! `bytearray`; `translate_batch` translates a whole list in one crossing.

use std::fmt::Display;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::time::Duration;

use nat64_core::dns64::discovery::{self, Pref64};
use nat64_core::dns64::reverse::InAddrName;
use nat64_core::dns64::{Answer, ClientPrefix, Decision, Dns64 as CoreDns64, Dns64Config as CoreDns64Config, Plan};
use nat64_core::dns64::{PrefixRule as CorePrefixRule, Query, Written as CoreWritten};
use nat64_core::nat64::{
    Bib as CoreBib, Instant, Nat64 as CoreNat64, Nat64Config as CoreNat64Config, Pool4Entry as CorePool4Entry, Proto,
    Session as CoreSession, SessionFilter, TableLimits as CoreTableLimits, Taddr4, Taddr6, Timeouts as CoreTimeouts,
};
use nat64_core::{
    Config as CoreConfig, Counters as CoreCounters, Direction, DropReason, HairpinMode, Held as CoreHeld, Ipv4IdPolicy,
    Ipv4Prefix, Ipv6Prefix, NotOurs as CoreNotOurs, Prefix64 as CorePrefix64, Translator as CoreTranslator, Verdict,
    OUTPUT_BUFFER_LEN,
};
use pyo3::buffer::PyUntypedBuffer;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyMemoryView, PySlice, PyTuple};

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
fn err(e: impl Display) -> PyErr {
    Nat64Error::new_err(e.to_string())
}

fn parse<T: FromStr>(s: &str) -> PyResult<T>
where
    T::Err: Display,
{
    s.parse::<T>().map_err(err)
}

/// An address or prefix argument: `str`, or anything whose `str()` is one
/// (`ipaddress` objects).
fn text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(obj.str()?.to_cow()?.into_owned())
}

fn addr<T: FromStr>(obj: &Bound<'_, PyAny>) -> PyResult<T>
where
    T::Err: Display,
{
    let s = text(obj)?;
    s.parse::<T>()
        .map_err(|e| Nat64Error::new_err(format!("{s:?} is not a valid address: {e}")))
}

/// Runs `f` on the bytes of any buffer: `bytes` directly, anything else
/// through the buffer protocol (C-contiguous).
fn with_bytes<R>(obj: &Bound<'_, PyAny>, f: impl FnOnce(&[u8]) -> R) -> PyResult<R> {
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

fn opt_bytes<R>(obj: Option<&Bound<'_, PyAny>>, f: impl FnOnce(Option<&[u8]>) -> PyResult<R>) -> PyResult<R> {
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
struct Prefix64 {
    inner: CorePrefix64,
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

fn prefix_arg(obj: &Bound<'_, PyAny>) -> PyResult<CorePrefix64> {
    match obj.cast::<Prefix64>() {
        Ok(p) => Ok(p.get().inner),
        Err(_) => parse(&text(obj)?),
    }
}

// ------------------------------------------------------------------ verdicts

fn direction(d: Direction) -> &'static str {
    match d {
        Direction::SixToFour => "6to4",
        Direction::FourToSix => "4to6",
        Direction::SixToSix => "6to6",
    }
}

/// Translated: `packets` (one unless the translator fragmented), `direction`
/// ("6to4", "4to6" or "6to6"), `len` (total bytes), `count`, `first_len`
/// (length of each packet but the last). From the `*_into` calls, `packets`
/// are memoryviews of the caller's buffer.
#[pyclass(frozen, module = "nat64")]
struct Translated {
    packets: Packets,
    #[pyo3(get)]
    direction: &'static str,
    #[pyo3(get)]
    len: usize,
    #[pyo3(get)]
    count: usize,
    #[pyo3(get)]
    first_len: usize,
}

#[pymethods]
impl Translated {
    #[getter]
    fn packets(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match &self.packets {
            Packets::Copied(l) => Ok(l.clone_ref(py).into_any()),
            Packets::Views(buf) => {
                let list = PyList::empty(py);
                for (start, end) in spans(self.len, self.count, self.first_len) {
                    list.append(view(buf.bind(py), start, end)?)?;
                }
                Ok(list.into_any().unbind())
            }
        }
    }
    #[classattr]
    fn __match_args__() -> (&'static str, &'static str) {
        ("packets", "direction")
    }
    fn __repr__(&self) -> String {
        format!(
            "Translated(direction='{}', count={}, len={})",
            self.direction, self.count, self.len
        )
    }
}

/// Not translated; `packet` is the ICMP error the RFC asks to send back to
/// the sender (in its own family); `reason` is the drop reason's label.
#[pyclass(frozen, module = "nat64")]
struct IcmpError {
    packet: Packets,
    len: usize,
    #[pyo3(get)]
    reason: &'static str,
    #[pyo3(get)]
    explain: &'static str,
}

#[pymethods]
impl IcmpError {
    #[getter]
    fn packet(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match &self.packet {
            Packets::Copied(l) => Ok(l.bind(py).get_item(0)?.unbind()),
            Packets::Views(buf) => Ok(view(buf.bind(py), 0, self.len)?.unbind()),
        }
    }
    #[classattr]
    fn __match_args__() -> (&'static str, &'static str) {
        ("packet", "reason")
    }
    fn __repr__(&self) -> String {
        format!("IcmpError(reason='{}')", self.reason)
    }
}

/// Not translated and nothing to send; `reason` is the label
/// ("hop_limit_exceeded", ...), `explain` what it means and what to do.
#[pyclass(frozen, module = "nat64")]
struct Dropped {
    #[pyo3(get)]
    reason: &'static str,
    #[pyo3(get)]
    explain: &'static str,
}

#[pymethods]
impl Dropped {
    #[classattr]
    fn __match_args__() -> (&'static str,) {
        ("reason",)
    }
    fn __repr__(&self) -> String {
        format!("Dropped(reason='{}')", self.reason)
    }
}

/// Outside this translator's configuration: hand the packet back to the
/// host untouched. `reason` is the label ("destination_not_mapped", ...).
#[pyclass(frozen, module = "nat64")]
struct NotOurs {
    #[pyo3(get)]
    reason: &'static str,
    #[pyo3(get)]
    explain: &'static str,
}

#[pymethods]
impl NotOurs {
    #[classattr]
    fn __match_args__() -> (&'static str,) {
        ("reason",)
    }
    fn __repr__(&self) -> String {
        format!("NotOurs(reason='{}')", self.reason)
    }
}

/// Kept by the stateful NAT64 for now: `reason` is "fragment" or
/// "simultaneous_open".
#[pyclass(frozen, module = "nat64")]
struct Held {
    #[pyo3(get)]
    reason: &'static str,
}

#[pymethods]
impl Held {
    #[classattr]
    fn __match_args__() -> (&'static str,) {
        ("reason",)
    }
    fn __repr__(&self) -> String {
        format!("Held(reason='{}')", self.reason)
    }
}

/// A verdict's packets: copies made at the call (`translate`), or views of
/// the caller's buffer made on access (`translate_into`).
enum Packets {
    Copied(Py<PyList>),
    Views(Py<PyAny>),
}

/// Where the verdict's packets are: in our scratch buffer (copied out now),
/// or in the caller's buffer.
enum Out<'a, 'py> {
    Copy(&'a [u8]),
    View(&'a Bound<'py, PyAny>),
}

fn spans(len: usize, count: usize, first: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..count).map(move |i| {
        let start = i * first;
        (start, if i + 1 == count { len } else { start + first })
    })
}

fn view<'py>(buf: &Bound<'py, PyAny>, start: usize, end: usize) -> PyResult<Bound<'py, PyAny>> {
    PyMemoryView::from(buf)?.get_item(PySlice::new(buf.py(), start as isize, end as isize, 1))
}

impl Out<'_, '_> {
    fn packets(&self, py: Python<'_>, len: usize, count: usize, first: usize) -> PyResult<Packets> {
        Ok(match self {
            Out::Copy(b) => {
                let list = PyList::empty(py);
                for (start, end) in spans(len, count, first) {
                    list.append(PyBytes::new(py, &b[start..end]))?;
                }
                Packets::Copied(list.unbind())
            }
            Out::View(o) => Packets::Views((*o).clone().unbind()),
        })
    }
}

fn verdict_obj(py: Python<'_>, v: Verdict, out: Out<'_, '_>) -> PyResult<Py<PyAny>> {
    Ok(match v {
        Verdict::Translated(e) => {
            let (len, count, first) = (e.total_len(), usize::from(e.count), usize::from(e.first_len));
            Py::new(
                py,
                Translated {
                    packets: out.packets(py, len, count, first)?,
                    direction: direction(e.direction),
                    len,
                    count,
                    first_len: first,
                },
            )?
            .into_any()
        }
        Verdict::IcmpError { len, reason } => Py::new(
            py,
            IcmpError {
                packet: out.packets(py, len as usize, 1, len as usize)?,
                len: len as usize,
                reason: reason.label(),
                explain: reason.explain(),
            },
        )?
        .into_any(),
        Verdict::Dropped(r) => Py::new(
            py,
            Dropped {
                reason: r.label(),
                explain: r.explain(),
            },
        )?
        .into_any(),
        Verdict::NotOurs(r) => Py::new(
            py,
            NotOurs {
                reason: r.label(),
                explain: r.explain(),
            },
        )?
        .into_any(),
        Verdict::Held(h) => Py::new(
            py,
            Held {
                reason: match h {
                    CoreHeld::Fragment => "fragment",
                    CoreHeld::SimultaneousOpen => "simultaneous_open",
                    _ => "unknown",
                },
            },
        )?
        .into_any(),
    })
}

/// Counters per verdict and per reason; `dropped` and `not_ours` map labels
/// to nonzero counts.
#[pyclass(frozen, module = "nat64")]
struct Counters {
    #[pyo3(get)]
    translated_6to4: u64,
    #[pyo3(get)]
    translated_4to6: u64,
    #[pyo3(get)]
    hairpinned: u64,
    #[pyo3(get)]
    fragments_emitted: u64,
    #[pyo3(get)]
    icmp_errors_generated: u64,
    #[pyo3(get)]
    held: u64,
    #[pyo3(get)]
    dropped: Py<PyDict>,
    #[pyo3(get)]
    not_ours: Py<PyDict>,
}

#[pymethods]
impl Counters {
    fn __repr__(&self) -> String {
        format!(
            "Counters(translated_6to4={}, translated_4to6={}, hairpinned={}, icmp_errors_generated={}, held={})",
            self.translated_6to4, self.translated_4to6, self.hairpinned, self.icmp_errors_generated, self.held
        )
    }
}

fn counters_obj(py: Python<'_>, c: &CoreCounters) -> PyResult<Counters> {
    let dropped = PyDict::new(py);
    for (r, n) in c.drop_reasons() {
        dropped.set_item(r.label(), n)?;
    }
    let not_ours = PyDict::new(py);
    for (r, n) in c.not_ours_reasons() {
        not_ours.set_item(r.label(), n)?;
    }
    Ok(Counters {
        translated_6to4: c.translated_6to4,
        translated_4to6: c.translated_4to6,
        hairpinned: c.hairpinned,
        fragments_emitted: c.fragments_emitted,
        icmp_errors_generated: c.icmp_errors_generated,
        held: c.held,
        dropped: dropped.unbind(),
        not_ours: not_ours.unbind(),
    })
}

/// The drop reason labels and explanations, in the core's counter order.
#[pyfunction]
fn drop_reasons() -> Vec<(&'static str, &'static str)> {
    DropReason::ALL.iter().map(|r| (r.label(), r.explain())).collect()
}

/// The not-ours reason labels and explanations.
#[pyfunction]
fn not_ours_reasons() -> Vec<(&'static str, &'static str)> {
    CoreNotOurs::ALL.iter().map(|r| (r.label(), r.explain())).collect()
}

// --------------------------------------------------------------------- batch

/// The outcome of `translate_batch`: a sequence of verdicts (made on access)
/// over one buffer holding every output back to back (`data`).
#[pyclass(frozen, sequence, module = "nat64")]
struct Batch {
    verdicts: Vec<Verdict>,
    offsets: Vec<usize>,
    data: Vec<u8>,
}

#[pymethods]
impl Batch {
    fn __len__(&self) -> usize {
        self.verdicts.len()
    }
    fn __getitem__(&self, py: Python<'_>, i: isize) -> PyResult<Py<PyAny>> {
        let n = self.verdicts.len() as isize;
        let j = if i < 0 { i + n } else { i };
        if j < 0 || j >= n {
            return Err(pyo3::exceptions::PyIndexError::new_err("batch index out of range"));
        }
        let j = j as usize;
        verdict_obj(py, self.verdicts[j], Out::Copy(&self.data[self.offsets[j]..]))
    }
    /// Every output byte, back to back (packet i's at `offsets[i]`).
    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.data)
    }
    #[getter]
    fn offsets(&self) -> Vec<usize> {
        self.offsets.clone()
    }
    /// How many packets were translated (verdict Translated).
    #[getter]
    fn translated(&self) -> usize {
        self.verdicts
            .iter()
            .filter(|v| matches!(v, Verdict::Translated(_)))
            .count()
    }
    fn __repr__(&self) -> String {
        format!("Batch(len={}, translated={})", self.verdicts.len(), self.translated())
    }
}

/// Runs `f` on every packet of `packets`, writing outputs back to back in
/// `scratch` (kept by the translator between calls, so it is zeroed and
/// grown only once), then copies them into the `Batch`.
fn batch(
    packets: &Bound<'_, PyAny>,
    scratch: &mut Vec<u8>,
    mut f: impl FnMut(&[u8], &mut [u8]) -> Verdict,
) -> PyResult<Batch> {
    let items: Vec<Bound<'_, PyAny>> = match packets.cast::<PyList>() {
        Ok(l) => l.iter().collect(),
        Err(_) => packets.try_iter()?.collect::<PyResult<_>>()?,
    };
    let mut verdicts = Vec::with_capacity(items.len());
    let mut offsets = Vec::with_capacity(items.len());
    let mut at = 0;
    for p in &items {
        with_bytes(p, |pkt| {
            // Room for this packet's worst case: fragments of its length, or
            // an ICMP error quoting it; OUTPUT_BUFFER_LEN for large ones.
            let room = (pkt.len() * 2 + 1024).min(OUTPUT_BUFFER_LEN);
            if scratch.len() < at + room {
                scratch.resize(at + room, 0);
            }
            let v = f(pkt, &mut scratch[at..]);
            offsets.push(at);
            at += match v {
                Verdict::Translated(e) => e.total_len(),
                Verdict::IcmpError { len, .. } => len as usize,
                _ => 0,
            };
            verdicts.push(v);
        })?;
    }
    Ok(Batch {
        verdicts,
        offsets,
        data: scratch[..at].to_vec(),
    })
}

fn into_buf<'py>(out: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyByteArray>> {
    out.cast::<PyByteArray>()
        .cloned()
        .map_err(|_| pyo3::exceptions::PyTypeError::new_err("out must be a bytearray"))
}

/// Runs `f` on the packet and the bytearray's memory, which must not
/// overlap (a packet that is a view of `out` is refused).
fn into(p: &[u8], out: &Bound<'_, PyByteArray>, f: impl FnOnce(&[u8], &mut [u8]) -> Verdict) -> PyResult<Verdict> {
    let (o0, len) = (out.data() as usize, out.len());
    let (p0, p1) = (p.as_ptr() as usize, p.as_ptr() as usize + p.len());
    if p0 < o0 + len && o0 < p1 {
        return Err(PyValueError::new_err("packet and out must not share memory"));
    }
    // SAFETY: no Python code runs while the bytearray is borrowed, so it
    // cannot be resized or freed, and it does not overlap the packet.
    Ok(f(p, unsafe { out.as_bytes_mut() }))
}

// ---------------------------------------------------------------- stateless

fn hairpin(s: &str) -> PyResult<HairpinMode> {
    Ok(match s {
        "off" => HairpinMode::Off,
        "simple" => HairpinMode::Simple,
        "intrinsic" => HairpinMode::Intrinsic,
        _ => {
            return Err(Nat64Error::new_err(format!(
                "eam_hairpin_mode {s:?}: use \"off\", \"simple\" or \"intrinsic\""
            )))
        }
    })
}

/// The stateless translator's configuration: the fields of the core's
/// `Config`, as keyword arguments. Values are checked here (prefixes,
/// addresses) and as a whole when a translator is made.
#[pyclass(frozen, module = "nat64")]
#[derive(Clone)]
struct Config {
    inner: CoreConfig,
}

#[pymethods]
impl Config {
    #[new]
    #[pyo3(signature = (*, pool6=None, wkp_forbids_non_global=true, eamt=None, eam_hairpin_mode="intrinsic",
        denylist4=None, rfc6791v4_prefix=None, rfc6791v6_prefix=None, randomize_rfc6791_addresses=true,
        own_ipv4=None, own_ipv6=None, mtu4=1500, mtu6=1500, lowest_ipv6_mtu=1280, mtu_plateaus=None,
        amend_udp_checksum_zero=false, zeroize_traffic_class=false, override_tos=None, error_hop_limit=64,
        ipv4_id=None, seed=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        pool6: Option<&Bound<'_, PyAny>>,
        wkp_forbids_non_global: bool,
        eamt: Option<Vec<Bound<'_, PyTuple>>>,
        eam_hairpin_mode: &str,
        denylist4: Option<Vec<Bound<'_, PyAny>>>,
        rfc6791v4_prefix: Option<&Bound<'_, PyAny>>,
        rfc6791v6_prefix: Option<&Bound<'_, PyAny>>,
        randomize_rfc6791_addresses: bool,
        own_ipv4: Option<&Bound<'_, PyAny>>,
        own_ipv6: Option<&Bound<'_, PyAny>>,
        mtu4: u32,
        mtu6: u32,
        lowest_ipv6_mtu: u32,
        mtu_plateaus: Option<Vec<u16>>,
        amend_udp_checksum_zero: bool,
        zeroize_traffic_class: bool,
        override_tos: Option<u8>,
        error_hop_limit: u8,
        ipv4_id: Option<(String, u16)>,
        seed: Option<u64>,
    ) -> PyResult<Self> {
        let mut c = CoreConfig {
            pool6: pool6.map(prefix_arg).transpose()?,
            wkp_forbids_non_global,
            ..CoreConfig::default()
        };
        for e in eamt.unwrap_or_default() {
            let (v4, v6, force) = match e.len() {
                2 => (e.get_item(0)?, e.get_item(1)?, false),
                3 => (e.get_item(0)?, e.get_item(1)?, e.get_item(2)?.is_truthy()?),
                _ => {
                    return Err(Nat64Error::new_err(
                        "eamt entries are (ipv4_prefix, ipv6_prefix[, force])",
                    ))
                }
            };
            c.eamt
                .add(parse(&text(&v4)?)?, parse(&text(&v6)?)?, force)
                .map_err(err)?;
        }
        c.eam_hairpin_mode = hairpin(eam_hairpin_mode)?;
        for p in denylist4.unwrap_or_default() {
            c.denylist4.push(parse(&text(&p)?)?);
        }
        c.rfc6791v4_prefix = rfc6791v4_prefix.map(|p| parse::<Ipv4Prefix>(&text(p)?)).transpose()?;
        c.rfc6791v6_prefix = rfc6791v6_prefix.map(|p| parse::<Ipv6Prefix>(&text(p)?)).transpose()?;
        c.randomize_rfc6791_addresses = randomize_rfc6791_addresses;
        c.own_ipv4 = own_ipv4.map(addr::<Ipv4Addr>).transpose()?;
        c.own_ipv6 = own_ipv6.map(addr::<Ipv6Addr>).transpose()?;
        c.mtu4 = mtu4;
        c.mtu6 = mtu6;
        c.lowest_ipv6_mtu = lowest_ipv6_mtu;
        if let Some(p) = mtu_plateaus {
            c.mtu_plateaus = p;
        }
        c.amend_udp_checksum_zero = amend_udp_checksum_zero;
        c.zeroize_traffic_class = zeroize_traffic_class;
        c.override_tos = override_tos;
        c.error_hop_limit = error_hop_limit;
        if let Some((kind, v)) = ipv4_id {
            c.ipv4_id = match kind.as_str() {
                "fixed" => Ipv4IdPolicy::Fixed(v),
                "counter" => Ipv4IdPolicy::Counter(v),
                _ => return Err(Nat64Error::new_err("ipv4_id is (\"fixed\" | \"counter\", value)")),
            };
        }
        if let Some(s) = seed {
            c.seed = s;
        }
        Ok(Config { inner: c })
    }
    /// Checks the configuration as a whole (the translator does it too).
    fn validate(&self) -> PyResult<()> {
        self.inner.validate().map_err(err)
    }
    #[getter]
    fn pool6(&self) -> Option<Prefix64> {
        self.inner.pool6.map(|p| Prefix64 { inner: p })
    }
    fn __repr__(&self) -> String {
        format!("Config({:?})", self.inner)
    }
}

/// The stateless translator (SIIT: RFC 7915, RFC 6052, RFC 7757, RFC 6791).
#[pyclass(module = "nat64")]
struct Translator {
    inner: CoreTranslator,
    out: Vec<u8>,
    batch_out: Vec<u8>,
}

#[pymethods]
impl Translator {
    #[new]
    fn new(config: &Config) -> PyResult<Self> {
        Ok(Translator {
            inner: CoreTranslator::new(config.inner.clone()).map_err(err)?,
            out: vec![0; OUTPUT_BUFFER_LEN],
            batch_out: Vec::new(),
        })
    }
    /// Translates one packet (any buffer); the verdict holds `bytes`.
    fn translate(&mut self, py: Python<'_>, packet: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let (t, out) = (&mut self.inner, &mut self.out);
        let v = with_bytes(packet, |p| t.translate(p, out))?;
        verdict_obj(py, v, Out::Copy(out))
    }
    /// Translates one packet into `out` (a bytearray; `OUTPUT_BUFFER_LEN`
    /// bytes always suffice); the verdict's packets are views of `out`.
    fn translate_into(
        &mut self,
        py: Python<'_>,
        packet: &Bound<'_, PyAny>,
        out: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let ba = into_buf(out)?;
        let t = &mut self.inner;
        let v = with_bytes(packet, |p| into(p, &ba, |p, o| t.translate(p, o)))??;
        verdict_obj(py, v, Out::View(out))
    }
    /// Translates every packet of `packets` in one call.
    fn translate_batch(&mut self, packets: &Bound<'_, PyAny>) -> PyResult<Batch> {
        let t = &mut self.inner;
        batch(packets, &mut self.batch_out, |p, out| t.translate(p, out))
    }
    /// Counters per verdict and per reason.
    fn counters(&self, py: Python<'_>) -> PyResult<Counters> {
        counters_obj(py, self.inner.counters())
    }
    /// Replaces the configuration, keeping the counters (on error the old
    /// one stays).
    fn set_config(&mut self, config: &Config) -> PyResult<()> {
        self.inner.set_config(config.inner.clone()).map_err(err)
    }
    #[getter]
    fn config(&self) -> Config {
        Config {
            inner: self.inner.config().clone(),
        }
    }
}

// ----------------------------------------------------------------- stateful

fn proto(s: &str) -> PyResult<Proto> {
    Ok(match s {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        "icmp" => Proto::Icmp,
        _ => {
            return Err(Nat64Error::new_err(format!(
                "protocol {s:?}: use \"tcp\", \"udp\" or \"icmp\""
            )))
        }
    })
}

/// One pool4 entry: addresses, a port (or ICMP identifier) range, protocols.
#[pyclass(frozen, module = "nat64")]
#[derive(Clone)]
struct Pool4Entry {
    inner: CorePool4Entry,
}

#[pymethods]
impl Pool4Entry {
    #[new]
    #[pyo3(signature = (prefix, first_port=61001, last_port=65535, protocols=None))]
    fn new(
        prefix: &Bound<'_, PyAny>,
        first_port: u16,
        last_port: u16,
        protocols: Option<Vec<String>>,
    ) -> PyResult<Self> {
        let mut e = CorePool4Entry::new(parse(&text(prefix)?)?);
        e.first_port = first_port;
        e.last_port = last_port;
        if let Some(ps) = protocols {
            e.protocols = [false; 3];
            for p in ps {
                e.protocols[proto(&p)?.index()] = true;
            }
        }
        Ok(Pool4Entry { inner: e })
    }
    fn __repr__(&self) -> String {
        format!(
            "Pool4Entry('{}', {}, {})",
            self.inner.prefix, self.inner.first_port, self.inner.last_port
        )
    }
}

/// A BIB entry: `proto` ("tcp", "udp", "icmp"), `v6` and `v4` as
/// (address, port). Given to `Nat64Config(static_bib=...)` and listed by
/// `Nat64.bibs()`.
#[pyclass(frozen, from_py_object, module = "nat64")]
#[derive(Clone)]
struct Bib {
    #[pyo3(get)]
    proto: &'static str,
    #[pyo3(get)]
    v6: (String, u16),
    #[pyo3(get)]
    v4: (String, u16),
    #[pyo3(get)]
    is_static: bool,
}

#[pymethods]
impl Bib {
    #[new]
    #[pyo3(signature = (proto, v6, v4, is_static=true))]
    fn new(proto: &str, v6: (String, u16), v4: (String, u16), is_static: bool) -> PyResult<Self> {
        let p = self::proto(proto)?;
        Ok(Bib {
            proto: p.name(),
            v6,
            v4,
            is_static,
        })
    }
    fn __repr__(&self) -> String {
        format!(
            "Bib('{}', ('{}', {}), ('{}', {}))",
            self.proto, self.v6.0, self.v6.1, self.v4.0, self.v4.1
        )
    }
}

impl Bib {
    fn of(b: &CoreBib) -> Self {
        Bib {
            proto: b.proto.name(),
            v6: (b.v6.addr.to_string(), b.v6.port),
            v4: (b.v4.addr.to_string(), b.v4.port),
            is_static: b.is_static,
        }
    }
    fn core(&self) -> PyResult<CoreBib> {
        Ok(CoreBib {
            proto: proto(self.proto)?,
            v6: Taddr6 {
                addr: parse(&self.v6.0)?,
                port: self.v6.1,
            },
            v4: Taddr4 {
                addr: parse(&self.v4.0)?,
                port: self.v4.1,
            },
            is_static: self.is_static,
        })
    }
}

/// RFC 6146 section 4 session lifetimes, in seconds.
#[pyclass(frozen, from_py_object, module = "nat64")]
#[derive(Clone)]
struct Timeouts {
    inner: CoreTimeouts,
}

#[pymethods]
impl Timeouts {
    #[new]
    #[pyo3(signature = (*, udp=300.0, tcp_est=7440.0, tcp_trans=240.0, icmp=60.0, tcp_incoming_syn=6.0))]
    fn new(udp: f64, tcp_est: f64, tcp_trans: f64, icmp: f64, tcp_incoming_syn: f64) -> PyResult<Self> {
        let d = |s: f64| Duration::try_from_secs_f64(s).map_err(|e| Nat64Error::new_err(format!("timeout {s}: {e}")));
        Ok(Timeouts {
            inner: CoreTimeouts {
                udp: d(udp)?,
                tcp_est: d(tcp_est)?,
                tcp_trans: d(tcp_trans)?,
                icmp: d(icmp)?,
                tcp_incoming_syn: d(tcp_incoming_syn)?,
            },
        })
    }
}

/// Session caps.
#[pyclass(frozen, from_py_object, module = "nat64")]
#[derive(Clone)]
struct TableLimits {
    inner: CoreTableLimits,
}

#[pymethods]
impl TableLimits {
    #[new]
    #[pyo3(signature = (*, max_sessions=1048576, max_sessions_per_client=0, client_prefix_len=128))]
    fn new(max_sessions: usize, max_sessions_per_client: usize, client_prefix_len: u8) -> Self {
        TableLimits {
            inner: CoreTableLimits {
                max_sessions,
                max_sessions_per_client,
                client_prefix_len,
            },
        }
    }
}

/// The stateful NAT64's configuration: `xlat` (the shared settings, with
/// pool6), pool4 and the fields of the core's `Nat64Config`.
#[pyclass(frozen, module = "nat64")]
#[derive(Clone)]
struct Nat64Config {
    inner: CoreNat64Config,
}

#[pymethods]
impl Nat64Config {
    #[new]
    #[pyo3(signature = (xlat, pool4, *, static_bib=None, timeouts=None, address_dependent_filtering=false,
        drop_externally_initiated_tcp=false, drop_icmpv6_info=false, max_simultaneous_opens=10,
        source_icmpv6_errors_better=true, handle_rst_during_fin_rcv=false, max_iterations=0, secret=None, limits=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        xlat: &Config,
        pool4: Vec<Bound<'_, PyAny>>,
        static_bib: Option<Vec<Bib>>,
        timeouts: Option<Timeouts>,
        address_dependent_filtering: bool,
        drop_externally_initiated_tcp: bool,
        drop_icmpv6_info: bool,
        max_simultaneous_opens: usize,
        source_icmpv6_errors_better: bool,
        handle_rst_during_fin_rcv: bool,
        max_iterations: u64,
        secret: Option<(u64, u64)>,
        limits: Option<TableLimits>,
    ) -> PyResult<Self> {
        let pool6 = xlat
            .inner
            .pool6
            .ok_or_else(|| Nat64Error::new_err("stateful NAT64 needs pool6 (e.g. 64:ff9b::/96)"))?;
        let mut entries = Vec::new();
        for e in pool4 {
            entries.push(match e.cast::<Pool4Entry>() {
                Ok(p) => p.get().inner.clone(),
                Err(_) => CorePool4Entry::new(parse(&text(&e)?)?),
            });
        }
        let mut c = CoreNat64Config::new(pool6, entries);
        c.xlat = xlat.inner.clone();
        for b in static_bib.unwrap_or_default() {
            c.static_bib.push(b.core()?);
        }
        if let Some(t) = timeouts {
            c.timeouts = t.inner;
        }
        c.address_dependent_filtering = address_dependent_filtering;
        c.drop_externally_initiated_tcp = drop_externally_initiated_tcp;
        c.drop_icmpv6_info = drop_icmpv6_info;
        c.max_simultaneous_opens = max_simultaneous_opens;
        c.source_icmpv6_errors_better = source_icmpv6_errors_better;
        c.handle_rst_during_fin_rcv = handle_rst_during_fin_rcv;
        c.max_iterations = max_iterations;
        if let Some((a, b)) = secret {
            c.secret = [a, b];
        }
        if let Some(l) = limits {
            c.limits = l.inner;
        }
        Ok(Nat64Config { inner: c })
    }
}

/// A session (RFC 6146 section 3.1): `proto`, the client's `v6`, its pool4
/// `v4`, the IPv4 `remote` (each as (address, port)), the TCP `state`
/// ("ESTABLISHED", ...; "-" for UDP and ICMP) and `expires` (microseconds).
#[pyclass(frozen, module = "nat64")]
struct Session {
    #[pyo3(get)]
    proto: &'static str,
    #[pyo3(get)]
    v6: (String, u16),
    #[pyo3(get)]
    v4: (String, u16),
    #[pyo3(get)]
    remote: (String, u16),
    #[pyo3(get)]
    state: &'static str,
    #[pyo3(get)]
    expires: u64,
}

#[pymethods]
impl Session {
    fn __repr__(&self) -> String {
        format!(
            "Session('{}', [{}]:{} -> {}:{} via {}:{}, {})",
            self.proto, self.v6.0, self.v6.1, self.remote.0, self.remote.1, self.v4.0, self.v4.1, self.state
        )
    }
}

impl Session {
    fn of(s: &CoreSession) -> Self {
        Session {
            proto: s.proto.name(),
            v6: (s.v6.addr.to_string(), s.v6.port),
            v4: (s.v4.addr.to_string(), s.v4.port),
            remote: (s.remote.addr.to_string(), s.remote.port),
            state: s.state.name(),
            expires: s.expires.as_micros(),
        }
    }
}

/// Table sizes: sessions, BIB entries, pool4 size per protocol, held SYNs,
/// sessions evicted to make room in a full table.
#[pyclass(frozen, module = "nat64")]
struct Nat64Stats {
    #[pyo3(get)]
    sessions: usize,
    #[pyo3(get)]
    bib_entries: usize,
    #[pyo3(get)]
    pool4_size: (u64, u64, u64),
    #[pyo3(get)]
    held_syns: usize,
    #[pyo3(get)]
    sessions_evicted: u64,
}

#[pymethods]
impl Nat64Stats {
    fn __repr__(&self) -> String {
        format!(
            "Nat64Stats(sessions={}, bib_entries={}, held_syns={}, sessions_evicted={})",
            self.sessions, self.bib_entries, self.held_syns, self.sessions_evicted
        )
    }
}

/// The stateful NAT64 (RFC 6146). Time is explicit: `now` is microseconds
/// since an epoch of the caller's choosing (e.g. `time.monotonic_ns() // 1000`).
#[pyclass(module = "nat64")]
struct Nat64 {
    inner: CoreNat64,
    out: Vec<u8>,
    batch_out: Vec<u8>,
}

#[pymethods]
impl Nat64 {
    #[new]
    fn new(config: &Nat64Config) -> PyResult<Self> {
        Ok(Nat64 {
            inner: CoreNat64::new(config.inner.clone()).map_err(err)?,
            out: vec![0; OUTPUT_BUFFER_LEN],
            batch_out: Vec::new(),
        })
    }
    /// Translates one packet at `now`.
    fn translate(&mut self, py: Python<'_>, packet: &Bound<'_, PyAny>, now: u64) -> PyResult<Py<PyAny>> {
        let (t, out) = (&mut self.inner, &mut self.out);
        let v = with_bytes(packet, |p| t.translate(p, out, Instant::from_micros(now)))?;
        verdict_obj(py, v, Out::Copy(out))
    }
    /// Translates one packet at `now` into `out` (a bytearray).
    fn translate_into(
        &mut self,
        py: Python<'_>,
        packet: &Bound<'_, PyAny>,
        out: &Bound<'_, PyAny>,
        now: u64,
    ) -> PyResult<Py<PyAny>> {
        let ba = into_buf(out)?;
        let t = &mut self.inner;
        let now = Instant::from_micros(now);
        let v = with_bytes(packet, |p| into(p, &ba, |p, o| t.translate(p, o, now)))??;
        verdict_obj(py, v, Out::View(out))
    }
    /// Translates every packet of `packets` at `now`, in one call.
    fn translate_batch(&mut self, packets: &Bound<'_, PyAny>, now: u64) -> PyResult<Batch> {
        let t = &mut self.inner;
        batch(packets, &mut self.batch_out, |p, out| {
            t.translate(p, out, Instant::from_micros(now))
        })
    }
    /// Runs the timers at `now`; returns a verdict (an ICMP error for a held
    /// SYN that timed out) or None when there is nothing more to do.
    fn poll(&mut self, py: Python<'_>, now: u64) -> PyResult<Option<Py<PyAny>>> {
        match self.inner.poll(Instant::from_micros(now), &mut self.out) {
            Some(v) => Ok(Some(verdict_obj(py, v, Out::Copy(&self.out))?)),
            None => Ok(None),
        }
    }
    /// When `poll` next has work (microseconds), or None.
    fn next_expiry(&self) -> Option<u64> {
        self.inner.next_expiry().map(Instant::as_micros)
    }
    /// The sessions, optionally of one protocol and one IPv6 client.
    #[pyo3(signature = (proto=None, client=None))]
    fn sessions(&self, proto: Option<&str>, client: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Session>> {
        let filter = SessionFilter {
            proto: proto.map(self::proto).transpose()?,
            client: client.map(addr::<Ipv6Addr>).transpose()?,
        };
        let mut v = Vec::new();
        self.inner.for_each_session(filter, &mut |s| v.push(Session::of(s)));
        Ok(v)
    }
    /// The BIB entries, optionally of one protocol.
    #[pyo3(signature = (proto=None))]
    fn bibs(&self, proto: Option<&str>) -> PyResult<Vec<Bib>> {
        let mut v = Vec::new();
        self.inner
            .for_each_bib(proto.map(self::proto).transpose()?, &mut |b| v.push(Bib::of(b)));
        Ok(v)
    }
    /// Table sizes.
    fn stats(&self) -> Nat64Stats {
        let s = self.inner.stats();
        Nat64Stats {
            sessions: s.sessions,
            bib_entries: s.bib_entries,
            pool4_size: (s.pool4_size[0], s.pool4_size[1], s.pool4_size[2]),
            held_syns: s.held_syns,
            sessions_evicted: s.sessions_evicted,
        }
    }
    /// Counters per verdict and per reason.
    fn counters(&self, py: Python<'_>) -> PyResult<Counters> {
        counters_obj(py, self.inner.counters())
    }
}

// -------------------------------------------------------------------- DNS64

/// One synthesis prefix and the IPv4 ranges it is used for (empty: all).
#[pyclass(frozen, module = "nat64")]
#[derive(Clone)]
struct PrefixRule {
    inner: CorePrefixRule,
}

#[pymethods]
impl PrefixRule {
    #[new]
    #[pyo3(signature = (prefix, mapped=None))]
    fn new(prefix: &Bound<'_, PyAny>, mapped: Option<Vec<Bound<'_, PyAny>>>) -> PyResult<Self> {
        let mut r = CorePrefixRule::new(prefix_arg(prefix)?);
        for m in mapped.unwrap_or_default() {
            r.mapped.push(parse(&text(&m)?)?);
        }
        Ok(PrefixRule { inner: r })
    }
}

/// DNS64 configuration: the fields of the core's `Dns64Config`.
#[pyclass(frozen, module = "nat64")]
#[derive(Clone)]
struct Dns64Config {
    inner: CoreDns64Config,
}

#[pymethods]
impl Dns64Config {
    #[new]
    #[pyo3(signature = (*, prefixes=None, exclude=None, clients=None, translate_all=false, allow_ipv4=false,
        allow_non_global=false, edns_udp_size=1232))]
    fn new(
        prefixes: Option<Vec<Bound<'_, PyAny>>>,
        exclude: Option<Vec<Bound<'_, PyAny>>>,
        clients: Option<Vec<Bound<'_, PyAny>>>,
        translate_all: bool,
        allow_ipv4: bool,
        allow_non_global: bool,
        edns_udp_size: u16,
    ) -> PyResult<Self> {
        let mut c = CoreDns64Config::default();
        for p in prefixes.unwrap_or_default() {
            c.prefixes.push(match p.cast::<PrefixRule>() {
                Ok(r) => r.get().inner.clone(),
                Err(_) => CorePrefixRule::new(prefix_arg(&p)?),
            });
        }
        if let Some(ex) = exclude {
            c.exclude = ex.iter().map(|e| parse(&text(e)?)).collect::<PyResult<_>>()?;
        }
        for cl in clients.unwrap_or_default() {
            c.clients.push(parse::<ClientPrefix>(&text(&cl)?)?);
        }
        c.translate_all = translate_all;
        c.allow_ipv4 = allow_ipv4;
        c.allow_non_global = allow_non_global;
        c.edns_udp_size = edns_udp_size;
        Ok(Dns64Config { inner: c })
    }
}

/// What to do with a client query: `kind` is "forward", "local", "aaaa" or
/// "ptr"; `synthesize` (local) says whether AAAA records are synthesized;
/// `ptr_target` (ptr) is the IPv4 address whose in-addr.arpa name to resolve.
#[pyclass(frozen, module = "nat64")]
struct Dns64Plan {
    #[pyo3(get)]
    kind: &'static str,
    #[pyo3(get)]
    synthesize: bool,
    #[pyo3(get)]
    ptr_target: Option<String>,
}

#[pymethods]
impl Dns64Plan {
    fn __repr__(&self) -> String {
        format!("Dns64Plan(kind='{}')", self.kind)
    }
}

/// A response written by the DNS64: `response` (bytes), `truncated` (TC
/// set), `answer` ("relayed", "filtered", "synthesized", "empty",
/// "ptr_cname", "local", "error") and `records` (synthesized or removed).
#[pyclass(frozen, module = "nat64")]
struct Written {
    #[pyo3(get)]
    response: Py<PyBytes>,
    #[pyo3(get)]
    truncated: bool,
    #[pyo3(get)]
    answer: &'static str,
    #[pyo3(get)]
    records: u16,
}

#[pymethods]
impl Written {
    fn __repr__(&self) -> String {
        format!(
            "Written(answer='{}', records={}, truncated={})",
            self.answer, self.records, self.truncated
        )
    }
}

fn written(py: Python<'_>, w: CoreWritten, out: &[u8]) -> Written {
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
        response: PyBytes::new(py, &out[..w.len]).unbind(),
        truncated: w.truncated,
        answer,
        records,
    }
}

fn with_query<R>(query: &Bound<'_, PyAny>, f: impl FnOnce(&Query<'_>) -> PyResult<R>) -> PyResult<R> {
    with_bytes(query, |q| match Query::parse(q) {
        Ok(q) => f(&q),
        Err(e) => {
            let py = query.py();
            let exc = QueryError::new_err(e.to_string());
            exc.value(py).setattr("rcode", e.rcode())?;
            Err(exc)
        }
    })?
}

/// DNS64 (RFC 6147) on DNS wire format: the caller owns sockets and cache.
/// Queries and responses are any buffer; responses come back as `Written`.
#[pyclass(frozen, module = "nat64")]
struct Dns64 {
    inner: CoreDns64,
}

#[pymethods]
impl Dns64 {
    #[new]
    #[pyo3(signature = (config=None))]
    fn new(config: Option<&Dns64Config>) -> PyResult<Self> {
        let c = config.map(|c| c.inner.clone()).unwrap_or_default();
        Ok(Dns64 {
            inner: CoreDns64::new(c).map_err(err)?,
        })
    }
    /// Whether `client` gets DNS64 (client ACL, allow_ipv4).
    fn serves(&self, client: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.inner.serves(addr::<IpAddr>(client)?))
    }
    /// The largest response for this query over UDP or TCP.
    #[pyo3(signature = (query, tcp=false))]
    fn response_limit(&self, query: &Bound<'_, PyAny>, tcp: bool) -> PyResult<usize> {
        with_query(query, |q| Ok(self.inner.response_limit(q, tcp)))
    }
    /// What to do with `query` from `client`. Raises QueryError (with
    /// `rcode`) for a message that gets no normal answer.
    fn plan(&self, query: &Bound<'_, PyAny>, client: &Bound<'_, PyAny>) -> PyResult<Dns64Plan> {
        let client = addr::<IpAddr>(client)?;
        with_query(query, |q| {
            Ok(match self.inner.plan(q, client) {
                Plan::Forward => Dns64Plan {
                    kind: "forward",
                    synthesize: false,
                    ptr_target: None,
                },
                Plan::Local { synthesize } => Dns64Plan {
                    kind: "local",
                    synthesize,
                    ptr_target: None,
                },
                Plan::Aaaa => Dns64Plan {
                    kind: "aaaa",
                    synthesize: true,
                    ptr_target: None,
                },
                Plan::Ptr(name) => Dns64Plan {
                    kind: "ptr",
                    synthesize: true,
                    ptr_target: Some(name.addr().to_string()),
                },
            })
        })
    }
    /// The query to send upstream for `qname` (wire format) / `qtype`.
    fn upstream_query<'py>(
        &self,
        py: Python<'py>,
        query: &Bound<'_, PyAny>,
        id: u16,
        qname: &Bound<'_, PyAny>,
        qtype: u16,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let mut out = [0u8; 512];
        let n = with_query(query, |q| {
            with_bytes(qname, |name| self.inner.upstream_query(q, id, name, qtype, &mut out))?.map_err(err)
        })?;
        Ok(PyBytes::new(py, &out[..n]))
    }
    /// RFC 6147 sections 5.1.1-5.1.5: "query_a" when an A query is needed,
    /// "respond" when the AAAA answer (None: timed out) is the basis.
    #[pyo3(signature = (query, aaaa_response=None))]
    fn needs_a_query(
        &self,
        query: &Bound<'_, PyAny>,
        aaaa_response: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<&'static str> {
        with_query(query, |q| {
            opt_bytes(aaaa_response, |a| {
                Ok(match self.inner.needs_a_query(q, a).map_err(err)? {
                    Decision::QueryA => "query_a",
                    Decision::Respond => "respond",
                })
            })
        })
    }
    /// The response to a AAAA query from the upstream AAAA and A answers
    /// (None: timed out or not asked), at most `max_len` bytes.
    #[pyo3(signature = (query, aaaa_response=None, a_response=None, max_len=65535))]
    fn synthesize(
        &self,
        py: Python<'_>,
        query: &Bound<'_, PyAny>,
        aaaa_response: Option<&Bound<'_, PyAny>>,
        a_response: Option<&Bound<'_, PyAny>>,
        max_len: usize,
    ) -> PyResult<Written> {
        let mut out = vec![0u8; max_len];
        with_query(query, |q| {
            opt_bytes(aaaa_response, |aaaa| {
                opt_bytes(a_response, |a| {
                    let w = self.inner.synthesize(q, aaaa, a, &mut out).map_err(err)?;
                    Ok(written(py, w, &out))
                })
            })
        })
    }
    /// An upstream response relayed to the client (RFC 6147 section 5.3.3).
    #[pyo3(signature = (query, response, max_len=65535))]
    fn relay(
        &self,
        py: Python<'_>,
        query: &Bound<'_, PyAny>,
        response: &Bound<'_, PyAny>,
        max_len: usize,
    ) -> PyResult<Written> {
        let mut out = vec![0u8; max_len];
        with_query(query, |q| {
            let w = with_bytes(response, |r| self.inner.relay(q, r, &mut out))?.map_err(err)?;
            Ok(written(py, w, &out))
        })
    }
    /// RFC 6147 section 5.3.1: the PTR answer for `target` (the plan's
    /// `ptr_target`) from the upstream PTR response, or None: forward the
    /// original query instead.
    #[pyo3(signature = (query, target, response, max_len=65535))]
    fn synthesize_ptr(
        &self,
        py: Python<'_>,
        query: &Bound<'_, PyAny>,
        target: &Bound<'_, PyAny>,
        response: &Bound<'_, PyAny>,
        max_len: usize,
    ) -> PyResult<Option<Written>> {
        let name = InAddrName::new(addr::<Ipv4Addr>(target)?);
        let mut out = vec![0u8; max_len];
        with_query(query, |q| {
            let w = with_bytes(response, |r| self.inner.synthesize_ptr(q, &name, r, &mut out))?.map_err(err)?;
            Ok(w.map(|w| written(py, w, &out)))
        })
    }
    /// The answer to an RFC 8880 special name (plan kind "local").
    #[pyo3(signature = (query, synthesize, max_len=65535))]
    fn answer_local(
        &self,
        py: Python<'_>,
        query: &Bound<'_, PyAny>,
        synthesize: bool,
        max_len: usize,
    ) -> PyResult<Written> {
        let mut out = vec![0u8; max_len];
        with_query(query, |q| {
            let w = self.inner.answer_local(q, synthesize, &mut out).map_err(err)?;
            Ok(written(py, w, &out))
        })
    }
    /// An error response with RCODE `rcode` to any client message, or None
    /// when it must not be answered.
    #[pyo3(signature = (client_msg, rcode, max_len=65535))]
    fn error_response<'py>(
        &self,
        py: Python<'py>,
        client_msg: &Bound<'_, PyAny>,
        rcode: u16,
        max_len: usize,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let mut out = vec![0u8; max_len];
        let n = with_bytes(client_msg, |m| self.inner.error_response(m, rcode, &mut out))?.map_err(err)?;
        Ok(n.map(|n| PyBytes::new(py, &out[..n])))
    }
}

// ---------------------------------------------------------------- discovery

/// RFC 7050 section 3: the NAT64 prefixes revealed by a response to
/// `ipv4only.arpa. IN AAAA`.
#[pyfunction]
fn prefixes_from_response(response: &Bound<'_, PyAny>) -> PyResult<Vec<Prefix64>> {
    let v = with_bytes(response, discovery::prefixes_from_response)?.map_err(err)?;
    Ok(v.into_iter().map(|p| Prefix64 { inner: p }).collect())
}

/// The RFC 7050 section 3 heuristic on a list of IPv6 addresses.
#[pyfunction]
fn prefixes_from_addresses(addrs: Vec<Bound<'_, PyAny>>) -> PyResult<Vec<Prefix64>> {
    let a: Vec<Ipv6Addr> = addrs.iter().map(addr::<Ipv6Addr>).collect::<PyResult<_>>()?;
    let v = discovery::prefixes_from_addresses(a).map_err(err)?;
    Ok(v.into_iter().map(|p| Prefix64 { inner: p }).collect())
}

/// The PREF64 Router Advertisement option (RFC 8781).
#[pyclass(frozen, name = "Pref64", module = "nat64")]
struct PyPref64 {
    inner: Pref64,
}

#[pymethods]
impl PyPref64 {
    #[new]
    fn new(prefix: &Bound<'_, PyAny>, lifetime_secs: u32) -> PyResult<Self> {
        Ok(PyPref64 {
            inner: Pref64::new(prefix_arg(prefix)?, lifetime_secs),
        })
    }
    /// Reads an option (16 bytes).
    #[staticmethod]
    fn decode(option: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PyPref64 {
            inner: with_bytes(option, Pref64::decode)?.map_err(err)?,
        })
    }
    /// The 16 option bytes.
    fn encode<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &self.inner.encode().map_err(err)?))
    }
    #[getter]
    fn prefix(&self) -> Prefix64 {
        Prefix64 {
            inner: self.inner.prefix,
        }
    }
    #[getter]
    fn lifetime_secs(&self) -> u32 {
        self.inner.lifetime_secs()
    }
    #[getter]
    fn scaled_lifetime(&self) -> u16 {
        self.inner.scaled_lifetime
    }
    fn __repr__(&self) -> String {
        format!("Pref64('{}', {})", self.inner.prefix, self.inner.lifetime_secs())
    }
}

#[pymodule]
fn _nat64(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Nat64Error", py.get_type::<Nat64Error>())?;
    m.add("QueryError", py.get_type::<QueryError>())?;
    m.add("OUTPUT_BUFFER_LEN", OUTPUT_BUFFER_LEN)?;
    m.add_class::<Prefix64>()?;
    m.add_class::<Config>()?;
    m.add_class::<Translator>()?;
    m.add_class::<Translated>()?;
    m.add_class::<IcmpError>()?;
    m.add_class::<Dropped>()?;
    m.add_class::<NotOurs>()?;
    m.add_class::<Held>()?;
    m.add_class::<Counters>()?;
    m.add_class::<Batch>()?;
    m.add_class::<Pool4Entry>()?;
    m.add_class::<Bib>()?;
    m.add_class::<Timeouts>()?;
    m.add_class::<TableLimits>()?;
    m.add_class::<Nat64Config>()?;
    m.add_class::<Nat64>()?;
    m.add_class::<Session>()?;
    m.add_class::<Nat64Stats>()?;
    m.add_class::<PrefixRule>()?;
    m.add_class::<Dns64Config>()?;
    m.add_class::<Dns64>()?;
    m.add_class::<Dns64Plan>()?;
    m.add_class::<Written>()?;
    m.add_class::<PyPref64>()?;
    m.add_function(wrap_pyfunction!(prefixes_from_response, m)?)?;
    m.add_function(wrap_pyfunction!(prefixes_from_addresses, m)?)?;
    m.add_function(wrap_pyfunction!(drop_reasons, m)?)?;
    m.add_function(wrap_pyfunction!(not_ours_reasons, m)?)?;
    Ok(())
}
