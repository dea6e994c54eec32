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
