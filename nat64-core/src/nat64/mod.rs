//! Stateful NAT64 (RFC 6146): BIBs and sessions behind the
//! [`table::SessionTable`] trait, pool4, the TCP state machine, filtering,
//! and the translator that drives them with time passed in.

pub mod default_table;
pub mod table;
