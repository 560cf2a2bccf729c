//! The translator's configuration file (TOML).
//!
//! The settings live in a `[translator]` table whose keys are the fields of
//! [`nat64_core::Config`] (Jool's names where Jool has the option):
//!
//! ```toml
//! [translator]
//! pool6 = "64:ff9b::/96"
//! eamt = [ { ipv4 = "192.0.2.0/24", ipv6 = "2001:db8:1::/120" } ]
//! own_ipv4 = "198.51.100.1"
//! mtu6 = 1500
//! ```
//!
//! [`TranslatorTable`] is the table alone, so that other commands (a gateway)
//! can embed it in their own file layout; [`TranslateFile`] is the layout
//! `nat64 translate --config` reads. Unknown keys are errors (a misspelt key
//! would otherwise be silently ignored), and every error names the key.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use nat64_core::{Config, ConfigError, EamtError, HairpinMode, Ipv4Prefix, Ipv6Prefix, Prefix64, PrefixError};
use serde::Deserialize;

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigFileError {
    /// The file cannot be read.
    #[error("cannot read config file {path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// Another error, in this file.
    #[error("config file {path}: {error}")]
    InFile {
        /// The file.
        path: PathBuf,
        /// The error.
        error: Box<ConfigFileError>,
    },
    /// Not TOML, a key that does not exist, or a value of the wrong type
    /// (the message, from the TOML parser, has the line and the key).
    #[error("{0}")]
    Syntax(String),
    /// A prefix that does not parse or is not allowed there.
    #[error("[translator] {key} = {value:?}: {error}")]
    Prefix {
        /// The key (`pool6`, `denylist4[2]`, ...).
        key: String,
        /// The text given.
        value: String,
        /// The core's reason.
        error: PrefixError,
    },
    /// An address that does not parse.
    #[error("[translator] {key} = {value:?}: not an {family} address (e.g. {example})")]
    Address {
        /// The key.
        key: &'static str,
        /// The text given.
        value: String,
        /// "IPv4" or "IPv6".
        family: &'static str,
        /// An example of a good value.
        example: &'static str,
    },
    /// An EAMT entry the table refuses.
    #[error("[translator] eamt entry {index} ({{ ipv4 = \"{ipv4}\", ipv6 = \"{ipv6}\" }}): {error}")]
    Eamt {
        /// 1-based position in the `eamt` array.
        index: usize,
        /// Its IPv4 prefix.
        ipv4: Ipv4Prefix,
        /// Its IPv6 prefix.
        ipv6: Ipv6Prefix,
        /// The core's reason.
        error: EamtError,
    },
    /// The settings together cannot work.
    #[error("[translator] {key}: {error}")]
    Invalid {
        /// The key (or keys) at fault.
        key: &'static str,
        /// The core's reason.
        error: ConfigError,
    },
}

/// A TOML string read with the core's text form (`FromStr`); the parser's
/// error carries the line and the key.
fn from_text<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let s = String::deserialize(d)?;
    s.parse().map(Some).map_err(serde::de::Error::custom)
}

/// One `eamt` entry: `{ ipv4 = "192.0.2.0/24", ipv6 = "2001:db8:1::/120" }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EamtEntry {
    /// The IPv4 prefix (a bare address means /32).
    pub ipv4: String,
    /// The IPv6 prefix (a bare address means /128).
    pub ipv6: String,
    /// Accept an entry that overlaps another (RFC 7757 section 3.2).
    #[serde(default)]
    pub force: bool,
}

