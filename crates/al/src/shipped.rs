//! A query over a pool that lives outside the project file: partitioned
//! Parquet on a Spark cluster (docs/scaling.md), scored where it lies.
//!
//! The project keeps what is small and must be exact (the recipe, the
//! labels, the rounds); the pool stays where it is. [`Project::ship_query`]
//! fits the strategy on the labeled rows and packs what a worker needs into
//! a [`Scorer`]: the recipe, and for a per-row strategy its fitted state
//! ([`al_query::RowScorer`]). Workers turn their rows (Arrow batches) into
//! utilities with [`Scorer::score_columns`], or, for `cover`, into sample keys
//! drawn from a hash of the row's id ([`Scorer::sample_keys`], so the
//! sample is the same however the pool is partitioned). The driver brings
//! back the top rows, or the sample, and [`Project::record_shipped`] checks
//! the scorer is this project's and current, runs the batch strategy on a
//! sample, and records the round: the picked rows join the project then,
//! and only they.
//!
//! Bytes: `ALSCORER`, a little-endian format number, the SHA-256 of the
//! payload, then the payload (MessagePack). A blob from another al format,
//! a damaged one, another project's or one fitted before the labels changed
//! is refused with a message saying which.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use al_data::recipe::Cell;
use al_data::store::{prepare_table, Bounds, Role, RowsFormat, Subset};
use al_data::{ColumnKind, RawTable, Recipe};
use al_query::simulate::COLD_START;
use al_query::{Pool, QueryInput, RowScorer};

use crate::error::refused;
use crate::query::Candidates;
use crate::{Project, QueryOptions, QueryOutcome};

const MAGIC: &[u8; 8] = b"ALSCORER";
/// Bumped whenever the payload's layout changes.
pub const SCORER_FORMAT: u32 = 1;

/// How the pool is reduced to the round's rows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum Plan {
    /// Every row scored where it lies; the top `batch` by utility (ties to
    /// the smaller id) come back. `positional`: a row's utility depends on
    /// its place among the candidates in id order (`random`'s draws), so
    /// workers score a pool sorted by id, each batch told where it starts.
    PerRow { scorer: Vec<u8>, positional: bool },
    /// The `size` rows with the smallest [`Scorer::sample_keys`] come back
    /// and the strategy picks among them (batch strategies: `cover`).
    Sample { size: usize },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Payload {
    project: String,
    labels: String,
    strategy: String,
    model: String,
    seed: u64,
    candidates: usize,
    coverage: Option<f64>,
    id_column: String,
    headers: Vec<String>,
    recipe: Recipe,
    bounds: (Option<f64>, Option<f64>),
    plan: Plan,
}

/// What workers need to score a project's pool rows, and what the driver
/// checks when the picks come back.
pub struct Scorer {
    payload: Payload,
    bytes: Vec<u8>,
    row: Option<RowScorer<'static>>,
}

/// The strategies a shipped query runs, for messages.
pub const SHIPPABLE: &str =
    "random, tree-variance, committee, qbc, emcm (scored where the rows are) and cover (on a sample drawn by row id)";

impl Scorer {
    pub fn to_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// A scorer from [`Scorer::to_bytes`], checked.
    pub fn from_bytes(bytes: &[u8]) -> Result<Scorer> {
        if bytes.len() < 44 || &bytes[..8] != MAGIC {
            bail!("not an al scorer (make one with Project.scorer or al.spark.query)");
        }
        let format = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if format != SCORER_FORMAT {
            bail!("this scorer is in format {format}, this al reads format {SCORER_FORMAT}: make it again with this version of al");
        }
        let payload = &bytes[44..];
        if Sha256::digest(payload).as_slice() != &bytes[12..44] {
            bail!("this scorer is damaged (its checksum does not match); make it again");
        }
        let payload: Payload =
            rmp_serde::from_slice(payload).context("this scorer cannot be read; make it again")?;
        let row = match &payload.plan {
            Plan::PerRow { scorer, .. } => Some(RowScorer::from_bytes(scorer)?),
            Plan::Sample { .. } => None,
        };
        Ok(Scorer {
            payload,
            bytes: bytes.to_vec(),
            row,
        })
    }

    fn new(payload: Payload) -> Result<Scorer> {
        let body = rmp_serde::to_vec(&payload)?;
        let mut bytes = MAGIC.to_vec();
        bytes.extend(SCORER_FORMAT.to_le_bytes());
        bytes.extend(Sha256::digest(&body));
        bytes.extend(body);
        Scorer::from_bytes(&bytes)
    }

    pub fn plan(&self) -> &Plan {
        &self.payload.plan
    }

