//! The one terminal prompt for a label, used by `label --interactive` and
//! `stream --interactive`: the row's cells, the model's guess, and a
//! question repeated until the answer is a number within the project's
//! bounds, a skip or a stop.

use std::io::{BufRead, Write};

use al_data::store::Bounds;
use al_models::metrics::display;
use anyhow::Result;

/// What the annotator answered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Answer {
    Value(f64),
    Skip,
    /// `q`, or the end of the input.
    Stop,
}

/// One row put to the annotator.
pub struct Question<'a> {
    pub row_id: i64,
    /// Said after the row id, e.g. "round 3" or "utility 0.1234".
    pub context: String,
    pub headers: &'a [String],
    pub raw: &'a [String],
    pub target: &'a str,
    pub prediction: Option<f64>,
    pub bounds: Bounds,
}

/// Prints the row and asks until the answer is acceptable.
pub fn ask(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    q: &Question,
) -> Result<Answer> {
    println!("\nrow {} ({}):", q.row_id, q.context);
    for (h, v) in q.headers.iter().zip(q.raw) {
        if h != q.target {
            println!("  {h:>16}: {v}");
        }
    }
    if let Some(p) = q.prediction.filter(|p| p.is_finite()) {
        println!("  model's guess for {}: {}", q.target, display(p));
    }
    loop {
        print!(
            "{} for row {} (number, s = skip, q = stop): ",
            q.target, q.row_id
        );
        std::io::stdout().flush()?;
        let Some(line) = lines.next() else {
            return Ok(Answer::Stop);
        };
        match line?.trim() {
            "q" => return Ok(Answer::Stop),
            "s" | "" => return Ok(Answer::Skip),
            text => match text
                .parse::<f64>()
                .map_err(|_| "not a number".to_string())
                .and_then(|v| q.bounds.check(v).map(|()| v))
            {
                Ok(value) => return Ok(Answer::Value(value)),
                Err(why) => println!("  {text:?}: {why}; try again"),
            },
        }
    }
}

/// Standard input as lines, for [`ask`].
pub fn stdin_lines() -> impl Iterator<Item = std::io::Result<String>> {
    std::io::stdin().lock().lines()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_bounds_and_non_numbers_are_asked_again() {
        let bounds = Bounds {
            min: Some(0.0),
            max: Some(10.0),
        };
        let q = Question {
            row_id: 7,
            context: "round 1".into(),
            headers: &[],
            raw: &[],
            target: "y",
            prediction: None,
            bounds,
        };
        let mut lines = ["abc", "11", "-1", "inf", "4.5"]
            .map(|s| Ok(s.to_string()))
            .into_iter();
        assert_eq!(ask(&mut lines, &q).unwrap(), Answer::Value(4.5));
        let mut lines = ["12", "s"].map(|s| Ok(s.to_string())).into_iter();
        assert_eq!(ask(&mut lines, &q).unwrap(), Answer::Skip);
        let mut lines = ["12"].map(|s| Ok(s.to_string())).into_iter();
        assert_eq!(ask(&mut lines, &q).unwrap(), Answer::Stop);
    }
}
