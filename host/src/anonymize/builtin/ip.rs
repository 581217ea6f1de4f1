//! `ip`, `ipv4`, `ipv6`: keyed addresses keeping the `/prefix`.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use anyhow::{Result, anyhow};

use crate::anonymize::column::{ColumnType, Kind, parse_ip};
use crate::anonymize::keys::strategy_key;
use crate::anonymize::params::{ParamReader, Params};
use crate::anonymize::strategy::unsupported;
use crate::anonymize::writer::map_values;
use crate::anonymize::{KeyedHasher, Strategy, TextBatch};

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpFamily {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

/// Replaces each address with a keyed one: `ip` keeps each value's family, `ipv4` and `ipv6`
/// always write that family. A `/prefix` is kept (capped at the family's width); in a `cidr`
/// column the bits right of the prefix are cleared so the value stays a valid network.
#[derive(Debug)]
pub struct IpAddress {
    key: KeyedHasher,
    family: Option<IpFamily>,
}

impl IpAddress {
    /// `family` `None` for `ip`, else `ipv4` / `ipv6`; takes no params. Needs the secret.
    pub fn from_params(
        family: Option<IpFamily>,
        params: &Params,
        hasher: Option<KeyedHasher>,
    ) -> Result<Self> {
        let name = strategy_name(family);
        ParamReader::new(name, params).finish()?;
        Ok(IpAddress {
            key: strategy_key("ip", hasher)?,
            family,
        })
    }
}

fn strategy_name(family: Option<IpFamily>) -> &'static str {
    match family {
        None => "ip",
        Some(IpFamily::V4) => "ipv4",
        Some(IpFamily::V6) => "ipv6",
    }
}

impl Strategy for IpAddress {
    fn name(&self) -> &str {
        strategy_name(self.family)
    }

