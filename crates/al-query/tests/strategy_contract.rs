//! The contract every strategy keeps, in the manner of scikit-activeml's
//! `template_query_strategy` test: every built-in strategy, the example
//! plugin crate's and an external plugin program run through the same
//! checks. A new strategy is covered by being registered, nothing else.

use std::path::PathBuf;
use std::time::Duration;

use al_models::{Matrix, ModelSpec};
use al_plugin::{ExternalStrategy, PluginCommand};
use al_query::stream::StreamScorer;
use al_query::{QueryError, QueryInput, Registry, Selection, Strategy};

/// Every strategy under test, by spec: each registry entry at its defaults,
/// a few with parameters, and the external test plugin.
fn registry() -> Registry {
    Registry::builtin()
        .with_crate("al-plugin-example", al_plugin_example::STRATEGIES)
        .with_external(Box::new(|spec| {
            (spec == "first").then(|| {
                let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../../tests/plugins/al-strategy-first");
                Ok(Box::new(ExternalStrategy {
                    plugin: PluginCommand {
                        kind: "strategy",
                        name: "first".into(),
                        command: vec!["sh".into(), script.display().to_string()],
                        timeout: Duration::from_secs(30),
                    },
                }) as Box<dyn Strategy>)
            })
        }))
}

fn specs() -> Vec<String> {
    let registry = registry();
    let mut specs: Vec<String> = registry
        .entries()
        .iter()
        .map(|(s, _)| s.name.to_string())
        .collect();
    specs.extend(
        [
            "cover:metric=forest,weight=uniform,sample=50",
            "cover:metric=importance,leaf=3,hedge=0.3,sample=50",
            "cover:hedge=1",
            "density:base=committee,k=2",
            "tree-variance:depth=none",
            "first",
        ]
        .map(String::from),
    );
    specs
}

/// Labeled rows, candidates, and what to expect of a query on them.
struct Case {
    what: &'static str,
    labeled: Vec<Vec<f64>>,
    targets: Vec<f64>,
    candidates: Vec<Vec<f64>>,
    batch: usize,
}

fn wave(n: usize, cols: usize, phase: f64) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| {
            (0..cols)
                .map(|j| ((i * (j + 2)) as f64 * 0.37 + phase).sin() * 3.0 + j as f64)
                .collect()
        })
        .collect()
}

fn cases() -> Vec<Case> {
    let labeled = wave(30, 3, 0.0);
    let targets: Vec<f64> = labeled.iter().map(|r| r[0] * r[0] + 2.0 * r[1]).collect();
    vec![
        Case {
            what: "typical",
            labeled: labeled.clone(),
            targets: targets.clone(),
            candidates: wave(60, 3, 0.5),
            batch: 5,
        },
        Case {
            what: "batch larger than the candidates",
            labeled: labeled.clone(),
            targets: targets.clone(),
            candidates: wave(3, 3, 0.5),
            batch: 10,
        },
        Case {
            what: "one candidate",
            labeled: labeled.clone(),
            targets: targets.clone(),
            candidates: wave(1, 3, 0.5),
            batch: 4,
        },
        Case {
            what: "two labeled rows",
            labeled: labeled[..2].to_vec(),
            targets: targets[..2].to_vec(),
            candidates: wave(20, 3, 0.5),
            batch: 3,
        },
        Case {
            what: "constant targets",
            labeled: labeled.clone(),
            targets: vec![7.0; labeled.len()],
            candidates: wave(20, 3, 0.5),
            batch: 3,
        },
        Case {
            what: "a single feature",
            labeled: wave(30, 1, 0.0),
            targets: targets.clone(),
            candidates: wave(20, 1, 0.5),
            batch: 3,
        },
        Case {
            what: "duplicate rows",
            labeled: vec![vec![1.0, 2.0, 3.0]; 10],
            targets: (0..10).map(|i| i as f64).collect(),
            candidates: vec![vec![1.0, 2.0, 3.0]; 8],
            batch: 3,
        },
    ]
}

fn query(strategy: &dyn Strategy, case: &Case, seed: u64) -> Result<Vec<Selection>, QueryError> {
    let lx = Matrix::from_rows(&case.labeled);
    let c = Matrix::from_rows(&case.candidates);
    let model = ModelSpec::parse("forest:trees=20").unwrap();
    strategy.query(&QueryInput {
        labeled_x: &lx,
        labeled_y: &case.targets,
        candidates: &c,
        model: &model,
        batch: case.batch,
        seed,
        max_candidates: 500,
        fitted: None,
    })
}

