//! Which points a scatter draws. A chart of every neuron of every prompt pooled holds millions of
//! points, more than a canvas draws in a frame and more than the eye separates; above
//! [`MAX_DRAWN`] a fixed-seed uniform sample is drawn (with the extreme points, so the axes are
//! those of all the points), and the chart says so. Statistics (Pearson r, the line, the
//! limits of agreement) always use every point.

/// Most points a scatter draws.
pub const MAX_DRAWN: usize = 20_000;

/// What a chart drew of its points.
#[derive(Clone, Debug, PartialEq)]
pub struct Drawn {
    /// Indices of the points drawn, in increasing order.
    pub indices: Vec<usize>,
    /// How many points there are in all.
    pub total: usize,
}

impl Drawn {
    /// Whether some points were left out.
    pub fn sampled(&self) -> bool {
        self.indices.len() < self.total
    }

    /// What a sampled chart says under it (`None` when every point is drawn).
    pub fn note(&self) -> Option<String> {
        self.sampled().then(|| {
            format!(
                "{} of {} points drawn: a uniform sample with the extremes. The statistics use every point.",
                thousands(self.indices.len()),
                thousands(self.total)
            )
        })
    }

    /// The points drawn.
    pub fn pick<T: Copy>(&self, points: &[T]) -> Vec<T> {
        self.indices
            .iter()
            .filter_map(|&i| points.get(i).copied())
            .collect()
    }
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// SplitMix64: a fixed, portable sequence (the same sample on every machine and every redraw).
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The points of `points` a chart draws: all of them up to `cap`; else the four extremes (the
/// smallest and largest x and y, so the axes do not change) and a uniform sample of the rest,
/// `cap` in all (selection sampling, Knuth's algorithm S).
pub fn drawn(points: &[(f64, f64)], cap: usize) -> Drawn {
    let total = points.len();
    if total <= cap {
        return Drawn {
            indices: (0..total).collect(),
            total,
        };
    }
    let mut extremes = extreme_indices(points);
    extremes.sort_unstable();
    extremes.dedup();
    let mut want = cap.saturating_sub(extremes.len());
    let mut left = total - extremes.len();
    let mut state = 0x6772_6164_7061_7463; // "gradpatc"
    let mut indices = Vec::with_capacity(cap);
    for i in 0..total {
        if extremes.binary_search(&i).is_ok() {
            indices.push(i);
            continue;
        }
        // Keep with probability want / left: uniform over the subsets of `want`.
        if want > 0 && (splitmix(&mut state) % left as u64) < want as u64 {
            indices.push(i);
            want -= 1;
        }
        left -= 1;
    }
    Drawn { indices, total }
}

/// Indices of the smallest and largest x and y among the finite points.
fn extreme_indices(points: &[(f64, f64)]) -> Vec<usize> {
    let mut best = [None::<(usize, f64)>; 4];
    for (i, &(x, y)) in points.iter().enumerate() {
        for (slot, v, larger) in [(0, x, false), (1, x, true), (2, y, false), (3, y, true)] {
            if !v.is_finite() {
                continue;
            }
            let better = best[slot].is_none_or(|(_, b)| if larger { v > b } else { v < b });
            if better {
                best[slot] = Some((i, v));
            }
        }
    }
    best.iter().flatten().map(|&(i, _)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(n: usize) -> Vec<(f64, f64)> {
        (0..n)
            .map(|i| ((i % 1000) as f64, (i / 1000) as f64))
            .collect()
    }

    #[test]
    fn up_to_the_cap_every_point_is_drawn() {
        let d = drawn(&grid(500), 500);
        assert_eq!(d.indices, (0..500).collect::<Vec<_>>());
        assert!(!d.sampled());
        assert_eq!(d.note(), None);
    }

    #[test]
    fn above_it_a_fixed_uniform_sample_with_the_extremes_is_drawn() {
        let mut points = grid(1_000_000);
        points[777_777] = (-5.0, 0.5);
        points[3] = (2.0, 9e9);
        let d = drawn(&points, MAX_DRAWN);
        assert_eq!(d.indices.len(), MAX_DRAWN, "exactly the cap");
        assert!(
            d.indices.windows(2).all(|w| w[0] < w[1]),
            "increasing, no repeats"
        );
        for extreme in [777_777, 3, 999, 0] {
            assert!(d.indices.binary_search(&extreme).is_ok(), "{extreme} kept");
        }
        assert_eq!(d, drawn(&points, MAX_DRAWN), "the same sample every time");
        // Uniform: each tenth of the points gets about a tenth of the sample.
        for tenth in 0..10 {
            let n = d.indices.iter().filter(|&&i| i / 100_000 == tenth).count();
            assert!((1_800..=2_200).contains(&n), "tenth {tenth}: {n}");
        }
        assert_eq!(
            d.note().as_deref(),
            Some(
                "20,000 of 1,000,000 points drawn: a uniform sample with the extremes. The statistics use every point."
            )
        );
        assert_eq!(d.pick(&points).len(), MAX_DRAWN);
    }

    #[test]
    fn non_finite_points_are_never_extremes() {
        let mut points = grid(30);
        points[7] = (f64::NAN, f64::INFINITY);
        let d = drawn(&points, 10);
        assert_eq!(d.indices.len(), 10);
        assert!(extreme_indices(&points).iter().all(|&i| i != 7));
    }
}
