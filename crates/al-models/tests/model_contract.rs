//! The contract every registered model keeps: shapes, determinism whatever
//! the thread count, finite predictions on constant, duplicate and tiny
//! data, a typed error below two rows, and a cheap one-row refit that equals
//! a full refit. A new model is covered by being registered, nothing else.

use al_models::{Matrix, ModelError, ModelSpec, MODELS};

fn specs() -> Vec<ModelSpec> {
    let mut specs: Vec<ModelSpec> = MODELS
        .iter()
        .map(|m| ModelSpec::parse(m.name).unwrap())
        .collect();
    for s in [
        "forest:trees=7,max_features=0.5,min_leaf=2,depth=4",
        "ridge:alpha=0",
        "knn:k=1",
        "gbm:members=1,budget=1",
        "gp:noise=0.01",
        "glm:power=1,alpha=0",
        "svr:gamma=0.5,epsilon=0.01",
        "lasso:alpha=0.1",
    ] {
        specs.push(ModelSpec::parse(s).unwrap());
    }
    specs
}

fn data(n: usize, cols: usize) -> (Matrix, Vec<f64>) {
    let rows: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..cols)
                .map(|j| ((i * (j + 3)) as f64 * 0.29).cos() * 2.0 + (i % 4) as f64)
                .collect()
        })
        .collect();
    let y = rows
        .iter()
        // Positive, so models of positive targets (glm) fit too.
        .map(|r| 3.0 * r[0] - r[cols - 1] + 20.0)
        .collect();
    (Matrix::from_rows(&rows), y)
}

#[test]
fn predictions_have_the_shape_of_the_rows_and_are_finite() {
    let (x, y) = data(40, 3);
    let (new, _) = data(13, 3);
    for spec in specs() {
        let model = spec.build().unwrap().fit(&x, &y, 1).unwrap();
        let p = model.predict(&new).unwrap();
        assert_eq!(p.len(), 13, "{spec}");
        assert!(p.iter().all(|v| v.is_finite()), "{spec}");
        if let Some(members) = model.predict_members(&new).unwrap() {
            assert!(!members.is_empty(), "{spec}");
            for m in &members {
                assert_eq!(m.len(), 13, "{spec}");
            }
        }
        // One row at a time gives the same as the whole matrix.
        let one = model.predict(&new.select(&[4])).unwrap();
        assert_eq!(one, vec![p[4]], "{spec}");
    }
}

#[test]
fn the_same_seed_gives_the_same_model_with_one_or_two_threads() {
    let (x, y) = data(60, 4);
    for spec in specs() {
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    spec.build()
                        .unwrap()
                        .fit(&x, &y, 9)
                        .unwrap()
                        .predict(&x)
                        .unwrap()
                })
        };
        assert_eq!(run(1), run(2), "{spec}");
    }
}

#[test]
fn constant_targets_are_predicted_as_that_constant() {
    let (x, _) = data(30, 3);
    let y = vec![4.25; 30];
    for spec in specs() {
        let p = spec
            .build()
            .unwrap()
            .fit(&x, &y, 0)
            .unwrap()
            .predict(&x)
            .unwrap();
        for v in p {
            assert!((v - 4.25).abs() < 1e-9, "{spec}: {v}");
        }
    }
}

#[test]
fn duplicate_rows_and_the_smallest_data_give_finite_predictions() {
    let dup = Matrix::from_rows(&vec![vec![1.0, -2.0]; 6]);
    let y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    for spec in specs() {
        // Identical rows get one finite prediction within the targets' range
        // (the mean for all but bootstrap and nearest-neighbour models).
        let p = spec
            .build()
            .unwrap()
            .fit(&dup, &y, 0)
            .unwrap()
            .predict(&dup)
            .unwrap();
        assert!(p.iter().all(|v| *v == p[0]), "{spec}: {p:?}");
        assert!((1.0..=6.0).contains(&p[0]), "{spec}: {p:?}");
    }
    // Two rows: every model fits that does not need more (kNN needs k).
    let two = Matrix::from_rows(&[vec![0.0], vec![1.0]]);
    for spec in specs() {
        match spec.build().unwrap().fit(&two, &[1.0, 3.0], 0) {
            Ok(m) => assert!(
                m.predict(&two).unwrap().iter().all(|v| v.is_finite()),
                "{spec}"
            ),
            Err(e) => assert!(
                matches!(
                    e,
                    ModelError::ParamAboveRows {
                        key: "k",
                        rows: 2,
                        ..
                    }
                ),
                "{spec}: {e}"
            ),
        }
    }
}

#[test]
fn fewer_than_two_rows_or_mismatched_shapes_are_typed_errors() {
    let one = Matrix::from_rows(&[vec![1.0, 2.0]]);
    let (x, y) = data(10, 2);
    for spec in specs() {
        let learner = spec.build().unwrap();
        assert!(
            matches!(learner.fit(&one, &[1.0], 0), Err(ModelError::TooFewRows(1))),
            "{spec}"
        );
        assert!(
            matches!(learner.fit(&x, &y[..9], 0), Err(ModelError::Shape { .. })),
            "{spec}"
        );
        let mut bad = y.clone();
        bad[3] = f64::NAN;
        assert!(
            matches!(learner.fit(&x, &bad, 0), Err(ModelError::NonFinite)),
            "{spec}"
        );
    }
}

#[test]
fn a_cheap_one_row_refit_equals_a_full_refit() {
    let (x, y) = data(50, 3);
    let (extra, _) = data(51, 3);
    let row = extra.row(50).to_vec();
    for spec in specs() {
        let learner = spec.build().unwrap();
        let model = learner.fit(&x, &y, 2).unwrap();
        let Some(cheap) = model.refit_with(&row, 5.5) else {
            continue;
        };
        let mut x2 = x.clone();
        x2.push_row(&row);
        let mut y2 = y.clone();
        y2.push(5.5);
        let full = learner.fit(&x2, &y2, 2).unwrap();
        for (a, b) in cheap
            .predict(&extra)
            .unwrap()
            .iter()
            .zip(full.predict(&extra).unwrap())
        {
            assert!((a - b).abs() < 1e-6 * (1.0 + b.abs()), "{spec}: {a} vs {b}");
        }
    }
}

#[test]
fn every_spec_prints_canonically_and_parses_back_to_itself() {
    for spec in specs() {
        let again = ModelSpec::parse(&spec.to_string()).unwrap();
        assert_eq!(again, spec);
        assert_eq!(again.to_string(), spec.to_string());
    }
}
