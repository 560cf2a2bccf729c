//! The session table the gateway's workers share: the core's
//! [`DefaultTable`] behind an `Arc<Mutex>`, implementing the core's
//! [`SessionTable`] trait (RFC 6146 section 3.1) so that it outlives one
//! [`nat64_core::nat64::Nat64`]: a reload builds a new translator over the
//! same table, and established sessions survive.
//!
//! The translator itself is behind a mutex too (see [`crate::Gateway`]), so
//! this inner lock is never contended on the packet path; it costs two
//! uncontended atomic operations per call.

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, MutexGuard};

use nat64_core::nat64::default_table::SessionHandle;
use nat64_core::nat64::{
    Bib, DefaultTable, InsertError, Instant, Proto, Session, SessionTable, TableLimits, Taddr4, Taddr6, TcpState,
};

/// A [`DefaultTable`] that several owners can hold.
#[derive(Clone, Debug)]
pub struct SharedTable(Arc<Mutex<DefaultTable>>);

impl SharedTable {
    /// A table with these caps, its hash keyed from the operating system's
    /// random source (so that remote hosts cannot aim at one bucket).
    pub fn new(limits: TableLimits) -> Self {
        let seed = random_u64();
        SharedTable(Arc::new(Mutex::new(DefaultTable::with_seed(limits, 1024, seed))))
    }

    /// The table, locked. A poisoned lock (a thread panicked while holding
    /// it) is taken over: the table's operations never leave it half-done.
    pub fn lock(&self) -> MutexGuard<'_, DefaultTable> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// 64 bits from /dev/urandom, or a time-derived value if it cannot be read.
pub fn random_u64() -> u64 {
    use std::io::Read;
    let mut b = [0u8; 8];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .is_ok()
    {
        return u64::from_ne_bytes(b);
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (t.as_nanos() as u64) ^ (u64::from(std::process::id()) << 32)
}

impl SessionTable for SharedTable {
    type Handle = SessionHandle;

    fn bib_by_v6(&self, proto: Proto, v6: Taddr6) -> Option<Bib> {
        self.lock().bib_by_v6(proto, v6)
    }
    fn bib_by_v4(&self, proto: Proto, v4: Taddr4) -> Option<Bib> {
        self.lock().bib_by_v4(proto, v4)
    }
    fn add_bib(&mut self, bib: Bib) -> Result<(), InsertError> {
        self.lock().add_bib(bib)
    }
    fn remove_bib(&mut self, proto: Proto, v4: Taddr4) -> bool {
        self.lock().remove_bib(proto, v4)
    }
    fn find_v6(&self, proto: Proto, v6: Taddr6, remote: Taddr4) -> Option<Self::Handle> {
        self.lock().find_v6(proto, v6, remote)
    }
    fn find_v4(&self, proto: Proto, v4: Taddr4, remote: Taddr4) -> Option<Self::Handle> {
        self.lock().find_v4(proto, v4, remote)
    }
    fn has_session_with(&self, proto: Proto, v4: Taddr4, remote: Ipv4Addr) -> bool {
        self.lock().has_session_with(proto, v4, remote)
    }
    fn get(&self, h: Self::Handle) -> Session {
        self.lock().get(h)
    }
    fn insert(&mut self, s: Session) -> Result<Self::Handle, InsertError> {
        self.lock().insert(s)
    }
    fn update(&mut self, h: Self::Handle, state: TcpState, expires: Instant) {
        self.lock().update(h, state, expires)
    }
    fn remove(&mut self, h: Self::Handle) {
        self.lock().remove(h)
    }
    fn expire(&mut self, now: Instant) -> usize {
        self.lock().expire(now)
    }
    fn next_expiry(&self) -> Option<Instant> {
        self.lock().next_expiry()
    }
    fn evict_for_room(&mut self, now: Instant) -> Option<Session> {
        self.lock().evict_for_room(now)
    }
    fn check_quota(&self, client: std::net::Ipv6Addr) -> Result<(), InsertError> {
        self.lock().check_quota(client)
    }
    fn session_count(&self) -> usize {
        self.lock().session_count()
    }
    fn bib_count(&self) -> usize {
        self.lock().bib_count()
    }
    fn for_each_session(&self, f: &mut dyn FnMut(&Session)) {
        self.lock().for_each_session(f)
    }
    fn for_each_bib(&self, f: &mut dyn FnMut(&Bib)) {
        self.lock().for_each_bib(f)
    }
}
