//! Address normalisation: one host is one node whatever the source wrote.

use std::net::IpAddr;

/// Parses an address and normalises it: IPv4 as a dotted quad, IPv6 as RFC 5952 text (what
/// `Display` for [`IpAddr`] prints: lower case, longest zero run compressed). An IPv4-mapped
/// IPv6 address (`::ffff:192.0.2.1`) is the IPv4 host it maps, as Zeek itself treats it.
pub fn parse_addr(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>().ok().map(|a| a.to_canonical())
}

/// Parses `ADDR/LEN`. The network address is kept as written (normalised); an IPv4-mapped
/// IPv6 subnet of prefix 96 or more is the IPv4 subnet it maps.
pub fn parse_subnet(text: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = text.split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    let len: u8 = len.parse().ok()?;
    match addr {
        IpAddr::V4(_) if len <= 32 => Some((addr, len)),
        IpAddr::V6(v6) if len <= 128 => match v6.to_ipv4_mapped() {
            Some(v4) if len >= 96 => Some((IpAddr::V4(v4), len - 96)),
            _ => Some((addr, len)),
        },
        _ => None,
    }
}

/// Normalises an address written as text; `None` when it is not one.
pub fn normalise_addr(text: &str) -> Option<String> {
    parse_addr(text).map(|a| a.to_string())
}
