//! Label Studio's JSON export read as answers: each task names a project
//! row by `data.row_id` (as `al-cli export --label-studio` writes it), and
//! its latest annotation that was not cancelled carries the label as a
//! `number` result. What `label` does with a batch file's filled-in cells,
//! it does with these: every task checked before anything is written, and
//! errors name the file, the task (its place in the list and its id) and
//! what to fix.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::store::LabelEvent;
use crate::{DataError, Project, Result};

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
        .find(|r| r.get("from_name").and_then(Value::as_str) == Some(target))
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
fn row_id_of(task: &Value) -> Option<i64> {
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
    let pending: HashMap<i64, i64> = project
        .pending()?
        .into_iter()
        .map(|p| (p.row_id, p.round))
        .collect();
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
        if project.raw_row(row_id)?.is_none() && project.synthetic_row(row_id)?.is_none() {
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
            note: None,
        });
    }
    Ok(events)
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
}