/// The `[translator]` table. Every key is optional; a missing key keeps
/// the [`Config::default`] value (or whatever the caller's config holds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranslatorTable {
    /// RFC 6052 prefix, e.g. "64:ff9b::/96".
    pub pool6: Option<String>,
    /// RFC 7757 explicit address mappings.
    pub eamt: Option<Vec<EamtEntry>>,
    /// "off", "simple" or "intrinsic" (RFC 7757 section 4.2).
    #[serde(default, deserialize_with = "from_text")]
    pub eam_hairpin_mode: Option<HairpinMode>,
    /// IPv4 prefixes never translated with pool6.
    pub denylist4: Option<Vec<String>>,
    /// RFC 6052 section 3.1 check under 64:ff9b::/96.
    pub wkp_forbids_non_global: Option<bool>,
    /// RFC 6791 IPv4 pool.
    pub rfc6791v4_prefix: Option<String>,
    /// RFC 6791 IPv6 pool.
    pub rfc6791v6_prefix: Option<String>,
    /// Pick RFC 6791 addresses pseudo-randomly.
    pub randomize_rfc6791_addresses: Option<bool>,
    /// Source of generated ICMPv4 errors.
    pub own_ipv4: Option<String>,
    /// Source of generated ICMPv6 errors.
    pub own_ipv6: Option<String>,
    /// Egress MTU towards IPv4.
    pub mtu4: Option<u32>,
    /// Egress MTU towards IPv6.
    pub mtu6: Option<u32>,
    /// Jool's lowest-ipv6-mtu.
    pub lowest_ipv6_mtu: Option<u32>,
    /// RFC 1191 plateaus.
    pub mtu_plateaus: Option<Vec<u16>>,
    /// RFC 7915 section 4.5.
    pub amend_udp_checksum_zero: Option<bool>,
    /// Jool's forward-udp-checksum-zero: UDP checksum 0 forwarded as is, both ways.
    pub forward_udp_checksum_zero: Option<bool>,
    /// 4->6: Traffic Class 0.
    pub zeroize_traffic_class: Option<bool>,
    /// 6->4: this TOS.
    pub override_tos: Option<u8>,
    /// TTL / hop limit of generated ICMP errors.
    pub error_hop_limit: Option<u8>,
}

/// The file `nat64 translate --config` reads: only a `[translator]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranslateFile {
    /// The translator's settings.
    #[serde(default)]
    pub translator: TranslatorTable,
}

impl TranslateFile {
    /// Parses the text of a file.
    pub fn parse(text: &str) -> Result<Self, ConfigFileError> {
        toml::from_str(text).map_err(|e| ConfigFileError::Syntax(e.to_string().trim_end().to_owned()))
    }

    /// Reads and parses a file; errors name the file.
    pub fn load(path: &Path) -> Result<Self, ConfigFileError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigFileError::Read {
            path: path.to_owned(),
            error,
        })?;
        Self::parse(&text).map_err(|e| e.in_file(path))
    }
}

impl ConfigFileError {
    /// This error, saying which file it is in.
    pub fn in_file(self, path: &Path) -> Self {
        match self {
            e @ (ConfigFileError::Read { .. } | ConfigFileError::InFile { .. }) => e,
            e => ConfigFileError::InFile {
                path: path.to_owned(),
                error: Box::new(e),
            },
        }
    }

    /// Wraps a validation error with the key it is about.
    pub fn invalid(error: ConfigError) -> Self {
        let key = match &error {
            ConfigError::NoMapping => "pool6/eamt",
            ConfigError::LowestIpv6Mtu(_) => "lowest_ipv6_mtu",
            ConfigError::Mtu { which, .. } => which,
            ConfigError::NoPlateaus => "mtu_plateaus",
            _ => "settings",
        };
        ConfigFileError::Invalid { key, error }
    }
}

fn prefix<T: std::str::FromStr<Err = PrefixError>>(key: &str, value: &str) -> Result<T, ConfigFileError> {
    value.parse().map_err(|error| ConfigFileError::Prefix {
        key: key.to_owned(),
        value: value.to_owned(),
        error,
    })
}

