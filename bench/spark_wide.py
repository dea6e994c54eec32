"""al.spark.query on the wide benchmark table against al-cli query on the
same rows (docs/scaling.md, "Spark's overhead"; the issue's targets).

From a CSV of bench/gen_wide.py with --id (an id, 40 numeric and 10
categorical columns, 1 000 labeled rows):
  * the pool (its unlabeled rows) as --files Parquet files (8), by pyarrow;
  * the local side: `al-cli init CSV --id-col id` (the whole table), then
    `al-cli query` per strategy, whole commands, with /usr/bin/time -v;
  * the Spark side: a project initialised from the labeled rows only, then
    al.spark.query per strategy on local[2] with the pool in 2, 4 and 8
    partitions (1, 2 and 4 per core), each a fresh project so every query
    sees the same pool; the driver's peak memory (this Python process and
    the JVM, which in local mode also runs the tasks) after each.

  python3 bench/gen_wide.py --rows 10000000 --labeled 1000 --id --out /tmp/wide10m_id.csv
  python3 bench/spark_wide.py --al target/release/al-cli --csv /tmp/wide10m_id.csv
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time


def jvm_peak_mb(spark):
    pid = spark.sparkContext._jvm.ProcessHandle.current().pid()
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def prepare(csv, work, files=8):
    """The pool (unlabeled rows) as `files` Parquet files, the labeled rows as a CSV."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    os.makedirs(f"{work}/pool", exist_ok=True)
    t = time.perf_counter()
    types = {f"cat{j}": pa.string() for j in range(10)} | {"id": pa.int64(), "target": pa.float64()}
    reader = pcsv.open_csv(csv, convert_options=pcsv.ConvertOptions(column_types=types))
    writers, labeled, rows, k = [None] * files, [], 0, 0
    for batch in reader:
        table = pa.Table.from_batches([batch])
        has = pc.is_valid(table["target"])
        labeled.append(table.filter(has))
        pool = table.filter(pc.invert(has)).drop_columns(["target"])
        if writers[k] is None:
            writers[k] = pq.ParquetWriter(f"{work}/pool/part-{k}.parquet", pool.schema)
        writers[k].write_table(pool)
        k = (k + 1) % files
        rows += pool.num_rows
    for w in writers:
        w.close()
    pcsv.write_csv(pa.concat_tables(labeled), f"{work}/labeled.csv")
    print(json.dumps({"pool_rows": rows, "prepare_s": round(time.perf_counter() - t, 1)}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--al", required=True)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--strategies", default="committee,cover")
    ap.add_argument(
        "--partitions", default="2,4,8",
        help="pool partitions per Spark run; 'paths' passes the Parquet directory itself (the tasks read the files)",
    )
    ap.add_argument("--work", default=None)
    ap.add_argument("--files", type=int, default=8, help="Parquet files the pool is written as")
    ap.add_argument("--skip-local", action="store_true")
    ap.add_argument("--reuse", action="store_true", help="keep the pool and labeled rows --work already holds")
    ap.add_argument("--warm-up", action="store_true", help="one untimed query first (the session's first call starts the JVM's and Python workers' caches)")
    args = ap.parse_args()
    os.environ["PYSPARK_PYTHON"] = sys.executable
    work = args.work or tempfile.mkdtemp(prefix="al-spark-wide-")
    if not (args.reuse and os.path.exists(f"{work}/labeled.csv")):
        prepare(args.csv, work, args.files)

    if not args.skip_local:
        local = f"{work}/local.db"
        if not (args.reuse and os.path.exists(local)):
            if os.path.exists(local):
                os.remove(local)
            t = time.perf_counter()
            subprocess.run([args.al, "-p", local, "init", args.csv, "--target", "target", "--id-col", "id"], check=True, capture_output=True)
            print(json.dumps({"local_init_s": round(time.perf_counter() - t, 1)}), flush=True)
        for strategy in args.strategies.split(","):
            copy = f"{work}/local-{strategy}.db"
            shutil.copy(local, copy)
            t = time.perf_counter()
            done = subprocess.run(
                ["/usr/bin/time", "-v", args.al, "-p", copy, "query", "--batch", "20", "--strategy", strategy, "--seed", "1", "--out", f"{work}/b.csv"],
                check=True, capture_output=True, text=True,
            )
            rss = next(int(l.split()[-1]) for l in done.stderr.splitlines() if "Maximum resident" in l)
            picked = subprocess.run(["head", "-4", f"{work}/b.csv"], capture_output=True, text=True).stdout.splitlines()[1:]
            print(json.dumps({"side": "local", "strategy": strategy, "query_s": round(time.perf_counter() - t, 2), "peak_rss_mb": round(rss / 1024), "first_rows": picked}), flush=True)
            os.remove(copy)

    import al
    import al.spark
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.files.maxPartitionBytes", str(4 << 30))
        .config("spark.sql.files.openCostInBytes", str(4 << 30))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    if args.warm_up:
        db = f"{work}/warm-up.db"
        if os.path.exists(db):
            os.remove(db)
        project = al.Project.init(f"{work}/labeled.csv", target="target", path=db, id_cols=["id"])
        t = time.perf_counter()
        al.spark.query(project, f"{work}/pool", batch=20, strategy="tree-variance", id_col="id", seed=1)
        print(json.dumps({"side": "spark", "warm_up_s": round(time.perf_counter() - t, 2)}), flush=True)
    for partitions in args.partitions.split(","):
        for strategy in args.strategies.split(","):
            db = f"{work}/spark-{strategy}-{partitions}.db"
            if os.path.exists(db):
                os.remove(db)
            project = al.Project.init(f"{work}/labeled.csv", target="target", path=db, id_cols=["id"])
            if partitions == "paths":
                pool = f"{work}/pool"
            else:
                pool = spark.read.parquet(f"{work}/pool").coalesce(int(partitions))
            t = time.perf_counter()
            picked = al.spark.query(project, pool, batch=20, strategy=strategy, id_col="id", seed=1)
            print(json.dumps({
                "side": "spark", "strategy": strategy, "partitions": partitions, "files": len(os.listdir(f"{work}/pool")),
                "query_s": round(time.perf_counter() - t, 2),
                "driver_python_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "driver_jvm_peak_mb": round(jvm_peak_mb(spark)),
                "first_ids": [int(i) for i in picked["id"][:3]],
            }), flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