    pub fn id_column(&self) -> &str {
        &self.payload.id_column
    }

    /// The strategy spec it runs (the cold-start one before two labels).
    pub fn strategy(&self) -> &str {
        &self.payload.strategy
    }

    /// Refuses a pool column the project does not have (a bad input: the
    /// driver asks before any job, the workers again on every batch).
    pub fn check_columns<'n>(&self, names: impl IntoIterator<Item = &'n str>) -> Result<()> {
        let headers = &self.payload.headers;
        match names
            .into_iter()
            .find(|name| !headers.iter().any(|h| h == name))
        {
            Some(name) => bail!(refused(
                "pool",
                &format!(
                    "pool column {name:?} is not a column of this project; its columns are: {}",
                    headers.join(", ")
                )
            )),
            None => Ok(()),
        }
    }

    /// How the recipe reads each source column (`numeric`, `categorical`,
    /// `target`, `id`, `dropped`), by name.
    pub fn kinds(&self) -> Vec<(&str, &'static str)> {
        self.payload
            .recipe
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.kind_name()))
            .collect()
    }

    /// The rows of `table` encoded by the project's recipe, checked as a
    /// pool: every column a project column, every project column present
    /// (the target may be missing, and must be empty).
    fn encode(&self, table: &RawTable) -> Result<al_data::store::PreparedRows> {
        self.check_columns(table.headers.iter().map(String::as_str))?;
        let (min, max) = self.payload.bounds;
        Ok(prepare_table(
            table,
            &RowsFormat {
                headers: &self.payload.headers,
                recipe: &self.payload.recipe,
                bounds: Bounds { min, max },
                delimiter: None,
            },
            Role::Pool,
        )?)
    }

    /// Each row's sample key: a hash of its id cell and the seed. The
    /// sample is the rows with the smallest keys, whatever the partitioning.
    pub fn sample_keys(&self, columns: &[PoolColumn]) -> Result<Vec<u64>> {
        let id = &self.payload.id_column;
        let column = columns
            .iter()
            .find(|c| c.name() == id)
            .with_context(|| format!("the pool has no id column {id:?}"))?;
        (0..column.len())
            .map(|r| {
                Ok(match column.cell(r)? {
                    Cell::Text(t) => sample_key(t, self.payload.seed),
                    Cell::Number(v) => sample_key(&v.to_string(), self.payload.seed),
                })
            })
            .collect()
    }

    /// The utility of each row of a batch of pool columns, whose rows sit
    /// at positions `first..` of the candidates in id order. Encoded
    /// straight into the compact form (no raw text kept), with `add`'s
    /// checks: every column a project column, every project column there
    /// but the target, which must be empty.
    pub fn score_columns(&self, columns: &[PoolColumn], first: usize) -> Result<Vec<f64>> {
        let Some(row) = &self.row else {
            bail!(
                "this scorer draws a sample by row id ({}); it has no per-row utility",
                self.payload.strategy
            );
        };
        let rows = self.compact(columns)?;
        let recipe = &self.payload.recipe;
        let pool = al_query::CompactPool::new(&rows, recipe);
        let mut out = Vec::with_capacity(rows.len());
        for start in (0..rows.len()).step_by(al_query::pool::CHUNK) {
            let end = (start + al_query::pool::CHUNK).min(rows.len());
            out.extend(row.score(&pool.chunk(start..end), first + start)?);
        }
        Ok(out)
    }

    fn compact(&self, columns: &[PoolColumn]) -> Result<al_data::CompactRows> {
        let p = &self.payload;
        self.check_columns(columns.iter().map(PoolColumn::name))?;
        let n = columns.first().map_or(0, PoolColumn::len);
        if columns.iter().any(|c| c.len() != n) {
            bail!("the pool batch's columns differ in length");
        }
        let find = |name: &str| columns.iter().find(|c| c.name() == name);
        let target = &p.recipe.target;
        if let Some(t) = find(target) {
            for r in 0..n {
                let labeled = match t.cell(r)? {
                    Cell::Text(s) => !s.trim().is_empty(),
                    Cell::Number(v) => !v.is_nan(),
                };
                if labeled {
                    bail!("the pool's {target:?} holds a value in a row; a pool's rows are unlabeled (label them with `label`, or add labeled rows with `add --as train`)");
                }
            }
        }
        for h in &p.headers {
            if h != target && find(h).is_none() {
                bail!("the pool has no column {h:?}; pools queried for this project need its columns: {}", p.headers.join(", "));
            }
        }
        let features: Vec<_> = p.recipe.feature_columns().collect();
        let width = features.len();
        let mut values = vec![0.0; n * width];
        let mut issues = Vec::new();
        for (k, column) in features.iter().enumerate() {
            let source = find(&column.name).context("checked above")?;
            for r in 0..n {
                values[r * width + k] = column.encode_cell(source.cell(r)?, &mut issues);
                issues.clear();
            }
        }
        Ok(al_data::CompactRows {
            row_ids: (0..n as i64).collect(),
            labels: vec![None; n],
            values,
            width,
        })
    }
}