#[test]
fn every_strategy_picks_min_batch_candidates_unique_in_range_best_first() {
    let registry = registry();
    for spec in specs() {
        let strategy = registry.parse(&spec).unwrap();
        for case in cases() {
            let picks = query(&*strategy, &case, 3)
                .unwrap_or_else(|e| panic!("{spec} on {}: {e}", case.what));
            let n = case.candidates.len();
            assert_eq!(picks.len(), case.batch.min(n), "{spec} on {}", case.what);
            let mut seen = vec![false; n];
            for p in &picks {
                assert!(p.index < n, "{spec} on {}: row {}", case.what, p.index);
                assert!(
                    !seen[p.index],
                    "{spec} on {}: row {} twice",
                    case.what, p.index
                );
                seen[p.index] = true;
                assert!(!p.score.is_nan(), "{spec} on {}: NaN score", case.what);
            }
            for w in picks.windows(2) {
                assert!(
                    w[0].score >= w[1].score,
                    "{spec} on {}: not best first: {picks:?}",
                    case.what
                );
            }
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_picks_with_one_or_two_threads() {
    let registry = registry();
    let case = &cases()[0];
    for spec in specs() {
        let strategy = registry.parse(&spec).unwrap();
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| query(&*strategy, case, 11).unwrap())
        };
        assert_eq!(run(1), run(2), "{spec}");
    }
}

#[test]
fn no_candidates_is_a_typed_error() {
    let registry = registry();
    let mut case = cases().remove(0);
    case.candidates.clear();
    let lx = Matrix::from_rows(&case.labeled);
    let empty = Matrix::with_cols(3);
    let model = ModelSpec::parse("forest:trees=5").unwrap();
    for spec in specs() {
        let strategy = registry.parse(&spec).unwrap();
        let result = strategy.query(&QueryInput {
            labeled_x: &lx,
            labeled_y: &case.targets,
            candidates: &empty,
            model: &model,
            batch: 3,
            seed: 0,
            max_candidates: 500,
            fitted: None,
        });
        assert!(
            matches!(result, Err(QueryError::NoCandidates)),
            "{spec}: {:?}",
            result.map(|p| p.len())
        );
    }
}

#[test]
fn one_labeled_row_gives_picks_or_a_typed_error_never_a_panic() {
    let registry = registry();
    let mut case = cases().remove(0);
    case.labeled.truncate(1);
    case.targets.truncate(1);
    for spec in specs() {
        let strategy = registry.parse(&spec).unwrap();
        match query(&*strategy, &case, 0) {
            Ok(picks) => assert_eq!(picks.len(), case.batch, "{spec}"),
            Err(e) => assert!(
                matches!(e, QueryError::Model(al_models::ModelError::TooFewRows(1))),
                "{spec}: {e}"
            ),
        }
    }
}

#[test]
fn per_row_utilities_are_finite_and_work_in_stream_mode() {
    let registry = registry();
    let model = ModelSpec::parse("forest:trees=20").unwrap();
    for case in cases() {
        let lx = Matrix::from_rows(&case.labeled);
        let c = Matrix::from_rows(&case.candidates);
        for spec in specs() {
            let strategy = registry.parse(&spec).unwrap();
            let input = QueryInput {
                labeled_x: &lx,
                labeled_y: &case.targets,
                candidates: &c,
                model: &model,
                batch: case.batch,
                seed: 5,
                max_candidates: 500,
                fitted: None,
            };
            let Some(utilities) = strategy.utilities(&input) else {
                continue;
            };
            let utilities = utilities.unwrap();
            assert_eq!(utilities.len(), c.rows(), "{spec} on {}", case.what);
            assert!(
                utilities.iter().all(|u| u.is_finite()),
                "{spec} on {}: {utilities:?}",
                case.what
            );
            let mut scorer = StreamScorer::new(&*strategy, &model, 5, 500);
            scorer.fit(lx.clone(), case.targets.clone(), 5);
            for i in 0..c.rows() {
                let u = scorer.score(&c, i).unwrap();
                assert!(u.is_finite(), "{spec} in stream mode on {}", case.what);
            }
        }
    }
}

#[test]
fn specs_round_trip_to_the_same_strategy() {
    let registry = registry();
    let case = &cases()[0];
    for spec in specs() {
        let strategy = registry.parse(&spec).unwrap();
        let again = registry.parse(&strategy.name()).unwrap();
        assert_eq!(again.name(), strategy.name(), "{spec}");
        assert_eq!(
            query(&*strategy, case, 2).unwrap(),
            query(&*again, case, 2).unwrap(),
            "{spec}: the stored name re-runs to other picks"
        );
    }
}
