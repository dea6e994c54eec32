//! `serve`: the labeling workbench in a browser (crate `al-serve`); this
//! module lends it the commands' ways to resolve models, query, evaluate,
//! plot and export.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use al_data::{Project, Report};
use al_models::ModelSpec;
use al_query::{default_strategy_name, DEFAULT_STRATEGY};
use al_serve::{Host, Options, Queried, Server};

use crate::cli::{Global, ServeArgs};

pub fn run(global: &Global, args: ServeArgs) -> Result<()> {
    let token = args.token_file.as_deref().map(read_token).transpose()?;
    let options = Options {
        project: global.project.clone(),
        addr: std::net::SocketAddr::new(args.host, args.port),
        token,
        lease: Duration::from_secs_f64(args.lease * 60.0),
    };
    let host = Arc::new(CliHost {
        global: global.clone(),
    });
    let server = Server::bind(options, host)?;
    let url = server.url();
    if global.json {
        crate::output::print_json(&serde_json::json!({
            "url": url,
            "label": label_url(&url),
            "address": server.local_addr().to_string(),
        }));
    } else {
        println!("al workbench for {} at {url}", global.project.display());
        println!("annotators: {}", label_url(&url));
        if args.host.is_unspecified() {
            println!("(replace HOST with this machine's name or address on your network)");
        }
        println!("stop with Ctrl-C");
    }
    // Scripts wait for the address before they connect.
    let _ = std::io::stdout().flush();
    server.run(al_serve::interrupted())?;
    if !global.quiet && !global.json {
        eprintln!(
            "stopped; every answer given is in {}",
            global.project.display()
        );
    }
    Ok(())
}

/// The label page's address (the token kept).
fn label_url(url: &str) -> String {
    match url.split_once("/?") {
        Some((base, query)) => format!("{base}/label?{query}"),
        None => format!("{url}label"),
    }
}

/// The token in `path`: its first line, at least 16 characters of
/// letters, digits, `-` and `_` (it travels in URLs and cookies).
fn read_token(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the token file {}", path.display()))?;
    let token = text.lines().next().unwrap_or("").trim().to_string();
    if token.len() < 16 {
        bail!(
            "{}: the token must be at least 16 characters (its first line has {}); `openssl rand -hex 32` makes a good one",
            path.display(),
            token.len()
        );
    }
    if let Some(c) = token
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        bail!(
            "{}: the token may hold letters, digits, '-' and '_' only, not {c:?}",
            path.display()
        );
    }
    Ok(token)
}

/// What the server borrows from the commands.
struct CliHost {
    global: Global,
}

impl Host for CliHost {
    fn strategies(&self) -> Vec<String> {
        let mut names = vec![DEFAULT_STRATEGY.to_string()];
        if let Ok(registry) = crate::plugins::registry(&self.global, None) {
            for (info, _) in registry.entries() {
                if info.name != default_strategy_name() {
                    names.push(info.name.to_string());
                }
            }
        }
        names
    }

    fn model(&self, project: &Project) -> Result<ModelSpec> {
        crate::plugins::model_spec(&self.global, project, None)
    }

    /// Runs `al-cli query` itself in a child process: the same code, and
    /// the pool it reads (half a gigabyte at a million rows) is freed with
    /// the child instead of staying in the long-running server.
    fn query(&self, path: &Path, strategy: &str, batch: usize) -> Result<Queried> {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("batch.csv");
        let output = std::process::Command::new(std::env::current_exe()?)
            .arg("-p")
            .arg(path)
            .arg("--json")
            .arg("--plugin-timeout")
            .arg(self.global.plugin_timeout.to_string())
            .args(["query", "--strategy", strategy, "--batch"])
            .arg(batch.to_string())
            .arg("--out")
            .arg(&out)
            .stdin(std::process::Stdio::null())
            .output()
            .context("cannot start al-cli query")?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            bail!("{}", stderr.trim().trim_start_matches("error: "));
        }
        let answer: serde_json::Value = serde_json::from_slice(&output.stdout)
            .context("al-cli query --json printed no JSON")?;
        Ok(Queried {
            round: answer["round"]
                .as_i64()
                .context("no round in query's JSON")?,
            rows: answer["rows"].as_array().map_or(0, Vec::len),
            strategy: answer["strategy"].as_str().unwrap_or(strategy).to_string(),
        })
    }

    fn evaluate(&self, path: &Path) -> Result<()> {
        let mut project = Project::open(path)?;
        if super::evaluate::measurable(&project)? {
            let spec = self.model(&project)?;
            super::evaluate::evaluate(&mut project, &spec, 0)?;
        }
        Ok(())
    }

    fn learning_curve(&self, reports: &[Report]) -> Result<String> {
        crate::plot::learning_curves_svg(
            super::report::CURVE_TITLE,
            &super::report::report_series(reports),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_address_keeps_the_token() {
        assert_eq!(
            label_url("http://127.0.0.1:8765/"),
            "http://127.0.0.1:8765/label"
        );
        assert_eq!(
            label_url("http://HOST:80/?token=abc"),
            "http://HOST:80/label?token=abc"
        );
    }

    #[test]
    fn token_files_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t");
        std::fs::write(&file, "short\n").unwrap();
        assert!(read_token(&file)
            .unwrap_err()
            .to_string()
            .contains("at least 16"));
        std::fs::write(&file, "abcdefghijklmnop qr\n").unwrap();
        assert!(read_token(&file).unwrap_err().to_string().contains("' '"));
        std::fs::write(&file, "abcdefghijklmnop_-09\nignored").unwrap();
        assert_eq!(read_token(&file).unwrap(), "abcdefghijklmnop_-09");
    }
}
