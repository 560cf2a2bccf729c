//! Configurations: `nat64_config` (the core's `Config`, stateless SIIT and the
//! settings the stateful NAT64 shares) and `nat64_nat64_config` (the core's
//! `Nat64Config`). Each setter sets the field of the same name; addresses and
//! prefixes are given as text and parsed by the core. Whole-configuration
//! checks happen when a translator is made from it.

use std::ffi::c_char;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use nat64_core::nat64::{Bib, Nat64Config, Pool4Entry, Taddr4, Taddr6};
use nat64_core::{Config, HairpinMode, Ipv4IdPolicy, Ipv4Prefix, Ipv6Prefix, Prefix64};

use crate::codes::nat64_proto;
use crate::error::{cstr, fail, nat64_result};
use crate::{ffi_panic_boundary, free_box, try_mut, try_ref, try_res};

/// RFC 7757 section 4.2 hairpinning modes (nat64_config_set_eam_hairpin_mode).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum nat64_hairpin_mode {
    /// Send it out on the IPv4 side, as is.
    Off = 0,
    /// Section 4.2.1.
    Simple = 1,
    /// Section 4.2.2 (the default).
    Intrinsic = 2,
}

/// The stateless translator's configuration (the core's `Config`); made with
/// defaults by nat64_config_new().
pub struct nat64_config {
    pub(crate) inner: Config,
}

/// A new configuration with the core's defaults (no pool6, no EAMT: set at
/// least one of them).
///
/// # Safety
/// `out` must be a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_new(out: *mut *mut nat64_config) -> nat64_result {
    ffi_panic_boundary! {
        let out = try_mut!(out);
        *out = Box::into_raw(Box::new(nat64_config { inner: Config::default() }));
        nat64_result::Ok
    }
}

/// Frees a configuration (NULL is accepted). Translators made from it keep
/// their own copy.
///
/// # Safety
/// `cfg` must come from nat64_config_new() and not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_free(cfg: *mut nat64_config) {
    ffi_panic_boundary! {
        // SAFETY: `cfg` is NULL or from its _new function, not used again (see # Safety).
        free_box(cfg)
    }
}

/// Parses an optional text argument: NULL means "unset".
unsafe fn opt_parse<T: std::str::FromStr>(text: *const c_char, code: nat64_result) -> Result<Option<T>, nat64_result>
where
    T::Err: std::fmt::Display,
{
    if text.is_null() {
        return Ok(None);
    }
    let s = cstr(text)?;
    s.parse::<T>().map(Some).map_err(|e| fail(code, e))
}

unsafe fn parse<T: std::str::FromStr>(text: *const c_char, code: nat64_result) -> Result<T, nat64_result>
where
    T::Err: std::fmt::Display,
{
    let s = cstr(text)?;
    s.parse::<T>().map_err(|e| fail(code, e))
}

/// pool6, the RFC 6052 prefix ("64:ff9b::/96"); NULL unsets it.
///
/// # Safety
/// `cfg` valid; `prefix` NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_set_pool6(cfg: *mut nat64_config, prefix: *const c_char) -> nat64_result {
    ffi_panic_boundary! {
        let cfg = try_mut!(cfg);
        cfg.inner.pool6 = try_res!(opt_parse::<Prefix64>(prefix, nat64_result::InvalidPrefix));
        nat64_result::Ok
    }
}

/// RFC 6052 section 3.1: with the Well-Known Prefix, refuse non-global IPv4
/// addresses (default true).
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_set_wkp_forbids_non_global(cfg: *mut nat64_config, on: bool) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.wkp_forbids_non_global = on;
        nat64_result::Ok
    }
}

/// Adds an RFC 7757 EAMT entry ("192.0.2.0/24", "2001:db8:1::/120"); `force`
/// accepts an entry overlapping another.
///
/// # Safety
/// `cfg` valid; `v4` and `v6` NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_add_eam(
    cfg: *mut nat64_config,
    v4: *const c_char,
    v6: *const c_char,
    force: bool,
) -> nat64_result {
    ffi_panic_boundary! {
        let cfg = try_mut!(cfg);
        let v4 = try_res!(parse::<Ipv4Prefix>(v4, nat64_result::InvalidPrefix));
        let v6 = try_res!(parse::<Ipv6Prefix>(v6, nat64_result::InvalidPrefix));
        match cfg.inner.eamt.add(v4, v6, force) {
            Ok(()) => nat64_result::Ok,
            Err(e) => fail(nat64_result::InvalidEam, e),
        }
    }
}

