//! The DNS64 exchange (RFC 6147 section 5.1, as the core's `OwnedExchange`)
//! and its response cache, for callers that own the sockets: `d.exchange(query,
//! client, tcp)`, then `start`, and while a step says `kind: 'ask'`,
//! `writeQuery` / `judge` / `onAnswer`, until `kind: 'done'`.

use std::cell::RefCell;
use std::net::IpAddr;
use std::sync::Arc;

use napi::bindgen_prelude::{Buffer, Either, FromNapiValue, This, TypeName, ValueType};
use napi::{sys, Env, Error, JsValue, Result};
use napi_derive::napi;
use nat64_core::dns64::{
    Cache, CacheKey, Dns64 as CoreDns64, Hit, Outcome, OwnedExchange, Query, Received, Reply, ResponseCache, Step,
};
use nat64_core::nat64::Instant;

use crate::args::{describe, type_error, AnswerArg, Bin, Id, Int, Now, ReplyArg, Shape, Shaped, Strict};
use crate::check;
use crate::dns64::{plan_object, Dns64Plan};
use crate::verdict::Bytes;

// -------------------------------------------------------------------- cache

/// The defaults of `nat64 dns64` (`--cache-size`, `--max-cache-ttl`).
const DEFAULT_CAPACITY: u32 = ResponseCache::DEFAULT_CAPACITY as u32;
const DEFAULT_MAX_TTL: u32 = ResponseCache::DEFAULT_MAX_TTL;

/// `new Dns64Cache({ capacity, maxTtl })`: both optional.
#[napi(object, object_to_js = false)]
pub struct Dns64CacheOptions {
    /// At most this many responses (0: caches nothing); default 10000.
    #[napi(ts_type = "number")]
    pub capacity: Option<Int<u32>>,
    /// Longest time a response is kept, in seconds; default 86400.
    #[napi(ts_type = "number")]
    pub max_ttl: Option<Int<u32>>,
}

const DNS64_CACHE_OPTIONS: Shape = Shape {
    name: "Dns64CacheOptions",
    keys: &[("capacity", None), ("maxTtl", None)],
};

impl Shaped for Dns64CacheOptions {
    const SHAPE: &'static Shape = &DNS64_CACHE_OPTIONS;
}

thread_local! {
    /// Every `Dns64Cache` object made on this thread, by weak reference. A
    /// `cache` argument is looked up here before it is unwrapped: napi-rs
    /// unwraps an object of any class as the one asked for, and another
    /// class's object read as a cache would be memory of another type.
    static CACHES: RefCell<Vec<(sys::napi_env, sys::napi_ref)>> = const { RefCell::new(Vec::new()) };
}

/// Whether `v` is a `Dns64Cache` made on this thread; forgets the objects
/// that were collected. (No JS runs: the registry is not reentered.)
unsafe fn registered(env: sys::napi_env, v: sys::napi_value) -> bool {
    let ok = sys::Status::napi_ok;
    CACHES.with(|c| {
        let mut found = false;
        c.borrow_mut().retain(|&(e, r)| {
            if e != env {
                return true;
            }
            let mut obj = std::ptr::null_mut();
            // SAFETY: `r` is a reference of `env`, the live environment.
            unsafe {
                if sys::napi_get_reference_value(env, r, &mut obj) != ok {
                    return true;
                }
                if obj.is_null() {
                    sys::napi_delete_reference(env, r);
                    return false;
                }
                let mut same = false;
                found |= sys::napi_strict_equals(env, obj, v, &mut same) == ok && same;
            }
            true
        });
        found
    })
}

/// The response cache of the DNS64 (RFC 1035 section 7.4, RFC 2308 section
/// 5; see the core's `ResponseCache`): pass it to `start` and `onAnswer` of
/// every exchange that should share it.
#[napi]
pub struct Dns64Cache {
    inner: ResponseCache,
}

