#!/usr/bin/env python3
"""End to end: `al-cli simulate` against ../shared/bench/peer.py (scikit-learn
+ scikit-activeml) on the same protocol and data, in one run.

    cargo build --release -p al-cli
    python3 bench/simulate_vs_peer.py --al "$CARGO_TARGET_DIR/release/al-cli"

Protocol (peer.py's header): N0=20, B=10, R=20, test 0.25, seeds 0,1,2, a
100-tree random forest evaluated; the strategies both tools have. Wall time
of each whole command (al: init + simulate; peer: its run), and each side's
ratio to its own random run's area under the MAE curve.
"""
import argparse
import collections
import json
import os
import subprocess
import tempfile
import time

STRATEGIES = "random,committee,gsx,gsy,igs,qbc,emcm"


def aulc(labels, values):
    return sum((labels[i + 1] - labels[i]) * (values[i] + values[i + 1]) / 2 for i in range(len(labels) - 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--al", required=True)
    ap.add_argument("--csv", default="../shared/data/haensel_ams_predicting_price/sample.csv")
    ap.add_argument("--peer", default="../shared/bench/peer.py")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "p.db")
        t = time.perf_counter()
        subprocess.run([args.al, "-q", "-p", db, "init", args.csv, "--target", "price", "--test-frac", "0"], check=True)
        out = subprocess.run(
            [args.al, "-p", db, "--json", "simulate", "--strategies", STRATEGIES, "--test-frac", "0.25",
             "--init", "20", "--batch", "10", "--rounds", "20", "--repeats", "3"],
            check=True, capture_output=True, text=True).stdout
        al_s = time.perf_counter() - t
        al = {s["name"]: s["aulc_ratio_mean"] for s in json.loads(out)["strategies"]}

        runs = os.path.join(tmp, "runs.jsonl")
        t = time.perf_counter()
        subprocess.run(["python3", args.peer, "--csv", args.csv, "--target", "price", "--strategy", STRATEGIES,
                        "--seed", "0,1,2", "--init", "20", "--batch", "10", "--rounds", "20", "--out", runs],
                       check=True, capture_output=True, text=True)
        peer_s = time.perf_counter() - t
        areas = collections.defaultdict(dict)
        for line in open(runs):
            r = json.loads(line)
            areas[r["strategy"]][r["seed"]] = aulc(r["n_labeled"], r["mae"])
        peer = {s: sum(areas[s][k] / areas["random"][k] for k in areas[s]) / len(areas[s]) for s in areas}
    print(f"| tool | wall s (7 strategies x 3 seeds x 20 rounds) |\n|---|---:|")
    print(f"| al-cli init + simulate | {al_s:.1f} |\n| peer.py | {peer_s:.1f} |")
    print(f"\nspeed-up {peer_s / al_s:.1f}x\n")
    print("| strategy | al AULC ratio | peer.py AULC ratio |\n|---|---:|---:|")
    for s in STRATEGIES.split(","):
        print(f"| {s} | {al.get(s, float('nan')):.3f} | {peer.get(s, float('nan')):.3f} |")


if __name__ == "__main__":
    main()
