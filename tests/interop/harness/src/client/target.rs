//! Parses `--url` and refuses anything that is not https on a loopback host (the TLS
//! verifier in tls.rs is only acceptable there).

use std::net::IpAddr;

pub struct Target {
    /// Host as written, without brackets (`127.0.0.1`, `::1`, `localhost`).
    pub host: String,
    pub port: u16,
    /// `host:port` as it appears in the URL, used for `:authority`.
    pub authority: String,
    /// Path and query sent as `:path` (the real client's rule, §2.3).
    pub path: String,
}

pub fn parse(url: &str) -> Result<Target, String> {
    let rest = url
        .strip_prefix("https://")
        .ok_or("--url must start with https://")?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(index) => (&rest[..index], &rest[index..]),
        None => (rest, ""),
    };
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').ok_or("unterminated [ in --url")?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(text) => text
            .parse::<u16>()
            .map_err(|_| format!("bad port in --url: {text:?}"))?,
        None => 443,
    };
    let loopback = host == "localhost"
        || host
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false);
    if !loopback {
        return Err(format!(
            "refusing non-loopback host {host:?}: this client is for loopback tests only"
        ));
    }
    // The real client uses the URL's path+query when it has a path other than "/" (§2.3).
    let path = if path.is_empty() || path == "/" {
        "/connect".to_string()
    } else {
        path.to_string()
    };
    Ok(Target {
        host: host.to_string(),
        port,
        authority: authority.to_string(),
        path,
    })
}