/// A column of a pool batch as Arrow holds it, borrowed from its buffers.
pub enum PoolColumn<'a> {
    /// A number column: values (f64, little-endian) and validity.
    Numbers {
        name: &'a str,
        buffers: ArrowBuffers<'a>,
    },
    /// A column cast to text (`large_string`): 64-bit offsets, UTF-8 data.
    Text {
        name: &'a str,
        buffers: ArrowBuffers<'a>,
        offsets: &'a [u8],
    },
}

/// What every Arrow column has: a validity bitmap (none: all valid), a
/// data buffer, an offset into both and a length.
pub struct ArrowBuffers<'a> {
    pub validity: Option<&'a [u8]>,
    pub data: &'a [u8],
    pub offset: usize,
    pub len: usize,
}

impl ArrowBuffers<'_> {
    fn valid(&self, i: usize) -> bool {
        let j = self.offset + i;
        self.validity
            .is_none_or(|v| v.get(j / 8).is_some_and(|b| b >> (j % 8) & 1 == 1))
    }
}

impl<'a> PoolColumn<'a> {
    pub fn name(&self) -> &'a str {
        match self {
            PoolColumn::Numbers { name, .. } | PoolColumn::Text { name, .. } => name,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            PoolColumn::Numbers { buffers, .. } | PoolColumn::Text { buffers, .. } => buffers.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `i`'s cell (a null: empty text), checked against the buffers.
    pub fn cell(&self, i: usize) -> Result<Cell<'a>> {
        let malformed = || anyhow::anyhow!("column {:?}: malformed Arrow buffers", self.name());
        match self {
            PoolColumn::Numbers { buffers, .. } => {
                if !buffers.valid(i) {
                    return Ok(Cell::Number(f64::NAN));
                }
                let at = 8 * (buffers.offset + i);
                let bytes = buffers.data.get(at..at + 8).ok_or_else(malformed)?;
                Ok(Cell::Number(f64::from_le_bytes(bytes.try_into()?)))
            }
            PoolColumn::Text {
                buffers,
                offsets,
                name,
            } => {
                if !buffers.valid(i) {
                    return Ok(Cell::Text(""));
                }
                let bound = |k: usize| -> Result<usize> {
                    let b = offsets.get(8 * k..8 * k + 8).ok_or_else(malformed)?;
                    usize::try_from(i64::from_le_bytes(b.try_into()?)).map_err(|_| malformed())
                };
                let j = buffers.offset + i;
                let text = buffers
                    .data
                    .get(bound(j)?..bound(j + 1)?)
                    .ok_or_else(malformed)?;
                Ok(Cell::Text(std::str::from_utf8(text).map_err(|_| {
                    anyhow::anyhow!("column {name:?}: a cell is not UTF-8")
                })?))
            }
        }
    }

    /// Every cell as the text a CSV export holds (numbers in Rust's
    /// shortest exact form), for the few rows that enter the project.
    pub fn texts(&self) -> Result<Vec<String>> {
        (0..self.len())
            .map(|i| {
                Ok(match self.cell(i)? {
                    Cell::Text(t) => t.to_string(),
                    Cell::Number(v) if v.is_nan() => String::new(),
                    Cell::Number(v) => v.to_string(),
                })
            })
            .collect()
    }
}

/// A batch's columns as the raw text table `add` would read.
pub fn pool_table(columns: &[PoolColumn]) -> Result<RawTable> {
    let origin = std::path::Path::new("the pool's Arrow batch");
    let headers = columns.iter().map(|c| c.name().to_string()).collect();
    let numeric: Vec<bool> = columns
        .iter()
        .map(|c| matches!(c, PoolColumn::Numbers { .. }))
        .collect();
    let cells = columns
        .iter()
        .map(PoolColumn::texts)
        .collect::<Result<_>>()?;
    Ok(RawTable::from_text_columns(
        origin, headers, &numeric, cells,
    )?)
}

fn id_position(table: &RawTable, id_column: &str) -> Result<usize> {
    table
        .column_index(id_column)
        .with_context(|| format!("the pool has no id column {id_column:?}"))
}

