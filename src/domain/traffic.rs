//! Rules of the traffic controls, shared by the API and the console: a webhook's own headers and the
//! address ranges (CIDRs) an API key may be used from.

use std::collections::BTreeMap;
#[cfg(feature = "ssr")]
use std::net::IpAddr;

/// Most headers one webhook may add.
pub const MAX_HEADERS: usize = 20;
/// Longest header name.
pub const MAX_HEADER_NAME: usize = 64;
/// Longest header value.
pub const MAX_HEADER_VALUE: usize = 1024;
/// Most address ranges one key may list.
pub const MAX_ALLOWED_IPS: usize = 50;

/// Headers a webhook may not set: ours (the signature and ids a receiver verifies, which a custom
/// value would break or forge), those that describe the body or the connection, and the hop-by-hop
/// ones a client must not forward.
pub const RESERVED_HEADERS: &[&str] = &[
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-webhook-id",
    "x-webhook-event",
    "x-webhook-timestamp",
    "x-webhook-signature",
    "host",
    "content-length",
    "content-type",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "expect",
];

/// Checks a webhook's headers; on a fault, the field to name (`headers.<name>`) and why.
pub fn custom_headers(headers: &BTreeMap<String, String>) -> Result<(), (String, String)> {
    if headers.len() > MAX_HEADERS {
        return Err(("headers".into(), format!("at most {MAX_HEADERS} headers")));
    }
    let mut seen: Vec<String> = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        let field = format!("headers.{name}");
        let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if name.is_empty() || name.len() > MAX_HEADER_NAME || !name.chars().all(token) {
            return Err((
                field,
                format!(
                    "a header name is 1 to {MAX_HEADER_NAME} letters, digits or !#$%&'*+-.^_`|~ (no spaces or colons)"
                ),
            ));
        }
        let lower = name.to_ascii_lowercase();
        let reserved_prefix = ["webhook-", "x-webhook-", "proxy-"].iter().any(|p| lower.starts_with(p));
        if reserved_prefix || RESERVED_HEADERS.contains(&lower.as_str()) {
            return Err((field, format!("`{name}` is set by the server and cannot be changed")));
        }
        if seen.contains(&lower) {
            return Err((field, format!("`{name}` is given twice (header names are case-insensitive)")));
        }
        seen.push(lower);
        if value.len() > MAX_HEADER_VALUE {
            return Err((field, format!("a header value has at most {MAX_HEADER_VALUE} characters")));
        }
        if value.chars().any(|c| c == '\r' || c == '\n') {
            return Err((field, "a header value may not contain a line break".into()));
        }
        if !value.chars().all(|c| c == ' ' || c == '\t' || c.is_ascii_graphic()) {
            return Err((field, "a header value is printable ASCII (spaces and tabs allowed)".into()));
        }
    }
    Ok(())
}

/// Reads headers written one per line as `Name: value` (the console's form; blank lines skipped).
pub fn header_lines(text: &str) -> Result<BTreeMap<String, String>, (String, String)> {
    let mut headers = BTreeMap::new();
    for (i, line) in text.lines().map(str::trim).enumerate().filter(|(_, l)| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(("headers".into(), format!("line {}: write each header as `Name: value`", i + 1)));
        };
        if headers.insert(name.trim().to_string(), value.trim().to_string()).is_some() {
            return Err(("headers".into(), format!("`{}` is given twice", name.trim())));
        }
    }
    Ok(headers)
}

/// Headers one per line as `Name: value`, for the console's form.
pub fn to_header_lines(headers: &BTreeMap<String, String>) -> String {
    headers.iter().map(|(name, value)| format!("{name}: {value}")).collect::<Vec<_>>().join("\n")
}

/// Reads an address range: `203.0.113.0/24`, `2001:db8::/32`, or one address (its whole prefix).
/// Kept as its network (`10.1.2.3/16` is `10.1.0.0/16`). An IPv4-mapped IPv6 form
/// (`::ffff:127.0.0.1`, `::ffff:10.0.0.0/104`) is the IPv4 range it names, as clients are.
#[cfg(feature = "ssr")]
pub fn parse_range(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    let net = text
        .parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(ipnet::IpNet::from))
        .map(|net| net.trunc())
        .map_err(|_| format!("`{text}` is not an IP address or a CIDR range like 203.0.113.0/24"))?;
    if let ipnet::IpNet::V6(v6) = net {
        if let (Some(v4), true) = (v6.network().to_ipv4_mapped(), v6.prefix_len() >= 96) {
            return Ok(ipnet::IpNet::V4(ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).expect("at most 32")));
        }
    }
    Ok(net)
}

