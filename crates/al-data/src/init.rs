//! `init`: a delimited file in, a project file out.

use std::path::PathBuf;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use rusqlite::params;

use crate::error::{sql, DataError, Result};
use crate::project::{set_meta, Project, NOW};
use crate::recipe::{parse_number, Recipe, RecipeOptions};
use crate::store::chunks::{FeatureWriter, CHUNK_ROWS};
use crate::store::{insert_prepared_as, prepare_file, Bounds, PreparedRows, Role, RowsFormat};
use crate::table::{read_table, RawTable, ReadOptions};

/// What to do with a target cell that is neither empty nor a finite number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BadTarget {
    #[default]
    Error,
    /// Leave the row unlabeled and count it.
    Skip,
}

#[derive(Debug, Clone)]
pub struct InitOptions {
    pub source: PathBuf,
    pub project: PathBuf,
    pub force: bool,
    pub read: ReadOptions,
    pub recipe: RecipeOptions,
    pub bad_target: BadTarget,
    /// Share of labeled rows held out for evaluation; `None` = 0.2 when at
    /// least 50 rows are labeled, else 0.
    pub test_frac: Option<f64>,
    pub seed: u64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Unlabeled rows for the pool, from a file of their own.
    pub pool: Option<PathBuf>,
    /// The held-out rows, from a file of their own (instead of `test_frac`).
    pub test: Option<PathBuf>,
}

impl InitOptions {
    /// Defaults for everything but the three things `init` cannot guess.
    pub fn new(source: PathBuf, project: PathBuf, target: &str) -> Self {
        InitOptions {
            source,
            project,
            force: false,
            read: ReadOptions::default(),
            recipe: RecipeOptions {
                target: target.to_string(),
                ..RecipeOptions::default()
            },
            bad_target: BadTarget::Error,
            test_frac: None,
            seed: 0,
            min: None,
            max: None,
            pool: None,
            test: None,
        }
    }
}

/// What `init` did, for the user.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InitReport {
    pub rows: u64,
    pub labeled: u64,
    pub test: u64,
    pub unlabeled: u64,
    pub features: usize,
    pub skipped_targets: u64,
    pub notices: Vec<String>,
}

