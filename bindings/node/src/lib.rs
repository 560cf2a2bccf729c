//! The Node.js face of `nat64-core` (napi-rs v3). Newtype wrappers over the
//! core's types, one error-mapping function (`err`), no logic of their own.
//! Packets come in as `Buffer` / `Uint8Array` and go out as `Buffer`; names
//! are the core's, in camelCase.
//!
//! - [`args`]: what JS hands in (packets, timestamps, configuration objects),
//!   checked with messages that name the argument or key;
//! - [`verdict`]: verdicts, batches and counters on their way out;
//! - [`stateless`], [`stateful`], [`dns64`]: the core's engines;
//! - [`exchange`]: the DNS64 exchange and its cache.

use std::fmt::Display;
use std::str::FromStr;

use napi::{sys, Error, Result};
use napi_derive::napi;
use nat64_core::OUTPUT_BUFFER_LEN as CORE_OUTPUT_BUFFER_LEN;

// The getters' receiver check: every class with getters has a hidden method,
//
//     /// The receiver check of the getters (see lib.rs).
//     #[napi(skip_typescript, js_name = "__nat64Receiver")]
//     pub fn receiver(&self) {}
//
// which only a real instance can call: V8 checks the receiver of a class's
// methods ("Illegal invocation") but not of its accessors, and napi-rs
// unwraps whatever object a getter is called on as the class
// (`Object.getOwnPropertyDescriptor(Dns64Cache.prototype, 'size').get.call(dns64)`
// read a `Dns64` as a `Dns64Cache`). index.js takes the method off the
// prototype and makes each getter call it first, so a foreign receiver is a
// `TypeError`. test/receiver.test.js fails for a class with getters and
// without the method. (It sits in the class's own `#[napi] impl`: a second
// one would add a blank line to the class in index.d.ts.)

pub mod args;
pub mod dns64;
pub mod exchange;
pub mod stateful;
pub mod stateless;
pub mod verdict;

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

/// A Node-API status as a `Result`.
fn check(status: sys::napi_status) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::from_reason(format!("Node-API call failed ({status})")))
    }
}

/// `OUTPUT_BUFFER_LEN` of the core: an output buffer this large holds the
/// result of any one packet.
#[napi]
pub const OUTPUT_BUFFER_LEN: u32 = CORE_OUTPUT_BUFFER_LEN as u32;
