//! `al-cli serve` in a real browser: headless Chromium driven over the W3C
//! WebDriver protocol (Debian's `chromium` and `chromium-driver`), through
//! the label page with the keyboard, then the project page's plot.
//! Screenshots land in `target/tmp/screenshots/` (docs/serve.md shows them).
//!
//! Without chromedriver the test says so and passes, unless
//! `AL_REQUIRE_BROWSER` is set: `.ci/run` installs the browser and sets it.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{al, al_process, stdout_of};

use base64::Engine;
use serde_json::{json, Value};

/// The key WebDriver types for Enter, and for Escape.
const ENTER: &str = "\u{E007}";
const ESCAPE: &str = "\u{E00C}";
/// Control held down, and every held key let go.
const CONTROL: &str = "\u{E009}";
const RELEASE: &str = "\u{E000}";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One WebDriver session.
struct Session {
    driver: String,
    id: String,
    agent: ureq::Agent,
}

impl Session {
    fn start(driver: &str, chromium: &Path, profile: &Path) -> Session {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(60))
            .build();
        let deadline = Instant::now() + Duration::from_secs(30);
        while agent.get(&format!("{driver}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_str().unwrap(),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1280,1000", "--hide-scrollbars",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        }}});
        let reply: Value = agent
            .post(&format!("{driver}/session"))
            .send_json(capabilities)
            .unwrap_or_else(|e| panic!("no browser session: {}", describe(e)))
            .into_json()
            .unwrap();
        Session {
            driver: driver.to_string(),
            id: reply["value"]["sessionId"].as_str().unwrap().to_string(),
            agent,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.driver, self.id);
        let request = self.agent.request(method, &url);
        let reply = match body {
            Some(b) => request.send_json(b),
            None => request.call(),
        };
        let reply = reply.unwrap_or_else(|e| panic!("{method} {path}: {}", describe(e)));
        reply.into_json::<Value>().unwrap()["value"].clone()
    }

    fn open(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    fn element(&self, css: &str) -> Option<String> {
        let url = format!("{}/session/{}/element", self.driver, self.id);
        let reply = self
            .agent
            .post(&url)
            .send_json(json!({"using": "css selector", "value": css}))
            .ok()?;
        let value: Value = reply.into_json().ok()?;
        value["value"][ELEMENT].as_str().map(str::to_string)
    }

    fn wait_for(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(e) = self.element(css) {
                return e;
            }
            assert!(Instant::now() < deadline, "no {css} on the page");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn type_into(&self, element: &str, text: &str) {
        self.call(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        );
    }

    fn script(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// The row on the label page, once the page shows one.
    fn row_on_page(&self) -> Option<i64> {
        self.script("const r = document.getElementById('row'); return r ? r.dataset.row : null;")
            .as_str()
            .map(|s| s.parse().unwrap())
    }

    fn screenshot(&self, path: &Path) {
        let data = self.call("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap())
            .unwrap();
        assert_eq!(&png[1..4], b"PNG");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self
            .agent
            .delete(&format!("{}/session/{}", self.driver, self.id))
            .call();
    }
}

fn describe(e: ureq::Error) -> String {
    match e {
        ureq::Error::Status(code, r) => format!("{code}: {}", r.into_string().unwrap_or_default()),
        other => other.to_string(),
    }
}

/// A project from price_2k.csv with 100 labels and three rounds of 5 rows
/// answered with their true prices (so the project page has a curve).
fn three_answered_rounds(dir: &Path, project: &Path) {
    let csv = dir.join("appraisals.csv");
    let truth = common::partly_labeled(&csv, 100);
    stdout_of(al(project).args(["init", csv.to_str().unwrap(), "--target", "price", "-q"]));
    stdout_of(al(project).args(["evaluate", "-q"]));
    for _ in 0..3 {
        let out = stdout_of(
            al(project)
                .args(["--json", "query", "--batch", "5", "--out", "-"])
                .current_dir(dir),
        );
        let batch = out.lines().skip_while(|l| !l.starts_with("row_id")).skip(1);
        let rows: Vec<i64> = batch
            .map(|l| l.split(',').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(rows.len(), 5, "{out}");
        for (k, row) in rows.iter().enumerate() {
            let mut cmd = al(project);
            cmd.args([
                "label",
                "--row",
                &row.to_string(),
                "--value",
                &truth[row],
                "--annotator",
                "Lee",
                "-q",
            ]);
            if k + 1 < rows.len() {
                cmd.arg("--no-eval");
            }
            stdout_of(&mut cmd);
        }
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn an_annotator_labels_with_the_keyboard_in_chromium() {
    let (Some(driver), Some(chromium)) = (
        find_program(&["chromedriver"]),
        find_program(&["chromium", "chromium-browser", "google-chrome"]),
    ) else {
        assert!(
            std::env::var_os("AL_REQUIRE_BROWSER").is_none(),
            "AL_REQUIRE_BROWSER is set but chromium or chromedriver is not on PATH (apt-get install chromium chromium-driver)"
        );
        eprintln!(
            "skipped: no chromium/chromedriver on PATH (apt-get install chromium chromium-driver)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("appraisals.db");
    three_answered_rounds(dir.path(), &project);
    stdout_of(
        al(&project)
            .args(["query", "--batch", "4", "-q"])
            .current_dir(dir.path()),
    );

    let mut server = al_process(&project)
        .args(["serve", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let server = Running(server);
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .trim_end_matches('/')
        .to_string();

    let port = free_port();
    let driver_process = Running(
        Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let profile = dir.path().join("chromium-profile");
    let browser = Session::start(&format!("http://127.0.0.1:{port}"), &chromium, &profile);
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");

    // The name, asked once.
    browser.open(&format!("{base}/label"));
    let name = browser.wait_for("#name");
    browser.type_into(&name, &format!("Dana{ENTER}"));
    browser.wait_for("#value");
    let first_row = browser.row_on_page().expect("a row to label");
    browser.screenshot(&shots.join("label.png"));

    // Type a value, press Enter: saved, and the next row appears.
    let value = browser.wait_for("#value");
    browser.type_into(&value, &format!("1234.5{ENTER}"));
    wait_until("the next row", || {
        browser.row_on_page().is_some_and(|r| r != first_row)
    });
    let flash = browser.script("return document.querySelector('.flash').textContent;");
    assert_eq!(flash, format!("Saved the answer for row {first_row}."));
    let history = stdout_of(al(&project).args(["--json", "history", &first_row.to_string()]));
    let history: Value = serde_json::from_str(&history).unwrap();
    assert_eq!(history["labels"][0]["value"], 1234.5);
    assert_eq!(history["labels"][0]["annotator"], "Dana");

    // Esc skips (the page's script): another row.
    let second_row = browser.row_on_page().unwrap();
    let value = browser.wait_for("#value");
    browser.type_into(&value, ESCAPE);
    wait_until("a row after the skip", || {
        browser.row_on_page().is_some_and(|r| r != second_row)
    });

    // Answer it, then Ctrl+Z in the empty field takes the answer back.
    let third_row = browser.row_on_page().unwrap();
    let value = browser.wait_for("#value");
    browser.type_into(&value, &format!("77{ENTER}"));
    wait_until("the row after the third answer", || {
        browser.row_on_page().is_some_and(|r| r != third_row)
    });
    let value = browser.wait_for("#value");
    browser.type_into(&value, &format!("{CONTROL}z{RELEASE}"));
    wait_until("the undo's message", || {
        browser
            .script("const f = document.querySelector('.flash'); return f ? f.textContent : '';")
            .as_str()
            .is_some_and(|t| t.starts_with("Took back"))
    });
    let flash = browser.script("return document.querySelector('.flash').textContent;");
    assert_eq!(
        flash,
        format!("Took back your answer for row {third_row}; it is pending again.")
    );
    let history = stdout_of(al(&project).args(["--json", "history", &third_row.to_string()]));
    assert!(history.contains("\"labels\": []"), "{history}");

    // The project page: counts, and the learning curve drawn.
    browser.open(&format!("{base}/"));
    browser.wait_for("#plot");
    wait_until("the plot to load", || {
        browser
            .script("const p = document.getElementById('plot'); return p.complete ? p.naturalWidth : 0;")
            .as_u64()
            .is_some_and(|w| w > 0)
    });
    let annotators = browser.script("return document.getElementById('annotators').textContent;");
    assert!(
        annotators.as_str().unwrap().contains("Dana"),
        "{annotators}"
    );
    browser.screenshot(&shots.join("project.png"));
    drop(browser);
    drop(driver_process);
    drop(server);
}
