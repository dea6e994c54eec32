#!/usr/bin/env python3
"""`al-cli serve` as Label Studio's ML backend under load: latency of
`POST /label-studio/predict` (100 tasks) and of annotation webhooks with N
annotators at once, on a large project.

    cargo build --release -p al-cli
    python3 bench/gen_wide.py --rows 1000000 --labeled 1000 --out /tmp/wide1m_l1k.csv
    al-cli -p /tmp/serve1m.db init /tmp/wide1m_l1k.csv --target target
    python3 bench/label_studio_latency.py --al target/release/al-cli --project /tmp/serve1m.db

The project is copied first. A random batch (annotators x webhooks rows) is
queried and the server started. Phases, every request timed at the client
from sending to the last byte read, bodies shaped as the recorded Label
Studio 1.23 requests in fixtures/label_studio:

1. the first `/predict` (the model fitted on every label, then kept);
2. `--predicts` prediction requests of 100 tasks each, rows drawn at
   random from the whole project (a Data Manager page anywhere), the model
   unchanged between them (steady state);
3. N annotators at once, each a thread with its own keep-alive connection,
   posting ANNOTATION_CREATED webhooks for rows of the batch;
4. `/predict` again after those labels: the refit the new model version
   asks for, then steady state again.

Standard library only.
"""
import argparse
import copy
import http.client
import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.join(os.path.dirname(__file__), "..")


def fixture(name):
    with open(os.path.join(ROOT, "fixtures", "label_studio", f"{name}.json")) as f:
        return json.load(f)


def percentile(values, p):
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100 * (len(s) - 1)))))
    return s[k]


def post(conn, path, body):
    data = json.dumps(body)
    t0 = time.perf_counter()
    conn.request("POST", path, body=data, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    answer = r.read()
    return time.perf_counter() - t0, r.status, answer


def predict_body(template, rows):
    body = copy.deepcopy(template)
    task = body["tasks"][0]
    body["tasks"] = []
    for i, row in enumerate(rows):
        t = copy.deepcopy(task)
        t["id"] = i + 1
        t["data"]["row_id"] = row
        body["tasks"].append(t)
    return body


def annotator(port, hooks, timings, errors):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for hook in hooks:
        elapsed, status, answer = post(conn, "/label-studio/webhook", hook)
        timings.append(elapsed)
        if status != 200:
            errors.append(f"webhook {status}: {answer[:200]!r}")
    conn.close()


def summary(name, seconds):
    ms = [v * 1000 for v in seconds]
    return (f"  {name:28s} n={len(ms):4d}  p50 {percentile(ms, 50):7.1f} ms  p95 {percentile(ms, 95):7.1f} ms  "
            f"p99 {percentile(ms, 99):7.1f} ms  max {max(ms):7.1f} ms  mean {statistics.mean(ms):7.1f} ms")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--al", required=True)
    ap.add_argument("--project", required=True)
    ap.add_argument("--annotators", type=int, default=8)
    ap.add_argument("--webhooks", type=int, default=50, help="per annotator")
    ap.add_argument("--predicts", type=int, default=200)
    ap.add_argument("--tasks", type=int, default=100, help="tasks per prediction request")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", default=tempfile.gettempdir())
    args = ap.parse_args()

    project = os.path.join(args.dir, "label_studio_latency.db")
    shutil.copyfile(args.project, project)
    total = args.annotators * args.webhooks
    subprocess.run([args.al, "-p", project, "query", "--strategy", "random", "--batch", str(total),
                    "--out", os.path.join(args.dir, "label_studio_latency_batch.csv"), "-q"], check=True)
    with sqlite3.connect(project) as db:
        batch = [r for (r,) in db.execute("SELECT row_id FROM queries ORDER BY rank")]
        (max_row,) = db.execute("SELECT max(row_id) FROM rows").fetchone()
        (labels,) = db.execute("SELECT count(*) FROM rows WHERE label IS NOT NULL AND is_test = 0").fetchone()

    server = subprocess.Popen([args.al, "-p", project, "serve", "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", server.stdout.readline()).group(1))
    rng = random.Random(args.seed)
    template = fixture("predict")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def predicts(n):
        times = []
        for _ in range(n):
            rows = rng.sample(range(1, max_row + 1), args.tasks)
            elapsed, status, answer = post(conn, "/label-studio/predict", predict_body(template, rows))
            if status != 200:
                sys.exit(f"/predict answered {status}: {answer[:300]!r}")
            times.append(elapsed)
        return times

    first = predicts(1)
    steady = predicts(args.predicts)

    hooks = []
    template_hook = fixture("annotation_created")
    for k, row in enumerate(batch):
        hook = copy.deepcopy(template_hook)
        hook["task"]["data"]["row_id"] = row
        hook["task"]["id"] = k + 1
        hook["annotation"]["id"] = 10_000 + k
        hook["annotation"]["result"][0]["value"]["number"] = 1.5
        hooks.append(hook)
    webhook_times, errors = [], []
    threads = [threading.Thread(target=annotator, args=(port, hooks[a::args.annotators], webhook_times, errors))
               for a in range(args.annotators)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0

    refit = predicts(1)
    after = predicts(args.predicts)
    conn.close()
    server.terminate()
    server.wait()
    with sqlite3.connect(project) as db:
        (kept,) = db.execute("SELECT count(*) FROM labels WHERE note LIKE 'label-studio annotation %'").fetchone()

    print(f"project {args.project}: {max_row} rows, {labels} training labels; {args.tasks} tasks per prediction request")
    print(summary("first /predict (fits)", first))
    print(summary(f"/predict, steady", steady))
    print(f"{args.annotators} annotators x {args.webhooks} webhooks in {wall:.1f} s ({total / wall:.0f}/s); "
          f"labels kept {kept} of {total}; errors {len(errors)}")
    print(summary("webhook (label)", webhook_times))
    print(summary(f"/predict after, refit ({labels + total} labels)", refit))
    print(summary("/predict after, steady", after))
    if errors or kept != total:
        print("first errors:", errors[:5], file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