/// A row's sample key: FNV-1a of its id's text, mixed with the seed by
/// SplitMix64 (Steele, Lea & Flood 2014), so every seed draws another
/// sample.
pub fn sample_key(id: &str, seed: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut z = h ^ al_models::derive_seed(seed, 26);
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Project {
    /// Fits the query's strategy on the labeled rows and packs it for
    /// workers; writes nothing. `id_column` names the pool's id: a column
    /// the project keeps out of the features (`init --id-col`).
    pub fn ship_query(&self, options: &QueryOptions, id_column: &str) -> Result<Scorer> {
        options.check()?;
        if options.diversity || options.include_pending {
            bail!(refused(
                "diversity",
                "a query over an outside pool takes neither diversity nor include_pending"
            ));
        }
        let recipe = self.file.recipe()?;
        check_id_column(&recipe, id_column)?;
        let registry = self.registry()?;
        let spec = self.model_spec(options.model.as_deref())?;
        let [train] = self.file.load_compact_subsets([Subset::Training])?;
        let labels = labels_fingerprint(&train);
        let cold = train.len() < 2;
        let asked = options
            .strategy
            .as_deref()
            .unwrap_or(al_query::DEFAULT_STRATEGY);
        let strategy = registry.parse(if cold { COLD_START } else { asked })?;
        let name = strategy.name();
        let train = train.expand(&recipe, true);
        let ly = train.targets();
        let lx = al_models::Matrix::new(train.features, train.width).with_keys(train.row_ids);
        let fitted = if cold {
            None
        } else {
            Some(spec.build()?.fit(&lx, &ly, options.seed)?)
        };
        let empty = al_models::Matrix::new(vec![], recipe.n_features());
        let input = QueryInput {
            labeled_x: &lx,
            labeled_y: &ly,
            candidates: &empty,
            model: &spec,
            batch: options.batch,
            seed: options.seed,
            max_candidates: options.candidates,
            fitted: fitted.as_deref(),
        };
        let plan = match strategy.row_scorer(&input) {
            Some(scorer) => Plan::PerRow {
                scorer: scorer?.to_bytes()?,
                positional: al_models::params::split_name(&name).0 == "random",
            },
            _ if al_models::params::split_name(&name).0 == "cover" => Plan::Sample {
                size: sample_param(&name)?,
            },
            _ => bail!(refused(
                "strategy",
                &format!(
                    "{name} cannot run over an outside pool; the strategies that can: {SHIPPABLE}"
                )
            )),
        };
        let bounds = self.file.target_bounds()?;
        Scorer::new(Payload {
            project: self.fingerprint()?,
            labels,
            strategy: name,
            model: spec.to_string(),
            seed: options.seed,
            candidates: options.candidates,
            coverage: options.coverage.map(|c| c.level()),
            id_column: id_column.to_string(),
            headers: self.file.headers()?,
            recipe,
            bounds: (bounds.min, bounds.max),
            plan,
        })
    }

    /// The id cells (in `id_column`) of every row the project holds: rows
    /// an outside pool must not offer again.
    pub fn held_ids(&self, id_column: &str) -> Result<Vec<String>> {
        let recipe = self.file.recipe()?;
        let column = check_id_column(&recipe, id_column)?;
        let mut ids = Vec::new();
        self.file.each_exported_row(|row| {
            ids.push(row.cells.get(column).cloned().unwrap_or_default());
            Ok(())
        })?;
        Ok(ids)
    }

    /// Records the round of a shipped query. `rows` are the picked rows in
    /// rank order with their `utilities` (per-row plans), or the sample
    /// (sample plans, `utilities` `None`), as the pool had them. Checks the
    /// scorer is this project's and fitted on its current labels, and that
    /// no row is one the project holds; one transaction.
    pub fn record_shipped(
        &mut self,
        scorer: &Scorer,
        batch: usize,
        rows: &RawTable,
        utilities: Option<Vec<f64>>,
        pool: usize,
    ) -> Result<QueryOutcome> {
        let p = &scorer.payload;
        if p.project != self.fingerprint()? {
            bail!("this scorer was made for another project (its recipe or source differ); make one from this project");
        }
        let [train] = self.file.load_compact_subsets([Subset::Training])?;
        if p.labels != labels_fingerprint(&train) {
            bail!("this scorer was fitted before the project's labels changed; make it again so the picks reflect every label");
        }
        match (&p.plan, &utilities) {
            (Plan::PerRow { .. }, Some(u)) if u.len() == rows.n_rows() => {}
            (Plan::PerRow { .. }, _) => bail!("a per-row scorer's picks need one utility per row"),
            (Plan::Sample { .. }, None) => {}
            (Plan::Sample { .. }, Some(_)) => {
                bail!("a sample scorer's rows take no utilities: the strategy picks among them")
            }
        }
        let id = id_position(rows, &p.id_column)?;
        let held: std::collections::HashSet<String> =
            self.held_ids(&p.id_column)?.into_iter().collect();
        let mut seen = std::collections::HashSet::new();
        for r in 0..rows.n_rows() {
            let cell = rows.cell(r, id);
            if held.contains(cell) {
                bail!(
                    "pool row {cell:?} ({}) is already in the project; skip the ids it holds",
                    p.id_column
                );
            }
            if !seen.insert(cell) {
                bail!(
                    "pool id {cell:?} ({}) occurs twice; ids must be unique",
                    p.id_column
                );
            }
        }
        let prepared = scorer.encode(rows)?;
        let options = QueryOptions {
            strategy: Some(p.strategy.clone()),
            batch,
            model: Some(p.model.clone()),
            seed: p.seed,
            candidates: p.candidates,
            diversity: false,
            include_pending: false,
            coverage: p.coverage.map(crate::Coverage::new).transpose()?,
            audit: crate::AuditShare::default(),
        };
        let planned = self.plan(
            &options,
            Candidates::External {
                rows: prepared,
                ranked: utilities,
                pool,
                train: Box::new(train),
            },
        )?;
        self.record_query(planned, crate::BatchOut::None)
    }

    /// What identifies a project to a scorer: its source file, columns and
    /// recipe.
    fn fingerprint(&self) -> Result<String> {
        let mut h = Sha256::new();
        for key in ["source_sha256", "source_headers", "recipe"] {
            h.update(self.file.meta(key)?.unwrap_or_default());
            h.update([0]);
        }
        Ok(al_data::table::hex(&h.finalize()))
    }
}

/// The labeled rows and their labels, as a hash.
fn labels_fingerprint(train: &al_data::CompactRows) -> String {
    let mut h = Sha256::new();
    for (id, label) in train.row_ids.iter().zip(&train.labels) {
        h.update(id.to_le_bytes());
        h.update(label.map_or(f64::NAN, |v| v).to_bits().to_le_bytes());
    }
    al_data::table::hex(&h.finalize())
}

/// `id_column`'s place in the source, if the recipe keeps it as an id.
fn check_id_column(recipe: &Recipe, id_column: &str) -> Result<usize> {
    let Some(column) = recipe.columns.iter().find(|c| c.name == id_column) else {
        bail!(refused(
            "id_col",
            &format!(
                "id_col {id_column:?}: the project has no such column; its columns are: {}",
                recipe
                    .columns
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        ));
    };
    if !matches!(column.kind, ColumnKind::Id { .. }) {
        bail!(refused(
            "id_col",
            &format!("id_col {id_column:?} is a {} column of the project, not its id; give the column `init --id-col` kept out of the features", column.kind_name())
        ));
    }
    Ok(column.source_index)
}

/// `sample=N` of a canonical cover spec.
fn sample_param(spec: &str) -> Result<usize> {
    let (_, params) = al_models::params::split_name(spec);
    params
        .split(',')
        .find_map(|kv| kv.strip_prefix("sample="))
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("{spec}: no sample size"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_keys_depend_on_the_id_and_the_seed_only() {
        // Pinned: a change here changes every distributed cover sample.
        assert_eq!(sample_key("1001", 3), sample_key("1001", 3));
        assert_ne!(sample_key("1001", 3), sample_key("1002", 3));
        assert_ne!(sample_key("1001", 3), sample_key("1001", 4));
        let first = (0..1000)
            .filter(|i| sample_key(&i.to_string(), 0) < u64::MAX / 2)
            .count();
        assert!(
            (430..570).contains(&first),
            "{first} of 1000 below the median"
        );
    }

    #[test]
    fn foreign_damaged_and_other_format_bytes_are_refused_by_what_they_are() {
        let err = |bytes: &[u8]| Scorer::from_bytes(bytes).err().unwrap().to_string();
        assert!(err(b"a pickled model").contains("not an al scorer"));
        let mut other = MAGIC.to_vec();
        other.extend(9u32.to_le_bytes());
        other.extend([0u8; 40]);
        assert!(err(&other).contains("format 9, this al reads format 1"));
        let mut damaged = MAGIC.to_vec();
        damaged.extend(SCORER_FORMAT.to_le_bytes());
        damaged.extend([0u8; 40]);
        assert!(err(&damaged).contains("damaged"));
    }
}
