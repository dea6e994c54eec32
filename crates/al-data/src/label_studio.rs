//! Label Studio's formats, as al reads and writes them.
//!
//! * **Out:** the labeling interface (`config_xml`: the row's cells in a
//!   table, a `Number` control for the target) and tasks (`task_json`:
//!   `data.row_id`, `data.cells`, and al's guess as a prediction whose
//!   `score` orders the Data Manager as al's query ranked the rows).
//! * **In:** a JSON export (`read_export`: each task's latest annotation
//!   that was not cancelled carries the label as a `number` result; every
//!   task checked before anything is written, errors naming the file, the
//!   task and what to fix) and the ML backend's webhooks (`read_webhook`:
//!   annotations created, updated, deleted; training asked for).
//!
//! A label that came from Label Studio carries the note
//! `label-studio annotation ID`, so that deleting the annotation there
//! withdraws it here ([`withdraw_annotation`]).

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{OptionalExtension, Transaction};
use serde_json::{json, Value};

use crate::error::sql;
use crate::store::{self, Bounds, LabelEvent, LabelOutcome, RetractOutcome};
use crate::{DataError, Project, Result};

/// The name of the table of cells in al's labeling interface, which the
/// target's control points at (`toName`).
pub const ROW_TABLE: &str = "row";

/// The labeling interface's control for the target: the `from_name` and
/// `to_name` of the number results al writes and reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    pub name: String,
    pub to_name: String,
}

impl Control {
    /// The control of al's own interface for a target column: its name
    /// with anything but letters, digits, `_` and `-` made `_`.
    pub fn for_target(target: &str) -> Control {
        let name: String = target
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Control {
            name: if name.is_empty() {
                "target".into()
            } else {
                name
            },
            to_name: ROW_TABLE.into(),
        }
    }

    /// The first `<Number>` control of a labeling config (the one Label
    /// Studio sends with every prediction request), when it names both.
    pub fn from_config(config: &str) -> Option<Control> {
        let start = config.find("<Number")?;
        let tag = &config[start..];
        let tag = &tag[..tag.find('>')?];
        Some(Control {
            name: xml_attribute(tag, "name")?,
            to_name: xml_attribute(tag, "toName")?,
        })
    }
}

/// The value of `name="..."` in one XML tag's text (entities decoded).
fn xml_attribute(tag: &str, name: &str) -> Option<String> {
    let mut rest = tag;
    loop {
        let at = rest.find(name)?;
        let before = rest[..at].chars().last();
        let after = rest[at + name.len()..].trim_start();
        rest = &rest[at + name.len()..];
        if !before.is_some_and(char::is_whitespace) {
            continue;
        }
        let Some(value) = after.strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start();
        let quote = value.chars().next()?;
        if quote != '"' && quote != '\'' {
            continue;
        }
        let end = value[1..].find(quote)?;
        return Some(xml_unescape(&value[1..1 + end]));
    }
}

fn xml_unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// al's labeling interface for a project: the row's id, its cells as a
/// table, and a `Number` control for the target within the project's
/// bounds (any decimal allowed).
pub fn config_xml(target: &str, bounds: Bounds) -> String {
    let control = Control::for_target(target);
    let mut number = format!(
        "<Number name=\"{}\" toName=\"{}\" step=\"any\" required=\"true\"",
        xml_escape(&control.name),
        xml_escape(&control.to_name)
    );
    if let Some(min) = bounds.min {
        number.push_str(&format!(" min=\"{min}\""));
    }
    if let Some(max) = bounds.max {
        number.push_str(&format!(" max=\"{max}\""));
    }
    number.push_str("/>");
    format!(
        "<View>\n  <Header value=\"Row $row_id\"/>\n  <Table name=\"{table}\" value=\"$cells\"/>\n  <Header value=\"{label}\"/>\n  {number}\n</View>\n",
        table = ROW_TABLE,
        label = xml_escape(target),
    )
}

/// al's guess for a task, as a Label Studio prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Guess {
    pub value: f64,
    /// The conformal interval and its level, when there are labels enough.
    pub interval: Option<(f64, f64)>,
    pub coverage: f64,
    /// Orders the Data Manager as al's query does: `1 − (rank − 1) /
    /// batch` for a row of the open batch (1 for al's first pick), 0 for
    /// any other row.
    pub score: f64,
    /// The strategy's own utility of the row when it was picked.
    pub utility: Option<f64>,
    pub model_version: String,
}

