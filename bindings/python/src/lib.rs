//! `nat64._nat64`: the Python face of `nat64-core`. Newtype wrappers over the
//! core's types, one error-mapping function (`err`), no logic of their own:
//! arguments are converted, the core is called, its answer is converted back.
//!
//! Packets come in as any buffer (bytes, bytearray, memoryview, `bytes(scapy
//! packet)`) and go out as `bytes`; `*_into` variants write into the caller's
//! `bytearray`; `translate_batch` translates a whole list in one crossing.

mod conv;
mod dns64;
mod exchange;
mod stateful;
mod stateless;
mod verdict;

use pyo3::prelude::*;

use conv::{Nat64Error, Prefix64, QueryError};
use dns64::{
    prefixes_from_addresses, prefixes_from_response, Dns64, Dns64Config, Dns64Plan, PrefixRule, PyPref64, Written,
};
use exchange::{Dns64Cache, Dns64Exchange, Dns64Step};
use stateful::{Bib, Nat64, Nat64Config, Nat64Stats, Pool4Entry, Session, TableLimits, Timeouts};
use stateless::{Config, Translator};
use verdict::{drop_reasons, not_ours_reasons, Batch, Counters, Dropped, Held, IcmpError, NotOurs, Translated};

#[pymodule]
fn _nat64(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Nat64Error", py.get_type::<Nat64Error>())?;
    m.add("QueryError", py.get_type::<QueryError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("OUTPUT_BUFFER_LEN", nat64_core::OUTPUT_BUFFER_LEN)?;
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
    m.add_class::<Dns64Cache>()?;
    m.add_class::<Dns64Exchange>()?;
    m.add_class::<Dns64Step>()?;
    m.add_class::<Written>()?;
    m.add_class::<PyPref64>()?;
    m.add_function(wrap_pyfunction!(prefixes_from_response, m)?)?;
    m.add_function(wrap_pyfunction!(prefixes_from_addresses, m)?)?;
    m.add_function(wrap_pyfunction!(drop_reasons, m)?)?;
    m.add_function(wrap_pyfunction!(not_ours_reasons, m)?)?;
    Ok(())
}
