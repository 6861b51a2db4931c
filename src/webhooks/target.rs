//! Where a webhook may be sent: `https` URLs whose host resolves only to public addresses.
//! `LDR_WEBHOOKS_ALLOW_PRIVATE=true` (tests, intranets) allows `http` and any address.
//!
//! The check runs at registration and again at every delivery, inside the resolver of the
//! delivery's HTTP client ([`GuardedResolver`]): the addresses checked are the addresses
//! connected to, so a name that resolves to a public address when checked and to a private
//! one a moment later (DNS rebinding) is still refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

/// The longest URL accepted.
pub const MAX_URL_LEN: usize = 2000;

/// A registered URL checked for its form (not yet its addresses): `https://host[:port]/…`
/// (`http` only when private addresses are allowed), no user or password, no fragment.
pub fn check_url(raw: &str, allow_private: bool) -> Result<url::Url, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("is required".into());
    }
    if raw.len() > MAX_URL_LEN {
        return Err(format!("must be at most {MAX_URL_LEN} characters"));
    }
    let u = url::Url::parse(raw).map_err(|e| format!("is not a URL ({e})"))?;
    match u.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => {
            return Err("must be an https:// URL (webhooks are sent over TLS only)".into());
        }
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(
            "must not carry a user name or password; the deliveries are signed instead".into(),
        );
    }
    if u.fragment().is_some() {
        return Err("must not have a #fragment".into());
    }
    Ok(u)
}

/// Whether `ip` is an address webhooks are never sent to (unless private ones are allowed):
/// private, loopback, link-local, multicast, unspecified, broadcast, shared (carrier-grade
/// NAT), documentation, benchmarking or reserved ranges; for IPv6 also unique-local and
/// site-local, and any IPv4 address mapped or translated into IPv6 that is one of those.
pub fn forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => forbidden_v4(a),
        IpAddr::V6(a) => forbidden_v6(a),
    }
}

fn forbidden_v4(a: Ipv4Addr) -> bool {
    let o = a.octets();
    a.is_private()
        || a.is_loopback()
        || a.is_link_local()
        || a.is_multicast()
        || a.is_unspecified()
        || a.is_broadcast()
        || a.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64.0.0/10 shared address space
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // 198.18.0.0/15 benchmarking
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0.0/24 protocol assignments
        || o[0] >= 240 // reserved and broadcast
}

fn forbidden_v6(a: Ipv6Addr) -> bool {
    if let Some(v4) = a.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let s = a.segments();
    // 64:ff9b::/96 (NAT64) carries an IPv4 address in its last 32 bits.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        let v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
        return forbidden_v4(v4);
    }
    a.is_loopback()
        || a.is_unspecified()
        || a.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // fc00::/7 unique local
        || (s[0] & 0xffc0) == 0xfe80 // fe80::/10 link-local
        || (s[0] & 0xffc0) == 0xfec0 // fec0::/10 site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // 2001:db8::/32 documentation
        || (s[0] == 0 && s[1..6] == [0, 0, 0, 0, 0]) // ::/80 incl. IPv4-compatible
}

/// Resolves `host:port` and checks every address: all of them must be allowed, or the whole
/// name is refused (a name that resolves to one public and one private address is refused).
pub fn resolve(host: &str, port: u16, allow_private: bool) -> Result<Vec<SocketAddr>, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("the host {host} does not resolve ({e})"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("the host {host} has no address"));
    }
    if !allow_private {
        if let Some(bad) = addrs.iter().find(|a| forbidden(a.ip())) {
            return Err(format!(
                "the host {host} resolves to {}, a private, loopback, link-local or otherwise \
                 non-public address; webhooks go only to public addresses",
                bad.ip()
            ));
        }
    }
    Ok(addrs)
}

/// Checks a URL's host as [`resolve`] does (at registration).
pub fn check_addresses(u: &url::Url, allow_private: bool) -> Result<(), String> {
    let host = u.host_str().unwrap_or_default();
    let port = u.port_or_known_default().unwrap_or(443);
    resolve(host, port, allow_private).map(|_| ())
}

/// ureq's resolver for deliveries: resolves with [`resolve`] and hands the HTTP client only
/// the addresses it checked.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

/// The error a delivery reports when the resolver refused its host.
pub const REFUSED_PREFIX: &str = "refused: ";

impl ureq::unversioned::resolver::Resolver for GuardedResolver {
    /// ureq's own resolver (with its timeout), then every address checked as [`resolve`]
    /// checks them.
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        use ureq::unversioned::resolver::DefaultResolver;
        let addrs = DefaultResolver::default().resolve(uri, config, timeout)?;
        if !self.allow_private {
            if let Some(bad) = addrs.iter().find(|a| forbidden(a.ip())) {
                return Err(ureq::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!(
                        "{REFUSED_PREFIX}the host {} resolves to {}, a private, loopback, \
                         link-local or otherwise non-public address; webhooks go only to \
                         public addresses",
                        uri.host().unwrap_or_default(),
                        bad.ip()
                    ),
                )));
            }
        }
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_and_special_addresses_are_forbidden() {
        for a in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "224.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "100.64.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
        ] {
            assert!(forbidden(ip(a)), "{a}");
        }
        for a in [
            "8.8.8.8",
            "1.1.1.1",
            "2a00:1450:4009::200e",
            "::ffff:8.8.8.8",
        ] {
            assert!(!forbidden(ip(a)), "{a}");
        }
    }

    #[test]
    fn urls_must_be_https_without_credentials() {
        assert!(check_url("https://example.nhs.uk/hooks?x=1", false).is_ok());
        assert!(check_url("http://example.nhs.uk/hooks", false).is_err());
        assert!(check_url("http://127.0.0.1:9/hooks", true).is_ok());
        assert!(check_url("ftp://example.nhs.uk/", true).is_err());
        assert!(check_url("https://u:p@example.nhs.uk/", false).is_err());
        assert!(check_url("https://example.nhs.uk/#x", false).is_err());
        assert!(check_url("not a url", false).is_err());
        assert!(check_url("", false).is_err());
    }

    #[test]
    fn loopback_is_refused_unless_allowed() {
        let e = resolve("127.0.0.1", 80, false).unwrap_err();
        assert!(e.contains("127.0.0.1"), "{e}");
        assert!(resolve("localhost", 80, false).is_err());
        assert!(resolve("[::1]", 80, false).is_err());
        assert_eq!(resolve("127.0.0.1", 80, true).unwrap().len(), 1);
    }
}
