#!/usr/bin/env python3
"""Stopping rules tried on stored cold-start runs (bench/pool_error.py
--rounds 21 output, which keeps per round what the rule reads: the
forecast's next gain and band, the stability of the pool predictions).

For each rule and run: the first round it says stop (else the last), and
whether the true pool MAE there is within 5 % of the true pool MAE at the
last round (420 labels). Choices are made on the tuning files only.

    python3 bench/stop_rules.py bench/results/pool_error_tuning21.json.gz bench/results/pool_error_tuning_extra21.json.gz
"""
import argparse
import gzip
import json
import statistics

STOP_BELOW = 0.01
SURE = 6.75  # forecast.rs SURE_BAND


def recomputed(run):
    """The same signals from the stored curve of shown MAEs, forecast again
    by the installed `al` (the fit `report` makes; for runs stored before
    the rule's inputs were kept). No stability signal."""
    import al

    out = []
    labels = [r["labels"] for r in run["rounds"]]
    shown = [r["shown"]["mae"] for r in run["rounds"]]
    for k, r in enumerate(run["rounds"]):
        f = al.forecast_curve(labels[: k + 1], shown[: k + 1], batch=20)
        gain = band = None
        if f is not None and f.get("now"):
            nxt = next(x for x in f["ahead"] if x["batches"] == 1)
            gain = (f["now"] - nxt["expected"]) / f["now"]
            band = (nxt["high"] - nxt["low"]) / nxt["expected"] if nxt["expected"] > 0 else None
        out.append({"labels": r["labels"], "true": r["true_mae"], "gain": gain, "band": band, "change": None})
    return out


def signals(run, recompute=False):
    if recompute:
        return recomputed(run)
    out = []
    for r in run["rounds"]:
        a = r.get("advice_detail") or {}
        f = r.get("forecast_mae") or {}
        gain = a.get("next_gain")
        band = None
        nxt = next((x for x in f.get("ahead", []) if x["batches"] == 1), None)
        if nxt and nxt["expected"] > 0:
            band = (nxt["high"] - nxt["low"]) / nxt["expected"]
        st = a.get("stability") or {}
        out.append({"labels": r["labels"], "true": r["true_mae"], "gain": gain, "band": band,
                    "change": st.get("change")})
    return out


def rule_stop(sig, rule, times=1):
    """The first round where `rule` held `times` rounds in a row."""
    changes = [s["change"] for s in sig]
    run = 0
    for k, s in enumerate(sig):
        run = run + 1 if rule(s, changes[: k + 1]) else 0
        if run >= times:
            return k
    return None


def stable(changes, t, window=2):
    last = changes[-window:]
    return len(last) == window and all(c is not None and c < t for c in last)


def rules():
    out = {}
    gain_low = lambda s: s["gain"] is not None and s["gain"] < STOP_BELOW
    sure = lambda s, f: s["band"] is not None and s["band"] < f * STOP_BELOW
    out["as built: gain < 1 % and band < 6.75 %"] = lambda s, c: gain_low(s) and sure(s, SURE)
    for f in (10, 12.5, 15, 17.5, 20, 25, 30, 40):
        out[f"gain < 1 % and band < {f} %"] = lambda s, c, f=f: gain_low(s) and sure(s, f)
        out[f"gain < 1 % and band < {f} %, twice in a row"] = (lambda s, c, f=f: gain_low(s) and sure(s, f), 2)
        out[f"gain < 1 % and band < {f} %, three in a row"] = (lambda s, c, f=f: gain_low(s) and sure(s, f), 3)
    for t in (0.01, 0.02, 0.03, 0.05):
        out[f"stable < {t:.0%} twice"] = lambda s, c, t=t: stable(c, t)
        out[f"stable < {t:.0%} three times"] = lambda s, c, t=t: stable(c, t, 3)
        out[f"gain < 1 % and stable < {t:.0%} twice"] = lambda s, c, t=t: gain_low(s) and stable(c, t)
        out[f"gain < 1 % and (band < 6.75 % or stable < {t:.0%} twice)"] = (
            lambda s, c, t=t: gain_low(s) and (sure(s, SURE) or stable(c, t)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--rule", help="print per dataset for this rule")
    ap.add_argument("--recompute", action="store_true",
                    help="forecast the stored curves of shown MAEs again instead of reading the stored signals")
    ap.add_argument("--only", help="only the rules whose names contain this")
    args = ap.parse_args()
    opener = lambda f: gzip.open(f, "rt") if f.endswith(".gz") else open(f)
    runs = [r for f in args.files for r in json.load(opener(f)) if len(r["rounds"]) >= 21]
    print(f"{len(runs)} runs of 21 rounds from {len(args.files)} file(s)")
    print("| rule | within 5 % of the 420-label MAE | stopped before 420 | median stop (labels) |")
    print("|---|---:|---:|---:|")
    for name, rule in rules().items():
        if args.only and args.only not in name:
            continue
        ok = early = 0
        stops = []
        per = {}
        for run in runs:
            sig = signals(run, args.recompute)
            k = rule_stop(sig, *rule) if isinstance(rule, tuple) else rule_stop(sig, rule)
            at = k if k is not None else len(sig) - 1
            good = sig[at]["true"] <= 1.05 * sig[-1]["true"]
            ok += good
            early += k is not None and sig[at]["labels"] < sig[-1]["labels"]
            stops.append(sig[at]["labels"])
            d = per.setdefault(run["dataset"], [0, 0, 0])
            d[0] += good; d[1] += k is not None; d[2] += 1
        n = len(runs)
        print(f"| {name} | {ok}/{n} ({ok / n:.0%}) | {early}/{n} ({early / n:.0%}) | {statistics.median(stops):.0f} |")
        if args.rule == name:
            for ds, (g, e, m) in sorted(per.items()):
                print(f"|   {ds} | {g}/{m} | {e}/{m} | |")


if __name__ == "__main__":
    main()
