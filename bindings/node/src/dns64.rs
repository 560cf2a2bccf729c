//! DNS64 (RFC 6147) and NAT64 prefix discovery (RFC 7050, RFC 8781).

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use napi::bindgen_prelude::{Buffer, Either};
use napi::{Error, Result};
use napi_derive::napi;
use nat64_core::dns64::discovery::{self, Pref64 as CorePref64};
use nat64_core::dns64::reverse::InAddrName;
use nat64_core::dns64::{ClientPrefix, Decision, Dns64 as CoreDns64, Dns64Config as CoreDns64Config, Plan};
use nat64_core::dns64::{PrefixRule as CorePrefixRule, Query, Written as CoreWritten};

use crate::args::{
    AResponse, AaaaResponse, Bin, ClientMsg, Id, Int, LifetimeSecs, MaxLen, Pref64Option, Qname, Qtype,
    Query as QueryArg, Rcode, Response, Shape, Shaped, Strict,
};
use crate::exchange::Dns64Exchange;
use crate::stateless::Prefix64;
use crate::{addr, err, parse};

/// One synthesis prefix and the IPv4 ranges it is used for (none: all).
#[napi(object, object_to_js = false)]
pub struct PrefixRule {
    pub prefix: String,
    pub mapped: Option<Vec<String>>,
}

/// DNS64 configuration: the fields of the core's `Dns64Config`.
#[napi(object, object_to_js = false)]
pub struct Dns64Config {
    pub prefixes: Option<Vec<Either<String, PrefixRule>>>,
    pub exclude: Option<Vec<String>>,
    pub clients: Option<Vec<String>>,
    pub translate_all: Option<bool>,
    pub allow_ipv4: Option<bool>,
    pub allow_non_global: Option<bool>,
    #[napi(ts_type = "number")]
    pub edns_udp_size: Option<Int<u16>>,
}

const PREFIX_RULE: Shape = Shape {
    name: "PrefixRule",
    keys: &[("prefix", None), ("mapped", None)],
};

/// The keys of [`Dns64Config`], as JS spells them.
const DNS64_CONFIG: Shape = Shape {
    name: "Dns64Config",
    keys: &[
        ("prefixes", Some(&PREFIX_RULE)),
        ("exclude", None),
        ("clients", None),
        ("translateAll", None),
        ("allowIpv4", None),
        ("allowNonGlobal", None),
        ("ednsUdpSize", None),
    ],
};

impl Shaped for Dns64Config {
    const SHAPE: &'static Shape = &DNS64_CONFIG;
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
    Written {
        response: Buffer::from(out[..w.len].to_vec()),
        truncated: w.truncated,
        answer: w.answer.label().into(),
        records: u32::from(w.answer.records()),
    }
}

