//! The toolbar's exports: `results.json` and the CSV files, downloaded from the page.

use leptos::prelude::*;

use crate::app::Ctx;
use crate::app::canvas::download_url;

/// Download of text as a file.
pub(super) fn save_text(text: &str, name: &str, mime: &str) {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    if let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts)
        && let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob)
    {
        download_url(&url, name);
        // Revoked a minute later, once the download has started: revoking it at once can
        // cancel the download in some browsers.
        let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        });
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
                wasm_bindgen::JsCast::unchecked_ref(&revoke),
                60_000,
            );
        }
    }
}

/// The two export buttons: `results.json`, and the scores, prompts and statistics CSVs.
#[component]
pub(super) fn ExportButtons() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let export_json = move |_| {
        if let Some(r) = ctx.results.get()
            && let Ok(text) = serde_json::to_string_pretty(&*r)
        {
            save_text(&text, "results.json", "application/json");
        }
    };
    let export_csv = move |_| {
        if let Some(r) = ctx.results.get() {
            save_text(
                &gradpatch_study::csv::scores_csv(&r),
                "scores.csv",
                "text/csv",
            );
            save_text(
                &gradpatch_study::csv::prompts_csv(&r),
                "prompts.csv",
                "text/csv",
            );
            save_text(
                &gradpatch_study::csv::stats_csv(&r),
                "stats.csv",
                "text/csv",
            );
            if r.faithfulness.is_some()
                || r.edges.as_ref().is_some_and(|e| e.faithfulness.is_some())
            {
                let text = gradpatch_study::csv::faithfulness_csv(&r);
                save_text(&text, "faithfulness.csv", "text/csv");
            }
            if r.edges.is_some() {
                save_text(
                    &gradpatch_study::csv::edges_csv(&r),
                    "edges.csv",
                    "text/csv",
                );
            }
        }
    };
    view! {
        <button data-testid="export-json" on:click=export_json>"results.json"</button>
        <button on:click=export_csv>"CSV"</button>
    }
}
