//! RFC 6146 section 3.1: the Binding Information Bases and the session
//! tables, behind the [`SessionTable`] trait so an embedder can plug in its
//! own store. The types here are what the trait speaks.

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};
use core::time::Duration;

/// A point in time, in microseconds since an epoch the caller chooses. The
/// core never reads a clock: every call that needs time takes an `Instant`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(pub u64);

impl Instant {
    /// From microseconds.
    pub const fn from_micros(us: u64) -> Self {
        Instant(us)
    }
    /// From seconds.
    pub const fn from_secs(s: u64) -> Self {
        Instant(s * 1_000_000)
    }
    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> u64 {
        self.0
    }
    /// `self + d`, saturating.
    #[allow(clippy::should_implement_trait)]
    pub fn add(self, d: Duration) -> Self {
        Instant(self.0.saturating_add(d.as_micros().min(u128::from(u64::MAX)) as u64))
    }
    /// `self - earlier`, zero if `earlier` is later.
    pub fn since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }
}

/// The three BIBs of RFC 6146 section 3.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP queries; the "port" is the ICMP identifier.
    Icmp,
}

impl Proto {
    /// Lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
        }
    }
    /// Index 0..3, for per-protocol arrays.
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An IPv6 transport address (address, port or ICMP identifier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Taddr6 {
    /// Address.
    pub addr: Ipv6Addr,
    /// Port or ICMP identifier.
    pub port: u16,
}

/// An IPv4 transport address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Taddr4 {
    /// Address.
    pub addr: Ipv4Addr,
    /// Port or ICMP identifier.
    pub port: u16,
}

impl fmt::Display for Taddr6 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]:{}", self.addr, self.port)
    }
}
impl fmt::Display for Taddr4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.addr, self.port)
    }
}

/// A BIB entry (RFC 6146 section 3.1): one IPv6 transport address bound to
/// one IPv4 transport address from pool4, per protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bib {
    /// Protocol.
    pub proto: Proto,
    /// The IPv6 client's transport address.
    pub v6: Taddr6,
    /// The pool4 transport address it is mapped to.
    pub v4: Taddr4,
    /// Configured by the operator (never expires).
    pub is_static: bool,
}

/// RFC 6146 section 3.5.2 TCP states (plus the states of UDP and ICMP
/// sessions, which have none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpState {
    /// Not TCP.
    None,
    /// CLOSED (only while a session is being created).
    Closed,
    /// V4 INIT: an IPv4 SYN seen first.
    V4Init,
    /// V6 INIT: an IPv6 SYN seen first.
    V6Init,
    /// ESTABLISHED.
    Established,
    /// V4 FIN RCV.
    V4FinRcv,
    /// V6 FIN RCV.
    V6FinRcv,
    /// V4 FIN + V6 FIN RCV.
    V4FinV6FinRcv,
    /// TRANS: waiting for the transitory timeout.
    Trans,
}

impl TcpState {
    /// Whether a session in this state may be removed before its time to
    /// make room for a new one ([`SessionTable::evict_for_room`]): a TCP
    /// connection not open in both directions, half-open (V4 INIT, V6 INIT:
    /// no answer to its SYN yet) or closing (both FINs seen, or TRANS after
    /// a RST). Its loss costs at most a SYN retransmission or a late
    /// segment of a connection that is over; ESTABLISHED and half-closed
    /// connections (one FIN) still carry data, and UDP and ICMP sessions
    /// have no state that tells an answered flow from an unanswered one.
    pub const fn evictable(self) -> bool {
        matches!(
            self,
            TcpState::V4Init | TcpState::V6Init | TcpState::V4FinV6FinRcv | TcpState::Trans
        )
    }

    /// Jool-style upper-case name.
    pub const fn name(self) -> &'static str {
        match self {
            TcpState::None => "-",
            TcpState::Closed => "CLOSED",
            TcpState::V4Init => "V4_INIT",
            TcpState::V6Init => "V6_INIT",
            TcpState::Established => "ESTABLISHED",
            TcpState::V4FinRcv => "V4_FIN_RCV",
            TcpState::V6FinRcv => "V6_FIN_RCV",
            TcpState::V4FinV6FinRcv => "V4_FIN_V6_FIN_RCV",
            TcpState::Trans => "TRANS",
        }
    }
}

/// A session (RFC 6146 section 3.1): the 5-tuples on both sides.
///
/// On the IPv6 side the remote address is the pool6 embedding of
/// `remote.addr`, so it is not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Session {
    /// Protocol.
    pub proto: Proto,
    /// IPv6 client transport address (the BIB's IPv6 side).
    pub v6: Taddr6,
    /// The pool4 transport address (the BIB's IPv4 side).
    pub v4: Taddr4,
    /// The IPv4 remote transport address (the IPv6 side sees it through
    /// pool6, with the same port).
    pub remote: Taddr4,
    /// TCP state.
    pub state: TcpState,
    /// When it expires unless refreshed.
    pub expires: Instant,
}

