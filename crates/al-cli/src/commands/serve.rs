//! `serve`: the labeling workbench in a browser (crate `al-serve`, over the
//! same `al` flows as the other commands).

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use al_serve::{Options, Server};

use crate::cli::{Global, ServeArgs};

pub fn run(global: &Global, args: ServeArgs) -> Result<()> {
    let token = args.token_file.as_deref().map(read_token).transpose()?;
    let options = Options {
        project: global.project.clone(),
        addr: std::net::SocketAddr::new(args.host, args.port),
        token,
        lease: Duration::from_secs_f64(args.lease * 60.0),
        settings: global.settings(),
    };
    let server = Server::bind(options)?;
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
