#!/usr/bin/env python3
"""What al adds around a user's own estimator: `al.query(X, y,
model=HistGradientBoostingRegressor(), strategy="qbc")` (a committee of
bootstrap clones of the estimator, their spread on the pool, the top rows)
against the same member fits and pool predictions written as a plain
Python loop, in one process, on the same data.

    pip install ./crates/al-py scikit-learn
    python3 bench/estimator_overhead.py --rows 100000 --features 26 --labels 1000

Both sides fit `members` clones on bootstrap resamples of the labeled rows
and predict the whole pool with each; the loop then takes the variance and
the top `batch`. Median of --runs; the loop's picks are not expected to
equal al's (different resamples), only the work to be the same.
"""
import argparse
import statistics
import time

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingRegressor

import al


def data(rows, features, labels, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, features))
    y = X[:, 0] * 3 + np.sin(X[:, 1] * 2) + X[:, 2] * X[:, 3] + rng.normal(scale=0.3, size=rows)
    y_obs = np.full(rows, np.nan)
    y_obs[:labels] = y[:labels]
    return X, y_obs


def plain_loop(est, X, y, members, batch, seed):
    labeled = ~np.isnan(y)
    Xl, yl, pool = X[labeled], y[labeled], np.flatnonzero(~labeled)
    rng = np.random.default_rng(seed)
    preds = []
    for m in range(members):
        take = rng.integers(0, len(yl), len(yl))
        member = clone(est).set_params(random_state=m)
        member.fit(Xl[take], yl[take])
        preds.append(member.predict(X[pool]))
    var = np.var(np.stack(preds), axis=0)
    return pool[np.argsort(-var)[:batch]]


def skactiveml_qbc(est, X, y, members, batch, seed):
    """scikit-activeml's QueryByCommittee over a SklearnRegressor-wrapped
    bagging of the estimator (its documented way to make a committee)."""
    from sklearn.ensemble import BaggingRegressor
    from skactiveml.pool import QueryByCommittee
    from skactiveml.regressor import SklearnRegressor

    ensemble = SklearnRegressor(BaggingRegressor(clone(est), n_estimators=members, random_state=seed), random_state=seed)
    return QueryByCommittee(random_state=seed).query(X, y, ensemble=ensemble, batch_size=batch)


def modal_committee(est, X, y, members, batch, seed):
    """modAL's CommitteeRegressor of bootstrapped learners, max_std_sampling."""
    from modAL.disagreement import max_std_sampling
    from modAL.models import ActiveLearner, CommitteeRegressor

    labeled = ~np.isnan(y)
    np.random.seed(seed)
    learners = [ActiveLearner(estimator=clone(est).set_params(random_state=m), X_training=X[labeled],
                              y_training=y[labeled], bootstrap_init=True) for m in range(members)]
    committee = CommitteeRegressor(learner_list=learners, query_strategy=max_std_sampling)
    pool = np.flatnonzero(~labeled)
    picked, _ = committee.query(X[pool], n_instances=batch)
    return pool[picked]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--features", type=int, default=26)
    ap.add_argument("--labels", type=int, default=1000)
    ap.add_argument("--members", type=int, default=10)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--peers", action="store_true", help="also scikit-activeml and modAL, same estimator and members")
    args = ap.parse_args()
    X, y = data(args.rows, args.features, args.labels, 0)
    est = HistGradientBoostingRegressor(max_iter=100)
    timings = {"al.query qbc": [], "plain loop": []}
    for run in range(args.runs):
        t0 = time.perf_counter()
        picks = al.query(X, y, batch_size=args.batch, strategy=f"qbc:members={args.members}", model=est, seed=run)
        timings["al.query qbc"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        loop = plain_loop(est, X, y, args.members, args.batch, run)
        timings["plain loop"].append(time.perf_counter() - t0)
        assert len(picks) == len(loop) == args.batch
        if args.peers:
            for name, peer in (("scikit-activeml", skactiveml_qbc), ("modAL", modal_committee)):
                t0 = time.perf_counter()
                picked = peer(est, X, y, args.members, args.batch, run)
                timings.setdefault(name, []).append(time.perf_counter() - t0)
                assert len(picked) == args.batch
    print(f"{args.rows} rows x {args.features} features, {args.labels} labels, {args.members} members, batch {args.batch}")
    for name, t in timings.items():
        print(f"  {name:16s} median {statistics.median(t):6.2f} s  (runs: {', '.join(f'{v:.2f}' for v in t)})")
    ratio = statistics.median(timings["al.query qbc"]) / statistics.median(timings["plain loop"])
    print(f"  ratio al / loop: {ratio:.2f}")


if __name__ == "__main__":
    main()
