//! The text forms of the stateful translator's settings: protocol names,
//! pool4 entries and static BIB entries, as the configuration file, the
//! command line and the bindings write them. Each type parses with
//! [`FromStr`] and prints with [`fmt::Display`], and printing then parsing
//! gives the value back. Around pool4 and static BIB entries and their
//! parts, spaces are ignored; a protocol name is exact.
//!
//! - [`Proto`]: `tcp`, `udp` or `icmp` (the three BIBs of RFC 6146
//!   section 3.1).
//! - [`Pool4Entry`]: `ADDR[/LEN][:FIRST-LAST]` (RFC 6146 section 3.5.1.1's
//!   IPv4 transport addresses), e.g. `192.0.2.0/28:61001-65535`; without a
//!   range, Jool's default [`DEFAULT_PORTS`](super::pool4::DEFAULT_PORTS).
//!   The entry serves the three protocols: the text has no way to restrict
//!   them, and an entry restricted in code prints as the unrestricted one.
//! - [`Bib`]: a static BIB entry (RFC 6146 section 3.1),
//!   `PROTO/V6ADDR#PORT=V4ADDR#PORT`, e.g. `tcp/2001:db8::5#80=192.0.2.1#8080`
//!   (the port is the ICMP identifier for `icmp`). Parsed entries are static.

use alloc::string::{String, ToString};
use core::fmt;
use core::str::FromStr;

use super::pool4::Pool4Entry;
use super::table::{Bib, Proto, Taddr4, Taddr6};
use crate::addr::{Ipv4Prefix, PrefixError};

/// Text that is not a protocol name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtoError {
    /// Not `tcp`, `udp` or `icmp`.
    #[error("protocol {0:?} is not tcp, udp or icmp")]
    Unknown(String),
}

impl FromStr for Proto {
    type Err = ProtoError;

    /// `tcp`, `udp` or `icmp`, lower case as [`Proto::name`] prints them.
    fn from_str(s: &str) -> Result<Self, ProtoError> {
        match s {
            "tcp" => Ok(Proto::Tcp),
            "udp" => Ok(Proto::Udp),
            "icmp" => Ok(Proto::Icmp),
            other => Err(ProtoError::Unknown(other.to_string())),
        }
    }
}

/// Text that is not a pool4 entry, `ADDR[/LEN][:FIRST-LAST]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Pool4EntryError {
    /// The addresses are not an IPv4 address or prefix.
    #[error("{0}; write ADDR[/LEN][:FIRST-LAST], e.g. 192.0.2.0/28:61001-65535")]
    Prefix(PrefixError),
    /// The text after `:` is not `FIRST-LAST` (or one port).
    #[error("{0:?} is not a port range like 61001-65535")]
    Ports(String),
    /// A reversed range, or one that starts at port 0.
    #[error("the port range {first}-{last} must be low-high, 1 to 65535, e.g. 61001-65535")]
    Range {
        /// First port given.
        first: u16,
        /// Last port given.
        last: u16,
    },
}

impl FromStr for Pool4Entry {
    type Err = Pool4EntryError;

    /// `ADDR[/LEN][:FIRST-LAST]`; a single port `ADDR:PORT` is the range
    /// `PORT-PORT`. A bare address is a /32.
    fn from_str(s: &str) -> Result<Self, Pool4EntryError> {
        let s = s.trim();
        let (a, ports) = match s.split_once(':') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let prefix: Ipv4Prefix = a.trim().parse().map_err(Pool4EntryError::Prefix)?;
        let mut e = Pool4Entry::new(prefix);
        if let Some(p) = ports {
            let (lo, hi) = p.split_once('-').unwrap_or((p, p));
            let port = |x: &str| {
                x.trim()
                    .parse::<u16>()
                    .map_err(|_| Pool4EntryError::Ports(p.to_string()))
            };
            e.first_port = port(lo)?;
            e.last_port = port(hi)?;
            if e.first_port > e.last_port || e.first_port == 0 {
                return Err(Pool4EntryError::Range {
                    first: e.first_port,
                    last: e.last_port,
                });
            }
        }
        Ok(e)
    }
}

impl fmt::Display for Pool4Entry {
    /// `PREFIX:FIRST-LAST`, e.g. `192.0.2.0/28:61001-65535`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}-{}", self.prefix, self.first_port, self.last_port)
    }
}

/// Text that is not a static BIB entry, `PROTO/V6ADDR#PORT=V4ADDR#PORT`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StaticBibError {
    /// The protocol before `/`.
    #[error(transparent)]
    Proto(#[from] ProtoError),
    /// Not of the form, or an address or port that does not parse.
    #[error("{0:?} is not PROTO/V6ADDR#PORT=V4ADDR#PORT, e.g. tcp/2001:db8::5#80=192.0.2.1#8080")]
    Syntax(String),
}

impl FromStr for Bib {
    type Err = StaticBibError;

