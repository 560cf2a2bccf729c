//! `nat64 dns64`: a DNS64 resolver (RFC 6147) in front of one or more
//! upstream resolvers.
//!
//! This module parses the command line and nothing else: the rules are
//! [`nat64_core::dns64`] (its `Exchange`), the sockets, upstreams, cache and
//! metrics are the `nat64-dns64` crate. Settings come from flags and from
//! the `[dns64]` table of a TOML file (`--config`); flags win, and a list
//! flag replaces the file's list. Other tables of the file (e.g.
//! `[translator]`) are ignored here.

use std::error::Error;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use nat64_config::dns64::{parse_prefix_rule, parse_upstream, Flags};
use nat64_core::dns64::{ClientPrefix, Dns64Options, PrefixRule};
use nat64_core::Ipv6Prefix;

/// Command-line arguments of `nat64 dns64`.
#[derive(clap::Args, Debug, Default)]
#[command(after_help = "\
Examples:
  nat64 dns64 --upstream 192.0.2.53                         # 64:ff9b::/96, listen on [::]:53
  nat64 dns64 --listen [::1]:5353 --upstream 127.0.0.1:53 --prefix 2001:db8:64::/96
  nat64 dns64 --upstream 192.0.2.53 --prefix '2001:db8:1::/96=198.51.100.0/24' --translate-all
  nat64 dns64 --upstream 192.0.2.53 --prefix '2001:db8:1::/96=198.51.100.0/24' \
              --prefix '2001:db8:2::/96=!198.51.100.0/24'    # one prefix for a range, one for the rest
  nat64 dns64 --upstream 127.0.0.1:5353 --upstream-validates    # behind a local validating resolver
  nat64 dns64 --config gateway.toml                         # the [dns64] table

Flags override the keys of the --config file's [dns64] table; a flag that takes a
list (--listen, --upstream, --prefix, --exclude, --client) replaces the file's list.

IPv4 ranges of a prefix (--prefix PREFIX=LIST, or `mapped` in the file) work like BIND's
`mapped` address match list: the elements are tried in order, the first that holds the
address decides, and `!RANGE` means the prefix is NOT used for it; `any` is 0.0.0.0/0.
An address no element holds is used only when the list has no positive element, so
'!10.0.0.0/8' alone means every address but 10/8. An element that an earlier one of the
other sign already covers (any,!10.0.0.0/8) is refused: put the exclusion first. Quote
the list for the shell ('!' is special to interactive bash).

PTR queries for ip6.arpa names under a prefix (RFC 6147 section 5.3.1) are answered from
the matching in-addr.arpa name: a CNAME to it when it has PTR records, its NXDOMAIN or
empty answer (with its SOA) when it has none; otherwise the query is forwarded.

