#!/usr/bin/env python3
"""Generate the ingestion benchmark CSV: N rows x 50 features + target.

40 numeric columns (5 % empty cells), 10 categorical columns (up to 30 levels),
a numeric target with 90 % of cells empty. Standard library only, seeded.

    python3 bench/gen_wide.py --rows 1000000 --out /tmp/wide.csv
"""
import argparse
import random


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    levels = [[f"c{j}_{k}" for k in range(5 + 25 * j // 9)] for j in range(10)]
    header = [f"num{i}" for i in range(40)] + [f"cat{j}" for j in range(10)] + ["target"]
    with open(args.out, "w", newline="") as f:
        f.write(",".join(header) + "\n")
        for _ in range(args.rows):
            cells = []
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
            cells.append(f"{total:.3f}" if rng.random() < 0.10 else "")
            f.write(",".join(cells) + "\n")


if __name__ == "__main__":
    main()