/// Why a session or BIB entry could not be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InsertError {
    /// The table holds its configured maximum of sessions.
    #[error("the session table is full ({max} sessions); raise max_sessions or lower the timeouts")]
    TableFull {
        /// The cap.
        max: usize,
    },
    /// This client (address or prefix) holds its quota.
    #[error(
        "client {client} holds its quota of {max} sessions; raise max_sessions_per_client if this client is legitimate"
    )]
    ClientQuota {
        /// The client address (the prefix's first address when quotas are per prefix).
        client: Ipv6Addr,
        /// The quota.
        max: usize,
    },
    /// The IPv4 transport address is already bound.
    #[error("{proto} {v4} is already bound to another IPv6 transport address")]
    V4InUse {
        /// Protocol.
        proto: Proto,
        /// The address.
        v4: Taddr4,
    },
    /// The IPv6 transport address is already bound.
    #[error("{proto} {v6} is already bound to another IPv4 transport address")]
    V6InUse {
        /// Protocol.
        proto: Proto,
        /// The address.
        v6: Taddr6,
    },
}

/// The store behind the stateful NAT64: BIBs and sessions, with expiry.
///
/// Time is always an argument. An implementation must keep the two indexes
/// of every session consistent (a session reachable from its IPv6 side is
/// reachable from its IPv4 side), never return a session whose `expires` is
/// at or before the `now` of the last [`SessionTable::expire`], and remove a
/// dynamic BIB entry together with its last session.
pub trait SessionTable {
    /// A cheap reference to a stored session, valid until the next call that
    /// removes sessions ([`SessionTable::expire`], [`SessionTable::remove`]).
    type Handle: Copy;

    /// The BIB entry of an IPv6 transport address.
    fn bib_by_v6(&self, proto: Proto, v6: Taddr6) -> Option<Bib>;
    /// The BIB entry of a pool4 transport address.
    fn bib_by_v4(&self, proto: Proto, v4: Taddr4) -> Option<Bib>;
    /// Adds a BIB entry (static ones are kept until removed).
    fn add_bib(&mut self, bib: Bib) -> Result<(), InsertError>;
    /// Removes a BIB entry and its sessions; returns whether it existed.
    fn remove_bib(&mut self, proto: Proto, v4: Taddr4) -> bool;

    /// The session from IPv6 client `v6` to IPv4 remote `remote`.
    fn find_v6(&self, proto: Proto, v6: Taddr6, remote: Taddr4) -> Option<Self::Handle>;
    /// The session from IPv4 remote `remote` to pool4 address `v4`.
    fn find_v4(&self, proto: Proto, v4: Taddr4, remote: Taddr4) -> Option<Self::Handle>;
    /// Whether any session of BIB `v4` talks to `remote` (any port): the
    /// address-dependent filtering test of RFC 6146 section 3.5.
    fn has_session_with(&self, proto: Proto, v4: Taddr4, remote: Ipv4Addr) -> bool;
    /// Reads a session (by value, so concurrent stores can implement it).
    fn get(&self, h: Self::Handle) -> Session;
    /// Adds a session (its BIB entry must exist), enforcing the caps; a
    /// client over its quota gets [`InsertError::ClientQuota`] even when
    /// the table is full too.
    fn insert(&mut self, s: Session) -> Result<Self::Handle, InsertError>;
    /// Sets a session's state and expiry.
    fn update(&mut self, h: Self::Handle, state: TcpState, expires: Instant);
    /// Removes one session (and its dynamic BIB entry if it was the last).
    fn remove(&mut self, h: Self::Handle);

    /// Removes every session with `expires <= now` (and dynamic BIB entries
    /// left without sessions); returns how many sessions went.
    fn expire(&mut self, now: Instant) -> usize;
    /// The earliest `expires` among the sessions, if any.
    fn next_expiry(&self) -> Option<Instant>;

    /// Makes room when the table is full: removes one session that can go
    /// before its time at the least cost (see [`TcpState::evictable`]),
    /// with its dynamic BIB entry if it was the last, and returns it.
    /// `None` when no such session is at hand; the default never evicts.
    ///
    /// RFC 6146 leaves exhaustion to the implementation (section 5: the
    /// NAT64 is a target of resource exhaustion attacks). Without this, a
    /// flood of SYNs from many addresses fills the table with half-open
    /// sessions that hold their slots for the transitory timeout (4 min),
    /// refusing every client's new flows meanwhile; Linux conntrack's
    /// "early drop" of unconfirmed connections answers the same attack.
    fn evict_for_room(&mut self, now: Instant) -> Option<Session> {
        let _ = now;
        None
    }

    /// `Err(InsertError::ClientQuota)` if a new session of `client` would
    /// exceed its per-client quota. The caller asks before evicting
    /// anyone's session for a flow the quota would refuse anyway. The
    /// default has no quota.
    fn check_quota(&self, client: Ipv6Addr) -> Result<(), InsertError> {
        let _ = client;
        Ok(())
    }

    /// Number of sessions.
    fn session_count(&self) -> usize;
    /// Number of BIB entries.
    fn bib_count(&self) -> usize;
    /// Calls `f` for every session (for display; order unspecified).
    fn for_each_session(&self, f: &mut dyn FnMut(&Session));
    /// Calls `f` for every BIB entry.
    fn for_each_bib(&self, f: &mut dyn FnMut(&Bib));
}