/// A prediction's JSON: one `number` result for `control`, al's interval
/// and utility in its `meta`.
pub fn prediction_json(control: &Control, guess: &Guess) -> Value {
    let mut meta = serde_json::Map::new();
    if let Some((lower, upper)) = guess.interval {
        meta.insert("lower".into(), json!(lower));
        meta.insert("upper".into(), json!(upper));
        meta.insert("coverage".into(), json!(guess.coverage));
    }
    if let Some(u) = guess.utility {
        meta.insert("utility".into(), json!(u));
    }
    json!({
        "model_version": guess.model_version,
        "score": guess.score,
        "result": [{
            "from_name": control.name,
            "to_name": control.to_name,
            "type": "number",
            "value": {"number": guess.value},
            "meta": Value::Object(meta),
        }],
    })
}

/// A prediction with no result (before there is a model), kept for its
/// score: the Data Manager still sorts by it.
pub fn score_only_json(score: f64, model_version: &str) -> Value {
    json!({"model_version": model_version, "score": score, "result": []})
}

/// A query round's picks as Label Studio tasks (a JSON list, al's order):
/// each row's cells, its guess and interval (at `coverage`) as the
/// prediction, scored by its rank, named `version`.
pub fn batch_tasks(
    headers: &[String],
    target: usize,
    round: i64,
    rows: &[crate::batch::BatchRow],
    coverage: f64,
    version: &str,
) -> Result<Vec<u8>> {
    let target_name = headers.get(target).map(String::as_str).unwrap_or_default();
    let control = Control::for_target(target_name);
    let tasks: Vec<Value> = rows
        .iter()
        .map(|r| {
            let score = rank_score(r.rank as i64, rows.len() as i64);
            let prediction = match r.prediction {
                Some(value) => prediction_json(
                    &control,
                    &Guess {
                        value,
                        interval: r.interval,
                        coverage,
                        score,
                        utility: Some(r.score).filter(|s| s.is_finite()),
                        model_version: version.to_string(),
                    },
                ),
                None => score_only_json(score, version),
            };
            task_json(
                r.row_id,
                Some(round),
                headers,
                &r.raw,
                target_name,
                Some(prediction),
            )
        })
        .collect();
    serde_json::to_vec(&tasks).map_err(|e| DataError::Usage(format!("cannot write the tasks: {e}")))
}

/// The score that orders the Data Manager as al's query ranked the rows.
pub fn rank_score(rank: i64, batch: i64) -> f64 {
    if batch <= 0 || rank < 1 {
        return 0.0;
    }
    1.0 - (rank - 1) as f64 / batch as f64
}

/// One task: the row's id and round (when it is out in a batch), its
/// cells by column (the target's left out), and al's guess when there is
/// one.
pub fn task_json(
    row_id: i64,
    round: Option<i64>,
    headers: &[String],
    cells: &[String],
    target: &str,
    prediction: Option<Value>,
) -> Value {
    let cells: serde_json::Map<String, Value> = headers
        .iter()
        .zip(cells)
        .filter(|(h, _)| h.as_str() != target)
        .map(|(h, c)| (h.clone(), Value::String(c.clone())))
        .collect();
    let mut data = json!({"row_id": row_id, "cells": cells});
    if let Some(r) = round {
        data["round"] = json!(r);
    }
    let mut task = json!({ "data": data });
    if let Some(p) = prediction {
        task["predictions"] = json!([p]);
    }
    task
}

/// The note a label from Label Studio annotation `id` carries.
pub fn annotation_note(id: i64) -> String {
    format!("label-studio annotation {id}")
}