/// Reads the source, fits the recipe and writes a new project.
pub fn init(opts: &InitOptions) -> Result<InitReport> {
    if let Some(f) = opts.test_frac {
        if !(0.0..1.0).contains(&f) {
            return Err(DataError::Usage(format!(
                "--test-frac must be at least 0 and below 1, not {f}"
            )));
        }
    }
    if let (Some(min), Some(max)) = (opts.min, opts.max) {
        if min > max {
            return Err(DataError::Usage(format!(
                "--min {min} is above --max {max}: no label could be accepted; swap them"
            )));
        }
    }
    if opts.test.is_some() && opts.test_frac.is_some() {
        return Err(DataError::Usage(
            "--test FILE is the held-out set; leave out --test-frac, or drop --test to hold out a share of the main file".into(),
        ));
    }
    let table = read_table(&opts.source, &opts.read)?;
    let (recipe, mut notices) = Recipe::fit(&table, &opts.recipe)?;
    notices.splice(0..0, table.notices.iter().cloned());
    let (targets, skipped) = read_targets(&table, &recipe, opts)?;
    let labeled: Vec<usize> = (0..targets.len())
        .filter(|&r| targets[r].is_some())
        .collect();
    // An entirely empty target column is the most common real start: a
    // project with every row in the pool. A column with values none of
    // which is a number (text, --bad-target skip) is a mistake.
    if labeled.is_empty() && skipped > 0 {
        return Err(DataError::input(
            &table.path,
            format!(
                "the target column {:?} has no numeric value, only text, so no row is labeled; check --target",
                recipe.target
            ),
        ));
    }
    if labeled.is_empty() {
        notices.push(format!(
            "the target column {:?} is empty: every row is in the pool; `al-cli query` picks a first batch that represents the data, no labels needed",
            recipe.target
        ));
    }
    if skipped > 0 {
        notices.push(format!(
            "{skipped} row(s) with a non-numeric target left unlabeled (--bad-target skip)"
        ));
    }
    let format = RowsFormat {
        headers: &table.headers,
        recipe: &recipe,
        bounds: Bounds {
            min: opts.min,
            max: opts.max,
        },
        delimiter: None,
    };
    // Read and checked whole before anything is created.
    let pool = match &opts.pool {
        Some(path) => prepare_file(path, &format, Role::Pool)?,
        None => PreparedRows::default(),
    };
    let test = match &opts.test {
        Some(path) => prepare_file(path, &format, Role::Test)?,
        None => PreparedRows::default(),
    };
    notices.extend(pool.issues.iter().chain(&test.issues).take(20).cloned());
    let test_frac = match (&opts.test, opts.test_frac) {
        (Some(_), _) => 0.0,
        (None, Some(f)) => f,
        (None, None) => {
            if labeled.len() >= 50 {
                0.2
            } else {
                0.0
            }
        }
    };
    let is_test = choose_test_rows(&labeled, targets.len(), test_frac, opts.seed);
    let n_test = is_test.iter().filter(|&&t| t).count() as u64;

    Project::create(&opts.project, opts.force, |tx| {
        write_meta(tx, &table, &recipe, opts, test_frac)?;
        write_rows(tx, &table, &recipe, &targets, &is_test)?;
        insert_prepared_as(tx, &pool, "pool", Role::Pool)?;
        insert_prepared_as(tx, &test, "test", Role::Test)?;
        Ok(())
    })?;
    Ok(InitReport {
        rows: (table.n_rows() + pool.len() + test.len()) as u64,
        labeled: labeled.len() as u64 - n_test,
        test: n_test + test.len() as u64,
        unlabeled: (table.n_rows() - labeled.len() + pool.len()) as u64,
        features: recipe.n_features(),
        skipped_targets: skipped,
        notices,
    })
}

fn read_targets(
    table: &RawTable,
    recipe: &Recipe,
    opts: &InitOptions,
) -> Result<(Vec<Option<f64>>, u64)> {
    let col = recipe.target_index();
    let bounds = Bounds {
        min: opts.min,
        max: opts.max,
    };
    let mut skipped = 0;
    let mut targets = Vec::with_capacity(table.n_rows());
    for (row, cell) in table.column(col).enumerate() {
        if cell.trim().is_empty() {
            targets.push(None);
            continue;
        }
        let value = match parse_number(cell) {
            Some(v) => bounds.check(v).map(|()| v),
            None => Err("not a finite number".to_string()),
        };
        match (value, opts.bad_target) {
            (Ok(v), _) => targets.push(Some(v)),
            (Err(_), BadTarget::Skip) => {
                skipped += 1;
                targets.push(None);
            }
            (Err(why), BadTarget::Error) => {
                return Err(DataError::AtCell {
                    path: table.path.clone(),
                    line: table.line(row),
                    column: recipe.target.clone(),
                    message: format!(
                        "target {cell:?} is {why}; fix it, empty the cell to leave the row unlabeled, or pass --bad-target skip"
                    ),
                })
            }
        }
    }
    Ok((targets, skipped))
}

/// Holds out round(frac × labeled) labeled rows, chosen by a seeded shuffle.
pub fn choose_test_rows(labeled: &[usize], rows: usize, frac: f64, seed: u64) -> Vec<bool> {
    let mut shuffled = labeled.to_vec();
    shuffled.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let n_test = (frac * labeled.len() as f64).round() as usize;
    let mut is_test = vec![false; rows];
    for &r in &shuffled[..n_test.min(shuffled.len())] {
        is_test[r] = true;
    }
    is_test
}

