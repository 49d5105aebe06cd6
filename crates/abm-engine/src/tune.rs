//! `abm tune`: learns a priority from the team's own history. Training examples are built at
//! several cut dates before the validation cut (features as of each cut; label: an
//! opportunity created within the horizon after it); a regularised logistic model
//! (linfa-logistic) is fitted on standardised features, its regularisation chosen by
//! leave-one-cut-out; then the tuned and the current setup are both evaluated at the
//! validation cut — the latest one whose horizon is complete by the tuning date. Nothing
//! after the tuning date is read, and no training label reaches past the validation cut.

use crate::backtest::{converted, open_at};
use crate::scoring::{Keep, Loaded, assess_all, day_of, load};
use abm_core::score::ScoringConfig;
use abm_core::score::config::{Days, FeatureWeight, Lookalike, PriorityModel};
use abm_core::score::features::NAMES;
use abm_core::score::fit::lookalike_keys;
use abm_core::score::metrics::{Evaluation, evaluate};
use abm_store::{Store, StoreError};
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};

const MICROS_PER_DAY: i64 = 86_400_000_000;
/// Regularisation strengths tried (linfa's `alpha`, the weight of the L2 penalty).
const ALPHAS: [f64; 5] = [0.1, 1.0, 10.0, 100.0, 1000.0];
/// Fewer positive examples than this and nothing worth trusting can be learned.
const MIN_POSITIVES: usize = 10;

#[derive(Debug, Clone, Copy)]
pub struct TuneOptions {
    /// The tuning date (microseconds): only what was known then is read.
    pub as_of: i64,
    pub horizon_days: u32,
    /// Training cut dates, a month apart, before the validation cut.
    pub cuts: u32,
    pub step_days: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum TuneError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "too little history to learn from: {positives} opportunities were created after the training cuts ({cuts}); at least {MIN_POSITIVES} are needed — tune at a later date or with a shorter --horizon"
    )]
    TooFewPositives { positives: usize, cuts: String },
    #[error("the model could not be fitted: {0}")]
    Fit(String),
    #[error("{0} is not a date abm can tune at")]
    BadDate(i64),
}

