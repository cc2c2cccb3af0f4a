//! The SSRF guard's rule: which IP addresses a webhook may reach. Private, loopback, link-local,
//! CGNAT, multicast and reserved ranges, the cloud platforms' host endpoint `168.63.129.16`, and
//! the IPv6 forms that carry an IPv4 address (IPv4-mapped, 6to4, Teredo, NAT64) are refused unless
//! listed in `WEBHOOK_ALLOWED_SUBNETS` (an IPv4-mapped address is matched against the list as the
//! IPv4 address it carries).

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Which addresses are reachable.
#[derive(Clone, Debug, Default)]
pub struct IpPolicy {
    allowed: Vec<IpNet>,
}

impl IpPolicy {
    pub fn new(allowed: Vec<IpNet>) -> Self {
        Self { allowed }
    }

    /// May a request go to `ip`?
    pub fn permits(&self, ip: IpAddr) -> bool {
        let canonical = canonical(ip);
        self.allowed.iter().any(|net| net.contains(&canonical) || net.contains(&ip)) || is_public(ip)
    }
}

/// The address a URL's host names without DNS: an IP literal, or `localhost` in any spelling
/// (`localhost.`, `x.localhost`), which always means loopback. The one place that reads hosts so.
pub fn literal_ip(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(v4) => Some(v4.into()),
        url::Host::Ipv6(v6) => Some(v6.into()),
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            (d == "localhost" || d.ends_with(".localhost")).then_some(IpAddr::from([127, 0, 0, 1]))
        }
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) are judged as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Is `ip` a globally routable unicast address?
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments 192.0.0.0/24
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18.0.0/15
        || ip == Ipv4Addr::new(168, 63, 129, 16) // the cloud host's wire server (Azure), like 169.254.169.254
        || a >= 240) // reserved 240.0.0.0/4
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || ip.segments()[..6] == [0; 6] // IPv4-compatible ::a.b.c.d (deprecated; ::127.0.0.1 is loopback)
        || ip.segments()[..6] == [0, 0, 0, 0, 0, 0xffff] // IPv4-mapped ::ffff:a.b.c.d
        || ip.segments()[..6] == [0, 0, 0, 0, 0xffff, 0] // IPv4-translated ::ffff:0:a.b.c.d
        || first == 0x2001 && ip.segments()[1] == 0 // Teredo 2001::/32 wraps an IPv4 address
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation 2001:db8::/32
        || first == 0x0064 && ip.segments()[1] == 0xff9b // NAT64 64:ff9b::/96 and 64:ff9b:1::/48 reach IPv4
        || first == 0x2002 // 6to4 tunnels wrap IPv4 addresses
        || first == 0x0100 && ip.segments()[1..4] == [0, 0, 0]) // discard-only 100::/64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_and_special_ranges_are_refused() {
        let policy = IpPolicy::default();
        for blocked in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2002:7f00:1::1",
            "64:ff9b::7f00:1",
            "::127.0.0.1",
            "::10.0.0.1",
            "168.63.129.16",
            "::ffff:1.1.1.1",
            "::ffff:0:1.1.1.1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "64:ff9b:1::1",
        ] {
            assert!(!policy.permits(ip(blocked)), "{blocked} should be refused");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(policy.permits(ip(public)), "{public} should be allowed");
        }
    }

    #[test]
    fn hosts_that_name_an_address_without_dns_are_read_as_that_address() {
        let host = |u: &str| literal_ip(&url::Url::parse(u).unwrap());
        let loopback = Some(ip("127.0.0.1"));
        for u in ["https://localhost/", "https://localhost./", "https://LOCALHOST:8443/", "https://a.localhost./x"] {
            assert_eq!(host(u), loopback, "{u}");
        }
        assert_eq!(host("https://[::127.0.0.1]/"), Some(ip("::7f00:1")));
        assert_eq!(host("https://2130706433/"), loopback, "decimal IPv4 is parsed as an address");
        assert_eq!(host("https://example.com/"), None);
        assert_eq!(host("https://localhost.example.com/"), None);
    }

    #[test]
    fn allowed_subnets_open_a_private_range() {
        let policy = IpPolicy::new(vec!["127.0.0.0/8".parse().unwrap()]);
        assert!(policy.permits(ip("127.0.0.1")));
        assert!(policy.permits(ip("::ffff:127.0.0.1")));
        assert!(!policy.permits(ip("10.0.0.1")));
    }
}