/// Whether `path` is a Label Studio export rather than a CSV: a `.json`
/// file.
pub fn is_export(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// The label an annotation gives, from its `number` results: the one
/// whose `from_name` is the target, else the only one.
fn annotation_value(annotation: &Value, target: &str) -> std::result::Result<Option<f64>, String> {
    let results = annotation
        .get("result")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let numbers: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("type").and_then(Value::as_str) == Some("number"))
        .collect();
    let chosen = numbers
        .iter()
        .find(|r| {
            let from = r.get("from_name").and_then(Value::as_str);
            from == Some(target) || from == Some(Control::for_target(target).name.as_str())
        })
        .or(if numbers.len() == 1 {
            numbers.first()
        } else {
            None
        });
    let Some(result) = chosen else {
        return match numbers.len() {
            0 => Ok(None),
            _ => Err(format!(
                "{} number results and none from a control named {target:?}; name the labeling interface's Number control after the target",
                numbers.len()
            )),
        };
    };
    match result.pointer("/value/number") {
        Some(Value::Number(n)) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| format!("{n} is not a number al can store")),
        Some(Value::Null) | None => Ok(None),
        Some(other) => Err(format!("value.number is {other}, not a number")),
    }
}

/// Who gave an annotation, as Label Studio says: `completed_by`'s email,
/// or its user id.
fn annotator_of(annotation: &Value) -> Option<String> {
    match annotation.get("completed_by")? {
        Value::Object(user) => user
            .get("email")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| user.get("id").map(|id| format!("label-studio user {id}"))),
        Value::Number(id) => Some(format!("label-studio user {id}")),
        Value::String(name) => Some(name.clone()),
        _ => None,
    }
}

