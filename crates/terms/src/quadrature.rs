//! Integration nodes and weights on [0, 1], as captum's `approximation_methods` gives them.

keyed_enum! {
    /// The integration rule of IG.
    pub enum Quadrature ("IG method") {
        /// numpy's `leggauss(n)` mapped to [0, 1] (captum's default, the reference's choice).
        GaussLegendre = "gausslegendre",
        RiemannLeft = "riemann_left",
        RiemannRight = "riemann_right",
        RiemannMiddle = "riemann_middle",
        RiemannTrapezoid = "riemann_trapezoid",
    }
}

/// A rule given fewer steps than it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooFewSteps {
    pub rule: Quadrature,
    pub given: usize,
}

impl std::fmt::Display for TooFewSteps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} needs at least {} steps, got {}",
            self.rule.key(),
            self.rule.min_steps(),
            self.given
        )
    }
}

impl std::error::Error for TooFewSteps {}

impl Quadrature {
    /// The fewest steps the rule works with (the trapezoid rule needs both ends).
    pub fn min_steps(self) -> usize {
        match self {
            Quadrature::RiemannTrapezoid => 2,
            _ => 1,
        }
    }

    /// `(alphas, step_sizes)` for `n` steps (`n >= 1`; trapezoid needs `n >= 2`).
    pub fn nodes(self, n: usize) -> Result<(Vec<f64>, Vec<f64>), TooFewSteps> {
        if n < self.min_steps() {
            return Err(TooFewSteps {
                rule: self,
                given: n,
            });
        }
        let nf = n as f64;
        let linspace = |a: f64, b: f64| -> Vec<f64> {
            if n == 1 {
                vec![a]
            } else {
                (0..n)
                    .map(|i| a + (b - a) * i as f64 / (nf - 1.0))
                    .collect()
            }
        };
        Ok(match self {
            Quadrature::GaussLegendre => {
                let (x, w) = leggauss(n);
                (
                    x.iter().map(|x| 0.5 * (1.0 + x)).collect(),
                    w.iter().map(|w| 0.5 * w).collect(),
                )
            }
            Quadrature::RiemannLeft => (linspace(0.0, 1.0 - 1.0 / nf), vec![1.0 / nf; n]),
            Quadrature::RiemannRight => (linspace(1.0 / nf, 1.0), vec![1.0 / nf; n]),
            Quadrature::RiemannMiddle => (linspace(0.5 / nf, 1.0 - 0.5 / nf), vec![1.0 / nf; n]),
            Quadrature::RiemannTrapezoid => {
                let mut w = vec![1.0 / (nf - 1.0); n];
                w[0] = 0.5 / (nf - 1.0);
                w[n - 1] = 0.5 / (nf - 1.0);
                (linspace(0.0, 1.0), w)
            }
        })
    }
}

/// Gauss–Legendre nodes (ascending, like numpy) and weights on [-1, 1], by Newton's method on
/// the Legendre recurrence in f64.
pub fn leggauss(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut x = vec![0.0; n];
    let mut w = vec![0.0; n];
    for i in 0..n {
        let mut r = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut dp = 1.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, r);
            for k in 2..=n {
                let kf = k as f64;
                let p2 = ((2.0 * kf - 1.0) * r * p1 - (kf - 1.0) * p0) / kf;
                p0 = p1;
                p1 = p2;
            }
            let pn = if n == 1 { r } else { p1 };
            let pm = if n == 1 { 1.0 } else { p0 };
            dp = n as f64 * (r * pn - pm) / (r * r - 1.0);
            let dx = pn / dp;
            r -= dx;
            if dx.abs() < 1e-16 {
                break;
            }
        }
        x[n - 1 - i] = r;
        w[n - 1 - i] = 2.0 / ((1.0 - r * r) * dp * dp);
    }
    (x, w)
}
