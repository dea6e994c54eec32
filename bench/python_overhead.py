#!/usr/bin/env python3
"""What calling through Python adds to a query on a large project: the
whole `al-cli query` command against `al.Project.open(...).query(...)` on
copies of the same project, same strategy, batch and seed.

    python3 bench/gen_wide.py --rows 1000000 --labeled 1000 --out /tmp/wide1m.csv
    pip install ./crates/al-py
    python3 bench/python_overhead.py --al-cli "$CARGO_TARGET_DIR/release/al-cli" --csv /tmp/wide1m.csv

Figures (median of --runs; the project copied fresh before each run, not
timed, because a query records a round):
- al-cli: hyperfine around the whole command;
- Python, in a session: the call alone (open + query + the DataFrame),
  timed in this process, as a notebook user runs it;
- Python, whole process: hyperfine around `python -c "import al; ..."`
  (interpreter start and importing pandas included), a second figure.
The picks of both sides are compared.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import al


def hyperfine(command, prepare, runs):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            ["hyperfine", "--runs", str(runs), "--prepare", prepare, "--export-json", out.name, command],
            check=True, capture_output=True,
        )
        result = json.load(open(out.name))["results"][0]
    return result["median"], result["min"], result["max"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--al-cli", required=True)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--strategy", default="committee")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="al-overhead-")
    base, run = os.path.join(tmp, "base.db"), os.path.join(tmp, "run.db")
    subprocess.run([args.al_cli, "-p", base, "--quiet", "init", args.csv, "--target", "target", "--test-frac", "0"],
                   check=True)
    prepare = f"cp {base} {run} && rm -f {run}-wal {run}-shm && sync"
    cli = f"{args.al_cli} -p {run} --quiet query --strategy {args.strategy} --batch 10 --seed 0 --out {tmp}/b.csv"
    cli_median, cli_min, cli_max = hyperfine(cli, prepare, args.runs)

    in_session = []
    for _ in range(args.runs):
        subprocess.run(prepare, shell=True, check=True)
        start = time.perf_counter()
        picked = al.Project.open(run).query(batch=10, strategy=args.strategy, seed=0)
        in_session.append(time.perf_counter() - start)
    py_ids = list(picked.row_id)

    subprocess.run(prepare, shell=True, check=True)
    out = subprocess.run(
        [args.al_cli, "-p", run, "--json", "query", "--strategy", args.strategy, "--batch", "10", "--seed", "0",
         "--out", f"{tmp}/b.csv"], check=True, capture_output=True, text=True,
    )
    cli_ids = [r["row_id"] for r in json.loads(out.stdout)["rows"]]

    script = f"import al; al.Project.open({run!r}).query(batch=10, strategy={args.strategy!r}, seed=0)"
    whole_median, whole_min, whole_max = hyperfine(f"{sys.executable} -c \"{script}\"", prepare, args.runs)

    py_median = statistics.median(in_session)
    print(f"| side | median s | min–max s | vs al-cli |")
    print("|---|---:|---:|---:|")
    print(f"| al-cli query (whole command) | {cli_median:.3f} | {cli_min:.3f}–{cli_max:.3f} | – |")
    print(f"| Python, in a session: open + query | {py_median:.3f} | {min(in_session):.3f}–{max(in_session):.3f} "
          f"| {100 * (py_median / cli_median - 1):+.1f} % |")
    print(f"| Python, whole process (import included) | {whole_median:.3f} | {whole_min:.3f}–{whole_max:.3f} "
          f"| {100 * (whole_median / cli_median - 1):+.1f} % |")
    print(f"same picks: {py_ids == cli_ids}")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
