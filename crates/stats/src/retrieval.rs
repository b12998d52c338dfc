//! How well a ranking of components finds a known set (a circuit): ROC AUC, and precision and
//! recall of the top k.

/// The ROC AUC of `scores` (higher = more likely in the set) against `in_set`: the probability
/// that a member scores above a non-member, ties counting one half (the Mann–Whitney U statistic
/// over the product of the two counts, from average ranks). `None` when either side is empty
/// (every component, or none, in the set) or a score is not finite.
pub fn roc_auc(scores: &[f64], in_set: &[bool]) -> Option<f64> {
    if scores.len() != in_set.len() || scores.iter().any(|s| !s.is_finite()) {
        return None;
    }
    let positives = in_set.iter().filter(|&&b| b).count();
    let negatives = in_set.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Average 1-based ranks over runs of equal scores.
    let mut rank_sum_positives = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let average_rank = (start + 1 + end) as f64 / 2.0;
        let members = order[start..end].iter().filter(|&&i| in_set[i]).count();
        rank_sum_positives += average_rank * members as f64;
        start = end;
    }
    let p = positives as f64;
    let u = rank_sum_positives - p * (p + 1.0) / 2.0;
    Some(u / (p * negatives as f64))
}

/// Precision and recall of the `k` components ranked first by `order` (indices, best first)
/// against `in_set`: the share of those k that are in the set, and the share of the set among
/// them. `None` when `k` is 0 or above the number of components, or the set is empty.
pub fn precision_recall_at(order: &[usize], in_set: &[bool], k: usize) -> Option<(f64, f64)> {
    let size = in_set.iter().filter(|&&b| b).count();
    if k == 0 || k > order.len() || size == 0 {
        return None;
    }
    let hits = order[..k]
        .iter()
        .filter(|&&i| in_set.get(i).copied().unwrap_or(false))
        .count();
    Some((hits as f64 / k as f64, hits as f64 / size as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) {
        let a = a.unwrap_or(f64::NAN);
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }

    #[test]
    fn auc_of_hand_computed_cases() {
        // Perfect, reversed and interleaved rankings.
        close(
            roc_auc(&[4.0, 3.0, 2.0, 1.0], &[true, true, false, false]),
            1.0,
        );
        close(
            roc_auc(&[1.0, 2.0, 3.0, 4.0], &[true, true, false, false]),
            0.0,
        );
        // Pairs (member, non-member): (4,3) (4,1) (2,3) (2,1) → 3 of 4 won.
        close(
            roc_auc(&[4.0, 3.0, 2.0, 1.0], &[true, false, true, false]),
            0.75,
        );
        // Ties count one half: member 2 ties non-member 2, beats 1 → (0.5 + 1) / 2.
        close(roc_auc(&[2.0, 2.0, 1.0], &[true, false, false]), 0.75);
        // Everything tied: no information.
        close(roc_auc(&[1.0; 5], &[true, false, true, false, false]), 0.5);
        // A circuit of one head: its rank among the others (above 2 of 3).
        close(
            roc_auc(&[0.5, 0.9, 0.1, 0.2], &[true, false, false, false]),
            2.0 / 3.0,
        );
    }

    #[test]
    fn auc_is_undefined_without_both_sides_or_with_gaps() {
        assert_eq!(roc_auc(&[1.0, 2.0], &[true, true]), None);
        assert_eq!(roc_auc(&[1.0, 2.0], &[false, false]), None);
        assert_eq!(roc_auc(&[1.0, f64::NAN], &[true, false]), None);
        assert_eq!(roc_auc(&[1.0], &[true, false]), None);
    }

    #[test]
    fn precision_and_recall_at_k() {
        // Ranked 2, 0, 3, 1; the set is {0, 1}.
        let order = [2, 0, 3, 1];
        let set = [true, true, false, false];
        assert_eq!(precision_recall_at(&order, &set, 1), Some((0.0, 0.0)));
        assert_eq!(precision_recall_at(&order, &set, 2), Some((0.5, 0.5)));
        assert_eq!(precision_recall_at(&order, &set, 4), Some((0.5, 1.0)));
        assert_eq!(precision_recall_at(&order, &set, 0), None);
        assert_eq!(precision_recall_at(&order, &set, 5), None);
        // All components in the set: precision 1 at every k.
        assert_eq!(
            precision_recall_at(&order, &[true; 4], 3),
            Some((1.0, 0.75))
        );
        assert_eq!(precision_recall_at(&order, &[false; 4], 3), None);
    }
}
