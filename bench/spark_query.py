"""al.spark.query against a local query on the same rows (docs/scaling.md).

Writes a labeled CSV (1 000 rows) and a pool of --rows rows (one Parquet
file for the local project, the same rows as --partitions Parquet files for
Spark), then for each strategy times, in one process on the same data:
  * al.spark.query on Spark local[2] (the whole call: checks, scoring as
    mapInArrow, the reduce, recording the round), and
  * the local query on a project holding the pool (`al-cli query`, a whole
    command), after `al-cli add --as pool` (timed once, separately).
Checks that both pick the same rows (per-row strategies).

  pip install pyspark pyarrow pandas numpy  (and the al package)
  python3 bench/spark_query.py --al target/release/al-cli --rows 1000000
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd


def frame(rng, ids, labeled):
    n = len(ids)
    sqft = rng.uniform(500, 3000, n).round(1)
    rooms = rng.integers(1, 7, n)
    city = rng.choice(["ames", "boone", "clive", "dallas", "eldora"], n)
    age = rng.uniform(0, 80, n).round(2)
    out = pd.DataFrame({"id": ids, "sqft": sqft, "rooms": rooms, "city": city, "age": age})
    if labeled:
        out["price"] = (sqft * 120 + rooms * 5000 - age * 300 + rng.normal(0, 8000, n)).round(0)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--al", required=True, help="the al-cli binary")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--labeled", type=int, default=1000)
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--strategies", default="tree-variance,qbc,cover")
    args = ap.parse_args()
    os.environ["PYSPARK_PYTHON"] = sys.executable
    import al
    import al.spark
    from pyspark.sql import SparkSession

    work = tempfile.mkdtemp(prefix="al-spark-bench-")
    rng = np.random.default_rng(0)
    frame(rng, np.arange(1, args.labeled + 1), True).to_csv(f"{work}/labeled.csv", index=False)
    pool = frame(rng, np.arange(10_000_001, 10_000_001 + args.rows), False)
    pool.to_parquet(f"{work}/pool.parquet", index=False)
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    spark.createDataFrame(pool).repartition(args.partitions).write.parquet(f"{work}/parts")
    results = []
    local_db = f"{work}/local.db"
    al.Project.init(f"{work}/labeled.csv", target="price", path=local_db, id_cols=["id"])
    t = time.perf_counter()
    subprocess.run([args.al, "-p", local_db, "add", f"{work}/pool.parquet", "--as", "pool"], check=True, capture_output=True)
    add_s = time.perf_counter() - t
    for strategy in args.strategies.split(","):
        db = f"{work}/spark-{strategy}.db"
        project = al.Project.init(f"{work}/labeled.csv", target="price", path=db, id_cols=["id"])
        sdf = spark.read.parquet(f"{work}/parts")
        t = time.perf_counter()
        picked = al.spark.query(project, sdf, batch=20, strategy=strategy, id_col="id", seed=1)
        spark_s = time.perf_counter() - t
        copy = f"{work}/local-{strategy}.db"
        shutil.copy(local_db, copy)
        t = time.perf_counter()
        subprocess.run(
            [args.al, "-p", copy, "--json", "query", "--batch", "20", "--strategy", strategy, "--seed", "1", "--out", f"{work}/b.csv"],
            check=True, capture_output=True,
        )
        local_s = time.perf_counter() - t
        local_ids = [str(v) for v in pd.read_csv(f"{work}/b.csv")["id"]]
        results.append(
            {"strategy": strategy, "spark_s": round(spark_s, 2), "local_query_s": round(local_s, 2),
             "scorer_bytes": len(project.scorer("id", 20, strategy, seed=1)),
             # cover: Spark picks from a 2 000-row hashed sample, the local query from its own.
             "same_picks": list(picked["id"]) == local_ids}
        )
        print(json.dumps(results[-1]), flush=True)
    print(json.dumps({"rows": args.rows, "partitions": args.partitions, "local_add_s": round(add_s, 2)}))
    spark.stop()


if __name__ == "__main__":
    main()
