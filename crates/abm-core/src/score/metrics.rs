//! How well a ranking predicted what happened: the backtest's figures. Inputs are pairs of
//! (score, outcome); nothing here knows what the score was.

/// The figures of one backtest.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Evaluation {
    pub accounts: usize,
    pub positives: usize,
    /// Area under the ROC curve: the chance a random positive outranks a random negative
    /// (ties count half). 0.5 is a coin.
    pub auc: f64,
    /// The positive rate among the top 10% divided by the overall rate.
    pub lift_at_10: f64,
    /// Positives among the top 50.
    pub precision_at_50: f64,
    pub calibration: Vec<CalibrationBin>,
}

/// Accounts whose score fell in one band, and how many of them became positive.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CalibrationBin {
    pub from: f64,
    pub to: f64,
    pub accounts: usize,
    pub positives: usize,
    pub rate: f64,
}

pub fn evaluate(pairs: &[(f64, bool)]) -> Evaluation {
    let positives = pairs.iter().filter(|(_, p)| *p).count();
    let mut ranked: Vec<(f64, bool)> = pairs.to_vec();
    // Best first; ties in an order that favours nobody: negatives first among equals, so a
    // constant score cannot look good at the top.
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    Evaluation {
        accounts: pairs.len(),
        positives,
        auc: auc(pairs),
        lift_at_10: lift(&ranked, 0.10, positives),
        precision_at_50: precision_at(&ranked, 50),
        calibration: calibration(pairs),
    }
}

/// Mann–Whitney U with average ranks for ties.
pub fn auc(pairs: &[(f64, bool)]) -> f64 {
    let positives = pairs.iter().filter(|(_, p)| *p).count();
    let negatives = pairs.len() - positives;
    if positives == 0 || negatives == 0 {
        return 0.5;
    }
    let mut sorted: Vec<(f64, bool)> = pairs.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < sorted.len() {
        let mut end = start;
        // `total_cmp`, not `==`: a NaN score must end its run rather than spin forever.
        while end < sorted.len() && sorted[end].0.total_cmp(&sorted[start].0).is_eq() {
            end += 1;
        }
        // Ranks start..end (1-based: start+1 ..= end) share their mean.
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        let tied_positives = sorted[start..end].iter().filter(|(_, p)| *p).count();
        rank_sum += mean_rank * tied_positives as f64;
        start = end;
    }
    let p = positives as f64;
    (rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64)
}

fn lift(ranked: &[(f64, bool)], share: f64, positives: usize) -> f64 {
    if ranked.is_empty() || positives == 0 {
        return 0.0;
    }
    let top = ((ranked.len() as f64 * share).ceil() as usize).max(1);
    let hits = ranked[..top].iter().filter(|(_, p)| *p).count();
    (hits as f64 / top as f64) / (positives as f64 / ranked.len() as f64)
}

fn precision_at(ranked: &[(f64, bool)], k: usize) -> f64 {
    let top = k.min(ranked.len());
    if top == 0 {
        return 0.0;
    }
    ranked[..top].iter().filter(|(_, p)| *p).count() as f64 / top as f64
}

/// Ten bands of the 0–100 score.
fn calibration(pairs: &[(f64, bool)]) -> Vec<CalibrationBin> {
    (0..10)
        .map(|band| {
            let from = f64::from(band) * 10.0;
            let to = from + 10.0;
            let members: Vec<bool> = pairs
                .iter()
                .filter(|(score, _)| *score >= from && (*score < to || (band == 9 && *score <= to)))
                .map(|(_, p)| *p)
                .collect();
            let positives = members.iter().filter(|p| **p).count();
            CalibrationBin {
                from,
                to,
                accounts: members.len(),
                positives,
                rate: if members.is_empty() {
                    0.0
                } else {
                    positives as f64 / members.len() as f64
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_random_and_inverted_rankings() {
        let perfect: Vec<(f64, bool)> = (0..100).map(|i| (f64::from(i), i >= 90)).collect();
        let e = evaluate(&perfect);
        assert_eq!(e.auc, 1.0);
        assert!((e.lift_at_10 - 10.0).abs() < 1e-9);
        assert_eq!(e.precision_at_50, 0.2);
        let inverted: Vec<(f64, bool)> = (0..100).map(|i| (f64::from(i), i < 10)).collect();
        assert_eq!(auc(&inverted), 0.0);
        let constant: Vec<(f64, bool)> = (0..100).map(|i| (1.0, i < 10)).collect();
        assert_eq!(auc(&constant), 0.5);
        assert_eq!(
            evaluate(&constant).lift_at_10,
            0.0,
            "ties put negatives first"
        );
    }

    #[test]
    fn a_nan_score_does_not_hang_the_evaluation() {
        let pairs = [
            (f64::NAN, true),
            (f64::NAN, false),
            (1.0, true),
            (0.0, false),
        ];
        let auc = evaluate(&pairs).auc;
        assert!((0.0..=1.0).contains(&auc));
    }

    #[test]
    fn auc_counts_pairs() {
        // Positives 3 and 1, negatives 2 and 0: pairs (3>2, 3>0, 1<2, 1>0) → 3 of 4.
        let pairs = [(3.0, true), (2.0, false), (1.0, true), (0.0, false)];
        assert_eq!(auc(&pairs), 0.75);
    }
}