/// Reads a list of ranges; on a fault, its index and why.
#[cfg(feature = "ssr")]
pub fn parse_ranges(list: &[String]) -> Result<Vec<ipnet::IpNet>, (usize, String)> {
    if list.len() > MAX_ALLOWED_IPS {
        return Err((MAX_ALLOWED_IPS, format!("at most {MAX_ALLOWED_IPS} address ranges")));
    }
    list.iter().enumerate().map(|(i, text)| parse_range(text).map_err(|m| (i, m))).collect()
}

/// Is `ip` in one of `ranges`? (An IPv4 address seen as IPv6, `::ffff:a.b.c.d`, counts as IPv4.)
#[cfg(feature = "ssr")]
pub fn in_ranges(ranges: &[ipnet::IpNet], ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    ranges.iter().any(|range| range.contains(&ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "ssr")]
    #[test]
    fn ranges_contain_their_addresses_only() {
        let ranges = |list: &[&str]| parse_ranges(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let net = ranges(&["203.0.113.0/24"]).unwrap();
        assert!(in_ranges(&net, "203.0.113.7".parse().unwrap()));
        assert!(in_ranges(&net, "::ffff:203.0.113.7".parse().unwrap()), "an IPv4 address seen as IPv6");
        assert!(!in_ranges(&net, "203.0.114.1".parse().unwrap()));
        assert!(!in_ranges(&net, "2001:db8::1".parse().unwrap()));
        let one = ranges(&["127.0.0.1"]).unwrap();
        assert!(in_ranges(&one, "127.0.0.1".parse().unwrap()) && !in_ranges(&one, "127.0.0.2".parse().unwrap()));
        assert!(in_ranges(&ranges(&["0.0.0.0/0"]).unwrap(), "8.8.8.8".parse().unwrap()));
        let v6 = ranges(&["2001:db8::/32"]).unwrap();
        assert!(in_ranges(&v6, "2001:db8:1::5".parse().unwrap()) && !in_ranges(&v6, "2001:db9::1".parse().unwrap()));
        assert_eq!(ranges(&["10.0.0.1", "10.0.0.0/33"]).unwrap_err().0, 1);
        assert!(parse_range("10.0.0/8").is_err());
        assert!(parse_range("example.com").is_err());
        assert_eq!(parse_range(" 10.1.2.3/16 ").unwrap().to_string(), "10.1.0.0/16");
        // IPv4-mapped forms name the IPv4 range, so they match IPv4 clients.
        assert_eq!(parse_range("::ffff:127.0.0.1").unwrap().to_string(), "127.0.0.1/32");
        assert_eq!(parse_range("::ffff:10.0.0.0/104").unwrap().to_string(), "10.0.0.0/8");
        assert!(in_ranges(&ranges(&["::ffff:127.0.0.1"]).unwrap(), "127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn headers_are_refused_when_reserved_malformed_or_repeated() {
        let map = |pairs: &[(&str, &str)]| pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        assert!(custom_headers(&map(&[("Authorization", "Bearer abc"), ("X-Tenant", "acme")])).is_ok());
        assert_eq!(custom_headers(&map(&[("Webhook-Signature", "v1,x")])).unwrap_err().0, "headers.Webhook-Signature");
        assert_eq!(custom_headers(&map(&[("Host", "evil.example")])).unwrap_err().0, "headers.Host");
        // Every name of ours, in any case, and the proxy ones (as the README says).
        for name in ["webhook-version", "X-WEBHOOK-Attempt", "x-webhook-anything", "Proxy-Foo"] {
            assert_eq!(custom_headers(&map(&[(name, "v")])).unwrap_err().0, format!("headers.{name}"), "{name}");
        }
        assert_eq!(
            custom_headers(&map(&[("Transfer-Encoding", "chunked")])).unwrap_err().0,
            "headers.Transfer-Encoding"
        );
        let broken = custom_headers(&map(&[("X-A", "one\r\nX-Injected: two")])).unwrap_err();
        assert!(broken.1.contains("line break"), "{broken:?}");
        assert!(custom_headers(&map(&[("X A", "v")])).is_err());
        assert!(custom_headers(&map(&[("X-Colon:", "v")])).is_err());
        assert!(custom_headers(&map(&[("X-A", "1"), ("x-a", "2")])).unwrap_err().1.contains("twice"));
        let lines = header_lines("Authorization: Bearer a:b\n\n  X-Tenant :acme ").unwrap();
        assert_eq!(lines, map(&[("Authorization", "Bearer a:b"), ("X-Tenant", "acme")]));
        assert_eq!(header_lines(&to_header_lines(&lines)).unwrap(), lines);
        assert!(header_lines("no colon here").unwrap_err().1.contains("line 1"));
    }
}
