//! A new configuration for a running stateful NAT64 (an operator's reload)
//! over the same BIB and session tables: [`Nat64::reconfigure_with`].

use alloc::vec::Vec;

use super::{add_static_bibs, Nat64, Nat64Config, Nat64ConfigError};
use crate::nat64::default_table::{DefaultTable, TableLimits};
use crate::nat64::table::{Bib, SessionTable};

/// What [`Nat64::reconfigure`] changed in the tables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReconfigureReport {
    /// pool6 differs from the old configuration's.
    pub pool6_changed: bool,
    /// pool4 differs from the old configuration's.
    pub pool4_changed: bool,
    /// The BIB entries removed (with their sessions), as they were.
    pub removed_bibs: Vec<Bib>,
    /// Sessions removed with them.
    pub removed_sessions: usize,
    /// Unsolicited IPv4 SYNs that were held (RFC 6146 section 3.5.2.2) and
    /// are now forgotten, unanswered.
    pub dropped_held_syns: usize,
    /// Datagrams whose fragments were being reassembled, abandoned.
    pub dropped_partial_datagrams: usize,
}

impl Nat64<DefaultTable> {
    /// Applies `cfg` over the same tables (see [`Nat64::reconfigure_with`]),
    /// the table's caps included ([`DefaultTable::set_limits`]).
    pub fn reconfigure(&mut self, cfg: Nat64Config) -> Result<ReconfigureReport, Nat64ConfigError> {
        self.reconfigure_with(cfg, DefaultTable::set_limits)
    }
}

impl<T: SessionTable> Nat64<T> {
    /// Applies `cfg` over the same BIB and session tables (RFC 6146
    /// sections 3.1 and 3.2), so that established flows keep going, and
    /// reports what it removed. What cannot survive the change goes:
    ///
    /// - **pool6 changed**: every dynamic BIB entry and its sessions. A
    ///   session's IPv6 view of its remote is the remote's IPv4 address under
    ///   pool6 (RFC 6146 section 3.5.1.1; RFC 6052 section 2.2), so the clients
    ///   of the old sessions reach their remotes through a prefix that is no
    ///   longer ours.
    /// - **pool4 changed**: the dynamic BIB entries (and their sessions) whose
    ///   IPv4 transport address is outside the new pool4. The NAT64 allocates
    ///   that address from its pool (RFC 6146 sections 3.5.1.1, 3.5.2.3 and
    ///   3.5.3), and an address it no longer owns must not be used or answered.
    /// - **Static BIB entries** (RFC 6146 section 3.1: created manually) no
    ///   longer configured are removed with their sessions; a dynamic entry
    ///   that shares its IPv4 or its IPv6 transport address with a new static
    ///   entry gives way to it (a transport address has one BIB entry per
    ///   protocol, section 3.1).
    /// - **Held SYNs** (section 3.5.2.2) and **partial datagrams** (the
    ///   fragments held for reassembly, section 3.4) are dropped: they were
    ///   judged under the old configuration. The reassembly counters
    ///   restart; every other counter (per verdict, per reason, evictions)
    ///   carries on.
    ///
    /// `set_limits` gives the table `cfg.limits` (the [`SessionTable`] trait
    /// has no caps of its own; a table without caps passes `|_, _| {}`); it
    /// is called after the removals and before the static entries are
    /// added.
    ///
    /// `cfg` is checked first, exactly as [`Nat64::with_table`] checks it:
    /// on such an error nothing changed. The one later error is a static
    /// entry the table itself refuses (full, or out of memory): then the
    /// removals and the limits have been applied, the old configuration
    /// stays in force, and the error names the entry.
    pub fn reconfigure_with(
        &mut self,
        cfg: Nat64Config,
        set_limits: impl FnOnce(&mut T, TableLimits),
    ) -> Result<ReconfigureReport, Nat64ConfigError> {
        // The new configuration must work on its own before the table is
        // touched: the same checks, on an empty table of the same caps.
        let fresh = Nat64::with_table(cfg.clone(), DefaultTable::with_seed(cfg.limits, 0, 0))?;
        let pool6_changed = self.cfg.xlat.pool6 != cfg.xlat.pool6;
        let pool4_changed = self.cfg.pool4 != cfg.pool4;
        let mut removed_bibs = Vec::new();
        self.table.for_each_bib(&mut |b| {
            let gone = if b.is_static {
                !cfg.static_bib
                    .iter()
                    .any(|s| s.proto == b.proto && s.v4 == b.v4 && s.v6 == b.v6)
            } else {
                pool6_changed
                    || !fresh.pool4.contains(b.proto, b.v4)
                    || cfg
                        .static_bib
                        .iter()
                        .any(|s| s.proto == b.proto && (s.v4 == b.v4 || s.v6 == b.v6))
            };
            if gone {
                removed_bibs.push(*b);
            }
        });
        let before = self.table.session_count();
        for b in &removed_bibs {
            self.table.remove_bib(b.proto, b.v4);
        }
        let removed_sessions = before.saturating_sub(self.table.session_count());
        set_limits(&mut self.table, cfg.limits);
        add_static_bibs(&mut self.table, &cfg.static_bib, &fresh.pool4)?;
        let report = ReconfigureReport {
            pool6_changed,
            pool4_changed,
            removed_bibs,
            removed_sessions,
            dropped_held_syns: self.held.len(),
            dropped_partial_datagrams: self.reasm.stats().in_progress,
        };
        let Nat64 {
            eng,
            pool6,
            pool4,
            reasm,
            ..
        } = fresh;
        self.eng = eng;
        self.pool6 = pool6;
        self.pool4 = pool4;
        self.reasm = reasm;
        self.held.clear();
        self.cfg = cfg;
        Ok(report)
    }
}
