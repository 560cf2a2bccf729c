//! The control socket: a local Unix stream socket on which the gateway
//! answers one JSON request per connection with one JSON response, for
//! `nat64 session display` and `nat64 stats`. Local only, and the socket
//! file is created mode 0600 (root's tool for root's daemon).
//!
//! ```text
//! -> {"cmd":"sessions","proto":"tcp"}
//! <- {"kind":"sessions","mode":"nat64","total":2,"sessions":[{"proto":"tcp",...}]}
//! -> {"cmd":"stats"}
//! <- {"kind":"stats",...}
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use crate::snapshot::{Counter, SessionRow, Stats, TableStats};

use crate::sys;

/// The default control socket.
pub const DEFAULT_SOCKET: &str = "/run/nat64/nat64.sock";

/// A request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Request {
    /// The session table (RFC 6146 section 3.1), optionally one protocol
    /// ("tcp", "udp" or "icmp").
    Sessions {
        /// Only this protocol.
        #[serde(default)]
        proto: Option<String>,
    },
    /// Every counter.
    Stats,
}

/// A response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Response {
    /// The sessions.
    Sessions {
        /// The gateway's mode (a stateless gateway has no sessions).
        mode: String,
        /// How many matched.
        total: u64,
        /// Sorted by protocol, client, remote.
        sessions: Vec<SessionRow>,
    },
    /// The counters.
    Stats(Box<Stats>),
    /// The request could not be served.
    Error {
        /// Why.
        message: String,
    },
}

/// Why a control request failed on the client side.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// No gateway listens.
    #[error("cannot connect to the gateway's control socket {path}: {error} (is `nat64 gateway` running? pass --socket if its [gateway] control_socket is elsewhere)")]
    Connect {
        /// The socket.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The exchange broke.
    #[error("control socket {path}: {error}")]
    Io {
        /// The socket.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The answer is not what this version expects.
    #[error("control socket {path}: unexpected answer ({error}); is the gateway the same version as this command?")]
    Protocol {
        /// The socket.
        path: PathBuf,
        /// Why.
        error: serde_json::Error,
    },
    /// The gateway refused.
    #[error("the gateway says: {0}")]
    Refused(String),
}

/// Sends one request and reads the response.
pub fn request(path: &Path, req: &Request) -> Result<Response, ControlError> {
    let io = |error| ControlError::Io {
        path: path.to_owned(),
        error,
    };
    let mut s = UnixStream::connect(path).map_err(|error| ControlError::Connect {
        path: path.to_owned(),
        error,
    })?;
    s.set_read_timeout(Some(Duration::from_secs(30))).map_err(io)?;
    let mut line = serde_json::to_vec(req).map_err(|e| io(std::io::Error::other(e)))?;
    line.push(b'\n');
    s.write_all(&line).map_err(io)?;
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).map_err(io)?;
    let r: Response = serde_json::from_slice(&buf).map_err(|error| ControlError::Protocol {
        path: path.to_owned(),
        error,
    })?;
    if let Response::Error { message } = r {
        return Err(ControlError::Refused(message));
    }
    Ok(r)
}

/// Binds the control socket: creates its folder, removes a stale socket
/// file (one nobody listens on), refuses to take over a live one.
pub(crate) fn bind(path: &Path) -> std::io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)?;
        }
    }
    if path.exists() {
        if UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                "another gateway is listening on it",
            ));
        }
        std::fs::remove_file(path)?;
    }
    let l = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// Serves requests until `stop` is readable (the gateway stops), each
/// answered by `answer`.
pub(crate) fn serve(listener: UnixListener, stop: RawFd, answer: impl Fn(Request) -> Response) {
    let served = sys::serve_until(listener.as_raw_fd(), stop, || {
        let Ok((stream, _)) = listener.accept() else { return };
        if let Err(e) = reply(&answer, stream) {
            crate::log!(crate::log::Level::Warn, "control_request_failed", error = e);
        }
    });
    if let Err(e) = served {
        crate::log!(crate::log::Level::Error, "control_poll_failed", error = e);
    }
}

fn reply(answer: &impl Fn(Request) -> Response, stream: UnixStream) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut line = String::new();
    BufReader::new(stream.try_clone()?.take(64 * 1024)).read_line(&mut line)?;
    let resp = match serde_json::from_str::<Request>(line.trim()) {
        Ok(req) => answer(req),
        Err(e) => Response::Error {
            message: format!("bad request ({e}); expected {{\"cmd\":\"sessions\"}} or {{\"cmd\":\"stats\"}}"),
        },
    };
    let mut out = serde_json::to_vec(&resp).map_err(std::io::Error::other)?;
    out.push(b'\n');
    (&stream).write_all(&out)
}