DNSSEC (RFC 6147 section 5.5): a client setting both CD and DO gets no synthesis (its query
is forwarded as it is); a client setting CD alone gets synthesis and no AD. Synthesized
answers never carry AD unless --upstream-validates (item 2: DO set, CD clear, and both the
negative AAAA answer and the A answer came with AD).")]
pub struct Args {
    /// TOML file with a `[dns64]` table (other tables are ignored).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on, UDP and TCP (repeatable; default `[::]:53`; port 0 picks a free port).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Vec<SocketAddr>,
    /// Upstream resolver, tried in the order given (repeatable; port 53 unless given).
    #[arg(long = "upstream", value_name = "ADDR[:PORT]", value_parser = parse_upstream)]
    pub upstreams: Vec<SocketAddr>,
    /// Synthesis prefix (repeatable; default 64:ff9b::/96), optionally with the IPv4 ranges it is
    /// used for, first match wins, `!` for ranges it is not used for, `any` for all:
    /// 2001:db8:1::/96=198.51.100.0/24,203.0.113.0/24 or '2001:db8:2::/96=!10.0.0.0/8,any'.
    #[arg(long = "prefix", value_name = "PREFIX[=V4RANGES]", value_parser = parse_prefix_rule)]
    pub prefixes: Vec<PrefixRule>,
    /// AAAA records in this range are treated as absent (repeatable; default ::ffff:0:0/96).
    #[arg(long, value_name = "V6PREFIX")]
    pub exclude: Vec<Ipv6Prefix>,
    /// Only these clients get DNS64 (repeatable; default all).
    #[arg(long = "client", value_name = "PREFIX")]
    pub clients: Vec<ClientPrefix>,
    /// Synthesize even when real AAAA records exist, replacing them (CoreDNS translate_all, unbound
    /// dns64-synthall; RFC 6147 section 5.1.1's non-default option). A name with AAAA records and
    /// nothing to synthesize from (no A record, or only ones no prefix is used for, or a failed A
    /// query) still gets its real AAAA records, less the --exclude ranges (section 5.1.4).
    #[arg(long)]
    pub translate_all: bool,
    /// Also synthesize for clients asking over IPv4 (CoreDNS allow_ipv4).
    #[arg(long)]
    pub allow_ipv4: bool,
    /// Synthesize non-global IPv4 addresses under 64:ff9b::/96 too (RFC 6052 section 3.1).
    #[arg(long)]
    pub allow_non_global: bool,
    /// The upstreams validate DNSSEC and their AD bit is trusted (RFC 6147 section 5.5 item 2):
    /// synthesized answers to DO clients (CD clear) carry AD when both upstream answers did.
    #[arg(long)]
    pub upstream_validates: bool,
    /// Time to wait for one upstream before trying the next, in milliseconds (default 1500).
    #[arg(long, value_name = "MS")]
    pub timeout_ms: Option<u64>,
    /// Cache entries (default 10000; 0 disables the cache).
    #[arg(long, value_name = "N")]
    pub cache_size: Option<usize>,
    /// Longest time a response is cached, and the largest TTL any response
    /// carries, in seconds (default 86400).
    #[arg(long, value_name = "SECS")]
    pub max_cache_ttl: Option<u32>,
    /// EDNS UDP payload size we send and accept (default 1232).
    #[arg(long, value_name = "BYTES")]
    pub edns_udp_size: Option<u16>,
    /// Seconds between metrics lines on standard error (default 60; 0 turns them off).
    #[arg(long, value_name = "SECS")]
    pub metrics_interval: Option<u64>,
    /// Worker threads, each answering from the shared sockets and cache (default: one per CPU).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

impl Args {
    /// The flags' values, for [`nat64_config::dns64::settings`].
    pub fn flags(&self) -> Flags {
        Flags {
            listen: self.listen.clone(),
            upstreams: self.upstreams.clone(),
            dns64: Dns64Options {
                prefixes: given(&self.prefixes),
                exclude: given(&self.exclude),
                clients: given(&self.clients),
                translate_all: self.translate_all.then_some(true),
                allow_ipv4: self.allow_ipv4.then_some(true),
                allow_non_global: self.allow_non_global.then_some(true),
                edns_udp_size: self.edns_udp_size,
                upstream_validates: self.upstream_validates.then_some(true),
            },
            timeout_ms: self.timeout_ms,
            cache_size: self.cache_size,
            max_cache_ttl: self.max_cache_ttl,
            metrics_interval: self.metrics_interval,
            threads: self.threads,
        }
    }
}

/// A repeatable flag's values, `None` when it was not given.
fn given<T: Clone>(values: &[T]) -> Option<Vec<T>> {
    (!values.is_empty()).then(|| values.to_vec())
}

/// Runs the resolver until the process is stopped.
pub fn run(a: Args) -> Result<ExitCode, Box<dyn Error>> {
    let s = nat64_config::dns64::settings(a.config.as_deref(), &a.flags())?;
    nat64_dns64::start(&s)?;
    // The workers never return; a failing one exits the process.
    loop {
        std::thread::park();
    }
}