#[napi]
impl Dns64Cache {
    #[napi(constructor)]
    pub fn new(
        env: Env,
        this: This,
        #[napi(ts_arg_type = "Dns64CacheOptions | undefined | null")] options: Option<Strict<Dns64CacheOptions>>,
    ) -> Result<Self> {
        let o = options.map(|s| s.0);
        let capacity = o
            .as_ref()
            .and_then(|o| o.capacity.as_ref())
            .map_or(DEFAULT_CAPACITY, |n| n.0);
        let max_ttl = o
            .as_ref()
            .and_then(|o| o.max_ttl.as_ref())
            .map_or(DEFAULT_MAX_TTL, |n| n.0);
        let (env, obj) = (env.raw(), this.object.raw());
        // SAFETY: `obj` is the object being constructed, of this call's `env`;
        // napi-rs wraps it when this returns (a class constructor runs only
        // under `new`, on a fresh object, which the check below confirms).
        unsafe {
            let mut wrapped = std::ptr::null_mut();
            // (`registered` also forgets the caches collected since the last call.)
            if sys::napi_unwrap(env, obj, &mut wrapped) == sys::Status::napi_ok || registered(env, obj) {
                return Err(Error::from_reason("Dns64Cache: construct it with new"));
            }
            let mut r = std::ptr::null_mut();
            check(sys::napi_create_reference(env, obj, 0, &mut r))?;
            CACHES.with(|c| c.borrow_mut().push((env, r)));
        }
        Ok(Dns64Cache {
            inner: ResponseCache::new(capacity as usize, max_ttl),
        })
    }
    /// How many responses it holds (some perhaps expired).
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        self.inner.len() as u32
    }
    /// The receiver check of the getters (see lib.rs).
    #[napi(skip_typescript, js_name = "__nat64Receiver")]
    pub fn receiver(&self) {}
}

/// A `cache` argument: a `Dns64Cache`, borrowed for the call; anything
/// else is a `TypeError` naming the argument.
pub struct CacheArg(&'static mut Dns64Cache);

impl FromNapiValue for CacheArg {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> Result<Self> {
        // SAFETY (whole body): as for any argument conversion; no JS runs.
        unsafe {
            if !registered(env, v) {
                return Err(type_error(
                    env,
                    format!("cache must be a Dns64Cache, got {}", describe(env, v)),
                ));
            }
            let mut p = std::ptr::null_mut();
            check(sys::napi_unwrap(env, v, &mut p))?;
            // The object is one `Dns64Cache::new` made, so wrapping a
            // `Dns64Cache`; it is not `this` of the call (a `Dns64Exchange`),
            // and no JS runs while the borrow lasts (the call).
            Ok(CacheArg(&mut *p.cast::<Dns64Cache>()))
        }
    }
}

impl TypeName for CacheArg {
    fn type_name() -> &'static str {
        "Dns64Cache"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

/// The cache of one step: the caller's, or none.
struct StepCache<'a>(Option<RefCell<&'a mut ResponseCache>>);

impl<'a> StepCache<'a> {
    fn new(c: &'a mut Option<CacheArg>) -> Self {
        StepCache(c.as_mut().map(|c| RefCell::new(&mut c.0.inner)))
    }
}

impl Cache for StepCache<'_> {
    fn get(&self, key: &CacheKey, q: &Query<'_>, now: Instant, out: &mut [u8]) -> Option<Hit> {
        self.0.as_ref().and_then(|c| c.get(key, q, now, out))
    }
    fn put(&self, key: &CacheKey, response: &[u8], now: Instant) {
        if let Some(c) = &self.0 {
            c.put(key, response, now)
        }
    }
    fn max_ttl(&self) -> Option<u32> {
        self.0.as_ref().and_then(Cache::max_ttl)
    }
}

// ----------------------------------------------------------------- exchange

