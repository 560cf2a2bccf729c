//! Verdicts as Python objects (`Translated`, `IcmpError`, `Dropped`,
//! `NotOurs`, `Held`), counters, `translate_batch` and the `*_into` buffers.

use nat64_core::{
    Counters as CoreCounters, Direction, DropReason, Held as CoreHeld, NotOurs as CoreNotOurs, Verdict,
    OUTPUT_BUFFER_LEN,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyMemoryView, PySlice, PyType};

use crate::conv::with_bytes;

// ------------------------------------------------------------------ verdicts

pub(crate) fn direction(d: Direction) -> &'static str {
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
pub(crate) struct Translated {
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
    /// `Translated[bytes]` / `Translated[memoryview]` in annotations (the
    /// packets' type: `bytes` from `translate`, `memoryview` from
    /// `translate_into`).
    #[classmethod]
    #[pyo3(signature = (item, /))]
    fn __class_getitem__<'py>(cls: &Bound<'py, PyType>, item: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        generic_alias(cls, item)
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
pub(crate) struct IcmpError {
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
    /// `IcmpError[bytes]` / `IcmpError[memoryview]` in annotations (the
    /// packet's type: `bytes` from `translate`, `memoryview` from
    /// `translate_into`).
    #[classmethod]
    #[pyo3(signature = (item, /))]
    fn __class_getitem__<'py>(cls: &Bound<'py, PyType>, item: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        generic_alias(cls, item)
    }
    #[classattr]
    fn __match_args__() -> (&'static str, &'static str) {
        ("packet", "reason")
    }
    fn __repr__(&self) -> String {
        format!("IcmpError(reason='{}')", self.reason)
    }
}

/// A verdict with nothing to send: its reason's `label` and what it means
/// (`explain`). `Dropped` and `NotOurs` are such classes.
macro_rules! reason_verdict {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[pyclass(frozen, module = "nat64")]
        pub(crate) struct $name {
            #[pyo3(get)]
            reason: &'static str,
            #[pyo3(get)]
            explain: &'static str,
        }

        #[pymethods]
        impl $name {
            #[classattr]
            fn __match_args__() -> (&'static str,) {
                ("reason",)
            }
            fn __repr__(&self) -> String {
                format!("{}(reason='{}')", stringify!($name), self.reason)
            }
        }
    };
}

reason_verdict! {
    /// Not translated and nothing to send; `reason` is the label
    /// ("hop_limit_exceeded", ...), `explain` what it means and what to do.
    Dropped
}

reason_verdict! {
    /// Outside this translator's configuration: hand the packet back to the
    /// host untouched. `reason` is the label ("destination_not_mapped", ...).
    NotOurs
}

/// Kept by the stateful NAT64 for now: `reason` is "fragment" or
/// "simultaneous_open".
#[pyclass(frozen, module = "nat64")]
pub(crate) struct Held {
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

/// `types.GenericAlias(cls, item)`: what `list[int]` is, for the two generic
/// verdicts.
fn generic_alias<'py>(cls: &Bound<'py, PyType>, item: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = cls.py();
    py.import("types")?.getattr("GenericAlias")?.call1((cls, item))
}

/// A verdict's packets: copies made at the call (`translate`), or views of
/// the caller's buffer made on access (`translate_into`).
pub(crate) enum Packets {
    Copied(Py<PyList>),
    Views(Py<PyAny>),
}

/// Where the verdict's packets are: in our scratch buffer (copied out now),
/// or in the caller's buffer.
pub(crate) enum Out<'a, 'py> {
    Copy(&'a [u8]),
    View(&'a Bound<'py, PyAny>),
}

pub(crate) fn spans(len: usize, count: usize, first: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..count).map(move |i| {
        let start = i * first;
        (start, if i + 1 == count { len } else { start + first })
    })
}

pub(crate) fn view<'py>(buf: &Bound<'py, PyAny>, start: usize, end: usize) -> PyResult<Bound<'py, PyAny>> {
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

