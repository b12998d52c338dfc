//! A comparison's options as the CLI spells them: the arguments of [`StudyOptions`], by the
//! names links and `results.json` use, and back.

use clap::Args;
use gradpatch_terms::{
    Baseline, Direction, Method, MethodSet, OptionError, Quadrature, Ranking, StudyOptions,
};

/// The options of `gradpatch run` (and of the part a shard computes).
#[derive(Args, Clone, Debug)]
pub struct OptionArgs {
    #[arg(long, default_value_t = MethodSet::default_on(), help = methods_help())]
    methods: MethodSet,
    /// Also write each method's head scores per position (`heads_pos`): AtP's and IG's come
    /// with their sums; AP per head and position costs about 4% of the AP sweep more.
    #[arg(long)]
    positions: bool,
    #[arg(long, default_value_t = 50)]
    ig_steps: usize,
    #[arg(long, default_value = "gausslegendre")]
    ig_method: Quadrature,
    #[arg(long, default_value = "zero")]
    ig_baseline: Baseline,
    #[arg(long, default_value = "noising")]
    ap_direction: Direction,
    /// Quantile of |score| above which a component is highlighted.
    #[arg(long, default_value_t = 0.9)]
    percentile: f64,
    /// Also compute the faithfulness curve of each method's ranking of the heads and of the
    /// neurons (and of 20 random rankings): by |score| (`abs`, the default) or by score
    /// (`signed`).
    #[arg(long, num_args = 0..=1, default_missing_value = "abs")]
    faithfulness: Option<Ranking>,
    /// EAP-IG's steps (the inputs variant's m), with `--methods …,eapig`.
    #[arg(long, default_value_t = 5)]
    eapig_steps: usize,
    /// How many top edges per prompt (by |EAP-IG|, else |EAP|) exact edge patching scores;
    /// 0: none.
    #[arg(long, default_value_t = 200)]
    exact_edges: usize,
}

/// `--methods`' help: the methods' names, from the one list.
fn methods_help() -> String {
    let names: Vec<&str> = Method::ALL.iter().map(|m| m.key()).collect();
    format!(
        "Comma-separated, any of: {} (AtP follows --ap-direction; eap and eapig score edges)",
        names.join(", ")
    )
}

impl OptionArgs {
    /// The options, checked; the error names the argument.
    pub fn options(&self) -> Result<StudyOptions, String> {
        let options = StudyOptions {
            methods: self.methods,
            ig_steps: self.ig_steps,
            ig_method: self.ig_method,
            ig_baseline: self.ig_baseline,
            ap_direction: self.ap_direction,
            percentile: self.percentile,
            positions: self.positions,
            faithfulness: self.faithfulness,
            eapig_steps: self.eapig_steps,
            exact_edges: self.exact_edges,
        };
        options.validate().map_err(|e| message(&e))?;
        Ok(options)
    }
}

/// An out-of-range option as the CLI's arguments name it.
fn message(e: &OptionError) -> String {
    match e {
        OptionError::IgSteps(n) => format!(
            "--ig-steps {n} is out of range: expected 1 to {}",
            StudyOptions::MAX_IG_STEPS
        ),
        OptionError::Percentile(q) => format!("--percentile {q} must be in (0, 1), e.g. 0.9"),
        OptionError::TooFewSteps(e) => format!("--ig-method {e}"),
        OptionError::EapIgSteps(n) => format!(
            "--eapig-steps {n} is out of range: expected 1 to {}",
            StudyOptions::MAX_EAPIG_STEPS
        ),
        OptionError::ExactEdges(n) => format!(
            "--exact-edges {n} is out of range: expected 0 to {}",
            StudyOptions::MAX_EXACT_EDGES
        ),
    }
}

/// The arguments that give `options` (every one, so that a later change of a default does not
/// change what they mean).
pub fn args_of(options: &StudyOptions) -> Vec<String> {
    let mut args = vec![
        "--methods".to_string(),
        options.methods.keys(),
        "--ig-steps".into(),
        options.ig_steps.to_string(),
        "--ig-method".into(),
        options.ig_method.key().into(),
        "--ig-baseline".into(),
        options.ig_baseline.key().into(),
        "--ap-direction".into(),
        options.ap_direction.key().into(),
        "--percentile".into(),
        options.percentile.to_string(),
        "--eapig-steps".into(),
        options.eapig_steps.to_string(),
        "--exact-edges".into(),
        options.exact_edges.to_string(),
    ];
    if options.positions {
        args.push("--positions".into());
    }
    if let Some(ranking) = options.faithfulness {
        args.push(format!("--faithfulness={ranking}"));
    }
    args
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        options: OptionArgs,
    }

    fn parse(args: &[String]) -> Result<StudyOptions, String> {
        let cli =
            Cli::try_parse_from(std::iter::once("gradpatch".to_string()).chain(args.to_vec()))
                .map_err(|e| e.to_string())?;
        cli.options.options()
    }

    #[test]
    fn options_become_arguments_and_back() {
        let defaults = parse(&[]);
        assert_eq!(
            defaults,
            Ok(StudyOptions {
                positions: false,
                ..StudyOptions::default()
            }),
            "the CLI's defaults are the page's, without scores per position"
        );
        for options in [
            StudyOptions::default(),
            StudyOptions {
                methods: MethodSet::NONE.with(Method::Atp, true),
                ig_steps: 3,
                ig_method: Quadrature::RiemannTrapezoid,
                ig_baseline: Baseline::Corrupted,
                ap_direction: Direction::Denoising,
                percentile: 0.75,
                positions: false,
                faithfulness: Some(Ranking::Signed),
                eapig_steps: 9,
                exact_edges: 0,
            },
            StudyOptions {
                methods: MethodSet::all(),
                exact_edges: 40,
                ..StudyOptions::default()
            },
            StudyOptions {
                faithfulness: Some(Ranking::Abs),
                ..StudyOptions::default()
            },
        ] {
            assert_eq!(parse(&args_of(&options)), Ok(options.clone()));
        }
    }

    #[test]
    fn out_of_range_options_name_the_argument() {
        let bad = |args: &[&str]| {
            let args: Vec<String> = args.iter().map(ToString::to_string).collect();
            parse(&args).err().unwrap_or_default()
        };
        let faith = |args: &[&str]| {
            let args: Vec<String> = args.iter().map(ToString::to_string).collect();
            parse(&args).map(|o| o.faithfulness)
        };
        assert_eq!(faith(&["--faithfulness"]), Ok(Some(Ranking::Abs)));
        assert_eq!(faith(&["--faithfulness=signed"]), Ok(Some(Ranking::Signed)));
        assert_eq!(faith(&[]), Ok(None));
        assert_eq!(
            bad(&["--ig-steps", "1001"]),
            "--ig-steps 1001 is out of range: expected 1 to 1000"
        );
        assert_eq!(
            bad(&["--percentile", "1"]),
            "--percentile 1 must be in (0, 1), e.g. 0.9"
        );
        assert_eq!(
            bad(&["--eapig-steps", "0"]),
            "--eapig-steps 0 is out of range: expected 1 to 100"
        );
        assert_eq!(
            bad(&["--exact-edges", "5001"]),
            "--exact-edges 5001 is out of range: expected 0 to 5000"
        );
        assert_eq!(
            bad(&["--ig-method", "riemann_trapezoid", "--ig-steps", "1"]),
            "--ig-method riemann_trapezoid needs at least 2 steps, got 1"
        );
    }
}
