//! The stateless translator (SIIT) and RFC 6052 prefixes.

use std::net::{Ipv4Addr, Ipv6Addr};

use napi::{Env, Error, Result};
use napi_derive::napi;
use nat64_core::{
    Config as CoreConfig, HairpinMode, Ipv4IdPolicy, Ipv4Prefix, Ipv6Prefix, Prefix64 as CorePrefix64,
    Translator as CoreTranslator,
};

use crate::args::{Int, Shape, Shaped, Strict, U64};
use crate::verdict::translator_class;
use crate::{addr, err, parse};

// ------------------------------------------------------------------ prefixes

/// An RFC 6052 translation prefix (/32, /40, /48, /56, /64 or /96).
#[napi]
pub struct Prefix64 {
    pub(crate) inner: CorePrefix64,
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
    /// The receiver check of the getters (see lib.rs).
    #[napi(skip_typescript, js_name = "__nat64Receiver")]
    pub fn receiver(&self) {}
}

// ---------------------------------------------------------------- stateless

/// An RFC 7757 EAMT entry.
#[napi(object, object_to_js = false)]
pub struct Eam {
    pub ipv4: String,
    pub ipv6: String,
    /// Accept an entry that overlaps another.
    pub force: Option<bool>,
}

/// IPv4 Identification of unfragmented 6->4 packets: `fixed` or a
/// `counter` starting at `value`.
#[napi(object, object_to_js = false)]
pub struct Ipv4Id {
    #[napi(ts_type = "'fixed' | 'counter'")]
    pub kind: String,
    #[napi(ts_type = "number")]
    pub value: Int<u16>,
}

/// The stateless translator's configuration: the fields of the core's
/// `Config` (every one optional; defaults as in the core).
#[napi(object, object_to_js = false)]
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
    #[napi(ts_type = "number")]
    pub mtu4: Option<Int<u32>>,
    #[napi(ts_type = "number")]
    pub mtu6: Option<Int<u32>>,
    #[napi(ts_type = "number")]
    pub lowest_ipv6_mtu: Option<Int<u32>>,
    #[napi(ts_type = "Array<number>")]
    pub mtu_plateaus: Option<Vec<Int<u16>>>,
    pub amend_udp_checksum_zero: Option<bool>,
    pub zeroize_traffic_class: Option<bool>,
    #[napi(ts_type = "number")]
    pub override_tos: Option<Int<u8>>,
    #[napi(ts_type = "number")]
    pub error_hop_limit: Option<Int<u8>>,
    pub ipv4_id: Option<Ipv4Id>,
    /// The seed of the RFC 6791 address choice and the IPv4 Identification
    /// counter (a `number` or a `bigint` up to 2^64 - 1).
    #[napi(ts_type = "number | bigint")]
    pub seed: Option<U64>,
}

const EAM: Shape = Shape {
    name: "Eam",
    keys: &[("ipv4", None), ("ipv6", None), ("force", None)],
};

const IPV4_ID: Shape = Shape {
    name: "Ipv4Id",
    keys: &[("kind", None), ("value", None)],
};

/// The keys of [`Config`], as JS spells them.
pub(crate) const CONFIG: Shape = Shape {
    name: "Config",
    keys: &[
        ("pool6", None),
        ("wkpForbidsNonGlobal", None),
        ("eamt", Some(&EAM)),
        ("eamHairpinMode", None),
        ("denylist4", None),
        ("rfc6791v4Prefix", None),
        ("rfc6791v6Prefix", None),
        ("randomizeRfc6791Addresses", None),
        ("ownIpv4", None),
        ("ownIpv6", None),
        ("mtu4", None),
        ("mtu6", None),
        ("lowestIpv6Mtu", None),
        ("mtuPlateaus", None),
        ("amendUdpChecksumZero", None),
        ("zeroizeTrafficClass", None),
        ("overrideTos", None),
        ("errorHopLimit", None),
        ("ipv4Id", Some(&IPV4_ID)),
        ("seed", None),
    ],
};

impl Shaped for Config {
    const SHAPE: &'static Shape = &CONFIG;
}

pub(crate) fn core_config(c: &Config) -> Result<CoreConfig> {
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
        o.eam_hairpin_mode = m
            .parse::<HairpinMode>()
            .map_err(|_| Error::from_reason(format!("eamHairpinMode {m:?}: use 'off', 'simple' or 'intrinsic'")))?;
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
    o.mtu4 = c.mtu4.as_ref().map_or(o.mtu4, |n| n.0);
    o.mtu6 = c.mtu6.as_ref().map_or(o.mtu6, |n| n.0);
    o.lowest_ipv6_mtu = c.lowest_ipv6_mtu.as_ref().map_or(o.lowest_ipv6_mtu, |n| n.0);
    if let Some(p) = &c.mtu_plateaus {
        o.mtu_plateaus = p.iter().map(|n| n.0).collect();
    }
    o.amend_udp_checksum_zero = c.amend_udp_checksum_zero.unwrap_or(o.amend_udp_checksum_zero);
    o.zeroize_traffic_class = c.zeroize_traffic_class.unwrap_or(o.zeroize_traffic_class);
    o.override_tos = c.override_tos.as_ref().map(|n| n.0);
    o.error_hop_limit = c.error_hop_limit.as_ref().map_or(o.error_hop_limit, |n| n.0);
    if let Some(id) = &c.ipv4_id {
        o.ipv4_id = match id.kind.as_str() {
            "fixed" => Ipv4IdPolicy::Fixed(id.value.0),
            "counter" => Ipv4IdPolicy::Counter(id.value.0),
            _ => return Err(Error::from_reason("ipv4Id.kind is 'fixed' or 'counter'")),
        };
    }
    if let Some(s) = &c.seed {
        o.seed = s.0;
    }
    Ok(o)
}

fn translator(c: &Config) -> Result<CoreTranslator> {
    CoreTranslator::new(core_config(c)?).map_err(err)
}

translator_class! {
    #[doc = " The stateless translator (SIIT: RFC 7915, RFC 6052, RFC 7757, RFC 6791)."]
    Translator { inner: CoreTranslator, config: Config = "Config", make: translator }
}

#[napi]
impl Translator {
    /// Replaces the configuration, keeping the counters (on error the old
    /// one stays).
    #[napi]
    pub fn set_config(&mut self, #[napi(ts_arg_type = "Config")] config: Strict<Config>) -> Result<()> {
        self.inner.set_config(core_config(&config.0)?).map_err(err)
    }
}