/// RFC 7757 section 4.2 hairpinning: a nat64_hairpin_mode.
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_set_eam_hairpin_mode(cfg: *mut nat64_config, mode: u32) -> nat64_result {
    ffi_panic_boundary! {
        let cfg = try_mut!(cfg);
        cfg.inner.eam_hairpin_mode = match mode {
            0 => HairpinMode::Off,
            1 => HairpinMode::Simple,
            2 => HairpinMode::Intrinsic,
            _ => return fail(nat64_result::InvalidValue, format!("{mode} is not a nat64_hairpin_mode (0, 1 or 2)")),
        };
        nat64_result::Ok
    }
}

/// Adds an IPv4 prefix never translated with pool6 (Jool's denylist4).
///
/// # Safety
/// `cfg` valid; `prefix` a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_add_denylist4(cfg: *mut nat64_config, prefix: *const c_char) -> nat64_result {
    ffi_panic_boundary! {
        let cfg = try_mut!(cfg);
        let p = try_res!(parse::<Ipv4Prefix>(prefix, nat64_result::InvalidPrefix));
        cfg.inner.denylist4.push(p);
        nat64_result::Ok
    }
}

/// The RFC 6791 IPv4 pool ("203.0.113.8/29"); NULL unsets it.
///
/// # Safety
/// `cfg` valid; `prefix` NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_set_rfc6791v4_prefix(
    cfg: *mut nat64_config,
    prefix: *const c_char,
) -> nat64_result {
    ffi_panic_boundary! {
        let cfg = try_mut!(cfg);
        cfg.inner.rfc6791v4_prefix = try_res!(opt_parse::<Ipv4Prefix>(prefix, nat64_result::InvalidPrefix));
        nat64_result::Ok
    }
}

/// The RFC 6791 IPv6 pool; NULL unsets it.
///
/// # Safety
/// `cfg` valid; `prefix` NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_set_rfc6791v6_prefix(
    cfg: *mut nat64_config,
    prefix: *const c_char,
) -> nat64_result {
    ffi_panic_boundary! {
        let cfg = try_mut!(cfg);
        cfg.inner.rfc6791v6_prefix = try_res!(opt_parse::<Ipv6Prefix>(prefix, nat64_result::InvalidPrefix));
        nat64_result::Ok
    }
}

/// Pick a pseudo-random RFC 6791 pool address (default true).
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_set_randomize_rfc6791_addresses(
    cfg: *mut nat64_config,
    on: bool,
) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.randomize_rfc6791_addresses = on;
        nat64_result::Ok
    }
}

/// The translator's own IPv4 address (source of the ICMPv4 errors it makes);
/// NULL unsets it.
///
/// # Safety
/// `cfg` valid; `addr` NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_set_own_ipv4(cfg: *mut nat64_config, addr: *const c_char) -> nat64_result {
    ffi_panic_boundary! {
        let cfg = try_mut!(cfg);
        cfg.inner.own_ipv4 = try_res!(opt_parse::<Ipv4Addr>(addr, nat64_result::InvalidAddress));
        nat64_result::Ok
    }
}

/// The translator's own IPv6 address; NULL unsets it.
///
/// # Safety
/// `cfg` valid; `addr` NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_set_own_ipv6(cfg: *mut nat64_config, addr: *const c_char) -> nat64_result {
    ffi_panic_boundary! {
        let cfg = try_mut!(cfg);
        cfg.inner.own_ipv6 = try_res!(opt_parse::<Ipv6Addr>(addr, nat64_result::InvalidAddress));
        nat64_result::Ok
    }
}

/// Egress MTU towards IPv4 (default 1500).
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_set_mtu4(cfg: *mut nat64_config, mtu: u32) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.mtu4 = mtu;
        nat64_result::Ok
    }
}

/// Egress MTU towards IPv6 (default 1500).
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_set_mtu6(cfg: *mut nat64_config, mtu: u32) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.mtu6 = mtu;
        nat64_result::Ok
    }
}

