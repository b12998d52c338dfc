//! Showing a `results.json` instead of computing one: from a file (picked or dropped) or a link
//! (`?results=…`, which asks before fetching from another site). A file that cannot be shown
//! leaves the page as it was.

use gradpatch_config::ResultsLink;
use gradpatch_study::{Results, ResultsError};

use crate::{AskLink, Effect, Page, Phase, ResultsFrom, SharedResults};

impl Page {
    /// A link names results: fetched at once from the page's site, after a question from
    /// another.
    pub(crate) fn results_link(
        &mut self,
        link: ResultsLink,
        url: String,
        same_site: bool,
        effects: &mut Vec<Effect>,
    ) {
        if same_site {
            self.fetch_results(url, effects);
        } else {
            self.confirm_results = Some(AskLink { link, url });
        }
    }

    pub(crate) fn confirm_results(&mut self, download: bool, effects: &mut Vec<Effect>) {
        match (download, self.confirm_results.take()) {
            (true, Some(ask)) => self.fetch_results(ask.url, effects),
            _ => self.config.results = None,
        }
    }

    fn fetch_results(&mut self, url: String, effects: &mut Vec<Effect>) {
        self.opening += 1;
        self.banners.status = format!("Downloading the results from {url}…");
        effects.push(Effect::FetchResults {
            url,
            ticket: self.opening,
        });
    }

    /// Shows the results of a file, or says why they cannot be shown (keeping the page as it
    /// was). The link's highlight quantile applies to them when it set one, else theirs.
    pub(crate) fn opened(
        &mut self,
        from: ResultsFrom,
        results: Result<Box<Results>, ResultsError>,
    ) {
        self.banners.status = String::new();
        let results = match results {
            Ok(r) => *r,
            Err(e) => {
                self.banners.error = Some(format!(
                    "Open results: {from} is not a results.json this page can show: {e}"
                ));
                return;
            }
        };
        let n = results.prompts.len();
        if !self.link_sets_percentile || !matches!(from, ResultsFrom::Link(_)) {
            self.config.options.percentile = results.config.options.percentile;
        }
        if !matches!(from, ResultsFrom::Link(_)) {
            // The address can only name results on a server.
            self.config.results = None;
        }
        let (layers, heads, neurons) = results.shape().unwrap_or((0, 0, 0));
        let warnings = self.config.fit_view(layers, heads, neurons, Some(n));
        self.banners
            .warnings
            .extend(warnings.iter().map(ToString::to_string));
        self.banners.error = None;
        self.banners.status = format!(
            "Opened the results of {} on {n} prompts from {from}.",
            results.config.model
        );
        let under = std::mem::replace(&mut self.phase, Phase::Idle).without_file();
        // The statistics shown are computed from the scores shown, never taken from the file
        // (a file edited, or written by an older version, may carry others).
        let results = results.at_percentile(self.config.options.percentile);
        self.phase = Phase::ViewingFile {
            results: SharedResults::new(results),
            from,
            under: Box::new(under),
        };
    }

    pub(crate) fn open_failed(&mut self, from: &ResultsFrom, message: &str) {
        self.banners.status = String::new();
        self.banners.error = Some(match from {
            ResultsFrom::Link(url) => format!("Open results from {url}: {message}."),
            ResultsFrom::File(name) => format!("Open results: {name} {message}"),
            ResultsFrom::Run => format!("Open results: {message}"),
        });
    }
}