/// A task's row id: `data.row_id`, a whole number or its text.
pub fn row_id_of(task: &Value) -> Option<i64> {
    match task.pointer("/data/row_id")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Reads a Label Studio JSON export into label events (tasks without an
/// answer are skipped), checked whole before the caller writes anything.
pub fn read_export(
    project: &Project,
    path: &Path,
    annotator: Option<&str>,
) -> Result<Vec<LabelEvent>> {
    let text = std::fs::read_to_string(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let tasks: Value = serde_json::from_str(&text).map_err(|e| {
        DataError::input(
            path,
            format!(
                "is not JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            ),
        )
    })?;
    let Some(tasks) = tasks.as_array() else {
        return Err(DataError::input(
            path,
            "is not a Label Studio export: expected a JSON list of tasks (Export → JSON in Label Studio)",
        ));
    };
    let target = project.recipe()?.target;
    let bounds = project.target_bounds()?;
    let pending = project.pending_rounds()?;
    let mut seen: HashMap<i64, (f64, usize)> = HashMap::new();
    let mut events = Vec::new();
    for (k, task) in tasks.iter().enumerate() {
        let name = match task.get("id") {
            Some(id) => format!("task {} (id {id})", k + 1),
            None => format!("task {}", k + 1),
        };
        let refuse = |message: String| DataError::input(path, format!("{name}: {message}"));
        let Some(row_id) = row_id_of(task) else {
            return Err(refuse(
                "has no data.row_id; al reads back the tasks `al-cli export --label-studio` wrote, which carry it".into(),
            ));
        };
        if !project.holds_row(row_id)? {
            return Err(refuse(format!("row {row_id} is not in this project")));
        }
        let annotations = task
            .get("annotations")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        // The latest answer counts; a cancelled (skipped) one is none.
        let answered = annotations
            .iter()
            .rev()
            .filter(|a| a.get("was_cancelled").and_then(Value::as_bool) != Some(true))
            .find_map(|a| match annotation_value(a, &target) {
                Ok(Some(v)) => Some(Ok((a, v))),
                Ok(None) => None,
                Err(e) => Some(Err(e)),
            });
        let Some(answer) = answered else { continue };
        let (annotation, value) = answer.map_err(refuse)?;
        bounds
            .check(value)
            .map_err(|m| refuse(format!("{value}: {m}")))?;
        if let Some((previous, at)) = seen.insert(row_id, (value, k)) {
            if previous != value {
                return Err(refuse(format!(
                    "row {row_id} is labeled {previous} in task {} and {value} here",
                    at + 1
                )));
            }
            continue;
        }
        events.push(LabelEvent {
            row_id,
            value,
            round: pending.get(&row_id).copied(),
            annotator: annotator
                .map(str::to_string)
                .or_else(|| annotator_of(annotation)),
            note: annotation
                .get("id")
                .and_then(Value::as_i64)
                .map(annotation_note),
        });
    }
    Ok(events)
}

/// An annotation Label Studio says was created or updated.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotated {
    pub annotation_id: i64,
    pub row_id: i64,
    /// `None`: cancelled (skipped), or no number in it; nothing to label.
    pub value: Option<f64>,
    pub annotator: Option<String>,
}

/// What a webhook asks of al.
#[derive(Debug, Clone, PartialEq)]
pub enum Webhook {
    /// `ANNOTATION_CREATED`, `ANNOTATIONS_CREATED`, `ANNOTATION_UPDATED`.
    Annotations(Vec<Annotated>),
    /// `ANNOTATIONS_DELETED` (Label Studio sends their ids only).
    Deleted(Vec<i64>),
    /// `START_TRAINING`.
    Train,
    /// Any other action (projects, tasks, label links): nothing to do.
    Other(String),
}

/// Reads a webhook's body; the error names the field that is missing or
/// wrong.
pub fn read_webhook(body: &Value, target: &str) -> std::result::Result<Webhook, String> {
    let action = body
        .get("action")
        .and_then(Value::as_str)
        .ok_or("field action: missing; Label Studio's webhooks name their action")?;
    match action {
        "ANNOTATION_CREATED" | "ANNOTATIONS_CREATED" | "ANNOTATION_UPDATED" => {
            let annotations = one_or_many(body.get("annotation"), "annotation")?;
            let tasks = one_or_many(body.get("task"), "task")?;
            let tasks_by_id: HashMap<i64, &Value> = tasks
                .iter()
                .filter_map(|t| Some((t.get("id")?.as_i64()?, *t)))
                .collect();
            let mut out = Vec::with_capacity(annotations.len());
            for (k, a) in annotations.iter().enumerate() {
                let field = |name: &str| format!("annotation[{k}].{name}");
                let annotation_id = a.get("id").and_then(Value::as_i64).ok_or_else(|| {
                    format!("field {}: missing or not a whole number", field("id"))
                })?;
                // One task comes with one annotation; with many, each
                // annotation names its task.
                let task = match (tasks.len(), a.get("task").and_then(Value::as_i64)) {
                    (1, _) => tasks[0],
                    (_, Some(id)) => tasks_by_id.get(&id).copied().ok_or_else(|| {
                        format!(
                            "field {}: task {id} is not among the tasks sent",
                            field("task")
                        )
                    })?,
                    _ => return Err(format!("field {}: missing", field("task"))),
                };
                let row_id = row_id_of(task).ok_or_else(|| {
                    format!(
                        "task {}: no data.row_id; al labels the tasks `al-cli export --label-studio` wrote, which carry it",
                        task.get("id").map_or("?".into(), Value::to_string)
                    )
                })?;
                let cancelled = a.get("was_cancelled").and_then(Value::as_bool) == Some(true);
                let value = if cancelled {
                    None
                } else {
                    annotation_value(a, target).map_err(|e| format!("{}: {e}", field("result")))?
                };
                out.push(Annotated {
                    annotation_id,
                    row_id,
                    value,
                    annotator: annotator_of(a),
                });
            }
            Ok(Webhook::Annotations(out))
        }
        "ANNOTATIONS_DELETED" => {
            let deleted = body
                .get("annotations")
                .and_then(Value::as_array)
                .ok_or("field annotations: missing or not a list")?;
            deleted
                .iter()
                .enumerate()
                .map(|(k, a)| {
                    a.get("id").and_then(Value::as_i64).ok_or_else(|| {
                        format!("field annotations[{k}].id: missing or not a whole number")
                    })
                })
                .collect::<std::result::Result<_, _>>()
                .map(Webhook::Deleted)
        }
        "START_TRAINING" => Ok(Webhook::Train),
        other => Ok(Webhook::Other(other.to_string())),
    }
}

/// A field that holds one object or a list of them.
fn one_or_many<'v>(
    value: Option<&'v Value>,
    name: &str,
) -> std::result::Result<Vec<&'v Value>, String> {
    match value {
        Some(Value::Object(_)) => Ok(vec![value.unwrap()]),
        Some(Value::Array(items)) if !items.is_empty() => Ok(items.iter().collect()),
        _ => Err(format!(
            "field {name}: missing, or neither an object nor a list of them"
        )),
    }
}

/// What labeling from one annotation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Labeled (new or changed); `unchanged` when the row had that value.
    Labeled(LabelOutcome),
    /// Cancelled, or no number: nothing written.
    NothingToLabel,
}