/// Jool's lowest-ipv6-mtu (default 1280).
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_set_lowest_ipv6_mtu(cfg: *mut nat64_config, mtu: u32) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.lowest_ipv6_mtu = mtu;
        nat64_result::Ok
    }
}

/// RFC 1191 plateaus (`len` values at `plateaus`).
///
/// # Safety
/// `cfg` valid; `plateaus` points to `len` values.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_set_mtu_plateaus(
    cfg: *mut nat64_config,
    plateaus: *const u16,
    len: usize,
) -> nat64_result {
    ffi_panic_boundary! {
        let cfg = try_mut!(cfg);
        if plateaus.is_null() && len > 0 {
            return nat64_result::NullParameter;
        }
        cfg.inner.mtu_plateaus = if len == 0 { Vec::new() } else { std::slice::from_raw_parts(plateaus, len).to_vec() };
        nat64_result::Ok
    }
}

/// RFC 7915 section 4.5: compute the checksum of IPv4 UDP datagrams that
/// have none (default false).
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_set_amend_udp_checksum_zero(cfg: *mut nat64_config, on: bool) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.amend_udp_checksum_zero = on;
        nat64_result::Ok
    }
}

/// 4->6: Traffic Class 0 instead of a copy of the TOS (default false).
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_set_zeroize_traffic_class(cfg: *mut nat64_config, on: bool) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.zeroize_traffic_class = on;
        nat64_result::Ok
    }
}

/// 6->4: this TOS (0-255) instead of a copy of the Traffic Class; -1 unsets it.
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_set_override_tos(cfg: *mut nat64_config, tos: i32) -> nat64_result {
    ffi_panic_boundary! {
        let cfg = try_mut!(cfg);
        cfg.inner.override_tos = match tos {
            -1 => None,
            0..=255 => Some(tos as u8),
            _ => return fail(nat64_result::InvalidValue, format!("override_tos {tos} is not -1 or 0-255")),
        };
        nat64_result::Ok
    }
}

/// TTL / hop limit of the ICMP errors the translator makes (default 64).
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_set_error_hop_limit(cfg: *mut nat64_config, hop_limit: u8) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.error_hop_limit = hop_limit;
        nat64_result::Ok
    }
}

/// IPv4 Identification of unfragmented 6->4 packets: always `value` when
/// `fixed`, else a counter starting at `value` (default: counter from 1).
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_set_ipv4_id(cfg: *mut nat64_config, fixed: bool, value: u16) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.ipv4_id = if fixed { Ipv4IdPolicy::Fixed(value) } else { Ipv4IdPolicy::Counter(value) };
        nat64_result::Ok
    }
}

/// Secret mixed into the RFC 6791 address choice.
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_config_set_seed(cfg: *mut nat64_config, seed: u64) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.seed = seed;
        nat64_result::Ok
    }
}

// ------------------------------------------------------------------ stateful

/// RFC 6146 section 4 session lifetimes, in seconds (the core's `Timeouts`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct nat64_timeouts {
    /// UDP (default 300; at least 120).
    pub udp: u64,
    /// TCP established (default 7440).
    pub tcp_est: u64,
    /// TCP transitory (default 240).
    pub tcp_trans: u64,
    /// ICMP query (default 60).
    pub icmp: u64,
    /// Unsolicited IPv4 SYN hold time (default 6).
    pub tcp_incoming_syn: u64,
}

/// Session caps (the core's `TableLimits`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct nat64_table_limits {
    /// Most sessions at once (default 1048576).
    pub max_sessions: usize,
    /// Most sessions per client; 0: no quota (default).
    pub max_sessions_per_client: usize,
    /// A client is its address masked to this many bits (default 128).
    pub client_prefix_len: u8,
}

/// The stateful NAT64's configuration (the core's `Nat64Config`).
pub struct nat64_nat64_config {
    pub(crate) inner: Nat64Config,
}