fn write_meta(
    tx: &rusqlite::Transaction,
    table: &RawTable,
    recipe: &Recipe,
    opts: &InitOptions,
    test_frac: f64,
) -> Result<()> {
    let recipe_json = serde_json::to_string(recipe).map_err(|e| DataError::Usage(e.to_string()))?;
    let source = std::fs::canonicalize(&table.path).unwrap_or_else(|_| table.path.clone());
    let headers =
        serde_json::to_string(&table.headers).map_err(|e| DataError::Usage(e.to_string()))?;
    for (key, value) in [
        ("recipe", recipe_json),
        ("source_path", source.display().to_string()),
        ("source_sha256", table.sha256.clone()),
        ("source_headers", headers),
        ("delimiter", char::from(table.delimiter).to_string()),
        ("target", recipe.target.clone()),
        ("test_frac", test_frac.to_string()),
        ("seed", opts.seed.to_string()),
    ] {
        set_meta(tx, key, &value)?;
    }
    if let Some(v) = opts.min {
        set_meta(tx, "target_min", &v.to_string())?;
    }
    if let Some(v) = opts.max {
        set_meta(tx, "target_max", &v.to_string())?;
    }
    Ok(())
}

/// Encodes in parallel, a chunk at a time, and inserts in order; memory stays
/// bounded by the chunk, not the file.
fn write_rows(
    tx: &rusqlite::Transaction,
    table: &RawTable,
    recipe: &Recipe,
    targets: &[Option<f64>],
    is_test: &[bool],
) -> Result<()> {
    // Encoding chunks match the feature chunks, so each is written whole.
    const CHUNK: usize = CHUNK_ROWS;
    let mut insert_row = tx
        .prepare(
            "INSERT INTO rows(row_id, slot, source, is_test, label, label_source)
             VALUES (?1, ?2, 'initial', ?3, ?4, ?5)",
        )
        .map_err(sql)?;
    let mut insert_data = tx
        .prepare(&format!(
            "INSERT INTO row_data(row_id, raw, added_at) VALUES (?1, ?2, {NOW})"
        ))
        .map_err(sql)?;
    let mut features = FeatureWriter::open(tx, recipe.compact_width())?;
    let mut insert_label = tx
        .prepare(&format!(
            "INSERT INTO labels(row_id, value, source, created_at) VALUES (?1, ?2, 'initial', {NOW})"
        ))
        .map_err(sql)?;
    // Encoding (parallel) runs one chunk ahead of the inserts (one thread).
    std::thread::scope(|scope| {
        let (sender, chunks) = std::sync::mpsc::sync_channel::<(usize, Vec<EncodedRow>)>(2);
        scope.spawn(move || {
            for start in (0..table.n_rows()).step_by(CHUNK) {
                let end = (start + CHUNK).min(table.n_rows());
                let encoded = (start..end)
                    .into_par_iter()
                    .map(|r| encode_row(table, recipe, r))
                    .collect();
                if sender.send((start, encoded)).is_err() {
                    break; // the inserting side failed and hung up
                }
            }
        });
        for (start, encoded) in chunks {
            for (offset, row) in encoded.into_iter().enumerate() {
                let r = start + offset;
                let row_id = (r + 1) as i64;
                let label = targets[r];
                let slot = features.push(&row.compact)?;
                insert_row
                    .execute(params![
                        row_id,
                        slot,
                        is_test[r],
                        label,
                        label.map(|_| "initial")
                    ])
                    .map_err(sql)?;
                insert_data.execute(params![row_id, row.raw]).map_err(sql)?;
                if let Some(v) = label {
                    insert_label.execute(params![row_id, v]).map_err(sql)?;
                }
            }
        }
        Ok::<(), DataError>(())
    })?;
    features.finish()
}

/// One source row ready to store.
struct EncodedRow {
    /// Raw cells as a JSON array.
    raw: String,
    compact: Vec<f64>,
}

fn encode_row(table: &RawTable, recipe: &Recipe, r: usize) -> EncodedRow {
    let cells = table.row(r);
    let mut issues = Vec::new();
    let compact = recipe.encode(&cells, &mut issues);
    let raw = serde_json::to_string(&cells).unwrap_or_default();
    EncodedRow { raw, compact }
}
