//! The stateless translator (SIIT, RFC 7915): `Config` and `Translator`.

use std::net::{Ipv4Addr, Ipv6Addr};

use nat64_core::eamt::Eam;
use nat64_core::{
    Config as CoreConfig, HairpinMode, Ipv4IdPolicy, Ipv4Prefix, Ipv6Prefix, Translator as CoreTranslator,
    OUTPUT_BUFFER_LEN,
};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::conv::{addr, err, lit, lit_list, parse, prefix_arg, text, with_bytes, Call, Nat64Error, Prefix64};
use crate::verdict::{batch, counters_obj, into, into_buf, verdict_obj, Batch, Counters, Out};

// ---------------------------------------------------------------- stateless

pub(crate) fn hairpin(s: &str) -> PyResult<HairpinMode> {
    s.parse::<HairpinMode>().map_err(|_| {
        Nat64Error::new_err(format!(
            "eam_hairpin_mode {s:?}: use \"off\", \"simple\" or \"intrinsic\""
        ))
    })
}

/// The stateless translator's configuration: the fields of the core's
/// `Config`, as keyword arguments. Values are checked here (prefixes,
/// addresses) and as a whole when a translator is made.
#[pyclass(frozen, module = "nat64")]
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) inner: CoreConfig,
}

#[pymethods]
impl Config {
    #[new]
    #[pyo3(signature = (*, pool6=None, wkp_forbids_non_global=true, eamt=None, eam_hairpin_mode="intrinsic",
        denylist4=None, rfc6791v4_prefix=None, rfc6791v6_prefix=None, randomize_rfc6791_addresses=true,
        own_ipv4=None, own_ipv6=None, mtu4=1500, mtu6=1500, lowest_ipv6_mtu=1280, mtu_plateaus=None,
        amend_udp_checksum_zero=false, forward_udp_checksum_zero=false, zeroize_traffic_class=false, override_tos=None, error_hop_limit=64,
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
        forward_udp_checksum_zero: bool,
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
                3 => (
                    e.get_item(0)?,
                    e.get_item(1)?,
                    e.get_item(2)?.extract::<bool>().map_err(|_| {
                        Nat64Error::new_err("the third element of an eamt entry (force) is True or False")
                    })?,
                ),
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
        c.forward_udp_checksum_zero = forward_udp_checksum_zero;
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
    /// `Config(pool6=Prefix64('64:ff9b::/96'), mtu4=1400, ...)`: the call
    /// that makes this configuration (the fields that are not the default;
    /// `seed=...` when a seed is set, its value kept out of logs).
    fn __repr__(&self) -> String {
        config_repr(&self.inner)
    }
}

/// An EAMT entry needs `force` when it overlaps another one (RFC 7757
/// section 3.2 leaves overlaps to the operator; the core asks for consent).
fn forced(eams: &[Eam], i: usize) -> bool {
    let e = eams[i];
    eams.iter()
        .enumerate()
        .any(|(j, o)| j != i && (o.v4.overlaps(&e.v4) || o.v6.overlaps(&e.v6)))
}

pub(crate) fn config_repr(c: &CoreConfig) -> String {
    let d = CoreConfig::default();
    let eams = c.eamt.entries();
    let eamt = lit_list(0..eams.len(), |i| {
        let e = eams[i];
        match forced(eams, i) {
            true => format!("({}, {}, True)", lit(e.v4), lit(e.v6)),
            false => format!("({}, {})", lit(e.v4), lit(e.v6)),
        }
    });
    let hairpin = format!("'{}'", c.eam_hairpin_mode);
    let ipv4_id = match c.ipv4_id {
        Ipv4IdPolicy::Fixed(v) => format!("('fixed', {v})"),
        Ipv4IdPolicy::Counter(v) => format!("('counter', {v})"),
        _ => "None".to_string(),
    };
    let opt = |o: Option<String>| o.unwrap_or_default();
    Call::new("Config")
        .kw(
            c.pool6.is_some(),
            "pool6",
            opt(c.pool6.map(|p| format!("Prefix64({})", lit(p)))),
        )
        .field(
            "wkp_forbids_non_global",
            c.wkp_forbids_non_global,
            d.wkp_forbids_non_global,
        )
        .kw(!eams.is_empty(), "eamt", eamt)
        .kw(c.eam_hairpin_mode != d.eam_hairpin_mode, "eam_hairpin_mode", hairpin)
        .kw(!c.denylist4.is_empty(), "denylist4", lit_list(&c.denylist4, lit))
        .kw(
            c.rfc6791v4_prefix.is_some(),
            "rfc6791v4_prefix",
            opt(c.rfc6791v4_prefix.map(lit)),
        )
        .kw(
            c.rfc6791v6_prefix.is_some(),
            "rfc6791v6_prefix",
            opt(c.rfc6791v6_prefix.map(lit)),
        )
        .field(
            "randomize_rfc6791_addresses",
            c.randomize_rfc6791_addresses,
            d.randomize_rfc6791_addresses,
        )
        .kw(c.own_ipv4.is_some(), "own_ipv4", opt(c.own_ipv4.map(lit)))
        .kw(c.own_ipv6.is_some(), "own_ipv6", opt(c.own_ipv6.map(lit)))
        .field("mtu4", c.mtu4, d.mtu4)
        .field("mtu6", c.mtu6, d.mtu6)
        .field("lowest_ipv6_mtu", c.lowest_ipv6_mtu, d.lowest_ipv6_mtu)
        .kw(
            c.mtu_plateaus != d.mtu_plateaus,
            "mtu_plateaus",
            lit_list(&c.mtu_plateaus, |m| m.to_string()),
        )
        .kw(c.amend_udp_checksum_zero, "amend_udp_checksum_zero", "True")
        .kw(c.forward_udp_checksum_zero, "forward_udp_checksum_zero", "True")
        .kw(c.zeroize_traffic_class, "zeroize_traffic_class", "True")
        .kw(
            c.override_tos.is_some(),
            "override_tos",
            opt(c.override_tos.map(|t| t.to_string())),
        )
        .field("error_hop_limit", c.error_hop_limit, d.error_hop_limit)
        .kw(c.ipv4_id != d.ipv4_id, "ipv4_id", ipv4_id)
        .kw(c.seed != d.seed, "seed", "...")
        .finish()
}

/// The stateless translator (SIIT: RFC 7915, RFC 6052, RFC 7757, RFC 6791).
#[pyclass(module = "nat64")]
pub(crate) struct Translator {
    pub(crate) inner: CoreTranslator,
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
