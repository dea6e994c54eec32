"""al as a real Label Studio's ML backend, end to end.

A project is made with al-cli and its next picks written as Label Studio
tasks with al's labeling interface; a Label Studio started by run.sh gets
a project from that interface through its API, the tasks, and `al-cli
serve`'s /label-studio as its model. Then, through Label Studio's API only:
predictions carry al's guesses and al's order as their score; annotations
reach the al project (labeled, relabeled, a deleted one withdrawn); and the
next predictions come from a new model version fitted on the new labels.

Every step asserts; any failure exits non-zero (run.sh prints Label
Studio's log).
"""

import json
import os
import sqlite3
import subprocess
import sys
import time

import requests

AL = os.environ["AL_CLI"]
LS = os.environ["LS_URL"]
WORK = os.environ["AL_WORK"]
FIXTURES = os.environ["AL_FIXTURES"]
PROJECT = os.path.join(WORK, "house.al")


def al(*args):
    done = subprocess.run([AL, "-p", PROJECT, *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"al-cli {' '.join(args)}: {done.stderr}"
    return done.stdout


def wait_for(what, ready, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if ready():
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{what} did not come up within {seconds} s")


def label_studio_session():
    """Logs in (the user run.sh made) and turns on the user's legacy API
    token, which Label Studio 1.23 turns off for new organizations."""
    session = requests.Session()
    session.get(f"{LS}/user/login/")
    session.post(
        f"{LS}/user/login/",
        data={
            "email": os.environ["LS_USER"],
            "password": os.environ["LS_PASSWORD"],
            "csrfmiddlewaretoken": session.cookies.get("csrftoken"),
        },
        headers={"Referer": f"{LS}/user/login/"},
    )
    answer = session.post(
        f"{LS}/api/jwt/settings",
        json={"legacy_api_tokens_enabled": True, "api_tokens_enabled": True},
        headers={"X-CSRFToken": session.cookies.get("csrftoken"), "Referer": LS},
    )
    assert answer.status_code == 200, f"enabling the API token: {answer.status_code} {answer.text[:300]}"


def api(method, path, body=None, expect=(200, 201, 204)):
    answer = requests.request(
        method, f"{LS}{path}", json=body, headers={"Authorization": f"Token {os.environ['LS_TOKEN']}"}, timeout=60
    )
    assert answer.status_code in expect, f"{method} {path}: {answer.status_code} {answer.text[:500]}"
    return answer.json() if answer.content else None


def tasks_of(project_id):
    return api("GET", f"/api/tasks?project={project_id}&fields=all&page_size=100")["tasks"]


def latest_prediction(task):
    return max(task["predictions"], key=lambda p: p["id"])


def history(row_id):
    return json.loads(al("--json", "history", str(row_id)))["labels"]


def main():
    started = time.time()
    wait_for("Label Studio", lambda: requests.get(f"{LS}/health", timeout=2).status_code == 200, 150)
    print(f"Label Studio up after {time.time() - started:.0f} s")

    # The al side: a project, its next five picks as tasks, the interface.
    al("init", os.path.join(FIXTURES, "price_partial.csv"), "--target", "price", "-q")
    tasks_file = os.path.join(WORK, "tasks.json")
    config_file = os.path.join(WORK, "config.xml")
    al("query", "--batch", "5", "--seed", "1", "--label-studio", tasks_file, "-q")
    al("export", "--label-studio-config", config_file, "-q")
    written = json.load(open(tasks_file))
    picks = [t["data"]["row_id"] for t in written]
    assert len(picks) == 5

    serve = subprocess.Popen(
        [AL, "-p", PROJECT, "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        address = serve.stdout.readline().split()
        base = next(w for w in address if w.startswith("http://")).rstrip("/")
        backend = f"{base}/label-studio"
        assert requests.get(f"{backend}/health", timeout=5).json()["status"] == "UP"

        # The Label Studio side, through its API.
        label_studio_session()
        project = api("POST", "/api/projects", {"title": "al end to end", "label_config": open(config_file).read()})
        pid = project["id"]
        imported = api("POST", f"/api/projects/{pid}/import", written)
        assert imported["task_count"] == 5 and imported["prediction_count"] == 5, imported
        backend_row = api(
            "POST", "/api/ml", {"project": pid, "url": backend, "title": "al", "is_interactive": True}
        )
        assert backend_row["readable_state"] == "Connected", backend_row
        first_version = backend_row["model_version"]
        assert first_version.startswith("al round 1 · 80 labels"), first_version

        # Predictions from the backend: al's guesses, al's order as score.
        api("POST", f"/api/dm/actions?id=retrieve_tasks_predictions&project={pid}", {"selectedItems": {"all": True, "excluded": []}})
        tasks = tasks_of(pid)
        by_row = {t["data"]["row_id"]: t for t in tasks}
        assert sorted(by_row) == sorted(picks)
        scores = [latest_prediction(by_row[row])["score"] for row in picks]
        assert scores == sorted(scores, reverse=True) and scores[0] == 1.0, scores
        guess = latest_prediction(by_row[picks[0]])["result"][0]
        assert guess["from_name"] == "price" and guess["type"] == "number", guess
        assert guess["meta"]["lower"] <= guess["value"]["number"] <= guess["meta"]["upper"], guess

        # Annotations made in Label Studio reach the al project.
        def annotate(row, value):
            result = [{"from_name": "price", "to_name": "row", "type": "number", "value": {"number": value}}]
            return api("POST", f"/api/tasks/{by_row[row]['id']}/annotations", {"result": result})

        first = annotate(picks[0], 1234.5)
        second = annotate(picks[1], 321.0)
        wait_for("the labels in al", lambda: len(history(picks[0])) == 1 and len(history(picks[1])) == 1, 20)
        assert history(picks[0])[0]["value"] == 1234.5
        assert history(picks[0])[0]["note"] == f"label-studio annotation {first['id']}"
        # Changed there, relabeled here (the history keeps both).
        api("PATCH", f"/api/annotations/{first['id']}", {"result": [{"from_name": "price", "to_name": "row", "type": "number", "value": {"number": 1300.0}}]})
        wait_for("the relabel in al", lambda: len(history(picks[0])) == 2, 20)
        assert [e["value"] for e in history(picks[0])] == [1234.5, 1300.0]
        # Deleted there, withdrawn here: the row is pending again.
        api("DELETE", f"/api/annotations/{second['id']}")
        wait_for("the withdrawal in al", lambda: history(picks[1]) == [], 20)
        with sqlite3.connect(PROJECT) as db:
            (pending,) = db.execute(
                "SELECT count(*) FROM queries q JOIN rows r USING (row_id) WHERE r.label IS NULL"
            ).fetchone()
        assert pending == 4, pending

        # The next predictions come from a model fitted on the new label.
        api("POST", f"/api/dm/actions?id=retrieve_tasks_predictions&project={pid}", {"selectedItems": {"all": True, "excluded": []}})
        newer = {t["data"]["row_id"]: latest_prediction(t) for t in tasks_of(pid)}
        version = newer[picks[2]]["model_version"]
        assert version != first_version and "81 labels" in version, version
        assert newer[picks[0]]["score"] == 0.0, "a labeled row leaves al's batch"
        print(f"al as Label Studio's backend: all checks passed in {time.time() - started:.0f} s")
    finally:
        serve.terminate()
        serve.wait(timeout=20)


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
