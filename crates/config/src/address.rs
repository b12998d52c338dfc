//! Where the page's state lives in its address: the fragment (`#…`). Browsers never send a
//! fragment to the server, so custom prompts and result links stay out of server logs and
//! are not cut by a server's URL limit. Older links put the state in the query (`?…`); they are
//! still read, and the page rewrites them to the fragment form.

use std::fmt;

use crate::PageState;

/// Longest link the page shares without a warning: chat apps, mail clients and some browsers
/// cut or refuse longer ones.
pub const LINK_WARN_BYTES: usize = 8 * 1024;

/// The part of an address that holds the state (without its `?` or `#`): the fragment when it
/// has one, else the query of an older `?` link.
pub fn state_part<'a>(search: &'a str, hash: &'a str) -> &'a str {
    let hash = hash.trim_start_matches('#');
    if hash.is_empty() {
        search.trim_start_matches('?')
    } else {
        hash
    }
}

/// The address, relative to the page's origin, that restores `state` on the page at `path`
/// (e.g. `/gradpatch/`): the path and the fragment, no query.
pub fn address(path: &str, state: &PageState) -> String {
    let q = state.to_query();
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}#{q}")
    }
}

/// A link longer than [`LINK_WARN_BYTES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongLink {
    pub bytes: usize,
}

impl LongLink {
    /// `Some` when a link of `bytes` bytes is over the limit.
    pub fn check(bytes: usize) -> Option<Self> {
        (bytes > LINK_WARN_BYTES).then_some(Self { bytes })
    }
}

impl fmt::Display for LongLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "This link is {:.1} KB, over the {} KB that chat apps, mail clients and some \
             browsers keep: it may arrive cut short. Fewer or shorter custom pairs shorten it; \
             or share the exported results file instead.",
            self.bytes as f64 / 1024.0,
            LINK_WARN_BYTES / 1024
        )
    }
}
