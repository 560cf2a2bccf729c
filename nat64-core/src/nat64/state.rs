//! The sessions of a stateful NAT64 as bytes, and back: what a gateway
//! writes to its state file before it stops and loads when it starts, so
//! that a restart or an upgrade loses no flow (issue 14; RFC 6146 section
//! 3.5 keeps a session as long as its lifetime, whichever process holds
//! it).
//!
//! Only sessions are saved. A dynamic BIB entry lives exactly as long as
//! its sessions (RFC 6146 section 3.5.1.1), so it is rebuilt from them;
//! static entries come from the configuration. A session's lifetime is
//! saved as what remains of it, so it is measured on the loading
//! process's clock, whatever that clock's origin.
//!
//! The format, version 1 (all integers big-endian):
//!
//! ```text
//! magic    8   "NAT64SES"
//! version  2   1
//! pool6   17   the pool6 prefix (16 address bytes, the length): a session's
//!              IPv6 side is its remote under pool6, so sessions saved
//!              under another prefix are not restored
//! count    4   number of records
//! records  count x 40:
//!   proto 1 (6 TCP, 17 UDP, 1 ICMP), state 1 (0 none ... 8 TRANS, see
//!   `state_code`), IPv6 client 16 + port 2, pool4 address 4 + port 2,
//!   IPv4 remote 4 + port 2, remaining lifetime in microseconds 8
//! check    8   FNV-1a 64 of every byte before it
//! ```
//!
//! The whole input is checked (length, magic, version, check, every record)
//! before anything is installed: a torn or foreign file changes nothing.

use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};
use core::time::Duration;

use super::stateful::Nat64;
use super::table::{Bib, InsertError, Instant, Proto, Session, SessionTable, Taddr4, Taddr6, TcpState};
use crate::addr::Prefix64;

const MAGIC: &[u8; 8] = b"NAT64SES";
/// The format version [`Nat64::save_sessions`] writes.
pub const STATE_VERSION: u16 = 1;
const HEADER: usize = 8 + 2 + 17 + 4;
const RECORD: usize = 40;
const CHECK: usize = 8;

/// Why a state file was refused (nothing was installed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// Not a state file.
    #[error("not a nat64 session state file (no NAT64SES magic): check the state_file path")]
    NotAStateFile,
    /// Written by another version of the format.
    #[error("session state format version {found}, this nat64 reads version {STATE_VERSION}: delete the file to start with no sessions")]
    Version {
        /// The version in the file.
        found: u16,
    },
    /// Shorter or longer than its header says.
    #[error("session state file of {len} bytes, its header says {expected}: it is torn (an interrupted write?)")]
    Length {
        /// The file's length.
        len: usize,
        /// The length its header implies.
        expected: usize,
    },
    /// The check value does not match.
    #[error("session state file check value mismatch: the file is corrupt")]
    Check,
    /// A record holds a value no session has.
    #[error("session state record {index}: {what}")]
    Record {
        /// The record's position (from 0).
        index: usize,
        /// What is wrong.
        what: &'static str,
    },
}

/// A saved session: the session with the lifetime it had left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SavedSession {
    /// Protocol.
    pub proto: Proto,
    /// The IPv6 client's transport address.
    pub v6: Taddr6,
    /// The pool4 transport address.
    pub v4: Taddr4,
    /// The IPv4 remote.
    pub remote: Taddr4,
    /// TCP state.
    pub state: TcpState,
    /// What was left of its lifetime.
    pub remaining: Duration,
}

impl SavedSession {
    /// The session as it stood at `now`.
    pub fn of(s: &Session, now: Instant) -> Self {
        SavedSession {
            proto: s.proto,
            v6: s.v6,
            v4: s.v4,
            remote: s.remote,
            state: s.state,
            remaining: if s.expires.as_micros() > now.as_micros() {
                s.expires.since(now)
            } else {
                Duration::ZERO
            },
        }
    }
}

/// What [`Nat64::restore_sessions`] did with a state file's records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RestoreReport {
    /// Sessions installed.
    pub restored: usize,
    /// Records whose lifetime had run out.
    pub expired: usize,
    /// Records whose pool4 transport address is not in the pool4 in force
    /// (RFC 6146 section 3.5.1.1: the NAT64 only uses addresses it owns).
    pub outside_pool4: usize,
    /// Records whose BIB entry conflicts with one in the table (its IPv6 or
    /// IPv4 transport address bound to another), or whose session exists.
    pub conflicts: usize,
    /// Records the table refused (full, or the client's quota).
    pub refused: usize,
    /// The file was written under another pool6: no record was restored.
    pub pool6_changed: bool,
}

