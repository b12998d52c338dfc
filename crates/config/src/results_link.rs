//! Where a link points the page for a `results.json` to show: an absolute URL (checked like a
//! model URL) or a path relative to the page (same site, e.g. `results/run1.json`).

use std::fmt;

use crate::{ModelUrl, UrlError};

/// Why a link's `results` value names no results.json.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkError {
    Url(UrlError),
    Empty,
    Whitespace,
    /// Browsers read `\` as `/` in a URL's path: `\\host/x` is another site.
    Backslash,
    NotAPath,
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::Url(e) => e.fmt(f),
            LinkError::Empty => f.write_str("expected the URL of a results.json"),
            LinkError::Whitespace => {
                f.write_str("a path cannot contain spaces or control characters")
            }
            LinkError::Backslash => f.write_str(
                "a path cannot contain `\\` (browsers read it as `/`): write the path with `/`",
            ),
            LinkError::NotAPath => {
                f.write_str("expected an https:// URL or a path on this site like results/run.json")
            }
        }
    }
}

impl std::error::Error for LinkError {}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResultsLink {
    /// `https:` (or `http:` on this machine): the page asks before fetching from another site.
    Url(ModelUrl),
    /// A path on the page's own site, resolved against the page's address.
    Relative(String),
}

impl ResultsLink {
    /// Parses a link's `results` value; the error says what is wrong and what is expected.
    pub fn parse(s: &str) -> Result<Self, LinkError> {
        let s = s.trim();
        if s.contains("://") {
            return ModelUrl::parse(s)
                .map(ResultsLink::Url)
                .map_err(LinkError::Url);
        }
        if s.is_empty() {
            return Err(LinkError::Empty);
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(LinkError::Whitespace);
        }
        if s.contains('\\') {
            return Err(LinkError::Backslash);
        }
        // `//host/…` is another site without a scheme, `name:` a scheme (javascript:, data:).
        let head = &s[..s.find(['/', '?', '#']).unwrap_or(s.len())];
        if s.starts_with("//") || head.contains(':') {
            return Err(LinkError::NotAPath);
        }
        Ok(ResultsLink::Relative(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        match self {
            ResultsLink::Url(u) => u.as_str(),
            ResultsLink::Relative(p) => p,
        }
    }
}

impl fmt::Display for ResultsLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::ResultsLink;

    #[test]
    fn results_links_are_urls_or_paths_on_the_site() {
        assert!(matches!(
            ResultsLink::parse("https://example.org/r/results.json").unwrap(),
            ResultsLink::Url(_)
        ));
        for path in [
            "results.json",
            "runs/a/results.json?v=2",
            "/gradpatch/r.json",
        ] {
            assert_eq!(
                ResultsLink::parse(path).unwrap(),
                ResultsLink::Relative(path.into())
            );
        }
        let refused = [
            ("", "expected the URL"),
            ("javascript:alert(1)", "a path on this site"),
            ("data:application/json,{}", "a path on this site"),
            ("//evil.org/r.json", "a path on this site"),
            ("/\\evil.org/r.json", "cannot contain `\\`"),
            ("\\\\evil.org/r.json", "cannot contain `\\`"),
            ("\\/evil.org/r.json", "cannot contain `\\`"),
            ("runs\\r.json", "cannot contain `\\`"),
            ("http://example.org/r.json", "only allowed for localhost"),
            ("a b.json", "spaces"),
        ];
        for (link, why) in refused {
            let e = ResultsLink::parse(link).unwrap_err();
            assert!(e.to_string().contains(why), "{link}: {e}");
        }
    }
}