    /// `PROTO/V6ADDR#PORT=V4ADDR#PORT`: a static entry (`is_static`).
    fn from_str(s: &str) -> Result<Self, StaticBibError> {
        let s = s.trim();
        let usage = || StaticBibError::Syntax(s.to_string());
        let (proto, rest) = s.split_once('/').ok_or_else(usage)?;
        let proto: Proto = proto.trim().parse()?;
        let (v6, v4) = rest.split_once('=').ok_or_else(usage)?;
        let (a6, p6) = v6.rsplit_once('#').ok_or_else(usage)?;
        let (a4, p4) = v4.rsplit_once('#').ok_or_else(usage)?;
        Ok(Bib {
            proto,
            v6: Taddr6 {
                addr: a6.trim().parse().map_err(|_| usage())?,
                port: p6.trim().parse().map_err(|_| usage())?,
            },
            v4: Taddr4 {
                addr: a4.trim().parse().map_err(|_| usage())?,
                port: p4.trim().parse().map_err(|_| usage())?,
            },
            is_static: true,
        })
    }
}

impl fmt::Display for Bib {
    /// `PROTO/V6ADDR#PORT=V4ADDR#PORT`, the static BIB text form (whether
    /// or not the entry is static).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}#{}={}#{}",
            self.proto, self.v6.addr, self.v6.port, self.v4.addr, self.v4.port
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn protocols_round_trip() {
        for p in [Proto::Tcp, Proto::Udp, Proto::Icmp] {
            assert_eq!(p.to_string().parse::<Proto>(), Ok(p));
        }
        assert!(" udp".parse::<Proto>().is_err());
        let e = "sctp".parse::<Proto>().unwrap_err().to_string();
        assert_eq!(e, "protocol \"sctp\" is not tcp, udp or icmp");
        assert!("TCP".parse::<Proto>().is_err());
    }

    #[test]
    fn pool4_entries() {
        let e: Pool4Entry = "198.51.100.0/28:1024-65535".parse().unwrap();
        assert_eq!(e.prefix.to_string(), "198.51.100.0/28");
        assert_eq!((e.first_port, e.last_port, e.protocols), (1024, 65535, [true; 3]));
        let e: Pool4Entry = "192.0.2.1".parse().unwrap();
        assert_eq!(e.prefix.prefix_len(), 32);
        assert_eq!((e.first_port, e.last_port), (61001, 65535));
        let e: Pool4Entry = "192.0.2.1:53".parse().unwrap();
        assert_eq!((e.first_port, e.last_port), (53, 53));
        for text in ["192.0.2.0/28:61001-65535", "192.0.2.1/32:1-1", "0.0.0.0/0:1-65535"] {
            let e: Pool4Entry = text.parse().unwrap();
            assert_eq!(e.to_string(), text);
            assert_eq!(e.to_string().parse::<Pool4Entry>(), Ok(e));
        }
        let err = |s: &str| s.parse::<Pool4Entry>().unwrap_err().to_string();
        let e = err("198.51.100.300");
        assert!(
            e.contains("198.51.100.300") && e.contains("ADDR[/LEN][:FIRST-LAST]"),
            "{e}"
        );
        let e = err("192.0.2.1/24");
        assert!(e.contains("did you mean 192.0.2.0/24"), "{e}");
        assert_eq!(err("192.0.2.1:a-b"), "\"a-b\" is not a port range like 61001-65535");
        assert_eq!(
            err("192.0.2.1:1-70000"),
            "\"1-70000\" is not a port range like 61001-65535"
        );
        let e = err("198.51.100.1:9-1");
        assert!(e.contains("9-1") && e.contains("low-high"), "{e}");
        assert!(err("198.51.100.1:0-10").contains("0-10"));
    }

    #[test]
    fn static_bib_entries() {
        let b: Bib = "tcp/2001:db8::5#80=192.0.2.1#8080".parse().unwrap();
        assert_eq!(b.proto, Proto::Tcp);
        assert_eq!((b.v6.port, b.v4.port, b.is_static), (80, 8080, true));
        assert_eq!(b.v4.addr, core::net::Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(b.to_string(), "tcp/2001:db8::5#80=192.0.2.1#8080");
        assert_eq!(b.to_string().parse::<Bib>(), Ok(b));
        let b: Bib = " icmp / 2001:db8::5 # 7 = 192.0.2.1 # 9 ".parse().unwrap();
        assert_eq!(b.to_string(), "icmp/2001:db8::5#7=192.0.2.1#9");
        let e = "sctp/2001:db8::1#1=192.0.2.1#1".parse::<Bib>().unwrap_err().to_string();
        assert!(e.contains("sctp") && e.contains("tcp, udp or icmp"), "{e}");
        for bad in [
            "tcp",
            "tcp/2001:db8::1#1",
            "tcp/2001:db8::1=192.0.2.1#1",
            "tcp/192.0.2.1#1=2001:db8::1#1",
            "tcp/2001:db8::1#70000=192.0.2.1#1",
        ] {
            let e = bad.parse::<Bib>().unwrap_err().to_string();
            assert!(
                e.contains(&format!("{:?}", bad.trim())) && e.contains("PROTO/V6ADDR#PORT=V4ADDR#PORT"),
                "{e}"
            );
        }
    }
}