const fn proto_code(p: Proto) -> u8 {
    match p {
        Proto::Tcp => 6,
        Proto::Udp => 17,
        Proto::Icmp => 1,
    }
}

fn proto_of(c: u8) -> Option<Proto> {
    match c {
        6 => Some(Proto::Tcp),
        17 => Some(Proto::Udp),
        1 => Some(Proto::Icmp),
        _ => None,
    }
}

const STATES: [TcpState; 9] = [
    TcpState::None,
    TcpState::Closed,
    TcpState::V4Init,
    TcpState::V6Init,
    TcpState::Established,
    TcpState::V4FinRcv,
    TcpState::V6FinRcv,
    TcpState::V4FinV6FinRcv,
    TcpState::Trans,
];

fn state_code(s: TcpState) -> u8 {
    STATES.iter().position(|&x| x == s).unwrap_or(0) as u8
}

fn fnv1a(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Writes the state file of `sessions` (as they stand at `now`) saved under
/// `pool6` into `out` (appended).
pub fn encode(pool6: &Prefix64, sessions: &[SavedSession], out: &mut Vec<u8>) {
    let start = out.len();
    out.reserve(HEADER + sessions.len() * RECORD + CHECK);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&STATE_VERSION.to_be_bytes());
    out.extend_from_slice(&pool6.prefix().addr().octets());
    out.push(pool6.prefix_len());
    out.extend_from_slice(&(sessions.len() as u32).to_be_bytes());
    for s in sessions {
        out.push(proto_code(s.proto));
        out.push(state_code(s.state));
        out.extend_from_slice(&s.v6.addr.octets());
        out.extend_from_slice(&s.v6.port.to_be_bytes());
        out.extend_from_slice(&s.v4.addr.octets());
        out.extend_from_slice(&s.v4.port.to_be_bytes());
        out.extend_from_slice(&s.remote.addr.octets());
        out.extend_from_slice(&s.remote.port.to_be_bytes());
        let us = u64::try_from(s.remaining.as_micros()).unwrap_or(u64::MAX);
        out.extend_from_slice(&us.to_be_bytes());
    }
    let check = fnv1a(&out[start..]);
    out.extend_from_slice(&check.to_be_bytes());
}

/// A checked state file: its pool6 and its records.
#[derive(Debug, Clone, Copy)]
pub struct StateFile<'a> {
    /// The pool6 prefix the sessions were saved under (its address and
    /// length as written; not necessarily a valid RFC 6052 prefix).
    pub pool6: (Ipv6Addr, u8),
    records: &'a [u8],
}

impl<'a> StateFile<'a> {
    /// Checks the whole file: magic, version, length, check value and
    /// every record. Allocates nothing.
    pub fn parse(b: &'a [u8]) -> Result<Self, StateError> {
        if b.len() < 10 || &b[..8] != MAGIC {
            return Err(StateError::NotAStateFile);
        }
        let version = u16::from_be_bytes([b[8], b[9]]);
        if version != STATE_VERSION {
            return Err(StateError::Version { found: version });
        }
        if b.len() < HEADER + CHECK {
            return Err(StateError::Length {
                len: b.len(),
                expected: HEADER + CHECK,
            });
        }
        let count = u32::from_be_bytes([b[27], b[28], b[29], b[30]]) as usize;
        let expected = count
            .checked_mul(RECORD)
            .and_then(|n| n.checked_add(HEADER + CHECK))
            .unwrap_or(usize::MAX);
        if b.len() != expected {
            return Err(StateError::Length { len: b.len(), expected });
        }
        let (body, check) = b.split_at(b.len() - CHECK);
        if fnv1a(body) != u64::from_be_bytes(check.try_into().unwrap_or([0; 8])) {
            return Err(StateError::Check);
        }
        let mut a = [0u8; 16];
        a.copy_from_slice(&b[10..26]);
        let f = StateFile {
            pool6: (Ipv6Addr::from(a), b[26]),
            records: &body[HEADER..],
        };
        for (index, r) in f.records.chunks_exact(RECORD).enumerate() {
            record(r).map_err(|what| StateError::Record { index, what })?;
        }
        Ok(f)
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len() / RECORD
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The records (each checked by [`StateFile::parse`]).
    pub fn sessions(&self) -> impl Iterator<Item = SavedSession> + 'a {
        self.records.chunks_exact(RECORD).filter_map(|r| record(r).ok())
    }
}

