//! A model's base URL from a link or the URL box, parsed before anything is fetched from it.

use std::fmt;

/// An `https:` URL (or `http:` on this machine) without credentials: where a link may point the
/// page for `model.safetensors`, `tokenizer.json` and `config.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelUrl {
    url: String,
    host: String,
}

/// Why a text is not a model URL a link may name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UrlError {
    Whitespace,
    Scheme,
    Credentials,
    UnclosedIpv6,
    Port(String),
    Host(String),
    PlainHttp(String),
    /// An `http://localhost` URL in a link to a page on a real site: it would make the
    /// visitor's browser fetch from the visitor's own machine.
    LocalFromSite(String),
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Whitespace => {
                f.write_str("a URL cannot contain spaces or control characters")
            }
            UrlError::Scheme => {
                f.write_str("expected an https:// URL (http:// only for localhost)")
            }
            UrlError::Credentials => {
                f.write_str("a model URL must not contain a user name or password (user:pass@host)")
            }
            UrlError::UnclosedIpv6 => f.write_str("the URL's IPv6 host has no closing `]`"),
            UrlError::Port(port) => write!(f, "the URL's port `{port}` is not a number"),
            UrlError::Host(host) => write!(
                f,
                "`{host}` is not a host name (internationalised names must be written in punycode, xn--…)"
            ),
            UrlError::PlainHttp(host) => write!(
                f,
                "http:// is only allowed for localhost and 127.0.0.1, not `{host}`: use https://"
            ),
            UrlError::LocalFromSite(host) => write!(
                f,
                "http://{host} names your own machine, which a link to a page on the web may not: \
                 only a page served from this machine opens it (use https://)"
            ),
        }
    }
}

impl std::error::Error for UrlError {}

/// Hosts `http:` is allowed for: a model served on this machine.
pub const LOCAL_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

impl ModelUrl {
    /// Parses an absolute `https:`/`http:` URL; the error says what is wrong and what is
    /// expected.
    pub fn parse(s: &str) -> Result<Self, UrlError> {
        let s = s.trim();
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(UrlError::Whitespace);
        }
        let lower = s.to_ascii_lowercase();
        let (https, rest) = if lower.starts_with("https://") {
            (true, &s[8..])
        } else if lower.starts_with("http://") {
            (false, &s[7..])
        } else {
            return Err(UrlError::Scheme);
        };
        let authority = &rest[..rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len())];
        if authority.contains('@') {
            return Err(UrlError::Credentials);
        }
        let (host, port) = if authority.starts_with('[') {
            let end = authority.find(']').ok_or(UrlError::UnclosedIpv6)?;
            (&authority[..=end], &authority[end + 1..])
        } else {
            authority.split_at(authority.find(':').unwrap_or(authority.len()))
        };
        // `port` is empty or `:` and digits.
        let digits = port.strip_prefix(':').unwrap_or(port);
        if !port.is_empty()
            && (!port.starts_with(':')
                || digits.is_empty()
                || !digits.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(UrlError::Port(port.to_string()));
        }
        let host = host.to_ascii_lowercase();
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
        let v6 = host.starts_with('[')
            && host[1..host.len() - 1]
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':');
        if host.is_empty() || !(v6 || host.chars().all(valid)) {
            return Err(UrlError::Host(host));
        }
        if !https && !LOCAL_HOSTS.contains(&host.as_str()) {
            return Err(UrlError::PlainHttp(host));
        }
        Ok(Self {
            url: s.to_string(),
            host,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// An `http:` URL (allowed for this machine's hosts only).
    pub fn is_plain_http(&self) -> bool {
        self.url.to_ascii_lowercase().starts_with("http://")
    }

    /// The host (lower case, without port), shown prominently before the page fetches from it.
    pub fn host(&self) -> &str {
        &self.host
    }
}

impl fmt::Display for ModelUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::ModelUrl;

    #[test]
    fn model_urls_are_parsed_as_urls() {
        let u = ModelUrl::parse("https://Example.org:8443/models/gpt2/?download=1#x").unwrap();
        assert_eq!(u.host(), "example.org");
        assert_eq!(
            u.as_str(),
            "https://Example.org:8443/models/gpt2/?download=1#x"
        );
        assert_eq!(ModelUrl::parse("HTTPS://hf.co").unwrap().host(), "hf.co");
        for local in [
            "http://127.0.0.1:8080/m/",
            "http://localhost/m",
            "http://[::1]:9000/",
        ] {
            assert!(ModelUrl::parse(local).is_ok(), "{local}");
        }
        let refused = [
            ("http://example.org/m/", "only allowed for localhost"),
            ("http://127.0.0.1.evil.org/m/", "only allowed for localhost"),
            ("https://user:pw@example.org/m/", "user name or password"),
            ("https://example.org@evil.org/", "user name or password"),
            ("ftp://example.org/", "expected an https:// URL"),
            ("javascript:alert(1)", "expected an https:// URL"),
            ("https:///path", "is not a host name"),
            ("https://exa mple.org/", "spaces"),
            ("https://example.org:80x/", "port"),
            ("https://exämple.org/", "punycode"),
            ("https://[::1/", "closing"),
        ];
        for (url, why) in refused {
            let e = ModelUrl::parse(url).unwrap_err();
            assert!(e.to_string().contains(why), "{url}: {e}");
        }
    }
}
