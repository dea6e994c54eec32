//! Shared printing helpers: tables for people, JSON for scripts.

use comfy_table::{presets, ContentArrangement, Table};

/// A table that looks right in a terminal and in a pipe.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    t
}

pub fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// Where notices go: stderr, unless --quiet.
pub fn notice(quiet: bool, text: &str) {
    if !quiet {
        eprintln!("note: {text}");
    }
}

/// Prints rows as a terminal table, markdown, CSV or JSON (array of objects
/// keyed by the header).
pub fn print_rows(header: &[&str], rows: &[Vec<String>], format: crate::cli::Format) {
    use crate::cli::Format;
    match format {
        Format::Table => {
            let mut t = table(header);
            for r in rows {
                t.add_row(r.clone());
            }
            println!("{t}");
        }
        Format::Markdown => {
            println!("| {} |", header.join(" | "));
            println!("|{}", "---|".repeat(header.len()));
            for r in rows {
                println!("| {} |", r.join(" | "));
            }
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            let _ = w.write_record(header);
            for r in rows {
                let _ = w.write_record(r);
            }
            let _ = w.flush();
        }
        Format::Json => {
            let objects: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    serde_json::Value::Object(
                        header
                            .iter()
                            .zip(r)
                            .map(|(h, v)| (h.to_string(), serde_json::Value::String(v.clone())))
                            .collect(),
                    )
                })
                .collect();
            print_json(&serde_json::Value::Array(objects));
        }
    }
}

/// A spinner on stderr for work without countable steps; only on a terminal.
pub fn spinner(global: &crate::cli::Global, message: &str) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if global.quiet || global.json || !std::io::stderr().is_terminal() {
        return None;
    }
    let s = indicatif::ProgressBar::new_spinner();
    s.set_message(message.to_string());
    s.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(s)
}
