//! One answer at a time, as the browser workbench (`al-cli serve`) takes
//! them: each answer checked and written in its caller's transaction through
//! [`apply_labels`], the path `al-cli label` takes, and the last one of an
//! annotator retracted on request.

use rusqlite::{params, OptionalExtension, Transaction};

use super::labels::{apply_labels, LabelEvent};
use crate::error::{sql, Result};
use crate::project::Project;

/// What became of one answer.
#[derive(Debug, Clone, PartialEq)]
pub enum AnswerOutcome {
    /// Written as the row's label; `event_id` names it for [`retract_answer`].
    Saved { event_id: i64, round: i64 },
    /// The row already has this very label (say, a form sent twice):
    /// nothing written, as `label` treats an unchanged value.
    Unchanged,
    /// The row was answered with another value meanwhile (its lease ran out
    /// and someone else took it): nothing written, as `label` refuses a row
    /// labeled two ways.
    Conflict {
        existing: f64,
        annotator: Option<String>,
    },
    /// The row is in the project but no round asked for it.
    NotQueried,
    /// No such row.
    UnknownRow,
}

/// Writes `value` as the label of a queried row, with the annotator's name
/// and the latest round that asked for the row, unless the row is already
/// labeled (see [`AnswerOutcome`]).
pub fn answer(
    tx: &Transaction,
    row_id: i64,
    value: f64,
    annotator: Option<&str>,
) -> Result<AnswerOutcome> {
    let current: Option<Option<f64>> = tx
        .query_row("SELECT label FROM rows WHERE row_id = ?1", [row_id], |r| {
            r.get(0)
        })
        .optional()
        .map_err(sql)?;
    let Some(current) = current else {
        return Ok(AnswerOutcome::UnknownRow);
    };
    let round: Option<i64> = tx
        .query_row(
            "SELECT max(round) FROM queries WHERE row_id = ?1",
            [row_id],
            |r| r.get(0),
        )
        .map_err(sql)?;
    let Some(round) = round else {
        return Ok(AnswerOutcome::NotQueried);
    };
    match current {
        Some(existing) if existing == value => return Ok(AnswerOutcome::Unchanged),
        Some(existing) => {
            let annotator = tx
                .query_row(
                    "SELECT annotator FROM labels WHERE row_id = ?1 ORDER BY event_id DESC LIMIT 1",
                    [row_id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql)?
                .flatten();
            return Ok(AnswerOutcome::Conflict {
                existing,
                annotator,
            });
        }
        None => {}
    }
    let event = LabelEvent {
        row_id,
        value,
        round: Some(round),
        annotator: annotator.map(str::to_string),
        note: None,
    };
    apply_labels(tx, &[event], "annotator")?;
    Ok(AnswerOutcome::Saved {
        event_id: tx.last_insert_rowid(),
        round,
    })
}

/// What became of a request to take an answer back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetractOutcome {
    /// The event is gone and the row has its previous label again (none,
    /// for a row answered once): it is pending again.
    Retracted { row_id: i64 },
    /// A later label of the row exists: only the latest can be taken back.
    Superseded,
    /// No such event, or not this annotator's.
    NotFound,
}