/// Labels a row from an annotation, in the caller's transaction: checked
/// against the bounds, the round taken from the open batch, the note
/// naming the annotation. A row the project does not hold is refused.
pub fn label_from_annotation(
    tx: &Transaction,
    annotated: &Annotated,
    bounds: Bounds,
) -> Result<Applied> {
    let Some(value) = annotated.value else {
        return Ok(Applied::NothingToLabel);
    };
    bounds
        .check(value)
        .map_err(|m| DataError::Usage(format!("row {}: {value}: {m}", annotated.row_id)))?;
    // The round that asked for the row (a relabel keeps it).
    let round: Option<i64> = tx
        .query_row(
            "SELECT max(round) FROM queries WHERE row_id = ?1",
            [annotated.row_id],
            |r| r.get(0),
        )
        .map_err(sql)?;
    let event = LabelEvent {
        row_id: annotated.row_id,
        value,
        round,
        annotator: annotated.annotator.clone(),
        note: Some(annotation_note(annotated.annotation_id)),
    };
    store::apply_labels(tx, &[event], "annotator").map(Applied::Labeled)
}

/// Withdraws the label annotation `annotation_id` gave, when it is still
/// its row's latest (the row's label goes back to the one before, or to
/// none: pending again). A label given since stands, and so does the
/// history of earlier ones.
pub fn withdraw_annotation(tx: &Transaction, annotation_id: i64) -> Result<RetractOutcome> {
    let found: Option<(i64, Option<String>)> = tx
        .query_row(
            "SELECT event_id, annotator FROM labels WHERE note = ?1 ORDER BY event_id DESC LIMIT 1",
            [annotation_note(annotation_id)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(sql)?;
    match found {
        Some((event_id, annotator)) => store::retract_answer(tx, event_id, annotator.as_deref()),
        None => Ok(RetractOutcome::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_target_named_number_result_counts_else_the_only_one() {
        let named = json!({"result": [
            {"from_name": "other", "type": "number", "value": {"number": 1}},
            {"from_name": "price", "type": "number", "value": {"number": 250.5}}
        ]});
        assert_eq!(annotation_value(&named, "price"), Ok(Some(250.5)));
        let only =
            json!({"result": [{"from_name": "x", "type": "number", "value": {"number": 3}}]});
        assert_eq!(annotation_value(&only, "price"), Ok(Some(3.0)));
        let text_only = json!({"result": [{"type": "textarea", "value": {"text": ["hi"]}}]});
        assert_eq!(annotation_value(&text_only, "price"), Ok(None));
        let two = json!({"result": [
            {"from_name": "a", "type": "number", "value": {"number": 1}},
            {"from_name": "b", "type": "number", "value": {"number": 2}}
        ]});
        assert!(annotation_value(&two, "price")
            .unwrap_err()
            .contains("none from a control named \"price\""));
        let bad = json!({"result": [{"type": "number", "value": {"number": "12"}}]});
        assert!(annotation_value(&bad, "price").is_err());
    }

    #[test]
    fn annotators_and_row_ids_as_label_studio_writes_them() {
        assert_eq!(
            annotator_of(&json!({"completed_by": {"id": 3, "email": "a@lab.org"}})),
            Some("a@lab.org".into())
        );
        assert_eq!(
            annotator_of(&json!({"completed_by": 7})),
            Some("label-studio user 7".into())
        );
        assert_eq!(row_id_of(&json!({"data": {"row_id": 12}})), Some(12));
        assert_eq!(row_id_of(&json!({"data": {"row_id": " 12 "}})), Some(12));
        assert_eq!(row_id_of(&json!({"data": {"row_id": 1.5}})), None);
        assert_eq!(row_id_of(&json!({"data": {}})), None);
    }

    #[test]
    fn al_writes_an_interface_whose_number_control_it_reads_back() {
        let xml = config_xml(
            "sale price (€)",
            Bounds {
                min: Some(0.0),
                max: None,
            },
        );
        assert!(
            xml.contains(
                r#"<Number name="sale_price____" toName="row" step="any" required="true" min="0"/>"#
            ),
            "{xml}"
        );
        assert!(xml.contains(r#"<Header value="sale price (€)"/>"#));
        assert_eq!(
            Control::from_config(&xml),
            Some(Control::for_target("sale price (€)"))
        );
        let theirs =
            r#"<View><Text name="t" value="$x"/><Number toName='t' name="y&amp;z"/></View>"#;
        assert_eq!(
            Control::from_config(theirs),
            Some(Control {
                name: "y&z".into(),
                to_name: "t".into()
            })
        );
        assert_eq!(
            Control::from_config("<View><Text name=\"t\"/></View>"),
            None
        );
        assert_eq!(Control::for_target("").name, "target");
    }

    #[test]
    fn the_score_orders_the_batch_as_al_ranked_it() {
        assert_eq!(rank_score(1, 4), 1.0);
        assert_eq!(rank_score(4, 4), 0.25);
        assert_eq!(rank_score(0, 4), 0.0);
        assert_eq!(rank_score(1, 0), 0.0);
    }

    #[test]
    fn webhooks_are_read_as_label_studio_sends_them() {
        let created = json!({"action": "ANNOTATION_CREATED",
            "annotation": {"id": 7, "completed_by": 2, "was_cancelled": false,
                "result": [{"from_name": "price", "type": "number", "value": {"number": 12.5}}]},
            "task": {"id": 3, "data": {"row_id": 40}}});
        assert_eq!(
            read_webhook(&created, "price"),
            Ok(Webhook::Annotations(vec![Annotated {
                annotation_id: 7,
                row_id: 40,
                value: Some(12.5),
                annotator: Some("label-studio user 2".into()),
            }]))
        );
        let skipped = json!({"action": "ANNOTATION_UPDATED",
            "annotation": {"id": 7, "was_cancelled": true, "result": []},
            "task": {"id": 3, "data": {"row_id": 40}}});
        let Ok(Webhook::Annotations(a)) = read_webhook(&skipped, "price") else {
            panic!()
        };
        assert_eq!(a[0].value, None);
        let many = json!({"action": "ANNOTATIONS_CREATED",
            "annotation": [{"id": 1, "task": 9, "result": []}, {"id": 2, "task": 8, "result": []}],
            "task": [{"id": 8, "data": {"row_id": 80}}, {"id": 9, "data": {"row_id": 90}}]});
        let Ok(Webhook::Annotations(a)) = read_webhook(&many, "price") else {
            panic!()
        };
        assert_eq!((a[0].row_id, a[1].row_id), (90, 80));
        assert_eq!(
            read_webhook(
                &json!({"action": "ANNOTATIONS_DELETED", "annotations": [{"id": 4}, {"id": 5}]}),
                "price"
            ),
            Ok(Webhook::Deleted(vec![4, 5]))
        );
        assert_eq!(
            read_webhook(&json!({"action": "START_TRAINING"}), "price"),
            Ok(Webhook::Train)
        );
        assert_eq!(
            read_webhook(&json!({"action": "PROJECT_UPDATED"}), "price"),
            Ok(Webhook::Other("PROJECT_UPDATED".into()))
        );
        for (bad, says) in [
            (json!({}), "field action"),
            (
                json!({"action": "ANNOTATION_CREATED", "task": {"id": 1, "data": {"row_id": 1}}}),
                "field annotation",
            ),
            (
                json!({"action": "ANNOTATION_CREATED", "annotation": {"result": []}, "task": {"data": {"row_id": 1}}}),
                "annotation[0].id",
            ),
            (
                json!({"action": "ANNOTATION_CREATED", "annotation": {"id": 1}, "task": {"id": 5, "data": {}}}),
                "task 5: no data.row_id",
            ),
            (
                json!({"action": "ANNOTATIONS_DELETED", "annotations": [{"id": "x"}]}),
                "annotations[0].id",
            ),
        ] {
            let e = read_webhook(&bad, "price").unwrap_err();
            assert!(e.contains(says), "{e}");
        }
    }
}
