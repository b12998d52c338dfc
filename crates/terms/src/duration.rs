//! Durations as the page and the CLI print them, and the time a running job has left.

/// `12s`, `3m07s` or `1h02m`; `?` when unknown.
pub fn duration_text(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "?".into();
    }
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// Seconds a job has left after `elapsed` seconds with `fraction` of it done, at the pace so
/// far; `None` before any progress.
pub fn seconds_left(elapsed: f64, fraction: f64) -> Option<f64> {
    (fraction > 0.0).then(|| (elapsed / fraction - elapsed).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_seconds_minutes_or_hours() {
        assert_eq!(duration_text(12.4), "12s");
        assert_eq!(duration_text(187.0), "3m07s");
        assert_eq!(duration_text(3720.0), "1h02m");
        assert_eq!(duration_text(f64::NAN), "?");
        assert_eq!(seconds_left(10.0, 0.25), Some(30.0));
        assert_eq!(seconds_left(10.0, 0.0), None);
    }
}