/// Takes back label event `event_id` of `annotator`: the event is deleted
/// (a retracted answer is not a label; the history shows what stands) and
/// the row's current label becomes the one before it.
pub fn retract_answer(
    tx: &Transaction,
    event_id: i64,
    annotator: Option<&str>,
) -> Result<RetractOutcome> {
    let found: Option<(i64, Option<String>)> = tx
        .query_row(
            "SELECT row_id, annotator FROM labels WHERE event_id = ?1",
            [event_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(sql)?;
    let Some((row_id, _)) = found.filter(|(_, by)| by.as_deref() == annotator) else {
        return Ok(RetractOutcome::NotFound);
    };
    let latest: i64 = tx
        .query_row(
            "SELECT max(event_id) FROM labels WHERE row_id = ?1",
            [row_id],
            |r| r.get(0),
        )
        .map_err(sql)?;
    if latest != event_id {
        return Ok(RetractOutcome::Superseded);
    }
    tx.execute("DELETE FROM labels WHERE event_id = ?1", [event_id])
        .map_err(sql)?;
    let previous: Option<(f64, String)> = tx
        .query_row(
            "SELECT value, source FROM labels WHERE row_id = ?1 ORDER BY event_id DESC LIMIT 1",
            [row_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(sql)?;
    tx.execute(
        "UPDATE rows SET label = ?2, label_source = ?3 WHERE row_id = ?1",
        params![
            row_id,
            previous.as_ref().map(|p| p.0),
            previous.as_ref().map(|p| p.1.as_str())
        ],
    )
    .map_err(sql)?;
    Ok(RetractOutcome::Retracted { row_id })
}

/// A queried row as its round recorded it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueriedInfo {
    pub round: i64,
    pub rank: i64,
    pub prediction: Option<f64>,
    /// The standard deviation of the model's members on the row.
    pub spread: Option<f64>,
}

/// How many labels one annotator gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotatorCount {
    /// `None`: labels given without a name (`init`, `add`, unnamed imports).
    pub annotator: Option<String>,
    pub labels: u64,
}

impl Project {
    /// The latest round that asked for `row_id`, with what it recorded.
    pub fn queried(&self, row_id: i64) -> Result<Option<QueriedInfo>> {
        self.conn()
            .query_row(
                "SELECT round, rank, prediction, spread FROM queries
                 WHERE row_id = ?1 ORDER BY round DESC LIMIT 1",
                [row_id],
                |r| {
                    Ok(QueriedInfo {
                        round: r.get(0)?,
                        rank: r.get(1)?,
                        prediction: r.get(2)?,
                        spread: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(sql)
    }

    /// Label events per annotator, most first, counting only the events
    /// that are a row's current label (a changed label counts once).
    pub fn labels_by_annotator(&self) -> Result<Vec<AnnotatorCount>> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT l.annotator, count(*) FROM labels l
                 WHERE l.event_id = (SELECT max(event_id) FROM labels m WHERE m.row_id = l.row_id)
                 GROUP BY l.annotator ORDER BY count(*) DESC, l.annotator",
            )
            .map_err(sql)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(AnnotatorCount {
                    annotator: r.get(0)?,
                    labels: r.get::<_, i64>(1)? as u64,
                })
            })
            .map_err(sql)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sql)?;
        Ok(rows)
    }

    /// The event id of `annotator`'s latest answer given through a round
    /// (what the workbench's undo takes back), if any.
    pub fn latest_answer(&self, annotator: &str) -> Result<Option<i64>> {
        self.conn()
            .query_row(
                "SELECT max(event_id) FROM labels
                 WHERE annotator = ?1 AND source = 'annotator' AND round IS NOT NULL",
                [annotator],
                |r| r.get(0),
            )
            .map_err(sql)
    }

    /// SQLite's `data_version`: changes when another connection commits to
    /// the file (not on this connection's own commits).
    pub fn data_version(&self) -> Result<i64> {
        self.conn()
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(sql)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::project_in_every_state;

    fn first_pending(project: &Project) -> i64 {
        project.pending().unwrap()[0].row_id
    }

    #[test]
    fn an_answer_is_saved_once_then_unchanged_or_in_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let mut project = project_in_every_state(dir.path());
        let row = first_pending(&project);
        let saved = project
            .write(|tx| answer(tx, row, 2.5, Some("ann")))
            .unwrap();
        let AnswerOutcome::Saved { round, .. } = saved else {
            panic!("not saved: {saved:?}");
        };
        assert_eq!(round, 1);
        assert_eq!(project.row_state(row).unwrap().unwrap().label, Some(2.5));
        let history = project.history(row).unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].annotator.as_deref(), Some("ann"));
        assert_eq!(history[0].round, Some(1));
        let again = project
            .write(|tx| answer(tx, row, 2.5, Some("bob")))
            .unwrap();
        assert_eq!(again, AnswerOutcome::Unchanged);
        let other = project
            .write(|tx| answer(tx, row, 9.0, Some("bob")))
            .unwrap();
        assert_eq!(
            other,
            AnswerOutcome::Conflict {
                existing: 2.5,
                annotator: Some("ann".into())
            }
        );
        assert_eq!(project.history(row).unwrap().len(), 1);
    }

    #[test]
    fn rows_never_queried_or_missing_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut project = project_in_every_state(dir.path());
        let pool = project.load_compact_rows(crate::Subset::Pool).unwrap();
        let unqueried = pool.row_ids[0];
        let outcome = project
            .write(|tx| answer(tx, unqueried, 1.0, None))
            .unwrap();
        assert_eq!(outcome, AnswerOutcome::NotQueried);
        let outcome = project.write(|tx| answer(tx, 987_654, 1.0, None)).unwrap();
        assert_eq!(outcome, AnswerOutcome::UnknownRow);
        assert_eq!(project.row_state(unqueried).unwrap().unwrap().label, None);
    }

    #[test]
    fn retracting_the_latest_answer_makes_the_row_pending_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut project = project_in_every_state(dir.path());
        let row = first_pending(&project);
        let pending_before = project.pending().unwrap().len();
        let AnswerOutcome::Saved { event_id, .. } = project
            .write(|tx| answer(tx, row, 4.0, Some("ann")))
            .unwrap()
        else {
            panic!("not saved");
        };
        assert_eq!(project.pending().unwrap().len(), pending_before - 1);
        assert_eq!(project.latest_answer("ann").unwrap(), Some(event_id));
        assert_eq!(project.latest_answer("bob").unwrap(), None);
        let by_other = project
            .write(|tx| retract_answer(tx, event_id, Some("bob")))
            .unwrap();
        assert_eq!(by_other, RetractOutcome::NotFound);
        let outcome = project
            .write(|tx| retract_answer(tx, event_id, Some("ann")))
            .unwrap();
        assert_eq!(outcome, RetractOutcome::Retracted { row_id: row });
        assert_eq!(project.row_state(row).unwrap().unwrap().label, None);
        assert!(project.history(row).unwrap().is_empty());
        assert_eq!(project.pending().unwrap().len(), pending_before);
    }

    #[test]
    fn a_retraction_restores_the_label_before_and_only_the_latest_goes() {
        let dir = tempfile::tempdir().unwrap();
        let mut project = project_in_every_state(dir.path());
        let row = first_pending(&project);
        let first = project
            .write(|tx| answer(tx, row, 1.0, Some("ann")))
            .unwrap();
        let AnswerOutcome::Saved {
            event_id: first, ..
        } = first
        else {
            panic!("not saved");
        };
        // A correction through `label` (a changed value) comes after it.
        let event = LabelEvent {
            row_id: row,
            value: 3.0,
            round: None,
            annotator: Some("lead".into()),
            note: None,
        };
        project
            .write(|tx| apply_labels(tx, &[event], "annotator"))
            .unwrap();
        let outcome = project
            .write(|tx| retract_answer(tx, first, Some("ann")))
            .unwrap();
        assert_eq!(outcome, RetractOutcome::Superseded);
        assert_eq!(project.row_state(row).unwrap().unwrap().label, Some(3.0));
        let latest: i64 = project
            .conn()
            .query_row("SELECT max(event_id) FROM labels", [], |r| r.get(0))
            .unwrap();
        project
            .write(|tx| retract_answer(tx, latest, Some("lead")))
            .unwrap();
        assert_eq!(project.row_state(row).unwrap().unwrap().label, Some(1.0));
    }

    #[test]
    fn labels_by_annotator_counts_current_labels() {
        let dir = tempfile::tempdir().unwrap();
        let mut project = project_in_every_state(dir.path());
        let pending = project.pending().unwrap();
        for (k, p) in pending.iter().take(2).enumerate() {
            project
                .write(|tx| answer(tx, p.row_id, k as f64, Some("ann")))
                .unwrap();
        }
        let counts = project.labels_by_annotator().unwrap();
        let ann = counts
            .iter()
            .find(|c| c.annotator.as_deref() == Some("ann"))
            .unwrap();
        assert_eq!(ann.labels, 2);
    }
}