/// A new stateful configuration whose shared settings (`xlat`: pool6, MTUs,
/// own addresses, ...) are a copy of `xlat`, which must have pool6, and the
/// core's defaults elsewhere. Add pool4 entries before making a NAT64.
///
/// # Safety
/// `xlat` valid; `out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_config_new(
    xlat: *const nat64_config,
    out: *mut *mut nat64_nat64_config,
) -> nat64_result {
    ffi_panic_boundary! {
        let xlat = try_ref!(xlat);
        let out = try_mut!(out);
        let Some(pool6) = xlat.inner.pool6 else {
            return fail(nat64_result::InvalidConfig, "stateful NAT64 needs pool6 (e.g. 64:ff9b::/96)");
        };
        let mut c = Nat64Config::new(pool6, Vec::new());
        c.xlat = xlat.inner.clone();
        *out = Box::into_raw(Box::new(nat64_nat64_config { inner: c }));
        nat64_result::Ok
    }
}

/// Frees a stateful configuration (NULL is accepted).
///
/// # Safety
/// `cfg` must come from nat64_nat64_config_new() and not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_config_free(cfg: *mut nat64_nat64_config) {
    ffi_panic_boundary! {
        // SAFETY: `cfg` is NULL or from its _new function, not used again (see # Safety).
        free_box(cfg)
    }
}

/// Adds a pool4 entry: the addresses of `prefix` ("192.0.2.1" or
/// "192.0.2.0/28"), ports `first_port` to `last_port`, for the protocols in
/// `protocols`, a bit mask of `1 << NAT64_PROTO_TCP` etc. (0: all three).
///
/// # Safety
/// `cfg` valid; `prefix` a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_config_add_pool4(
    cfg: *mut nat64_nat64_config,
    prefix: *const c_char,
    first_port: u16,
    last_port: u16,
    protocols: u32,
) -> nat64_result {
    ffi_panic_boundary! {
        let cfg = try_mut!(cfg);
        let p = try_res!(parse::<Ipv4Prefix>(prefix, nat64_result::InvalidPrefix));
        let mut e = Pool4Entry::new(p);
        e.first_port = first_port;
        e.last_port = last_port;
        if protocols != 0 {
            if protocols & !0b1110 != 0 {
                return fail(nat64_result::InvalidValue, format!("protocols {protocols:#x} holds bits other than 1 << NAT64_PROTO_TCP/UDP/ICMP"));
            }
            e.protocols = [1, 2, 3].map(|b| protocols & (1 << b) != 0);
        }
        cfg.inner.pool4.push(e);
        nat64_result::Ok
    }
}

/// Adds a static BIB entry: `proto` (a nat64_proto) `v6_addr`#`v6_port` <->
/// `v4_addr`#`v4_port` (the IPv4 address must be in pool4).
///
/// # Safety
/// `cfg` valid; the addresses NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_config_add_static_bib(
    cfg: *mut nat64_nat64_config,
    proto: u32,
    v6_addr: *const c_char,
    v6_port: u16,
    v4_addr: *const c_char,
    v4_port: u16,
) -> nat64_result {
    ffi_panic_boundary! {
        let cfg = try_mut!(cfg);
        let Ok(Some(proto)) = nat64_proto::core(proto) else {
            return fail(nat64_result::InvalidValue, format!("{proto} is not NAT64_PROTO_TCP, _UDP or _ICMP"));
        };
        let a6 = try_res!(parse::<Ipv6Addr>(v6_addr, nat64_result::InvalidAddress));
        let a4 = try_res!(parse::<Ipv4Addr>(v4_addr, nat64_result::InvalidAddress));
        cfg.inner.static_bib.push(Bib {
            proto,
            v6: Taddr6 { addr: a6, port: v6_port },
            v4: Taddr4 { addr: a4, port: v4_port },
            is_static: true,
        });
        nat64_result::Ok
    }
}

/// Writes the configuration's timeouts to `*out` (read, change, set).
///
/// # Safety
/// `cfg` and `out` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_config_timeouts(
    cfg: *const nat64_nat64_config,
    out: *mut nat64_timeouts,
) -> nat64_result {
    ffi_panic_boundary! {
        let t = try_ref!(cfg).inner.timeouts;
        *try_mut!(out) = nat64_timeouts {
            udp: t.udp.as_secs(),
            tcp_est: t.tcp_est.as_secs(),
            tcp_trans: t.tcp_trans.as_secs(),
            icmp: t.icmp.as_secs(),
            tcp_incoming_syn: t.tcp_incoming_syn.as_secs(),
        };
        nat64_result::Ok
    }
}

