//! URLs as an HTTP/1.1 client needs them: scheme, authority, and the request target.
//!
//! Only `http` and `https` are meaningful here, so this is a small parser rather than a
//! full WHATWG implementation; what it does not understand it refuses, naming the part.

use crate::net::addr::{parse_host, Host, HostPort};

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain TCP, default port 80.
    Http,
    /// TLS, default port 443.
    Https,
}

impl Scheme {
    /// The port used when the URL names none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// A parsed `http://` or `https://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// The scheme.
    pub scheme: Scheme,
    /// The host as written (a name, an IPv4 literal, or `[v6]` without brackets).
    pub host: String,
    /// The port (explicit or the scheme's default).
    pub port: u16,
    /// The port was written in the URL (then `Host` names it).
    pub explicit_port: bool,
    /// `user:pass@` from the URL, if any.
    pub userinfo: Option<String>,
    /// Path and query as written (`/a/b?c`), `/` when empty; never the fragment.
    pub target: String,
}

impl Url {
    /// Parses an absolute URL; a missing scheme means `http://` like curl.
    pub fn parse(text: &str) -> Result<Url, String> {
        let text = text.trim();
        if text.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(format!(
                "URL {text:?} contains spaces or control characters"
            ));
        }
        let (scheme, rest) = match text.split_once("://") {
            Some((s, rest)) => {
                let scheme = match s.to_ascii_lowercase().as_str() {
                    "http" => Scheme::Http,
                    "https" => Scheme::Https,
                    other => return Err(format!("unsupported scheme {other:?} in {text:?}")),
                };
                (scheme, rest)
            }
            None => (Scheme::Http, text),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let tail = tail.split('#').next().unwrap_or("");
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u.to_string()), h),
            None => (None, authority),
        };
        if hostport.is_empty() {
            return Err(format!("URL {text:?} has no host"));
        }
        let (host, port) = if let Some(stripped) = hostport.strip_prefix('[') {
            let close = stripped
                .find(']')
                .ok_or_else(|| format!("unclosed [ in {text:?}"))?;
            let host = &stripped[..close];
            let after = &stripped[close + 1..];
            (host, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(format!("URL {text:?} has no host"));
        }
        let (port, explicit_port) = match port {
            Some(p) => (
                p.parse::<u16>()
                    .ok()
                    .filter(|&p| p != 0)
                    .ok_or_else(|| format!("bad port {p:?} in {text:?}"))?,
                true,
            ),
            None => (scheme.default_port(), false),
        };
        let target = if tail.is_empty() {
            "/".to_string()
        } else if tail.starts_with('?') {
            format!("/{tail}")
        } else {
            tail.to_string()
        };
        Ok(Url {
            scheme,
            host: host.to_string(),
            port,
            explicit_port,
            userinfo,
            target,
        })
    }

    /// The `Host` field value: the host, with its port when the URL named one.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.explicit_port && self.port != self.scheme.default_port() {
            format!("{host}:{}", self.port)
        } else {
            host
        }
    }

    /// Where to connect, before resolution.
    pub fn host_port(&self) -> Result<HostPort, String> {
        let host = parse_host(&self.host).map_err(|e| e.to_string())?;
        Ok(HostPort {
            host,
            port: self.port,
        })
    }

    /// True when the host is an IP literal (no SNI is sent for those).
    pub fn host_is_ip(&self) -> bool {
        matches!(parse_host(&self.host), Ok(Host::Ip(_)))
    }

    /// The origin and target, without userinfo: `http://host:port/path`.
    pub fn without_credentials(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.explicit_port {
            format!(
                "{}://{host}:{}{}",
                self.scheme.as_str(),
                self.port,
                self.target
            )
        } else {
            format!("{}://{host}{}", self.scheme.as_str(), self.target)
        }
    }

    /// The target with `.` and `..` segments removed (RFC 3986 §5.2.4), as browsers and
    /// curl send it unless told `--path-as-is`.
    pub fn normalized_target(&self) -> String {
        let (path, query) = match self.target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (self.target.as_str(), None),
        };
        let mut out: Vec<&str> = Vec::new();
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        let last = segments.len().saturating_sub(1);
        let mut trailing = false;
        for (i, seg) in segments.iter().enumerate() {
            match *seg {
                "." => trailing = i == last,
                ".." => {
                    out.pop();
                    trailing = i == last;
                }
                s => {
                    out.push(s);
                    trailing = false;
                }
            }
        }
        let mut path = format!("/{}", out.join("/"));
        if trailing && !path.ends_with('/') {
            path.push('/');
        }
        match query {
            Some(q) => format!("{path}?{q}"),
            None => path,
        }
    }

    /// Resolves a `Location` value against this URL (absolute, scheme-relative,
    /// absolute-path or relative-path references).
    pub fn join(&self, location: &str) -> Result<Url, String> {
        let location = location.trim();
        if location.contains("://") {
            return Url::parse(location);
        }
        let authority = {
            let host = if self.host.contains(':') {
                format!("[{}]", self.host)
            } else {
                self.host.clone()
            };
            format!("{host}:{}", self.port)
        };
        if let Some(rest) = location.strip_prefix("//") {
            return Url::parse(&format!("{}://{rest}", self.scheme.as_str()));
        }
        let target = if location.starts_with('/') {
            location.to_string()
        } else if location.starts_with('?') {
            let path = self.target.split('?').next().unwrap_or("/");
            format!("{path}{location}")
        } else {
            let path = self.target.split('?').next().unwrap_or("/");
            let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
            format!("{dir}{location}")
        };
        let mut url = Url::parse(&format!("{}://{authority}{target}", self.scheme.as_str()))?;
        url.explicit_port = self.explicit_port;
        url.target = url.normalized_target();
        Ok(url)
    }
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.without_credentials())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_forms() {
        let u = Url::parse("http://user:pw@[::1]:8080/a/b?x=1#frag").unwrap();
        assert_eq!(u.host, "::1");
        assert_eq!(u.port, 8080);
        assert_eq!(u.userinfo.as_deref(), Some("user:pw"));
        assert_eq!(u.target, "/a/b?x=1");
        assert_eq!(u.host_header(), "[::1]:8080");
        let u = Url::parse("example.com").unwrap();
        assert_eq!((u.port, u.target.as_str()), (80, "/"));
        assert!(Url::parse("ftp://x/").is_err());
        assert!(Url::parse("http://x:0/").is_err());
    }

    #[test]
    fn dot_segments_removed_unless_as_is() {
        let u = Url::parse("http://h/a/./b/../c/..?q").unwrap();
        assert_eq!(u.normalized_target(), "/a/?q");
        assert_eq!(u.target, "/a/./b/../c/..?q");
    }

    #[test]
    fn joins_locations() {
        let u = Url::parse("http://h:81/a/b").unwrap();
        assert_eq!(u.join("c").unwrap().to_string(), "http://h:81/a/c");
        assert_eq!(u.join("/x").unwrap().to_string(), "http://h:81/x");
        assert_eq!(u.join("//o/y").unwrap().to_string(), "http://o/y");
        assert_eq!(u.join("https://s/z").unwrap().to_string(), "https://s/z");
        assert_eq!(u.join("../up").unwrap().to_string(), "http://h:81/up");
    }
}