/// A step that asks the upstreams a question of type `qtype`: send
/// `writeQuery(id)` (a fresh, unpredictable `id` per upstream), check what
/// comes back with `judge`, and give the answer (or null: none came) to
/// `onAnswer`.
#[napi(object, object_from_js = false)]
pub struct Dns64Ask {
    #[napi(ts_type = "'ask'")]
    pub kind: String,
    pub qtype: u16,
}

/// The last step: `outcome` says how it ended, and TypeScript narrows on it:
/// - `answered`: `response` for the client; `answer` says what it holds
///   ("relayed" for a response from the cache), `records` how many records
///   were synthesized (removed, for "filtered"), `truncated` whether TC is
///   set, `fromCache` whether it came from the cache;
/// - `error`: `response`, an error response with RCODE `rcode` (FORMERR,
///   NOTIMP, BADVERS, SERVFAIL);
/// - `silent`: nothing to send (the client's message is not a query).
#[napi(discriminant = "outcome", discriminant_case = "lowercase", object_from_js = false)]
pub enum Dns64Done {
    Answered {
        #[napi(ts_type = "'done'")]
        kind: String,
        #[napi(ts_type = "Buffer")]
        response: Bytes,
        #[napi(ts_type = "'relayed' | 'filtered' | 'synthesized' | 'empty' | 'ptr_cname' | 'local' | 'error'")]
        answer: String,
        records: u16,
        truncated: bool,
        from_cache: bool,
    },
    Error {
        #[napi(ts_type = "'done'")]
        kind: String,
        #[napi(ts_type = "Buffer")]
        response: Bytes,
        rcode: u16,
    },
    Silent {
        #[napi(ts_type = "'done'")]
        kind: String,
    },
}

/// What the caller does next: `kind` 'ask' ([`Dns64Ask`]) or 'done'
/// ([`Dns64Done`]).
#[napi]
pub type Dns64Step = Either<Dns64Ask, Dns64Done>;

fn step(s: Step, out: &[u8]) -> Dns64Step {
    let kind = || "done".to_string();
    match s {
        Step::Ask { qtype } => Either::A(Dns64Ask {
            kind: "ask".into(),
            qtype,
        }),
        Step::Done(Outcome::Answered { written, from_cache }) => Either::B(Dns64Done::Answered {
            kind: kind(),
            response: Bytes(out[..written.len].to_vec()),
            answer: written.answer.label().into(),
            records: written.answer.records(),
            truncated: written.truncated,
            from_cache,
        }),
        Step::Done(Outcome::Error { len, rcode }) => Either::B(Dns64Done::Error {
            kind: kind(),
            response: Bytes(out[..len].to_vec()),
            rcode,
        }),
        Step::Done(Outcome::Silent) => Either::B(Dns64Done::Silent { kind: kind() }),
    }
}

/// One client message being answered (made by `Dns64.exchange`); it keeps
/// its `Dns64` alive.
#[napi]
pub struct Dns64Exchange {
    dns64: Arc<CoreDns64>,
    inner: OwnedExchange,
}

impl Dns64Exchange {
    pub(crate) fn new(dns64: Arc<CoreDns64>, query: &[u8], client: IpAddr, tcp: bool) -> Self {
        Dns64Exchange {
            dns64,
            inner: OwnedExchange::new(query, client, tcp),
        }
    }

    /// Runs one step of the core's exchange into a buffer of the response
    /// limit's size.
    fn step(&mut self, f: impl FnOnce(&mut OwnedExchange, &CoreDns64, &mut [u8]) -> Step) -> Dns64Step {
        let mut out = vec![0u8; self.inner.response_limit(&self.dns64)];
        let s = f(&mut self.inner, &self.dns64, &mut out);
        step(s, &out)
    }
}

