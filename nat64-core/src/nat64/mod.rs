//! Stateful NAT64 (RFC 6146): BIBs and sessions behind the
//! [`table::SessionTable`] trait, pool4, the TCP state machine, filtering,
//! fragment reassembly, the translator that drives them with time passed
//! in, and the sessions as a state file (`state`: what a restart keeps).

pub mod default_table;
pub mod pool4;
pub mod reassembly;
pub mod state;
mod stateful;
pub mod table;
pub mod tcp;
mod text;

pub use default_table::{DefaultTable, TableLimits};
pub use pool4::{Pool4, Pool4Entry, Pool4Error};
pub use reassembly::{Reassembler, ReassemblyLimits, ReassemblyStats};
pub use state::{RestoreReport, SavedSession, StateError, StateFile};
pub use stateful::{
    Nat64, Nat64Config, Nat64ConfigError, Nat64Stats, ReconfigureReport, SessionFilter, Timeouts, UDP_MIN,
};
pub use table::{Bib, InsertError, Instant, Proto, Session, SessionTable, Taddr4, Taddr6, TcpState};
pub use text::{Pool4EntryError, ProtoError, StaticBibError};
