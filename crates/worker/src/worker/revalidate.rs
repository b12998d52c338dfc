//! Whether a cached model file that is not addressed by its content (a model URL whose folder
//! has no manifest) is still what its server serves: a conditional request with the validators
//! the cached response kept (ETag, else Last-Modified). A 304 keeps the cached copy; a 200 is
//! the changed file, downloaded in its place. Without validators, offline or when the server
//! does not answer, the cached copy is used as before. Presets (pinned) and files named by
//! their hash (`?sha256=`, from a manifest) never change under their URL and are not asked.

use std::cell::Cell;
use std::rc::Rc;

use web_sys::{AbortController, Headers, RequestCache, RequestInit, Response};

use super::fetch::{Want, answer, set_abort};

/// What the server says of a cached copy.
pub(super) enum Cached {
    /// The same file (or no way to tell).
    Current,
    /// Another file: its response, whose body is still to be read under `abort`.
    Changed {
        response: Response,
        abort: AbortController,
    },
}

/// Whether `want`'s URL can name other bytes over time.
fn may_change<T>(want: &Want<'_, T>) -> bool {
    let addressed = web_sys::Url::new(&want.url).is_ok_and(|u| {
        u.search()
            .trim_start_matches('?')
            .split('&')
            .any(|kv| kv.starts_with("sha256="))
    });
    want.pin.is_none() && !addressed
}

/// Asks the server whether `cached` is still `want`'s file.
pub(super) async fn check<T>(
    want: &Want<'_, T>,
    cached: &Response,
    cancel: &Rc<Cell<bool>>,
) -> Cached {
    if !may_change(want) || cancel.get() {
        return Cached::Current;
    }
    let header = |h: &str| cached.headers().get(h).ok().flatten();
    let (etag, modified) = (header("etag"), header("last-modified"));
    let (Ok(headers), Ok(abort)) = (Headers::new(), AbortController::new()) else {
        return Cached::Current;
    };
    let asked = match (&etag, &modified) {
        (Some(tag), _) => headers.set("if-none-match", tag),
        (None, Some(date)) => headers.set("if-modified-since", date),
        (None, None) => return Cached::Current,
    };
    if asked.is_err() {
        return Cached::Current;
    }
    let init = RequestInit::new();
    init.set_headers(&headers);
    // The browser's HTTP cache must neither answer for the server nor add its own validators.
    init.set_cache(RequestCache::NoStore);
    init.set_signal(Some(&abort.signal()));
    set_abort(Some(abort.clone()));
    let got = answer(&want.url, &init).await;
    set_abort(None);
    match got {
        Ok(response) if response.status() == 200 && !cancel.get() => {
            Cached::Changed { response, abort }
        }
        _ => {
            abort.abort();
            Cached::Current
        }
    }
}