pub(crate) fn verdict_obj(py: Python<'_>, v: Verdict, out: Out<'_, '_>) -> PyResult<Py<PyAny>> {
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

/// Counters per verdict and per reason (the core's `Counters`); `dropped`
/// and `not_ours` map labels to nonzero counts.
#[pyclass(frozen, module = "nat64")]
pub(crate) struct Counters {
    inner: CoreCounters,
    #[pyo3(get)]
    dropped: Py<PyDict>,
    #[pyo3(get)]
    not_ours: Py<PyDict>,
}

/// `Counters`' methods: a getter for each of the core's scalar counters.
macro_rules! counters_methods {
    ($($f:ident),+) => {
        #[pymethods]
        impl Counters {
            $(
                #[getter]
                fn $f(&self) -> u64 {
                    self.inner.$f
                }
            )+
            fn __repr__(&self) -> String {
                let c = &self.inner;
                format!(
                    "Counters(translated_6to4={}, translated_4to6={}, hairpinned={}, icmp_errors_generated={}, held={})",
                    c.translated_6to4, c.translated_4to6, c.hairpinned, c.icmp_errors_generated, c.held
                )
            }
        }
    };
}

counters_methods!(
    translated_6to4,
    translated_4to6,
    hairpinned,
    fragments_emitted,
    icmp_errors_generated,
    held
);

pub(crate) fn counters_obj(py: Python<'_>, c: &CoreCounters) -> PyResult<Counters> {
    let dropped = PyDict::new(py);
    for (r, n) in c.drop_reasons() {
        dropped.set_item(r.label(), n)?;
    }
    let not_ours = PyDict::new(py);
    for (r, n) in c.not_ours_reasons() {
        not_ours.set_item(r.label(), n)?;
    }
    Ok(Counters {
        inner: c.clone(),
        dropped: dropped.unbind(),
        not_ours: not_ours.unbind(),
    })
}

/// The drop reason labels and explanations, in the core's counter order.
#[pyfunction]
pub(crate) fn drop_reasons() -> Vec<(&'static str, &'static str)> {
    DropReason::ALL.iter().map(|r| (r.label(), r.explain())).collect()
}

/// The not-ours reason labels and explanations.
#[pyfunction]
pub(crate) fn not_ours_reasons() -> Vec<(&'static str, &'static str)> {
    CoreNotOurs::ALL.iter().map(|r| (r.label(), r.explain())).collect()
}

// --------------------------------------------------------------------- batch

/// The outcome of `translate_batch`: a sequence of verdicts (made on access)
/// over one buffer holding every output back to back (`data`).
#[pyclass(frozen, sequence, module = "nat64")]
pub(crate) struct Batch {
    verdicts: Vec<Verdict>,
    offsets: Vec<usize>,
    data: Vec<u8>,
}

#[pymethods]
impl Batch {
    fn __len__(&self) -> usize {
        self.verdicts.len()
    }
    /// `batch[i]` (negative counts from the end) or `batch[i:j:k]` (a list).
    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let n = self.verdicts.len() as isize;
        if let Ok(s) = key.cast::<PySlice>() {
            let ix = s.indices(n)?;
            let list = PyList::empty(py);
            for k in 0..ix.slicelength as isize {
                list.append(self.verdict(py, (ix.start + k * ix.step) as usize)?)?;
            }
            return Ok(list.into_any().unbind());
        }
        let i: isize = key.extract()?;
        let j = if i < 0 { i + n } else { i };
        if j < 0 || j >= n {
            return Err(pyo3::exceptions::PyIndexError::new_err("batch index out of range"));
        }
        self.verdict(py, j as usize)
    }
    fn __iter__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let list = PyList::empty(py);
        for j in 0..self.verdicts.len() {
            list.append(self.verdict(py, j)?)?;
        }
        Ok(list.try_iter()?.into_any().unbind())
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

impl Batch {
    fn verdict(&self, py: Python<'_>, j: usize) -> PyResult<Py<PyAny>> {
        verdict_obj(py, self.verdicts[j], Out::Copy(&self.data[self.offsets[j]..]))
    }
}

/// Runs `f` on every packet of `packets`, writing outputs back to back in
/// `scratch` (kept by the translator between calls, so it is zeroed and
/// grown only once), then copies them into the `Batch`.
pub(crate) fn batch(
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

pub(crate) fn into_buf<'py>(out: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyByteArray>> {
    out.cast::<PyByteArray>()
        .cloned()
        .map_err(|_| pyo3::exceptions::PyTypeError::new_err("out must be a bytearray"))
}

/// Runs `f` on the packet and the bytearray's memory, which must not
/// overlap (a packet that is a view of `out` is refused).
pub(crate) fn into(
    p: &[u8],
    out: &Bound<'_, PyByteArray>,
    f: impl FnOnce(&[u8], &mut [u8]) -> Verdict,
) -> PyResult<Verdict> {
    let (o0, len) = (out.data() as usize, out.len());
    let (p0, p1) = (p.as_ptr() as usize, p.as_ptr() as usize + p.len());
    if p0 < o0 + len && o0 < p1 {
        return Err(PyValueError::new_err("packet and out must not share memory"));
    }
    // SAFETY: no Python code runs while the bytearray is borrowed, so it
    // cannot be resized or freed, and it does not overlap the packet.
    Ok(f(p, unsafe { out.as_bytes_mut() }))
}
