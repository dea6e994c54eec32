#!/usr/bin/env python3
"""`al-cli serve` under annotators: latency of the label page and of saving
an answer with N annotators at once, and the server's memory.

    cargo build --release -p al-cli
    python3 bench/gen_wide.py --rows 1000000 --labeled 1000 --out /tmp/wide1m_l1k.csv
    al-cli -p /tmp/serve1m.db init /tmp/wide1m_l1k.csv --target target
    python3 bench/serve_latency.py --al target/release/al-cli --project /tmp/serve1m.db

The project is copied first (the copy gets the batch and the answers). A
random batch of annotators x answers rows is queried, the server started,
and after it has sat idle for --idle seconds its resident memory (VmRSS) is
read. Then each annotator (a thread with its own keep-alive connection and
cookies) loops: GET /label (the page with the row, the model's guess and
the three nearest labeled rows), POST /answer (the value; 303 on success).
Every request is timed at the client, from sending to the last byte read.
Standard library only.
"""
import argparse
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def percentile(values, p):
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100 * (len(s) - 1)))))
    return s[k]


def annotator(port, name, answers, timings, errors):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    csrf = "c" * 64
    cookie = f"al_csrf={csrf}; al_annotator={urllib.parse.quote(name)}"
    done = 0
    while done < answers:
        t0 = time.perf_counter()
        conn.request("GET", "/label", headers={"Cookie": cookie})
        r = conn.getresponse()
        body = r.read().decode()
        timings["page"].append(time.perf_counter() - t0)
        m = re.search(r'data-row="(\d+)"', body)
        if r.status != 200 or not m:
            errors.append(f"{name}: GET /label {r.status}")
            time.sleep(0.01)
            continue
        row = m.group(1)
        form = urllib.parse.urlencode({"csrf": csrf, "row_id": row, "value": "1.5"})
        t0 = time.perf_counter()
        conn.request("POST", "/answer", body=form, headers={
            "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        r = conn.getresponse()
        r.read()
        timings["answer"].append(time.perf_counter() - t0)
        if r.status != 303:
            errors.append(f"{name}: POST /answer {r.status}")
        else:
            done += 1
    conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--al", required=True)
    ap.add_argument("--project", required=True)
    ap.add_argument("--annotators", type=int, default=8)
    ap.add_argument("--answers", type=int, default=100, help="per annotator")
    ap.add_argument("--idle", type=float, default=5.0, help="seconds idle before reading memory")
    ap.add_argument("--dir", default=tempfile.gettempdir())
    args = ap.parse_args()

    copy = os.path.join(args.dir, "serve_latency.db")
    shutil.copyfile(args.project, copy)
    total = args.annotators * args.answers
    subprocess.run([args.al, "-p", copy, "query", "--strategy", "random", "--batch", str(total),
                    "--out", os.path.join(args.dir, "serve_latency_batch.csv"), "-q"], check=True)

    t0 = time.perf_counter()
    server = subprocess.Popen([args.al, "-p", copy, "serve", "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    first = server.stdout.readline()
    started = time.perf_counter() - t0
    port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", first).group(1))
    time.sleep(args.idle)
    idle_rss = rss_kib(server.pid)

    timings = {"page": [], "answer": []}
    errors = []
    threads = [threading.Thread(target=annotator, args=(port, f"annotator{k}", args.answers, timings, errors))
               for k in range(args.annotators)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    peak_rss = rss_kib(server.pid, "VmHWM")
    server.terminate()
    server.wait()

    print(f"project {args.project}: serve ready in {started:.2f} s; idle RSS {idle_rss / 1024:.1f} MiB "
          f"after {args.idle:.0f} s; peak RSS {peak_rss / 1024:.1f} MiB")
    print(f"{args.annotators} annotators x {args.answers} answers in {wall:.1f} s "
          f"({total / wall:.0f} answers/s); errors: {len(errors)}")
    for kind, values in timings.items():
        ms = [v * 1000 for v in values]
        print(f"  {kind:7s} n={len(ms):5d}  p50 {percentile(ms, 50):6.1f} ms  p95 {percentile(ms, 95):6.1f} ms  "
              f"p99 {percentile(ms, 99):6.1f} ms  max {max(ms):6.1f} ms  mean {statistics.mean(ms):6.1f} ms")
    if errors:
        print("first errors:", errors[:5], file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
