"""The Spark driver's peak memory with the executors in JVMs of their own
(docs/scaling.md, "Driver memory"): Spark's `local-cluster[2,1,2048]`
master starts two executor JVMs beside the driver, as a cluster would,
where `local[2]` runs driver and executors in one JVM.

Reuses the work directory of bench/spark_wide.py (its `labeled.csv` and
`pool/` of Parquet files) and queries the pool by its path:

  python3 bench/spark_driver_memory.py /tmp/sw10m tree-variance,committee,cover

Prints one JSON line per strategy: seconds, the driver JVM's and this
Python process's peak resident memory, the first picks.
"""

import json
import os
import resource
import sys
import tempfile
import time

from spark_wide import jvm_peak_mb  # this directory


def main():
    work, strategies = sys.argv[1], sys.argv[2].split(",")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    import al
    import al.spark

    spark = (
        SparkSession.builder.master("local-cluster[2,1,2048]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "1g")
        .config("spark.executor.memory", "2g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    scratch = tempfile.mkdtemp(prefix="al-driver-memory-")
    for strategy in strategies:
        project = al.Project.init(f"{work}/labeled.csv", target="target", path=f"{scratch}/{strategy}.db", id_cols=["id"])
        t = time.perf_counter()
        picked = al.spark.query(project, f"{work}/pool", batch=20, strategy=strategy, id_col="id", seed=1)
        print(json.dumps({
            "strategy": strategy,
            "s": round(time.perf_counter() - t, 2),
            "driver_jvm_peak_mb": round(jvm_peak_mb(spark)),
            "driver_python_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "first_ids": [int(i) for i in picked["id"][:3]],
        }), flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
