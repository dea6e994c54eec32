#!/usr/bin/env python3
"""Whole commands on a wide pool: `al-cli init` once, then `al-cli query`
with each strategy, timed by hyperfine (the project copied fresh before each
run, not timed) and measured for peak RSS by /usr/bin/time -v.

    python3 bench/gen_wide.py --rows 1000000 --labeled 1000 --out /tmp/wide1m.csv
    python3 bench/scale.py --al "$CARGO_TARGET_DIR/release/al-cli" --csv /tmp/wide1m.csv

The 10-million-row run is the same with a 10M-row file and `--runs 1`
(a benchmark, never a test: the CSV is 3.5 GB and the project 9 GB).
"""
import argparse
import json
import os
import re
import subprocess
import tempfile


def rss_and_wall(argv):
    out = subprocess.run(["/usr/bin/time", "-v"] + argv, check=True, capture_output=True, text=True)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1)) / 1024
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", out.stderr).group(1)
    parts = [float(p) for p in wall.split(":")]
    seconds = sum(p * 60 ** k for k, p in enumerate(reversed(parts)))
    return seconds, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--al", required=True)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--target", default="target")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--strategies", default="random,committee,tree-variance,qbc,cover")
    ap.add_argument("--dir", default=tempfile.gettempdir(), help="where the project files go")
    args = ap.parse_args()
    base = os.path.join(args.dir, "scale_base.db")
    run = os.path.join(args.dir, "scale_run.db")
    if os.path.exists(base):
        os.remove(base)
    init_s, init_rss = rss_and_wall([args.al, "-q", "-p", base, "init", args.csv, "--target", args.target, "--test-frac", "0"])
    status = json.loads(subprocess.run([args.al, "--json", "-p", base, "status"], check=True, capture_output=True, text=True).stdout)
    counts = {k: status[k] for k in ("rows", "labeled", "unlabeled", "features")}
    print(f"init: {init_s:.1f} s, peak RSS {init_rss:.0f} MB, project {os.path.getsize(base) / 1e6:.0f} MB; {json.dumps(counts)}\n")
    print("| strategy | query s (median, min-max) | peak RSS MB |")
    print("|---|---:|---:|")
    for strategy in args.strategies.split(","):
        # The copy is synced before each timed run, so its write-back does
        # not compete with the query.
        argv = [args.al, "-q", "-p", run, "query", "--strategy", strategy, "-o", os.path.join(args.dir, "scale_batch.csv")]
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            subprocess.run(["hyperfine", "--runs", str(args.runs), "--prepare", f"cp {base} {run} && sync",
                            "--export-json", out.name, " ".join(argv)], check=True, capture_output=True)
            r = json.load(open(out.name))["results"][0]
        subprocess.run(["cp", base, run], check=True)
        _, rss = rss_and_wall(argv)
        print(f"| {strategy} | {r['median']:.2f} ({r['min']:.2f}-{r['max']:.2f}) | {rss:.0f} |", flush=True)
    for f in (base, run):
        os.remove(f)


if __name__ == "__main__":
    main()