fn record(r: &[u8]) -> Result<SavedSession, &'static str> {
    let proto = proto_of(r[0]).ok_or("unknown protocol")?;
    let state = *STATES.get(usize::from(r[1])).ok_or("unknown TCP state")?;
    if (proto == Proto::Tcp) == (state == TcpState::None) {
        return Err("TCP state on a non-TCP session, or none on a TCP one");
    }
    let mut a6 = [0u8; 16];
    a6.copy_from_slice(&r[2..18]);
    let port = |i: usize| u16::from_be_bytes([r[i], r[i + 1]]);
    let v4 = |i: usize| Ipv4Addr::new(r[i], r[i + 1], r[i + 2], r[i + 3]);
    let mut us = [0u8; 8];
    us.copy_from_slice(&r[32..40]);
    Ok(SavedSession {
        proto,
        state,
        v6: Taddr6 {
            addr: Ipv6Addr::from(a6),
            port: port(18),
        },
        v4: Taddr4 {
            addr: v4(20),
            port: port(24),
        },
        remote: Taddr4 {
            addr: v4(26),
            port: port(30),
        },
        remaining: Duration::from_micros(u64::from_be_bytes(us)),
    })
}

impl<T: SessionTable> Nat64<T> {
    /// Writes every session as it stands at `now` into `out` (appended), in
    /// the state file format of this module; returns how many.
    pub fn save_sessions(&self, now: Instant, out: &mut Vec<u8>) -> usize {
        let mut v = Vec::with_capacity(self.table().session_count());
        self.table().for_each_session(&mut |s| {
            if s.expires.as_micros() > now.as_micros() {
                v.push(SavedSession::of(s, now));
            }
        });
        encode(&self.pool6(), &v, out);
        v.len()
    }

    /// Installs the sessions of a state file at `now`, each with the
    /// lifetime it had left, with its dynamic BIB entry. The file is
    /// checked whole first ([`StateFile::parse`]); a record that does not
    /// fit the configuration in force (pool4, pool6) or the table (a BIB
    /// entry bound otherwise, caps) is counted and skipped, the others
    /// installed.
    pub fn restore_sessions(&mut self, file: &[u8], now: Instant) -> Result<RestoreReport, StateError> {
        let f = StateFile::parse(file)?;
        let mut r = RestoreReport::default();
        let pool6 = self.pool6().prefix();
        if f.pool6 != (pool6.addr(), pool6.prefix_len()) {
            r.pool6_changed = true;
            return Ok(r);
        }
        for s in f.sessions() {
            if s.remaining.is_zero() {
                r.expired += 1;
                continue;
            }
            if !self.pool4_contains(s.proto, s.v4) {
                r.outside_pool4 += 1;
                continue;
            }
            match self.install(&s, now) {
                Ok(()) => r.restored += 1,
                Err(InsertError::V4InUse { .. } | InsertError::V6InUse { .. }) => r.conflicts += 1,
                Err(_) => r.refused += 1,
            }
        }
        Ok(r)
    }

    /// One saved session into the table, with its BIB entry.
    fn install(&mut self, s: &SavedSession, now: Instant) -> Result<(), InsertError> {
        let t = self.table_mut();
        let conflict = InsertError::V6InUse {
            proto: s.proto,
            v6: s.v6,
        };
        if t.find_v6(s.proto, s.v6, s.remote).is_some() {
            return Err(conflict);
        }
        let mut added = false;
        match (t.bib_by_v6(s.proto, s.v6), t.bib_by_v4(s.proto, s.v4)) {
            (Some(a), Some(b)) if a == b => {}
            (None, None) => {
                t.add_bib(Bib {
                    proto: s.proto,
                    v6: s.v6,
                    v4: s.v4,
                    is_static: false,
                })?;
                added = true;
            }
            _ => return Err(conflict),
        }
        let res = t.insert(Session {
            proto: s.proto,
            v6: s.v6,
            v4: s.v4,
            remote: s.remote,
            state: s.state,
            expires: now.add(s.remaining),
        });
        match res {
            Ok(_) => Ok(()),
            Err(e) => {
                // A BIB entry added for a session that could not be is not
                // left behind (it would hold a pool4 port with no flow).
                if added {
                    t.remove_bib(s.proto, s.v4);
                }
                Err(e)
            }
        }
    }
}
