//! Who is on the other end: the client's IP address, for the access log and
//! the per-address rate limits alike (one rule for both).
//!
//! Without `TRUSTED_PROXIES` the address is the socket's peer and
//! `X-Forwarded-For` is ignored: anyone can send that header with anything in
//! it. With it, a request whose peer is a trusted proxy is traced back
//! through `X-Forwarded-For` from the right: each proxy appends the address
//! it received the request from, so the entries are read newest first,
//! trusted proxies are skipped, and the first address that is not one of
//! them is the client. Whatever stands left of that entry was written by the
//! client itself (or by proxies we do not know) and is never believed.

use std::net::IpAddr;

/// The addresses (single IPs or CIDR networks) of our own reverse proxies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    fn parse(text: &str) -> Result<Self, String> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr =
            address.trim().parse().map_err(|_| format!("{text:?} is not an IP address or CIDR network"))?;
        let address = address.to_canonical();
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(prefix) => match prefix.trim().parse::<u8>() {
                Ok(prefix) if prefix <= max => prefix,
                _ => return Err(format!("{text:?}: the prefix length must be 0–{max}")),
            },
        };
        Ok(Network { address, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl TrustedProxies {
    /// A comma-separated list of IPs and CIDR networks; empty trusts no one.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(Network::parse)
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(ip))
    }

    /// The client's address: `peer` (the socket's), or, when `peer` is a
    /// trusted proxy, the rightmost `X-Forwarded-For` entry that is not one
    /// (`forwarded_for`: the header's values in the order received). If every
    /// entry is trusted, the leftmost is the client; an entry that is not an
    /// address stops the walk at the last good one (it was not written by a
    /// proxy we know).
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.contains(client) {
            return client;
        }
        let hops = forwarded_for.iter().rev().flat_map(|value| value.rsplit(',')).map(str::trim);
        for hop in hops {
            let Ok(ip) = hop.parse::<IpAddr>() else { break };
            client = ip.to_canonical();
            if !self.contains(client) {
                break;
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn networks_and_single_addresses_are_parsed_and_matched() {
        let trusted = TrustedProxies::parse(" 10.0.0.0/8, 192.168.1.7 ,fd00::/8").unwrap();
        assert!(trusted.contains(ip("10.200.3.4")));
        assert!(trusted.contains(ip("192.168.1.7")));
        assert!(!trusted.contains(ip("192.168.1.8")));
        assert!(trusted.contains(ip("fd12::1")));
        assert!(trusted.contains(ip("::ffff:10.1.1.1")), "an IPv4-mapped peer is its IPv4 address");
        assert!(!trusted.contains(ip("11.0.0.1")));
        assert_eq!(TrustedProxies::parse("").unwrap(), TrustedProxies::default());
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").is_err());
        assert!(TrustedProxies::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies_walking_right_to_left() {
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("203.0.113.9"), &["1.2.3.4"]), ip("203.0.113.9"), "no proxies: the peer");

        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        // An untrusted peer's header is ignored.
        assert_eq!(trusted.client(ip("203.0.113.9"), &["1.2.3.4"]), ip("203.0.113.9"));
        // Client → proxy 10.0.0.2 → proxy 10.0.0.1 (the peer): the client spoofed a first entry.
        let chain = ["6.6.6.6, 198.51.100.7", "10.0.0.2"];
        assert_eq!(trusted.client(ip("10.0.0.1"), &chain), ip("198.51.100.7"));
        // Only trusted entries: the leftmost.
        assert_eq!(trusted.client(ip("10.0.0.1"), &["10.0.0.3, 10.0.0.2"]), ip("10.0.0.3"));
        // Garbage stops the walk at the last address a known proxy wrote.
        assert_eq!(trusted.client(ip("10.0.0.1"), &["198.51.100.7, nonsense, 10.0.0.2"]), ip("10.0.0.2"));
        // No header: the proxy itself.
        assert_eq!(trusted.client(ip("10.0.0.1"), &[]), ip("10.0.0.1"));
    }
}