#[napi]
impl Dns64Exchange {
    /// Begins at `now` (microseconds, as elsewhere): the answer from the
    /// cache, a local answer or an error response, or the first question.
    #[napi]
    pub fn start(
        &mut self,
        #[napi(ts_arg_type = "number | bigint")] now: Now,
        #[napi(ts_arg_type = "Dns64Cache | undefined | null")] mut cache: Option<CacheArg>,
    ) -> Dns64Step {
        let now = Instant::from_micros(now.0);
        self.step(|ex, d, out| ex.start(d, &StepCache::new(&mut cache), now, out))
    }
    /// Takes the answer to the question asked (null: no upstream gave one)
    /// at `now` and says what next. A finished exchange answers SERVFAIL.
    #[napi]
    pub fn on_answer(
        &mut self,
        #[napi(ts_arg_type = "Uint8Array | undefined | null")] answer: Option<Bin<AnswerArg>>,
        #[napi(ts_arg_type = "number | bigint")] now: Now,
        #[napi(ts_arg_type = "Dns64Cache | undefined | null")] mut cache: Option<CacheArg>,
    ) -> Dns64Step {
        let now = Instant::from_micros(now.0);
        let answer = answer.as_deref();
        self.step(|ex, d, out| ex.on_answer(d, answer, &StepCache::new(&mut cache), now, out))
    }
    /// The upstream query for the question being asked, with this `id`; an
    /// error when no question is pending.
    #[napi]
    pub fn write_query(&self, #[napi(ts_arg_type = "number")] id: Int<u16, Id>) -> Result<Buffer> {
        let mut out = [0u8; 512];
        let n = self
            .inner
            .write_query(&self.dns64, id.0, &mut out)
            .map_err(|e| Error::from_reason(format!("writeQuery: {e}")))?;
        Ok(Buffer::from(out[..n].to_vec()))
    }
    /// What an upstream's message `reply` is to the query sent with `id`,
    /// received as `how`: "udp" (a whole datagram), "udp_oversized" (larger
    /// than the query's EDNS size, cut: only its header counts) or "tcp".
    /// "foreign": not the answer, keep waiting; "truncated": ask again over
    /// TCP; "answer"; "failed": SERVFAIL or REFUSED, another upstream is
    /// worth trying.
    #[napi(ts_return_type = "'foreign' | 'truncated' | 'answer' | 'failed'")]
    pub fn judge(
        &self,
        #[napi(ts_arg_type = "number")] id: Int<u16, Id>,
        #[napi(ts_arg_type = "Uint8Array")] reply: Bin<ReplyArg>,
        #[napi(ts_arg_type = "'udp' | 'udp_oversized' | 'tcp'")] how: String,
    ) -> Result<&'static str> {
        let how = match how.as_str() {
            "udp" => Received::Udp,
            "udp_oversized" => Received::UdpOversized,
            "tcp" => Received::Tcp,
            _ => {
                return Err(Error::from_reason(format!(
                    "how {how:?}: use 'udp', 'udp_oversized' or 'tcp'"
                )))
            }
        };
        Ok(match self.inner.judge(&self.dns64, id.0, &reply, how) {
            Reply::Foreign => "foreign",
            Reply::Truncated => "truncated",
            Reply::Answer { failed: false } => "answer",
            Reply::Answer { failed: true } => "failed",
        })
    }
    /// What DNS64 does with the query, or null when it is refused.
    #[napi(getter)]
    pub fn plan(&self) -> Option<Dns64Plan> {
        self.inner.plan(&self.dns64).map(plan_object)
    }
    /// The largest response the client takes.
    #[napi(getter)]
    pub fn response_limit(&self) -> u32 {
        self.inner.response_limit(&self.dns64) as u32
    }
    /// Whether it has finished (a step said `kind: 'done'`).
    #[napi(getter)]
    pub fn is_done(&self) -> bool {
        self.inner.is_done()
    }
    /// The receiver check of the getters (see lib.rs).
    #[napi(skip_typescript, js_name = "__nat64Receiver")]
    pub fn receiver(&self) {}
}