/// What tuning learned and how both setups did at the validation cut.
#[derive(Debug, Clone)]
pub struct Tuned {
    pub config: ScoringConfig,
    pub validation_cut: String,
    pub training_cuts: Vec<String>,
    pub examples: usize,
    pub positives: usize,
    pub alpha: f64,
    pub current: Evaluation,
    pub tuned: Evaluation,
    pub naive: Evaluation,
    /// Customers the look-alike model learned from (as of the tuning date); 0 when too few.
    pub lookalike_customers: usize,
    /// Each feature alone: (name, AUC over the training examples, AUC at validation).
    pub feature_auc: Vec<(&'static str, f64, f64)>,
}

struct Examples {
    rows: Vec<[f64; NAMES.len()]>,
    labels: Vec<bool>,
}

fn examples(loaded: &Loaded, config: &ScoringConfig, cut: i64, horizon: u32) -> Option<Examples> {
    let day = day_of(cut)?;
    let scoring = assess_all(loaded, config, cut, Keep::Values);
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for account in &scoring.accounts {
        if open_at(account, day) {
            continue;
        }
        rows.push(account.assessment.features.values);
        labels.push(converted(account, day, horizon));
    }
    Some(Examples { rows, labels })
}

/// Mean and scale (standard deviation, 1 when constant) of each feature.
fn standardisation(rows: &[[f64; NAMES.len()]]) -> Vec<(f64, f64)> {
    let n = rows.len().max(1) as f64;
    (0..NAMES.len())
        .map(|feature| {
            let mean = rows.iter().map(|row| row[feature]).sum::<f64>() / n;
            let variance = rows
                .iter()
                .map(|row| (row[feature] - mean).powi(2))
                .sum::<f64>()
                / n;
            let scale = variance.sqrt();
            (mean, if scale > 1e-9 { scale } else { 1.0 })
        })
        .collect()
}

fn matrix(rows: &[[f64; NAMES.len()]], scaling: &[(f64, f64)]) -> Array2<f64> {
    Array2::from_shape_fn((rows.len(), NAMES.len()), |(row, feature)| {
        let (mean, scale) = scaling[feature];
        (rows[row][feature] - mean) / scale
    })
}

/// Fits the logistic model; returns (intercept, weights on standardised features).
fn fit(x: Array2<f64>, labels: &[bool], alpha: f64) -> Result<(f64, Vec<f64>), TuneError> {
    let dataset = Dataset::new(x, Array1::from(labels.to_vec()));
    let model = LogisticRegression::default()
        .alpha(alpha)
        .max_iterations(200)
        .fit(&dataset)
        .map_err(|error| TuneError::Fit(error.to_string()))?;
    // linfa models the probability of the class it calls positive, which need not be `true`.
    let sign = if model.labels().pos.class { 1.0 } else { -1.0 };
    Ok((
        sign * model.intercept(),
        model.params().iter().map(|w| sign * w).collect(),
    ))
}

fn model_of(
    intercept: f64,
    weights: &[f64],
    scaling: &[(f64, f64)],
    horizon: u32,
) -> PriorityModel {
    PriorityModel {
        horizon_days: Days(horizon),
        intercept,
        features: NAMES
            .iter()
            .zip(weights.iter().zip(scaling))
            .filter(|(_, (weight, _))| weight.abs() > 1e-6)
            .map(|(name, (&weight, &(mean, scale)))| {
                (
                    (*name).to_owned(),
                    FeatureWeight {
                        weight,
                        mean,
                        scale,
                    },
                )
            })
            .collect(),
    }
}

/// Scores of a linear model on standardised rows (for choosing the regularisation).
fn auc_of(intercept: f64, weights: &[f64], x: &Array2<f64>, labels: &[bool]) -> f64 {
    let pairs: Vec<(f64, bool)> = x
        .rows()
        .into_iter()
        .zip(labels)
        .map(|(row, &label)| {
            let z = intercept + row.iter().zip(weights).map(|(v, w)| v * w).sum::<f64>();
            (z, label)
        })
        .collect();
    abm_core::score::metrics::auc(&pairs)
}

/// A value must be held by this many accounts to get a look-alike weight.
const LOOKALIKE_SUPPORT: usize = 10;

/// The look-alike model: which attribute values distinguish the customers as of `day` from
/// the other accounts (a logistic model over one-hot values). `None` with too few customers.
fn learn_lookalike(
    loaded: &Loaded,
    day: jiff::civil::Date,
) -> Result<Option<(Lookalike, usize)>, TuneError> {
    let keys: Vec<Vec<String>> = loaded
        .accounts
        .iter()
        .map(|a| lookalike_keys(&a.facts))
        .collect();
    let labels: Vec<bool> = loaded
        .accounts
        .iter()
        .map(|a| a.facts.customer_on(day))
        .collect();
    let customers = labels.iter().filter(|l| **l).count();
    if customers < MIN_POSITIVES || labels.len() - customers < MIN_POSITIVES {
        return Ok(None);
    }
    let mut support: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for account in &keys {
        for key in account {
            *support.entry(key.as_str()).or_default() += 1;
        }
    }
    let vocabulary: Vec<&str> = support
        .into_iter()
        .filter(|(_, count)| *count >= LOOKALIKE_SUPPORT)
        .map(|(key, _)| key)
        .collect();
    let column: std::collections::HashMap<&str, usize> = vocabulary
        .iter()
        .enumerate()
        .map(|(i, key)| (*key, i))
        .collect();
    let mut x = Array2::<f64>::zeros((keys.len(), vocabulary.len()));
    for (row, account) in keys.iter().enumerate() {
        for key in account {
            if let Some(&col) = column.get(key.as_str()) {
                x[[row, col]] = 1.0;
            }
        }
    }
    let (intercept, weights) = fit(x, &labels, 1.0)?;
    let weights = vocabulary
        .iter()
        .zip(weights)
        .filter(|(_, w)| w.abs() > 1e-3)
        .map(|(key, w)| ((*key).to_owned(), w))
        .collect();
    Ok(Some((Lookalike { intercept, weights }, customers)))
}

pub fn tune(
    store: &mut dyn Store,
    config: &ScoringConfig,
    options: TuneOptions,
) -> Result<Tuned, TuneError> {
    let horizon = i64::from(options.horizon_days) * MICROS_PER_DAY;
    let validation = options.as_of - horizon;
    let cuts: Vec<i64> = (0..options.cuts.max(1))
        .map(|k| {
            validation - horizon - i64::from(k) * i64::from(options.step_days) * MICROS_PER_DAY
        })
        .collect();
    let show = |cut: i64| day_of(cut).map_or_else(|| cut.to_string(), |d| d.to_string());
    let mut base = config.clone();
    base.priority.model = None;

    let loaded = load(store, &base, options.as_of, None)?;
    // The look-alike fit: learned from the customers as of the validation cut for training
    // and validation (so validation never sees a later customer), and again as of the tuning
    // date for the file written. A config with ICP rules or its own look-alike keeps them.
    let validation_day = day_of(validation).ok_or(TuneError::BadDate(validation))?;
    let learns_lookalike = config.fit.lookalike.is_none() && config.fit.profile.enabled;
    let (lookalike_then, lookalike_now) = if learns_lookalike {
        let now_day = day_of(options.as_of).ok_or(TuneError::BadDate(options.as_of))?;
        (
            learn_lookalike(&loaded, validation_day)?,
            learn_lookalike(&loaded, now_day)?,
        )
    } else {
        (None, None)
    };
    if let Some((lookalike, _)) = &lookalike_then {
        base.fit.lookalike = Some(lookalike.clone());
    }
    // A cut needs a history before it like the one the validation cut has: features of an
    // account whose log starts a week before the cut describe nothing the model will see
    // later. Cuts less than a horizon after the first activity are left out.
    let first_activity = loaded
        .accounts
        .iter()
        .filter_map(|a| a.facts.activities.first().map(|activity| activity.at))
        .min()
        .unwrap_or(i64::MIN);
    let cuts: Vec<i64> = cuts
        .into_iter()
        .filter(|&cut| cut.saturating_sub(horizon) >= first_activity)
        .collect();
    let training_cuts: Vec<String> = cuts.iter().map(|&cut| show(cut)).collect();
    let mut per_cut = Vec::new();
    for &cut in &cuts {
        per_cut.push(
            examples(&loaded, &base, cut, options.horizon_days).ok_or(TuneError::BadDate(cut))?,
        );
    }
    let positives: usize = per_cut
        .iter()
        .map(|e| e.labels.iter().filter(|l| **l).count())
        .sum();
    let negatives: usize = per_cut.iter().map(|e| e.labels.len()).sum::<usize>() - positives;
    if positives < MIN_POSITIVES || negatives < MIN_POSITIVES {
        return Err(TuneError::TooFewPositives {
            positives,
            cuts: training_cuts.join(", "),
        });
    }
    let all_rows: Vec<[f64; NAMES.len()]> = per_cut
        .iter()
        .flat_map(|e| e.rows.iter().copied())
        .collect();
    let all_labels: Vec<bool> = per_cut
        .iter()
        .flat_map(|e| e.labels.iter().copied())
        .collect();
    let scaling = standardisation(&all_rows);

    // The regularisation, by leave-one-cut-out: for each candidate, a model fitted on the
    // other cuts is judged on each cut in turn; the best mean AUC wins.
    let mut alpha = 1.0;
    if per_cut.len() > 1 {
        let mut best = f64::MIN;
        for candidate in ALPHAS {
            let mut total = 0.0;
            let mut judged = 0;
            for held in 0..per_cut.len() {
                let held_out = &per_cut[held];
                if !held_out.labels.iter().any(|l| *l) {
                    continue;
                }
                let others = per_cut
                    .iter()
                    .enumerate()
                    .filter(|(index, _)| *index != held);
                let (rows, labels): (Vec<_>, Vec<_>) = others
                    .flat_map(|(_, e)| e.rows.iter().copied().zip(e.labels.iter().copied()))
                    .unzip();
                if !labels.iter().any(|l| *l) {
                    continue;
                }
                let (intercept, weights) = fit(matrix(&rows, &scaling), &labels, candidate)?;
                total += auc_of(
                    intercept,
                    &weights,
                    &matrix(&held_out.rows, &scaling),
                    &held_out.labels,
                );
                judged += 1;
            }
            if judged > 0 && total / f64::from(judged) > best + 1e-9 {
                best = total / f64::from(judged);
                alpha = candidate;
            }
        }
    }
    let (intercept, weights) = fit(matrix(&all_rows, &scaling), &all_labels, alpha)?;
    tracing::debug!(
        training_auc = auc_of(
            intercept,
            &weights,
            &matrix(&all_rows, &scaling),
            &all_labels
        ),
        alpha,
        "fitted"
    );
    let mut tuned_config = base.clone();
    tuned_config.priority.model = Some(model_of(
        intercept,
        &weights,
        &scaling,
        options.horizon_days,
    ));

    // Both setups, and the naive ranking, at the validation cut.
    let evaluate_at = |setup: &ScoringConfig| -> (Evaluation, Evaluation) {
        let scoring = assess_all(&loaded, setup, validation, Keep::Values);
        let kept: Vec<_> = scoring
            .accounts
            .iter()
            .filter(|a| !open_at(a, validation_day))
            .collect();
        let label = |a: &&crate::ScoredAccount| converted(a, validation_day, options.horizon_days);
        let priority: Vec<(f64, bool)> = kept
            .iter()
            .map(|a| (a.assessment.scores.priority.value, label(a)))
            .collect();
        let naive: Vec<(f64, bool)> = kept
            .iter()
            .map(|a| (f64::from(a.recent_activities), label(a)))
            .collect();
        (evaluate(&priority), evaluate(&naive))
    };
    // How well each feature alone ranks, in training and at validation: what predicts in
    // this team's data, and whether it held.
    let validation_examples = examples(&loaded, &base, validation, options.horizon_days)
        .ok_or(TuneError::BadDate(validation))?;
    let feature_auc = NAMES
        .iter()
        .enumerate()
        .map(|(feature, name)| {
            let pairs = |rows: &[[f64; NAMES.len()]], labels: &[bool]| -> Vec<(f64, bool)> {
                rows.iter()
                    .zip(labels)
                    .map(|(row, label)| (row[feature], *label))
                    .collect()
            };
            (
                *name,
                abm_core::score::metrics::auc(&pairs(&all_rows, &all_labels)),
                abm_core::score::metrics::auc(&pairs(
                    &validation_examples.rows,
                    &validation_examples.labels,
                )),
            )
        })
        .collect();
    let (current, naive) = evaluate_at(config);
    let (tuned, _) = evaluate_at(&tuned_config);
    // The priority model was trained on the fit the validation-cut look-alike gives; the file
    // gets the newer look-alike only when there was one to train on.
    let lookalike_now = lookalike_now.filter(|_| lookalike_then.is_some());
    let lookalike_customers = lookalike_now
        .as_ref()
        .map_or(0, |(_, customers)| *customers);
    tuned_config.fit.lookalike = lookalike_now.map(|(lookalike, _)| lookalike);
    Ok(Tuned {
        config: tuned_config,
        validation_cut: validation_day.to_string(),
        training_cuts,
        examples: all_labels.len(),
        positives,
        alpha,
        current,
        tuned,
        naive,
        lookalike_customers,
        feature_auc,
    })
}
