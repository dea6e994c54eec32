//! Running one plugin program: the request on stdin, the answer on stdout,
//! a time limit, and the checks every answer goes through.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use al_models::Matrix;

pub const PROTOCOL: &str = "al-plugin/1";

/// An external program: its name, command line and time limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginCommand {
    pub kind: &'static str,
    pub name: String,
    pub command: Vec<String>,
    pub timeout: Duration,
}

impl PluginCommand {
    /// An error message naming the plugin.
    pub fn fail(&self, what: impl std::fmt::Display) -> String {
        format!(
            "{} plugin {:?} ({}): {what}",
            self.kind,
            self.name,
            self.command.join(" ")
        )
    }

    /// Runs the program with `request` on stdin and returns its stdout;
    /// a plugin that cannot start, exits non-zero or outlives its time limit
    /// (it is killed) is an error.
    pub fn exchange(&self, request: &str) -> Result<String, String> {
        let (program, args) = self
            .command
            .split_first()
            .ok_or_else(|| self.fail("has an empty command"))?;
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.fail(format!("cannot be started: {e}")))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A plugin that exits without reading gives a broken pipe: its
            // exit status tells the real story below.
            let _ = stdin.write_all(request.as_bytes());
        }
        let mut stdout = child.stdout.take().ok_or_else(|| self.fail("no stdout"))?;
        let mut stderr = child.stderr.take().ok_or_else(|| self.fail("no stderr"))?;
        let out_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stdout.read_to_string(&mut s);
            s
        });
        let err_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(self.fail(format!(
                        "did not answer within {} s (--plugin-timeout); it was stopped",
                        self.timeout.as_secs_f64()
                    )));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => return Err(self.fail(e)),
            }
        };
        let out = out_reader.join().unwrap_or_default();
        let err = err_reader.join().unwrap_or_default();
        if !status.success() {
            let tail: String = err
                .trim()
                .chars()
                .rev()
                .take(300)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            return Err(self.fail(format!("exited with {status}; its stderr ends: {tail:?}")));
        }
        Ok(out)
    }

    /// Parses the answer as `T`, with a message that quotes the start of
    /// whatever else the plugin printed.
    pub fn parse<T: serde::de::DeserializeOwned>(&self, out: &str) -> Result<T, String> {
        serde_json::from_str(out.trim()).map_err(|e| {
            let head: String = out.chars().take(120).collect();
            self.fail(format!(
                "printed something that is not the expected JSON ({e}): {head:?}"
            ))
        })
    }
}

/// Writes a matrix as CSV with header `f0..f{p-1}` (and `y` when given).
pub fn write_matrix(path: &Path, x: &Matrix, y: Option<&[f64]>) -> std::io::Result<()> {
    let mut out = String::new();
    let mut header: Vec<String> = (0..x.cols()).map(|j| format!("f{j}")).collect();
    if y.is_some() {
        header.push("y".into());
    }
    out.push_str(&header.join(","));
    out.push('\n');
    for (i, row) in x.iter_rows().enumerate() {
        let mut cells: Vec<String> = row.iter().map(|v| v.to_string()).collect();
        if let Some(y) = y {
            cells.push(y[i].to_string());
        }
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    std::fs::write(path, out)
}

/// Checks that a plugin answered exactly `n` finite numbers.
pub fn check_numbers(
    plugin: &PluginCommand,
    what: &str,
    values: &[Option<f64>],
    n: usize,
) -> Result<Vec<f64>, String> {
    if values.len() != n {
        return Err(plugin.fail(format!(
            "answered {} {what}; {n} were asked for",
            values.len()
        )));
    }
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.filter(|v| v.is_finite())
                .ok_or_else(|| plugin.fail(format!("{what} {i} is not a finite number")))
        })
        .collect()
}