/// A plan as JS sees it.
pub(crate) fn plan_object(p: Plan) -> Dns64Plan {
    let (kind, synthesize, ptr_target) = match p {
        Plan::Forward => ("forward", false, None),
        Plan::Local { synthesize } => ("local", synthesize, None),
        Plan::Aaaa => ("aaaa", true, None),
        Plan::Ptr(n) => ("ptr", true, Some(n.addr().to_string())),
    };
    Dns64Plan {
        kind: kind.into(),
        synthesize,
        ptr_target,
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
    inner: Arc<CoreDns64>,
}

#[napi]
impl Dns64 {
    #[napi(constructor)]
    pub fn new(
        #[napi(ts_arg_type = "Dns64Config | undefined | null")] config: Option<Strict<Dns64Config>>,
    ) -> Result<Self> {
        let mut c = CoreDns64Config::default();
        if let Some(Strict(cfg)) = config {
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
            c.edns_udp_size = cfg.edns_udp_size.map_or(c.edns_udp_size, |n| n.0);
        }
        Ok(Dns64 {
            inner: Arc::new(CoreDns64::new(c).map_err(err)?),
        })
    }
    /// A state machine answering one client message (`query`, from
    /// `client`, over TCP or UDP) with the caller's I/O: see `Dns64Exchange`.
    /// It keeps this `Dns64` alive.
    #[napi]
    pub fn exchange(
        &self,
        #[napi(ts_arg_type = "Uint8Array")] query: Bin<QueryArg>,
        client: String,
        tcp: Option<bool>,
    ) -> Result<Dns64Exchange> {
        let client = addr::<IpAddr>(&client)?;
        Ok(Dns64Exchange::new(
            self.inner.clone(),
            &query,
            client,
            tcp.unwrap_or(false),
        ))
    }
    /// Whether `client` gets DNS64.
    #[napi]
    pub fn serves(&self, client: String) -> Result<bool> {
        Ok(self.inner.serves(addr::<IpAddr>(&client)?))
    }
    /// The largest response for this query over UDP or TCP.
    #[napi]
    pub fn response_limit(
        &self,
        #[napi(ts_arg_type = "Uint8Array")] query: Bin<QueryArg>,
        tcp: Option<bool>,
    ) -> Result<u32> {
        Ok(self.inner.response_limit(&self::query(&query)?, tcp.unwrap_or(false)) as u32)
    }
    /// What to do with `query` from `client`.
    #[napi]
    pub fn plan(&self, #[napi(ts_arg_type = "Uint8Array")] query: Bin<QueryArg>, client: String) -> Result<Dns64Plan> {
        let q = self::query(&query)?;
        Ok(plan_object(self.inner.plan(&q, addr::<IpAddr>(&client)?)))
    }
    /// The query to send upstream for `qname` (wire format) / `qtype`.
    #[napi]
    pub fn upstream_query(
        &self,
        #[napi(ts_arg_type = "Uint8Array")] query: Bin<QueryArg>,
        #[napi(ts_arg_type = "number")] id: Int<u16, Id>,
        #[napi(ts_arg_type = "Uint8Array")] qname: Bin<Qname>,
        #[napi(ts_arg_type = "number")] qtype: Int<u16, Qtype>,
    ) -> Result<Buffer> {
        let mut out = [0u8; 512];
        let n = self
            .inner
            .upstream_query(&self::query(&query)?, id.0, &qname, qtype.0, &mut out)
            .map_err(err)?;
        Ok(Buffer::from(out[..n].to_vec()))
    }
    /// "query_a" when an A query is needed, "respond" when the AAAA answer
    /// (null: timed out) is the basis of the response.
    #[napi(ts_return_type = "'query_a' | 'respond'")]
    pub fn needs_a_query(
        &self,
        #[napi(ts_arg_type = "Uint8Array")] query: Bin<QueryArg>,
        #[napi(ts_arg_type = "Uint8Array | undefined | null")] aaaa_response: Option<Bin<AaaaResponse>>,
    ) -> Result<String> {
        Ok(match self
            .inner
            .needs_a_query(&self::query(&query)?, aaaa_response.as_deref())
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
        #[napi(ts_arg_type = "Uint8Array")] query: Bin<QueryArg>,
        #[napi(ts_arg_type = "Uint8Array | undefined | null")] aaaa_response: Option<Bin<AaaaResponse>>,
        #[napi(ts_arg_type = "Uint8Array | undefined | null")] a_response: Option<Bin<AResponse>>,
        #[napi(ts_arg_type = "number | undefined | null")] max_len: Option<Int<u32, MaxLen>>,
    ) -> Result<Written> {
        let mut out = vec![0u8; max_len.map_or(65535, |n| n.0) as usize];
        let w = self
            .inner
            .synthesize(
                &self::query(&query)?,
                aaaa_response.as_deref(),
                a_response.as_deref(),
                &mut out,
            )
            .map_err(err)?;
        Ok(written(w, &out))
    }
    /// An upstream response relayed to the client.
    #[napi]
    pub fn relay(
        &self,
        #[napi(ts_arg_type = "Uint8Array")] query: Bin<QueryArg>,
        #[napi(ts_arg_type = "Uint8Array")] response: Bin<Response>,
        #[napi(ts_arg_type = "number | undefined | null")] max_len: Option<Int<u32, MaxLen>>,
    ) -> Result<Written> {
        let mut out = vec![0u8; max_len.map_or(65535, |n| n.0) as usize];
        let w = self
            .inner
            .relay(&self::query(&query)?, &response, &mut out)
            .map_err(err)?;
        Ok(written(w, &out))
    }
    /// RFC 6147 section 5.3.1: the PTR answer for `target` (the plan's
    /// `ptrTarget`), or null: forward the original query instead.
    #[napi]
    pub fn synthesize_ptr(
        &self,
        #[napi(ts_arg_type = "Uint8Array")] query: Bin<QueryArg>,
        target: String,
        #[napi(ts_arg_type = "Uint8Array")] response: Bin<Response>,
        #[napi(ts_arg_type = "number | undefined | null")] max_len: Option<Int<u32, MaxLen>>,
    ) -> Result<Option<Written>> {
        let name = InAddrName::new(addr(&target)?);
        let mut out = vec![0u8; max_len.map_or(65535, |n| n.0) as usize];
        let w = self
            .inner
            .synthesize_ptr(&self::query(&query)?, &name, &response, &mut out)
            .map_err(err)?;
        Ok(w.map(|w| written(w, &out)))
    }
    /// The answer to an RFC 8880 special name (plan kind "local").
    #[napi]
    pub fn answer_local(
        &self,
        #[napi(ts_arg_type = "Uint8Array")] query: Bin<QueryArg>,
        synthesize: bool,
        #[napi(ts_arg_type = "number | undefined | null")] max_len: Option<Int<u32, MaxLen>>,
    ) -> Result<Written> {
        let mut out = vec![0u8; max_len.map_or(65535, |n| n.0) as usize];
        let w = self
            .inner
            .answer_local(&self::query(&query)?, synthesize, &mut out)
            .map_err(err)?;
        Ok(written(w, &out))
    }
    /// An error response with RCODE `rcode`, or null when the message must
    /// not be answered.
    #[napi]
    pub fn error_response(
        &self,
        #[napi(ts_arg_type = "Uint8Array")] client_msg: Bin<ClientMsg>,
        #[napi(ts_arg_type = "number")] rcode: Int<u16, Rcode>,
        #[napi(ts_arg_type = "number | undefined | null")] max_len: Option<Int<u32, MaxLen>>,
    ) -> Result<Option<Buffer>> {
        let mut out = vec![0u8; max_len.map_or(65535, |n| n.0) as usize];
        let n = self.inner.error_response(&client_msg, rcode.0, &mut out).map_err(err)?;
        Ok(n.map(|n| Buffer::from(out[..n].to_vec())))
    }
}

// ---------------------------------------------------------------- discovery

/// RFC 7050 section 3: the NAT64 prefixes a response to
/// `ipv4only.arpa. IN AAAA` reveals.
#[napi]
pub fn prefixes_from_response(#[napi(ts_arg_type = "Uint8Array")] response: Bin<Response>) -> Result<Vec<Prefix64>> {
    let v = discovery::prefixes_from_response(&response).map_err(err)?;
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
    pub fn new(prefix: String, #[napi(ts_arg_type = "number")] lifetime_secs: Int<u32, LifetimeSecs>) -> Result<Self> {
        Ok(Pref64 {
            inner: CorePref64::new(parse(&prefix)?, lifetime_secs.0),
        })
    }
    /// Reads an option (16 bytes).
    #[napi(factory)]
    pub fn decode(#[napi(ts_arg_type = "Uint8Array")] option: Bin<Pref64Option>) -> Result<Self> {
        Ok(Pref64 {
            inner: CorePref64::decode(&option).map_err(err)?,
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
    /// The receiver check of the getters (see lib.rs).
    #[napi(skip_typescript, js_name = "__nat64Receiver")]
    pub fn receiver(&self) {}
}
