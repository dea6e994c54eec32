#!/usr/bin/env python3
"""Ingestion benchmark: `al-cli init` against the pipeline a careful pandas
user writes, on the same file, in one run. Prints a markdown table of wall
time and peak RSS (from /usr/bin/time -v), and the median time of
`al-cli status` on the resulting project.

    python3 bench/gen_wide.py --rows 1000000 --out /tmp/wide.csv
    cargo build --release -p al-cli
    python3 bench/init_vs_pandas.py --csv /tmp/wide.csv --target target \
        --al "$CARGO_TARGET_DIR/release/al-cli"

Needs pandas (pip install pandas).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time


def pandas_pipeline(csv, target, db):
    import sqlite3

    import pandas as pd

    df = pd.read_csv(csv, dtype=str, keep_default_na=False, na_values=[""])
    y = pd.to_numeric(df.pop(target), errors="coerce")
    numeric, categorical = {}, []
    for col in df.columns:
        values = pd.to_numeric(df[col], errors="coerce")
        non_empty = df[col].notna().sum()
        if non_empty and values.notna().sum() >= 0.9 * non_empty:
            numeric[col] = values.fillna(values.mean())
        else:
            categorical.append(col)
    features = pd.concat(
        [pd.DataFrame(numeric), pd.get_dummies(df[categorical].fillna("__missing__"), dtype="int8")],
        axis=1,
    )
    features[target] = y
    con = sqlite3.connect(db)
    features.to_sql("rows", con, index=True, chunksize=10_000)
    con.close()


def timed(cmd):
    """Runs cmd under /usr/bin/time -v; returns (wall seconds, peak RSS MB)."""
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr[-2000:]}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
    return wall, rss_kb / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--al", default="target/release/al-cli")
    ap.add_argument("--pandas-pipeline", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.pandas_pipeline:
        pandas_pipeline(*args.pandas_pipeline)
        return
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(args.csv))) as tmp:
        al_db = os.path.join(tmp, "al.db")
        pd_db = os.path.join(tmp, "pandas.db")
        al_wall, al_rss = timed([args.al, "-q", "-p", al_db, "init", args.csv, "--target", args.target])
        pd_wall, pd_rss = timed(
            [sys.executable, __file__, "--csv", args.csv, "--target", args.target,
             "--pandas-pipeline", args.csv, args.target, pd_db]
        )
        runs = []
        for _ in range(10):
            start = time.perf_counter()
            subprocess.run([args.al, "-p", al_db, "status", "--json"], check=True, capture_output=True)
            runs.append(time.perf_counter() - start)
        size = os.path.getsize(args.csv) / 1e6
        print(f"input: {args.csv} ({size:.0f} MB)\n")
        print("| pipeline | wall s | peak RSS MB |")
        print("|---|---:|---:|")
        print(f"| al-cli init | {al_wall:.1f} | {al_rss:.0f} |")
        print(f"| pandas read_csv + to_numeric + fillna + get_dummies + to_sql | {pd_wall:.1f} | {pd_rss:.0f} |")
        print(f"\nspeed-up: {pd_wall / al_wall:.1f}x; al-cli status: median {statistics.median(runs) * 1000:.0f} ms over 10 runs")


if __name__ == "__main__":
    main()
