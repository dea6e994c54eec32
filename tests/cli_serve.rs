//! `al-cli serve` over real HTTP: a server process on an ephemeral port,
//! driven the way a browser drives it (cookies, forms, redirects), and the
//! project checked afterwards with the other commands and SQLite.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{al, al_process, fixture, stdout_of};

/// A project from `csv` (target `price`) with one queried batch of `batch`.
fn project_with_batch(dir: &Path, csv: &Path, batch: usize, init_args: &[&str]) -> PathBuf {
    let project = dir.join("p.db");
    stdout_of(
        al(&project)
            .args(["init", csv.to_str().unwrap(), "--target", "price", "-q"])
            .args(init_args),
    );
    stdout_of(
        al(&project)
            .args([
                "query",
                "--batch",
                &batch.to_string(),
                "--strategy",
                "random",
                "-q",
            ])
            .current_dir(dir),
    );
    project
}

/// price_partial.csv (100 labels, 300 to go) with a batch of `batch`.
fn partial_with_batch(dir: &Path, batch: usize) -> PathBuf {
    project_with_batch(
        dir,
        &PathBuf::from(fixture("price_partial.csv")),
        batch,
        &[],
    )
}

/// A running `al-cli serve`, stopped (SIGINT) when dropped.
struct Workbench {
    child: Child,
    url: String,
    /// Where the server's standard error goes (read after it stops).
    log: PathBuf,
    /// Held open: a server whose standard output is closed ends itself
    /// (exit 141, as every al-cli command does on a closed pipe).
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Workbench {
    fn start(project: &Path, extra: &[&str]) -> Workbench {
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let log = project.with_extension(format!("serve{n}.log"));
        let mut child = al_process(project)
            .args(["serve", "--port", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_string();
        Workbench {
            child,
            url,
            log,
            _stdout: stdout,
        }
    }

    /// The server's root, without a token.
    fn base(&self) -> String {
        let end = self.url.find("/?").map_or(self.url.len() - 1, |i| i);
        self.url[..end].to_string()
    }

    /// Sends SIGINT and waits: the exit status and what it printed on stderr.
    fn interrupt(&mut self) -> (std::process::ExitStatus, String) {
        Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, std::fs::read_to_string(&self.log).unwrap());
            }
            assert!(Instant::now() < deadline, "serve did not stop on SIGINT");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Workbench {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "serve's stderr:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

/// One HTTP answer.
#[derive(Debug)]
struct Reply {
    status: u16,
    body: String,
    location: Option<String>,
    set_cookies: Vec<String>,
}

/// A browser of one person: their cookies and the CSRF secret they got.
struct Browser {
    agent: ureq::Agent,
    base: String,
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn new(base: &str) -> Browser {
        Browser {
            agent: ureq::AgentBuilder::new()
                .redirects(0)
                .timeout(Duration::from_secs(60))
                .build(),
            base: base.to_string(),
            cookies: Vec::new(),
        }
    }

    /// A browser with a name and a CSRF secret, as after the name form.
    fn annotator(base: &str, name: &str) -> Browser {
        let mut b = Browser::new(base);
        b.set_cookie("al_csrf", &"c".repeat(64));
        b.set_cookie("al_annotator", name);
        b
    }

    fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.retain(|(n, _)| n != name);
        self.cookies.push((name.into(), value.into()));
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn csrf(&self) -> String {
        self.cookies
            .iter()
            .find(|(n, _)| n == "al_csrf")
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn finish(&mut self, result: Result<ureq::Response, ureq::Error>) -> Reply {
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("request failed: {e}"),
        };
        let status = response.status();
        let location = response.header("location").map(str::to_string);
        let set_cookies: Vec<String> = response
            .all("set-cookie")
            .into_iter()
            .map(str::to_string)
            .collect();
        for c in &set_cookies {
            let pair = c.split(';').next().unwrap();
            let (n, v) = pair.split_once('=').unwrap();
            self.set_cookie(n, v);
        }
        let body = response.into_string().unwrap_or_default();
        Reply {
            status,
            body,
            location,
            set_cookies,
        }
    }

    fn get(&mut self, path: &str) -> Reply {
        let request = self
            .agent
            .get(&format!("{}{path}", self.base))
            .set("Cookie", &self.cookie_header());
        self.finish(request.call())
    }

    fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Reply {
        let request = self
            .agent
            .post(&format!("{}{path}", self.base))
            .set("Cookie", &self.cookie_header());
        self.finish(request.send_form(form))
    }

    /// Posts with the browser's own CSRF secret added.
    fn submit(&mut self, path: &str, form: &[(&str, &str)]) -> Reply {
        let csrf = self.csrf();
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend_from_slice(form);
        self.post(path, &fields)
    }

    /// The row the label page offers, if any.
    fn offered_row(&mut self) -> Option<i64> {
        let page = self.get("/label");
        assert_eq!(page.status, 200, "{}", page.body);
        let at = page.body.find("data-row=\"")? + "data-row=\"".len();
        let end = page.body[at..].find('"').unwrap();
        Some(page.body[at..at + end].parse().unwrap())
    }

    fn answer(&mut self, row: i64, value: &str) -> Reply {
        self.submit("/answer", &[("row_id", &row.to_string()), ("value", value)])
    }
}

fn labels_in(project: &Path) -> Vec<(i64, f64, Option<String>)> {
    let conn = rusqlite::Connection::open(project).unwrap();
    let mut stmt = conn
        .prepare("SELECT row_id, value, annotator FROM labels WHERE source = 'annotator' ORDER BY event_id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Queried rows without a label.
fn pending_in(project: &Path) -> i64 {
    let conn = rusqlite::Connection::open(project).unwrap();
    conn.query_row(
        "SELECT count(DISTINCT q.row_id) FROM queries q JOIN rows r USING (row_id) WHERE r.label IS NULL",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn an_answer_through_the_page_is_in_history_and_the_finished_batch_in_report() {
    let dir = tempfile::tempdir().unwrap();
    let project = partial_with_batch(dir.path(), 2);
    let server = Workbench::start(&project, &[]);
    let mut browser = Browser::new(&server.base());
    // First visit: the name form, and a CSRF cookie.
    let first = browser.get("/label");
    assert!(first.body.contains("Who is labeling?"));
    assert!(first
        .set_cookies
        .iter()
        .any(|c| c.starts_with("al_csrf=") && c.contains("HttpOnly")));
    let unnamed = browser.submit("/annotator", &[("name", "  ")]);
    assert_eq!(unnamed.status, 422);
    assert!(unnamed.body.contains("give your name"));
    let named = browser.submit("/annotator", &[("name", "Ana")]);
    assert_eq!(
        (named.status, named.location.as_deref()),
        (303, Some("/label"))
    );
    let row = browser.offered_row().expect("a pending row");
    let saved = browser.answer(row, "123.5");
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(saved.location, Some(format!("/label?saved={row}")));
    let history = stdout_of(al(&project).args(["--json", "history", &row.to_string()]));
    let history: serde_json::Value = serde_json::from_str(&history).unwrap();
    let event = &history["labels"][0];
    assert_eq!(event["value"], 123.5);
    assert_eq!(event["annotator"], "Ana");
    assert_eq!(event["round"], 1);
    // Answering the last pending row evaluates in the background.
    let last = browser.offered_row().expect("the second row");
    assert_ne!(last, row);
    assert_eq!(browser.answer(last, "99").status, 303);
    assert!(browser.get("/label").body.contains("Nothing to label"));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let report = stdout_of(al(&project).args(["--json", "report"]));
        let report: serde_json::Value = serde_json::from_str(&report).unwrap();
        if let Some(r) = report["reports"].as_array().and_then(|r| r.last()) {
            assert_eq!(r["round"], 1);
            assert!(r["mae"].as_f64().unwrap() > 0.0);
            break;
        }
        assert!(Instant::now() < deadline, "no report after the batch");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn eight_annotators_answer_400_rows_none_lost_none_doubled() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("partly.csv");
    common::partly_labeled(&csv, 100);
    let project = project_with_batch(dir.path(), &csv, 400, &[]);
    let server = Workbench::start(&project, &[]);
    let base = server.base();
    let threads: Vec<_> = (0..8)
        .map(|k| {
            let base = base.clone();
            std::thread::spawn(move || {
                let mut browser = Browser::annotator(&base, &format!("annotator{k}"));
                let mut answered = Vec::new();
                while answered.len() < 50 {
                    let Some(row) = browser.offered_row() else {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    };
                    let reply = browser.answer(row, &format!("{}", row * 10));
                    assert_eq!(reply.status, 303, "{}", reply.body);
                    assert_eq!(reply.location, Some(format!("/label?saved={row}")));
                    answered.push(row);
                }
                answered
            })
        })
        .collect();
    let mut all: Vec<i64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(all.len(), 400);
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 400, "a row was given to two annotators");
    let labels = labels_in(&project);
    assert_eq!(labels.len(), 400, "label events: none lost, none doubled");
    for (row, value, annotator) in &labels {
        assert_eq!(*value, (*row * 10) as f64);
        assert!(annotator.as_deref().unwrap().starts_with("annotator"));
    }
    for k in 0..8 {
        let name = format!("annotator{k}");
        let n = labels
            .iter()
            .filter(|l| l.2.as_deref() == Some(&name))
            .count();
        assert_eq!(n, 50, "{name}");
    }
    assert_eq!(pending_in(&project), 0);
}

#[test]
fn bad_answers_get_a_clear_4xx_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let project = project_with_batch(
        dir.path(),
        &PathBuf::from(fixture("price_partial.csv")),
        3,
        &["--min", "0", "--max", "5000"],
    );
    let server = Workbench::start(&project, &[]);
    let mut ann = Browser::annotator(&server.base(), "ann");
    let row = ann.offered_row().unwrap();
    let export_before = stdout_of(al(&project).args(["export", "--out", "-"]));
    let cases: Vec<(&str, Reply, u16, &str)> = vec![
        (
            "non-numeric",
            ann.answer(row, "abc"),
            422,
            "is not a number",
        ),
        ("empty", ann.answer(row, ""), 422, "is not a number"),
        (
            "not finite",
            ann.answer(row, "inf"),
            422,
            "not a finite number",
        ),
        (
            "below the bounds",
            ann.answer(row, "-1"),
            422,
            "outside the project's bounds",
        ),
        (
            "above the bounds",
            ann.answer(row, "5000.5"),
            422,
            "outside the project's bounds",
        ),
        (
            "unknown row",
            ann.answer(987_654, "10"),
            404,
            "not in this project",
        ),
        (
            "row id not a number",
            ann.submit("/answer", &[("row_id", "x"), ("value", "1")]),
            400,
            "is not a row id",
        ),
        (
            "no CSRF field",
            ann.post("/answer", &[("row_id", &row.to_string()), ("value", "10")]),
            403,
            "CSRF",
        ),
        (
            "wrong CSRF field",
            ann.post(
                "/answer",
                &[
                    ("csrf", &"d".repeat(64)),
                    ("row_id", &row.to_string()),
                    ("value", "10"),
                ],
            ),
            403,
            "CSRF",
        ),
    ];
    for (what, reply, status, text) in cases {
        assert_eq!(reply.status, status, "{what}: {}", reply.body);
        assert!(reply.body.contains(text), "{what}: {}", reply.body);
    }
    // A row that no round asked for.
    let conn = rusqlite::Connection::open(&project).unwrap();
    let unqueried: i64 = conn
        .query_row(
            "SELECT row_id FROM rows WHERE label IS NULL AND row_id NOT IN (SELECT row_id FROM queries) LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let reply = ann.answer(unqueried, "10");
    assert_eq!(reply.status, 404, "{}", reply.body);
    assert!(reply.body.contains("no query round asked for it"));
    // Without a name, and with a body over the limit.
    let mut anonymous = Browser::new(&server.base());
    anonymous.set_cookie("al_csrf", &"c".repeat(64));
    let reply = anonymous.submit("/answer", &[("row_id", &row.to_string()), ("value", "10")]);
    assert_eq!(reply.status, 403, "{}", reply.body);
    let huge = "9".repeat(20_000);
    let reply = ann.answer(row, &huge);
    assert_eq!(reply.status, 413, "{}", reply.body);
    assert!(labels_in(&project).is_empty());
    assert_eq!(
        stdout_of(al(&project).args(["export", "--out", "-"])),
        export_before
    );
    // Answered, then answered again: the same value changes nothing, another is refused.
    assert_eq!(ann.answer(row, "10").status, 303);
    let mut bob = Browser::annotator(&server.base(), "bob");
    let same = bob.answer(row, "10");
    assert_eq!(same.location, Some(format!("/label?unchanged={row}")));
    let other = bob.answer(row, "11");
    assert_eq!(other.status, 409, "{}", other.body);
    assert!(
        other.body.contains("was answered 10 by ann"),
        "{}",
        other.body
    );
    assert_eq!(
        labels_in(&project),
        vec![(row, 10.0, Some("ann".to_string()))]
    );
}

#[test]
fn skip_offers_another_row_and_undo_takes_the_last_answer_back() {
    let dir = tempfile::tempdir().unwrap();
    let project = partial_with_batch(dir.path(), 3);
    let server = Workbench::start(&project, &[]);
    let mut ann = Browser::annotator(&server.base(), "ann");
    let first = ann.offered_row().unwrap();
    assert_eq!(
        ann.offered_row(),
        Some(first),
        "a reload shows the same row"
    );
    let skipped = ann.submit("/skip", &[("row_id", &first.to_string())]);
    assert_eq!(skipped.status, 303);
    let second = ann.offered_row().unwrap();
    assert_ne!(second, first);
    // Another annotator gets the skipped row, not the one ann holds.
    let mut bob = Browser::annotator(&server.base(), "bob");
    assert_eq!(bob.offered_row(), Some(first));
    assert_eq!(ann.answer(second, "42").status, 303);
    let undone = ann.submit("/undo", &[]);
    assert_eq!(undone.location, Some(format!("/label?undone={second}")));
    assert!(labels_in(&project).is_empty());
    let history = stdout_of(al(&project).args(["--json", "history", &second.to_string()]));
    assert!(history.contains("\"labels\": []"), "{history}");
    // Nothing left to undo.
    let again = ann.submit("/undo", &[]);
    assert_eq!(again.status, 409);
    assert!(again.body.contains("no answer to take back"));
}

#[test]
fn a_shared_server_refuses_requests_without_its_token() {
    let dir = tempfile::tempdir().unwrap();
    let project = partial_with_batch(dir.path(), 2);
    let server = Workbench::start(&project, &["--host", "0.0.0.0"]);
    let token = server
        .url
        .split("?token=")
        .nth(1)
        .expect("a token in the URL")
        .to_string();
    assert_eq!(token.len(), 64);
    let port = server
        .url
        .rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let base = format!("http://127.0.0.1:{port}");
    for path in [
        "/",
        "/label",
        "/plot.svg",
        "/download/export.csv",
        "/assets/app.js",
    ] {
        let reply = Browser::new(&base).get(path);
        assert_eq!(reply.status, 401, "{path}");
        assert!(reply.body.contains("Access token needed"));
    }
    let mut wrong = Browser::new(&base);
    assert_eq!(
        wrong
            .get(&format!("/label?token={}", "0".repeat(64)))
            .status,
        401
    );
    wrong.set_cookie("al_token", &"0".repeat(64));
    assert_eq!(wrong.get("/").status, 401);
    let reply =
        Browser::annotator(&base, "ann").post("/answer", &[("row_id", "1"), ("value", "1")]);
    assert_eq!(reply.status, 401);
    // The shared address: the token goes into a cookie and out of the URL.
    let mut ann = Browser::new(&base);
    let opened = ann.get(&format!("/label?token={token}"));
    assert_eq!(
        (opened.status, opened.location.as_deref()),
        (303, Some("/label"))
    );
    assert!(opened
        .set_cookies
        .iter()
        .any(|c| c.starts_with("al_token=") && c.contains("HttpOnly")));
    assert_eq!(ann.get("/").status, 200);
    let bearer = ureq::get(&format!("{base}/"))
        .set("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(bearer.status(), 200);
    assert!(labels_in(&project).is_empty());
}

#[test]
fn a_token_file_is_used_and_a_bad_one_refused_before_serving() {
    let dir = tempfile::tempdir().unwrap();
    let project = partial_with_batch(dir.path(), 2);
    let file = dir.path().join("token");
    std::fs::write(&file, "short\n").unwrap();
    let out = al(&project)
        .args([
            "serve",
            "--port",
            "0",
            "--token-file",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 16 characters"));
    std::fs::write(&file, "0123456789abcdef-team\n").unwrap();
    let server = Workbench::start(&project, &["--token-file", file.to_str().unwrap()]);
    assert!(
        server.url.ends_with("?token=0123456789abcdef-team"),
        "{}",
        server.url
    );
    assert_eq!(Browser::new(&server.base()).get("/").status, 401);
}

#[test]
fn a_page_asked_for_under_another_host_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let project = partial_with_batch(dir.path(), 2);
    let server = Workbench::start(&project, &[]);
    let reply = ureq::get(&format!("{}/", server.base()))
        .set("Host", "rebound.example:8765")
        .call();
    let Err(ureq::Error::Status(403, _)) = reply else {
        panic!("expected 403, got {reply:?}");
    };
}

#[test]
fn script_in_cells_and_column_names_shows_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("xss.csv");
    let mut text = String::from("note,\"<img src=x onerror=alert(1)>\",price\n");
    for i in 0..30 {
        let price = if i < 10 {
            format!("{}", 10 + i)
        } else {
            String::new()
        };
        text.push_str(&format!("\"<script>alert({i})</script>\",{i},{price}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let project = project_with_batch(dir.path(), &csv, 3, &[]);
    let server = Workbench::start(&project, &[]);
    let mut ann = Browser::annotator(&server.base(), "<b>ann</b>");
    let page = ann.get("/label");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("&lt;script&gt;alert("), "{}", page.body);
    assert!(page.body.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!page.body.contains("<script>alert"));
    assert!(!page.body.contains("<img src=x"));
    assert!(!page.body.contains("<b>ann</b>"));
    let row = ann.offered_row().unwrap();
    assert_eq!(ann.answer(row, "12").status, 303);
    let project_page = ann.get("/");
    assert!(
        project_page.body.contains("&lt;b&gt;ann&lt;/b&gt;"),
        "{}",
        project_page.body
    );
    assert!(!project_page.body.contains("<b>ann</b>"));
}

#[test]
fn the_project_page_queries_and_offers_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let project = partial_with_batch(dir.path(), 2);
    let server = Workbench::start(&project, &[]);
    let mut ann = Browser::annotator(&server.base(), "ann");
    let page = ann.get("/");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("id=\"pending-count\">2<"),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains("<option value=\"random\">random</option>"));
    // The batch file: the pending rows, which `al-cli label` takes back filled in.
    let batch = ann.get("/download/batch.csv");
    assert_eq!(batch.status, 200);
    let lines: Vec<&str> = batch.body.lines().collect();
    assert_eq!(lines.len(), 3, "{}", batch.body);
    assert!(lines[0].starts_with("row_id,round,rank,score,prediction,lower,upper,loc1"));
    let exported = ann.get("/download/export.csv");
    assert_eq!(
        exported.body,
        stdout_of(al(&project).args(["export", "--out", "-"]))
    );
    // A query from the form is a round like any other.
    let bad = ann.submit("/query", &[("strategy", "random"), ("batch", "0")]);
    assert_eq!(bad.status, 422);
    let unknown = ann.submit("/query", &[("strategy", "nonsense"), ("batch", "3")]);
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    assert!(unknown.body.contains("nonsense"));
    let queried = ann.submit("/query", &[("strategy", "random"), ("batch", "3")]);
    assert_eq!(
        queried.location.as_deref(),
        Some("/?queried=2"),
        "{}",
        queried.body
    );
    assert_eq!(pending_in(&project), 5);
    // The label page sees the new round's rows (reloaded from the file).
    let page = ann.get("/label");
    assert!(page.body.contains("5 pending"), "{}", page.body);
    // Reports: none yet, so no plot; after an evaluation the plot is SVG.
    assert_eq!(ann.get("/plot.svg").status, 404);
    stdout_of(al(&project).args(["evaluate", "-q"]));
    let plot = ann.get("/plot.svg");
    assert_eq!(plot.status, 200);
    assert!(plot.body.contains("<svg") && plot.body.contains("test MAE by labels"));
    let home = ann.get("/").body;
    assert!(home.contains("id=\"reports\""));
    // One report: the advice says how many more rounds a forecast needs.
    assert!(
        home.contains("<strong>Continue</strong>: too few rounds to forecast: 3 more evaluated round(s) needed"),
        "{home}"
    );
    assert_eq!(ann.get("/no/such/page").status, 404);
}

#[test]
fn the_command_line_labels_while_serve_runs_and_ctrl_c_stops_it_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let project = partial_with_batch(dir.path(), 2);
    let mut server = Workbench::start(&project, &[]);
    let mut ann = Browser::annotator(&server.base(), "ann");
    let offered = ann.offered_row().unwrap();
    stdout_of(al(&project).args([
        "label",
        "--row",
        &offered.to_string(),
        "--value",
        "7",
        "--no-eval",
        "-q",
    ]));
    // The row answered elsewhere is no longer offered.
    let next = ann.offered_row().unwrap();
    assert_ne!(next, offered);
    // A second server on the same project takes answers too.
    let second = Workbench::start(&project, &[]);
    let mut bob = Browser::annotator(&second.base(), "bob");
    assert_eq!(bob.offered_row(), Some(next), "leases are per server");
    assert_eq!(bob.answer(next, "8").status, 303);
    let late = ann.answer(next, "9");
    assert_eq!(late.status, 409, "{}", late.body);
    drop(second);
    let (status, stderr) = server.interrupt();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");
    let labels = labels_in(&project);
    assert_eq!(
        labels,
        vec![(offered, 7.0, None), (next, 8.0, Some("bob".to_string()))]
    );
}

#[test]
fn ctrl_c_under_load_keeps_every_confirmed_answer_and_invents_none() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("partly.csv");
    common::partly_labeled(&csv, 100);
    let project = project_with_batch(dir.path(), &csv, 1000, &[]);
    let mut server = Workbench::start(&project, &[]);
    let base = server.base();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let threads: Vec<_> = (0..4)
        .map(|k| {
            let base = base.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                // Cookies only: requests go through a plain agent so that an
                // error ends the loop instead of failing the thread.
                let browser = Browser::annotator(&base, &format!("a{k}"));
                let (mut confirmed, mut posted) = (Vec::new(), Vec::new());
                let agent = ureq::AgentBuilder::new().redirects(0).build();
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let page = agent
                        .get(&format!("{base}/label"))
                        .set("Cookie", &browser.cookie_header())
                        .call();
                    let Ok(page) = page else { break };
                    let body = page.into_string().unwrap();
                    let Some(at) = body.find("data-row=\"") else {
                        break;
                    };
                    let rest = &body[at + 10..];
                    let row: i64 = rest[..rest.find('"').unwrap()].parse().unwrap();
                    posted.push(row);
                    let reply = agent
                        .post(&format!("{base}/answer"))
                        .set("Cookie", &browser.cookie_header())
                        .send_form(&[
                            ("csrf", &browser.csrf()),
                            ("row_id", &row.to_string()),
                            ("value", "5"),
                        ]);
                    match reply {
                        Ok(r) if r.status() == 303 => confirmed.push(row),
                        _ => break,
                    }
                }
                (confirmed, posted)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(400));
    let (status, stderr) = server.interrupt();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(status.success(), "{stderr}");
    let mut confirmed = Vec::new();
    let mut posted = Vec::new();
    for t in threads {
        let (c, p) = t.join().unwrap();
        confirmed.extend(c);
        posted.extend(p);
    }
    assert!(
        confirmed.len() > 10,
        "the load ran: {} answers",
        confirmed.len()
    );
    let stored: Vec<i64> = labels_in(&project).iter().map(|l| l.0).collect();
    for row in &confirmed {
        assert!(
            stored.contains(row),
            "row {row} was confirmed (303) but is not in the project"
        );
    }
    for row in &stored {
        assert!(
            posted.contains(row),
            "row {row} is in the project but nobody answered it"
        );
    }
    let mut unique = stored.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), stored.len(), "a row was labeled twice");
}

// ---------------------------------------------------------------------
// Label Studio's ML backend at /label-studio, driven with the requests a
// real Label Studio 1.23 sent (fixtures/label_studio, recorded through a
// logging proxy; only the row ids are put in for the project at hand).

/// A recorded request body.
fn label_studio_fixture(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixture(&format!("label_studio/{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// POSTs JSON (with basic auth when given): the status and the JSON answer.
fn post_json(
    base: &str,
    path: &str,
    body: &serde_json::Value,
    basic: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut request = ureq::post(&format!("{base}{path}")).set("Content-Type", "application/json");
    if let Some(credential) = basic {
        request = request.set("Authorization", &format!("Basic {credential}"));
    }
    answer_json(request.send_string(&body.to_string()))
}

fn answer_json(result: Result<ureq::Response, ureq::Error>) -> (u16, serde_json::Value) {
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("request failed: {e}"),
    };
    let status = response.status();
    let text = response.into_string().unwrap();
    let value = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (status, value)
}

/// The open batch's row ids in al's order.
fn batch_in(project: &Path) -> Vec<i64> {
    let conn = rusqlite::Connection::open(project).unwrap();
    let mut stmt = conn
        .prepare("SELECT row_id FROM queries ORDER BY round, rank")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The recorded prediction request, its tasks naming `rows`.
fn predict_request(rows: &[i64]) -> serde_json::Value {
    let mut request = label_studio_fixture("predict");
    let recorded = request["tasks"][0].clone();
    request["tasks"] = rows
        .iter()
        .enumerate()
        .map(|(i, &row)| {
            let mut task = recorded.clone();
            task["id"] = serde_json::json!(i + 1);
            task["data"]["row_id"] = serde_json::json!(row);
            task
        })
        .collect();
    request
}

/// A recorded annotation webhook, for `row` with annotation `id` and
/// `value`.
fn annotation_webhook(name: &str, row: i64, id: i64, value: f64) -> serde_json::Value {
    let mut hook = label_studio_fixture(name);
    hook["task"]["data"]["row_id"] = serde_json::json!(row);
    hook["annotation"]["id"] = serde_json::json!(id);
    hook["annotation"]["result"][0]["value"]["number"] = serde_json::json!(value);
    hook
}

/// (value, round, note) of a row's label events.
fn label_events(project: &Path, row: i64) -> Vec<(f64, Option<i64>, Option<String>)> {
    let conn = rusqlite::Connection::open(project).unwrap();
    let mut stmt = conn
        .prepare("SELECT value, round, note FROM labels WHERE row_id = ?1 ORDER BY event_id")
        .unwrap();
    stmt.query_map([row], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn label_studio_gets_health_a_model_version_and_predictions_in_al_order() {
    let dir = tempfile::tempdir().unwrap();
    let project = partial_with_batch(dir.path(), 3);
    let server = Workbench::start(&project, &[]);
    let base = format!("{}/label-studio", server.base());
    for path in ["", "/health"] {
        let (status, body) = answer_json(ureq::get(&format!("{base}{path}")).call());
        assert_eq!(status, 200, "{path}");
        assert_eq!(body["status"], "UP", "{path}");
    }
    let (status, setup) = post_json(&base, "/setup", &label_studio_fixture("setup"), None);
    assert_eq!(status, 200, "{setup}");
    let version = setup["model_version"].as_str().unwrap().to_string();
    assert!(version.starts_with("al round 1 · 80 labels"), "{version}");
    assert!(
        !version.contains(','),
        "Label Studio splits versions at commas: {version}"
    );

    // The batch asked for in reverse, and a labeled row: the answers come
    // in the order asked, the batch scored by al's ranks, the rest 0.
    let batch = batch_in(&project);
    let mut asked: Vec<i64> = batch.iter().rev().copied().collect();
    asked.push(1);
    let (status, answer) = post_json(&base, "/predict", &predict_request(&asked), None);
    assert_eq!(status, 200, "{answer}");
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    let scores: Vec<f64> = results
        .iter()
        .map(|r| r["score"].as_f64().unwrap())
        .collect();
    for (got, want) in scores.iter().zip([1.0 / 3.0, 2.0 / 3.0, 1.0, 0.0]) {
        assert!((got - want).abs() < 1e-12, "{scores:?}");
    }
    for r in results {
        assert_eq!(r["model_version"], version.as_str());
        let result = &r["result"][0];
        assert_eq!(result["from_name"], "price");
        assert_eq!(result["to_name"], "row");
        assert_eq!(result["type"], "number");
        let guess = result["value"]["number"].as_f64().unwrap();
        let (lower, upper) = (
            result["meta"]["lower"].as_f64().unwrap(),
            result["meta"]["upper"].as_f64().unwrap(),
        );
        assert!(lower <= guess && guess <= upper, "{result}");
    }
    // The guesses are `predict`'s (the same model, seed 0).
    let predicted = stdout_of(al(&project).args(["predict", "--pool"]));
    let row = batch[0];
    let line = predicted
        .lines()
        .find(|l| l.starts_with(&format!("{row},")))
        .unwrap();
    let expected: f64 = line.split(',').nth(1).unwrap().parse().unwrap();
    let got = results[2]["result"][0]["value"]["number"].as_f64().unwrap();
    assert!(
        (got - expected).abs() < 1e-9,
        "{got} vs predict's {expected}"
    );
}

#[test]
fn label_studio_annotations_label_relabel_and_withdraw_rows() {
    let dir = tempfile::tempdir().unwrap();
    let project = partial_with_batch(dir.path(), 3);
    let server = Workbench::start(&project, &[]);
    let base = format!("{}/label-studio", server.base());
    let batch = batch_in(&project);
    let version = |_: ()| {
        post_json(&base, "/setup", &label_studio_fixture("setup"), None).1["model_version"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let before = version(());

    let created = annotation_webhook("annotation_created", batch[0], 11, 1200.0);
    let (status, body) = post_json(&base, "/webhook", &created, None);
    assert_eq!(
        (status, &body["new"]),
        (200, &serde_json::json!(1)),
        "{body}"
    );
    let updated = annotation_webhook("annotation_updated", batch[0], 11, 1250.0);
    let (status, body) = post_json(&base, "/webhook", &updated, None);
    assert_eq!(
        (status, &body["changed"]),
        (200, &serde_json::json!(1)),
        "{body}"
    );
    // Sent twice (Label Studio retries): nothing more.
    let (_, body) = post_json(&base, "/webhook", &updated, None);
    assert_eq!(body["unchanged"], 1, "{body}");
    let note = Some("label-studio annotation 11".to_string());
    assert_eq!(
        label_events(&project, batch[0]),
        [(1200.0, Some(1), note.clone()), (1250.0, Some(1), note)]
    );
    let after = version(());
    assert_ne!(before, after, "a label gives a new model version");
    assert!(after.contains("81 labels"), "{after}");

    // Another row labeled, then its annotation deleted: pending again.
    let other = annotation_webhook("annotation_created", batch[1], 12, 300.0);
    assert_eq!(post_json(&base, "/webhook", &other, None).0, 200);
    let mut deleted = label_studio_fixture("annotations_deleted");
    deleted["annotations"] = serde_json::json!([{"id": 12}, {"id": 999}]);
    let (status, body) = post_json(&base, "/webhook", &deleted, None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["withdrawn"], &body["unknown"]),
        (&serde_json::json!(1), &serde_json::json!(1))
    );
    assert!(label_events(&project, batch[1]).is_empty());
    assert_eq!(pending_in(&project), 2);

    // Training asked for, and an action al has no use for.
    let (status, body) = post_json(
        &base,
        "/webhook",
        &label_studio_fixture("start_training"),
        None,
    );
    assert_eq!((status, &body["status"]), (200, &serde_json::json!("ok")));
    let (status, body) = post_json(
        &base,
        "/webhook",
        &serde_json::json!({"action": "PROJECT_UPDATED", "project": {"id": 1}}),
        None,
    );
    assert_eq!(
        (status, &body["ignored"]),
        (200, &serde_json::json!("PROJECT_UPDATED"))
    );
}

#[test]
fn label_studio_requests_al_cannot_use_get_a_4xx_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let project = partial_with_batch(dir.path(), 3);
    let server = Workbench::start(&project, &[]);
    let base = format!("{}/label-studio", server.base());
    let batch = batch_in(&project);
    let before = common::snapshot(&project);
    let unknown_row = annotation_webhook("annotation_created", 987_654, 5, 10.0);
    let mut no_row = annotation_webhook("annotation_created", batch[0], 5, 10.0);
    no_row["task"]["data"] = serde_json::json!({"cells": {}});
    let mut two_tasks = predict_request(&[batch[0]]);
    two_tasks["tasks"][0]["data"]["row_id"] = serde_json::json!("x");
    let cases: Vec<(&str, serde_json::Value, u16, &str)> = vec![
        (
            "/predict",
            predict_request(&[batch[0], 987_654]),
            404,
            "987654 not in this project",
        ),
        (
            "/predict",
            two_tasks,
            400,
            "tasks[0] (task id 1): no whole-number data.row_id",
        ),
        (
            "/predict",
            serde_json::json!({"tasks": 3}),
            400,
            "field tasks",
        ),
        (
            "/webhook",
            unknown_row,
            404,
            "data.row_id 987654 is not in this project",
        ),
        ("/webhook", no_row, 400, "no data.row_id"),
        (
            "/webhook",
            serde_json::json!({"annotation": {}}),
            400,
            "field action",
        ),
        (
            "/webhook",
            annotation_webhook("annotation_created", batch[0], 5, f64::MAX),
            422,
            "too large",
        ),
        (
            "/setup",
            serde_json::json!({"schema": "<View><Text name=\"t\" value=\"$x\"/></View>"}),
            422,
            "no Number control",
        ),
    ];
    for (path, body, status, says) in cases {
        let (got, answer) = post_json(&base, path, &body, None);
        assert_eq!(got, status, "{path}: {answer}");
        assert!(
            answer["error"].as_str().unwrap_or("").contains(says),
            "{path}: {answer}"
        );
    }
    let (status, answer) = answer_json(
        ureq::post(&format!("{base}/webhook"))
            .set("Content-Type", "application/json")
            .send_string("{\"action\": "),
    );
    assert_eq!(status, 400);
    assert!(
        answer["error"].as_str().unwrap().contains("line 1, column"),
        "{answer}"
    );
    let huge = "x".repeat(9 * 1024 * 1024);
    let (status, _) = answer_json(ureq::post(&format!("{base}/webhook")).send_string(&huge));
    assert_eq!(status, 413);
    assert!(
        common::snapshot(&project) == before,
        "a refusal changed the project"
    );
}

#[test]
fn a_shared_server_takes_label_studios_basic_auth_with_the_token_as_password() {
    let dir = tempfile::tempdir().unwrap();
    let project = partial_with_batch(dir.path(), 2);
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "s3cret-token-for-label-studio").unwrap();
    let server = Workbench::start(
        &project,
        &[
            "--host",
            "127.0.0.1",
            "--token-file",
            token_file.to_str().unwrap(),
        ],
    );
    let base = format!("{}/label-studio", server.base());
    let setup = label_studio_fixture("setup");
    assert_eq!(post_json(&base, "/setup", &setup, None).0, 401);
    use base64::Engine as _;
    let encode = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let wrong = encode("label-studio:not-the-token");
    assert_eq!(post_json(&base, "/setup", &setup, Some(&wrong)).0, 401);
    let right = encode("label-studio:s3cret-token-for-label-studio");
    let (status, body) = post_json(&base, "/setup", &setup, Some(&right));
    assert_eq!(status, 200, "{body}");
}

#[test]
fn eight_label_studio_annotators_send_400_webhooks_none_lost_none_doubled() {
    let dir = tempfile::tempdir().unwrap();
    let project = partial_with_batch(dir.path(), 300);
    let server = Workbench::start(&project, &[]);
    let base = format!("{}/label-studio", server.base());
    let batch = batch_in(&project);
    // 8 annotators × 50 annotations: 300 rows, the first 100 answered
    // twice with the same value (a second annotator agreeing).
    let plan: Vec<(i64, i64, f64)> = (0..400)
        .map(|k| {
            let row = batch[k % 300];
            (row, 1000 + k as i64, 50.0 + row as f64)
        })
        .collect();
    std::thread::scope(|scope| {
        for annotator in 0..8 {
            let (plan, base) = (&plan, &base);
            scope.spawn(move || {
                for &(row, id, value) in plan.iter().skip(annotator).step_by(8) {
                    let hook = annotation_webhook("annotation_created", row, id, value);
                    let (status, body) = post_json(base, "/webhook", &hook, None);
                    assert_eq!(status, 200, "{body}");
                }
            });
        }
    });
    let labels = labels_in(&project);
    assert_eq!(labels.len(), 300, "one label per row, none twice");
    for (row, value, _) in &labels {
        assert_eq!(*value, 50.0 + *row as f64);
    }
    assert_eq!(pending_in(&project), 0);
}