impl TranslatorTable {
    /// Writes the keys present in the table over `cfg`. Does not check that
    /// the result can work (a caller may still override keys); see
    /// [`TranslatorTable::to_config`].
    ///
    /// `eamt` and `denylist4`, when present, replace the lists in `cfg`.
    pub fn apply(&self, cfg: &mut Config) -> Result<(), ConfigFileError> {
        if let Some(p) = &self.pool6 {
            cfg.pool6 = Some(prefix::<Prefix64>("pool6", p)?);
        }
        if let Some(entries) = &self.eamt {
            let mut eamt = nat64_core::Eamt::new();
            for (i, e) in entries.iter().enumerate() {
                let index = i + 1;
                let ipv4: Ipv4Prefix = prefix(&format!("eamt entry {index}: ipv4"), &e.ipv4)?;
                let ipv6: Ipv6Prefix = prefix(&format!("eamt entry {index}: ipv6"), &e.ipv6)?;
                eamt.add(ipv4, ipv6, e.force).map_err(|error| ConfigFileError::Eamt {
                    index,
                    ipv4,
                    ipv6,
                    error,
                })?;
            }
            cfg.eamt = eamt;
        }
        if let Some(m) = self.eam_hairpin_mode {
            cfg.eam_hairpin_mode = m;
        }
        if let Some(list) = &self.denylist4 {
            cfg.denylist4 = list
                .iter()
                .enumerate()
                .map(|(i, p)| prefix(&format!("denylist4[{}]", i + 1), p))
                .collect::<Result<_, _>>()?;
        }
        if let Some(b) = self.wkp_forbids_non_global {
            cfg.wkp_forbids_non_global = b;
        }
        if let Some(p) = &self.rfc6791v4_prefix {
            cfg.rfc6791v4_prefix = Some(prefix("rfc6791v4_prefix", p)?);
        }
        if let Some(p) = &self.rfc6791v6_prefix {
            cfg.rfc6791v6_prefix = Some(prefix("rfc6791v6_prefix", p)?);
        }
        if let Some(b) = self.randomize_rfc6791_addresses {
            cfg.randomize_rfc6791_addresses = b;
        }
        if let Some(a) = &self.own_ipv4 {
            cfg.own_ipv4 = Some(a.trim().parse::<Ipv4Addr>().map_err(|_| ConfigFileError::Address {
                key: "own_ipv4",
                value: a.clone(),
                family: "IPv4",
                example: "192.0.2.1",
            })?);
        }
        if let Some(a) = &self.own_ipv6 {
            cfg.own_ipv6 = Some(a.trim().parse::<Ipv6Addr>().map_err(|_| ConfigFileError::Address {
                key: "own_ipv6",
                value: a.clone(),
                family: "IPv6",
                example: "2001:db8::1",
            })?);
        }
        if let Some(v) = self.mtu4 {
            cfg.mtu4 = v;
        }
        if let Some(v) = self.mtu6 {
            cfg.mtu6 = v;
        }
        if let Some(v) = self.lowest_ipv6_mtu {
            cfg.lowest_ipv6_mtu = v;
        }
        if let Some(v) = &self.mtu_plateaus {
            cfg.mtu_plateaus = v.clone();
        }
        if let Some(b) = self.amend_udp_checksum_zero {
            cfg.amend_udp_checksum_zero = b;
        }
        if let Some(b) = self.forward_udp_checksum_zero {
            cfg.forward_udp_checksum_zero = b;
        }
        if let Some(b) = self.zeroize_traffic_class {
            cfg.zeroize_traffic_class = b;
        }
        if let Some(v) = self.override_tos {
            cfg.override_tos = Some(v);
        }
        if let Some(v) = self.error_hop_limit {
            cfg.error_hop_limit = v;
        }
        Ok(())
    }