/// Sets the session lifetimes.
///
/// # Safety
/// `cfg` and `t` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_config_set_timeouts(
    cfg: *mut nat64_nat64_config,
    t: *const nat64_timeouts,
) -> nat64_result {
    ffi_panic_boundary! {
        let cfg = try_mut!(cfg);
        let t = try_ref!(t);
        let o = &mut cfg.inner.timeouts;
        o.udp = Duration::from_secs(t.udp);
        o.tcp_est = Duration::from_secs(t.tcp_est);
        o.tcp_trans = Duration::from_secs(t.tcp_trans);
        o.icmp = Duration::from_secs(t.icmp);
        o.tcp_incoming_syn = Duration::from_secs(t.tcp_incoming_syn);
        nat64_result::Ok
    }
}

/// Writes the configuration's session caps to `*out`.
///
/// # Safety
/// `cfg` and `out` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_config_limits(
    cfg: *const nat64_nat64_config,
    out: *mut nat64_table_limits,
) -> nat64_result {
    ffi_panic_boundary! {
        let l = try_ref!(cfg).inner.limits;
        *try_mut!(out) = nat64_table_limits {
            max_sessions: l.max_sessions,
            max_sessions_per_client: l.max_sessions_per_client,
            client_prefix_len: l.client_prefix_len,
        };
        nat64_result::Ok
    }
}

/// Sets the session caps.
///
/// # Safety
/// `cfg` and `l` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_config_set_limits(
    cfg: *mut nat64_nat64_config,
    l: *const nat64_table_limits,
) -> nat64_result {
    ffi_panic_boundary! {
        let cfg = try_mut!(cfg);
        let l = try_ref!(l);
        let o = &mut cfg.inner.limits;
        o.max_sessions = l.max_sessions;
        o.max_sessions_per_client = l.max_sessions_per_client;
        o.client_prefix_len = l.client_prefix_len;
        nat64_result::Ok
    }
}

/// RFC 6146 section 3.5: address-dependent filtering (default false).
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_config_set_address_dependent_filtering(
    cfg: *mut nat64_nat64_config,
    on: bool,
) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.address_dependent_filtering = on;
        nat64_result::Ok
    }
}

/// RFC 6146 section 3.5.2.2: drop IPv4-initiated TCP (default false).
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_config_set_drop_externally_initiated_tcp(
    cfg: *mut nat64_nat64_config,
    on: bool,
) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.drop_externally_initiated_tcp = on;
        nat64_result::Ok
    }
}

/// RFC 6146 section 3.5.3: do not translate IPv6 pings (default false).
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_config_set_drop_icmpv6_info(
    cfg: *mut nat64_nat64_config,
    on: bool,
) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.drop_icmpv6_info = on;
        nat64_result::Ok
    }
}

/// Unsolicited IPv4 SYNs held at once (default 10).
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_config_set_max_simultaneous_opens(
    cfg: *mut nat64_nat64_config,
    n: usize,
) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.max_simultaneous_opens = n;
        nat64_result::Ok
    }
}

/// Source of translated ICMPv4 errors: the error's source through pool6
/// (true, Jool's default) or the quoted packet's destination.
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_config_set_source_icmpv6_errors_better(
    cfg: *mut nat64_nat64_config,
    on: bool,
) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.source_icmpv6_errors_better = on;
        nat64_result::Ok
    }
}

/// Jool's handle-rst-during-fin-rcv (default false).
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_config_set_handle_rst_during_fin_rcv(
    cfg: *mut nat64_nat64_config,
    on: bool,
) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.handle_rst_during_fin_rcv = on;
        nat64_result::Ok
    }
}

/// RFC 6056 probes per new binding (0: automatic).
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_config_set_max_iterations(cfg: *mut nat64_nat64_config, n: u64) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.max_iterations = n;
        nat64_result::Ok
    }
}

/// The key of the RFC 6056 port choice; keep it secret (pass random bits).
///
/// # Safety
/// `cfg` valid.
#[no_mangle]
pub unsafe extern "C" fn nat64_nat64_config_set_secret(cfg: *mut nat64_nat64_config, k0: u64, k1: u64) -> nat64_result {
    ffi_panic_boundary! {
        try_mut!(cfg).inner.secret = [k0, k1];
        nat64_result::Ok
    }
}
