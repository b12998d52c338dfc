//! The comparison charts of the page, independent of the browser: what each chart shows
//! ([`data`], from a study's results) and how it is drawn ([`draw`], on any plotters backend —
//! a canvas in the page, SVG in the tests); the faithfulness curves ([`curves`]); the edge
//! graph of the Circuit tab ([`graph`], [`graph_draw`]).

pub mod curves;
pub mod data;
pub mod draw;
pub mod graph;
pub mod graph_draw;
pub mod outline;
pub mod sample;

pub use data::{Grid, Kind, Method};
pub use draw::{PlotArea, diverging};