    /// The table over [`Config::default`], checked to work.
    #[allow(dead_code)] // for callers that take the whole configuration from the file
    pub fn to_config(&self) -> Result<Config, ConfigFileError> {
        let mut cfg = Config::default();
        self.apply(&mut cfg)?;
        cfg.validate().map_err(ConfigFileError::invalid)?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Result<Config, ConfigFileError> {
        TranslateFile::parse(text)?.translator.to_config()
    }

    #[test]
    fn full_table() {
        let cfg = table(
            r#"
            [translator]
            pool6 = "64:ff9b::/96"
            eamt = [
                { ipv4 = "192.0.2.0/24", ipv6 = "2001:db8:1::/120" },
                { ipv4 = "198.51.100.7", ipv6 = "2001:db8:2::7" },
            ]
            eam_hairpin_mode = "simple"
            denylist4 = ["203.0.113.0/24"]
            wkp_forbids_non_global = false
            rfc6791v4_prefix = "198.51.100.0/28"
            rfc6791v6_prefix = "2001:db8:ffff::/120"
            randomize_rfc6791_addresses = false
            own_ipv4 = "198.51.100.1"
            own_ipv6 = "2001:db8::1"
            mtu4 = 1400
            mtu6 = 1480
            lowest_ipv6_mtu = 1400
            mtu_plateaus = [1500, 1280, 576]
            amend_udp_checksum_zero = true
            forward_udp_checksum_zero = true
            zeroize_traffic_class = true
            override_tos = 16
            error_hop_limit = 32
            "#,
        )
        .unwrap();
        assert_eq!(cfg.pool6, Some("64:ff9b::/96".parse().unwrap()));
        assert_eq!(cfg.eamt.len(), 2);
        assert_eq!(
            cfg.eamt.to_v6("198.51.100.7".parse().unwrap()),
            Some("2001:db8:2::7".parse().unwrap())
        );
        assert_eq!(cfg.eam_hairpin_mode, HairpinMode::Simple);
        assert_eq!(cfg.denylist4, vec!["203.0.113.0/24".parse().unwrap()]);
        assert!(!cfg.wkp_forbids_non_global);
        assert_eq!(cfg.rfc6791v4_prefix, Some("198.51.100.0/28".parse().unwrap()));
        assert_eq!(cfg.rfc6791v6_prefix, Some("2001:db8:ffff::/120".parse().unwrap()));
        assert!(!cfg.randomize_rfc6791_addresses);
        assert_eq!(cfg.own_ipv4, Some("198.51.100.1".parse().unwrap()));
        assert_eq!(cfg.own_ipv6, Some("2001:db8::1".parse().unwrap()));
        assert_eq!((cfg.mtu4, cfg.mtu6, cfg.lowest_ipv6_mtu), (1400, 1480, 1400));
        assert_eq!(cfg.mtu_plateaus, vec![1500, 1280, 576]);
        assert!(cfg.amend_udp_checksum_zero && cfg.zeroize_traffic_class && cfg.forward_udp_checksum_zero);
        assert_eq!(cfg.override_tos, Some(16));
        assert_eq!(cfg.error_hop_limit, 32);
    }

    #[test]
    fn empty_table_keeps_defaults() {
        let t = TranslateFile::parse("").unwrap().translator;
        let mut cfg = Config::default();
        t.apply(&mut cfg).unwrap();
        assert_eq!(cfg.mtu6, Config::default().mtu6);
        assert!(cfg.pool6.is_none());
    }

    fn err(text: &str) -> String {
        table(text).unwrap_err().to_string()
    }

    #[test]
    fn misspelt_keys_are_named() {
        let e = err("[translator]\npool_6 = \"64:ff9b::/96\"\n");
        assert!(e.contains("pool_6") && e.contains("line 2"), "{e}");
        let e = err("[translater]\npool6 = \"64:ff9b::/96\"\n");
        assert!(e.contains("translater"), "{e}");
        let e =
            err("[translator]\npool6 = \"64:ff9b::/96\"\neamt = [{ ipv4 = \"192.0.2.1\", ipv66 = \"2001:db8::1\" }]\n");
        assert!(e.contains("ipv66"), "{e}");
    }

    #[test]
    fn bad_values_name_the_key() {
        let e = err("[translator]\npool6 = \"64:ff9b::/95\"\n");
        assert!(e.contains("pool6") && e.contains("/95"), "{e}");
        let e = err("[translator]\npool6 = \"64:ff9b::/96\"\ndenylist4 = [\"192.0.2.0/24\", \"192.0.2.1/24\"]\n");
        assert!(
            e.contains("denylist4[2]") && e.contains("did you mean 192.0.2.0/24"),
            "{e}"
        );
        let e = err("[translator]\npool6 = \"64:ff9b::/96\"\nown_ipv6 = \"192.0.2.1\"\n");
        assert!(e.contains("own_ipv6") && e.contains("IPv6"), "{e}");
        let e = err("[translator]\neamt = [{ ipv4 = \"192.0.2.0/24\", ipv6 = \"2001:db8::/124\" }]\n");
        assert!(e.contains("eamt entry 1") && e.contains("suffix"), "{e}");
        let e = err("[translator]\npool6 = \"64:ff9b::/96\"\nmtu6 = 1000\n");
        assert!(e.contains("mtu6") && e.contains("1280"), "{e}");
        let e = err("[translator]\nmtu4 = 1400\n");
        assert!(e.contains("pool6"), "{e}");
        let e = err("[translator]\npool6 = \"64:ff9b::/96\"\noverride_tos = 300\n");
        assert!(e.contains("override_tos"), "{e}");
        let e = err("[translator]\npool6 = \"64:ff9b::/96\"\neam_hairpin_mode = \"sometimes\"\n");
        assert!(e.contains("sometimes") && e.contains("intrinsic"), "{e}");
    }
}
