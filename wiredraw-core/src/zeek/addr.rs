//! Address normalisation: one host is one node whatever the source wrote.

use std::net::{IpAddr, Ipv4Addr};

/// Parses an address and normalises it: IPv4 as a dotted quad, IPv6 as RFC 5952 text (what
/// `Display` for [`IpAddr`] prints: lower case, longest zero run compressed). An IPv4-mapped
/// IPv6 address (`::ffff:192.0.2.1`) is the IPv4 host it maps, as Zeek itself treats it.
pub fn parse_addr(text: &str) -> Option<IpAddr> {
    match parse_dotted_quad(text.as_bytes()) {
        Some(v4) => Some(IpAddr::V4(v4)),
        None => parse_general_addr(text),
    }
}

/// Any address std's parser takes, normalised; for text that is not a dotted quad.
pub(crate) fn parse_general_addr(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>().ok().map(|a| a.to_canonical())
}

/// The common case, an IPv4 dotted quad, read without the general parser's machinery. It takes
/// exactly what `Ipv4Addr`'s parser takes (four decimal octets, no leading zeros, each at most
/// 255); anything else is left to that parser.
pub(crate) fn parse_dotted_quad(text: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut index = 0;
    let mut value = 0u16;
    let mut digits = 0;
    for &byte in text {
        if byte == b'.' {
            if digits == 0 || index == 3 {
                return None;
            }
            octets[index] = u8::try_from(value).ok()?;
            (index, value, digits) = (index + 1, 0, 0);
            continue;
        }
        let digit = byte.wrapping_sub(b'0');
        // A digit after a leading zero, or a fourth digit, is not an octet.
        if digit > 9 || (digits == 1 && value == 0) || digits == 3 {
            return None;
        }
        value = value * 10 + u16::from(digit);
        digits += 1;
    }
    if index != 3 || digits == 0 {
        return None;
    }
    octets[3] = u8::try_from(value).ok()?;
    Some(Ipv4Addr::from(octets))
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

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The dotted-quad fast path agrees with the standard parser on anything that looks
        /// like one: leading zeros, octets over 255, too few or many parts, stray characters.
        #[test]
        fn dotted_quads_read_as_the_standard_parser_reads_them(text in "[0-9.]{0,17}|[0-9]{1,4}(\\.[0-9]{1,4}){3}[.x:]?") {
            let standard = text.parse::<Ipv4Addr>().ok();
            proptest::prop_assert_eq!(parse_dotted_quad(text.as_bytes()), standard);
            proptest::prop_assert_eq!(parse_addr(&text), standard.map(IpAddr::V4));
        }
    }

    #[test]
    fn addresses_are_normalised() {
        assert_eq!(
            parse_addr("10.0.0.1"),
            Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
        );
        assert_eq!(parse_addr("010.0.0.1"), None);
        assert_eq!(parse_addr("256.0.0.1"), None);
        assert_eq!(
            parse_addr("::FFFF:192.0.2.1").unwrap().to_string(),
            "192.0.2.1"
        );
        assert_eq!(
            parse_addr("2001:DB8::0:1").unwrap().to_string(),
            "2001:db8::1"
        );
    }
}