    fn anonymize(&self, column: &ColumnType, values: &TextBatch) -> Result<TextBatch> {
        let cidr = *column.kind() == Kind::Cidr && !column.is_array();
        if !(cidr || *column.kind() == Kind::Inet && !column.is_array() || column.is_textual()) {
            return Err(unsupported(
                self.name(),
                column,
                "inet, cidr and text-like columns",
            ));
        }
        map_values(self.name(), values, |value, out| {
            let (family, prefix) = match (self.family, parse_ip(value.trim())) {
                (Some(family), parsed) => {
                    let prefix = parsed.map(|(_, p)| p).unwrap_or_else(|| {
                        value
                            .rsplit_once('/')
                            .and_then(|(_, p)| p.trim().parse::<u8>().ok())
                    });
                    (family, prefix)
                }
                (None, Some((IpAddr::V4(_), prefix))) => (IpFamily::V4, prefix),
                (None, Some((IpAddr::V6(_), prefix))) => (IpFamily::V6, prefix),
                (None, None) => {
                    return Err(anyhow!(
                        "not an IP address (address with an optional /prefix)"
                    ));
                }
            };
            let digest = self.key.hash(value.as_bytes());
            let mut bytes = [0; 16];
            bytes.copy_from_slice(&digest[..16]);
            let bits = u128::from_be_bytes(bytes);
            let width: u8 = if family == IpFamily::V4 { 32 } else { 128 };
            let prefix = prefix.map(|p| p.min(width));
            let keep = |value: u128, width: u8| match prefix {
                Some(p) if cidr => {
                    value
                        & !(u128::MAX
                            .checked_shr(u32::from(p) + 128 - u32::from(width))
                            .unwrap_or(0))
                }
                _ => value,
            };
            match family {
                IpFamily::V4 => write!(out, "{}", Ipv4Addr::from(keep(bits >> 96, 32) as u32))?,
                IpFamily::V6 => write!(out, "{}", Ipv6Addr::from(keep(bits, 128)))?,
            }
            if let Some(prefix) = prefix {
                write!(out, "/{prefix}")?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use crate::anonymize::testing::{assert_keyed, build, run, run_err};

    fn family(value: &str) -> &'static str {
        match value.split('/').next().unwrap().parse::<IpAddr>().unwrap() {
            IpAddr::V4(_) => "v4",
            IpAddr::V6(_) => "v6",
        }
    }

    #[test]
    fn keeps_family_and_prefix() {
        let values = [
            Some("192.168.1.5"),
            None,
            Some("10.0.0.0/8"),
            Some("2001:db8::1/64"),
            Some("::1"),
        ];
        assert_keyed("ip", "{}", "inet", &values);
        let out = run(&*build("ip", "{}", "s"), "inet", &values);
        assert_eq!(family(out[0].as_ref().unwrap()), "v4");
        assert!(out[2].as_ref().unwrap().ends_with("/8"));
        assert_eq!(family(out[3].as_ref().unwrap()), "v6");
        assert!(out[3].as_ref().unwrap().ends_with("/64"));
        assert_ne!(out[0].as_deref(), Some("192.168.1.5"));
        let out = run(&*build("ip", "{}", "s"), "cidr", &values);
        assert!(
            out[2].as_ref().unwrap().ends_with(".0/8") || out[2].as_ref().unwrap().ends_with("/8")
        );
    }

    /// The address bits right of the `/prefix` of `value` (zero for a network).
    fn host_bits(value: &str) -> u128 {
        let (address, prefix) = value.split_once('/').unwrap();
        let prefix: u32 = prefix.parse().unwrap();
        let (bits, width) = match address.parse::<IpAddr>().unwrap() {
            IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
            IpAddr::V6(a) => (u128::from(a), 128),
        };
        bits & (u128::MAX >> (128 - width))
            .checked_shr(prefix)
            .unwrap_or(0)
    }

    #[test]
    fn a_cidr_value_is_a_network_and_an_inet_value_keeps_its_host_bits() {
        let values = [
            Some("10.0.0.0/8"),
            Some("172.16.0.0/12"),
            Some("192.168.1.0/24"),
            Some("10.1.2.2/31"),
            Some("2001:db8::/32"),
            Some("2001:db8:1::/48"),
        ];
        let networks = run(&*build("ip", "{}", "s"), "cidr", &values);
        for (before, after) in values.iter().zip(&networks) {
            let after = after.as_deref().unwrap();
            assert_eq!(
                host_bits(after),
                0,
                "{before:?} -> {after}: bits right of the mask"
            );
            assert_eq!(
                before.unwrap().split_once('/').unwrap().1,
                after.split_once('/').unwrap().1
            );
        }
        // The same values in an inet column are addresses: their host bits are keyed too
        // (all zero by chance with odds under 2^-20 for these prefixes).
        let addresses = run(&*build("ip", "{}", "s"), "inet", &values);
        for (before, after) in values.iter().zip(&addresses) {
            let after = after.as_deref().unwrap();
            if *before != Some("10.1.2.2/31") {
                assert_ne!(host_bits(after), 0, "{before:?} -> {after}");
            }
        }
        let cidr_v4 = run(&*build("ipv4", "{}", "s"), "cidr", &[Some("2001:db8::/20")]);
        assert_eq!(host_bits(cidr_v4[0].as_deref().unwrap()), 0);
    }

    #[test]
    fn forced_families() {
        let values = [
            Some("192.168.1.5/24"),
            Some("2001:db8::1/64"),
            Some("garbage"),
        ];
        let v4 = run(&*build("ipv4", "{}", "s"), "text", &values);
        assert!(v4.iter().flatten().all(|v| family(v) == "v4"));
        assert!(
            v4[1].as_ref().unwrap().ends_with("/32"),
            "prefix capped to the family"
        );
        run(&*build("ipv4", "{}", "s"), "cidr", &values);
        let v6 = run(&*build("ipv6", "{}", "s"), "inet", &values);
        assert!(v6.iter().flatten().all(|v| family(v) == "v6"));
        let error = run_err(&*build("ip", "{}", "s"), "text", &values);
        assert!(
            error.contains("value 2") && !error.contains("garbage"),
            "{error}"
        );
        let error = run_err(&*build("ip", "{}", "s"), "integer", &values);
        assert!(error.contains("cannot fill"), "{error}");
    }
}
