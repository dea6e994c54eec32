#!/usr/bin/env python3
"""Generate the ingestion benchmark CSV: N rows x 50 features + target.

40 numeric columns (5 % empty cells), 10 categorical columns (up to 30 levels),
a numeric target with 90 % of cells empty (or exactly `--labeled` rows
labeled, spread evenly). Standard library only, seeded.

    python3 bench/gen_wide.py --rows 1000000 --out /tmp/wide.csv
    python3 bench/gen_wide.py --rows 10000000 --labeled 1000 --out /tmp/wide10m.csv
    python3 bench/gen_wide.py --rows 10000000 --labeled 1000 --id --out /tmp/wide10m_id.csv

`--id` puts a first column `id` (the row number from 1; the same features
and target otherwise), for pools keyed by id (bench/spark_wide.py).
"""
import argparse
import random


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--labeled", type=int, help="exactly this many labeled rows, evenly spread (default: 10 %% at random)")
    ap.add_argument("--id", action="store_true", help="a first column `id`, the row number from 1")
    args = ap.parse_args()
    every = args.rows // args.labeled if args.labeled else None
    rng = random.Random(args.seed)
    levels = [[f"c{j}_{k}" for k in range(5 + 25 * j // 9)] for j in range(10)]
    header = [f"num{i}" for i in range(40)] + [f"cat{j}" for j in range(10)] + ["target"]
    if args.id:
        header = ["id"] + header
    with open(args.out, "w", newline="") as f:
        f.write(",".join(header) + "\n")
        for row in range(args.rows):
            cells = [str(row + 1)] if args.id else []
            total = 0.0
            for i in range(40):
                v = rng.gauss(i, 1 + i % 7)
                total += v * ((i % 5) - 2)
                cells.append("" if rng.random() < 0.05 else f"{v:.4f}")
            for j in range(10):
                lv = levels[j]
                k = min(int(rng.expovariate(0.3)), len(lv) - 1)
                total += k * 0.5
                cells.append(lv[k])
            # The draw is made either way, so --labeled changes no feature.
            coin = rng.random() < 0.10
            labeled = row % every == 0 and row // every < args.labeled if every else coin
            cells.append(f"{total:.3f}" if labeled else "")
            f.write(",".join(cells) + "\n")


if __name__ == "__main__":
    main()
