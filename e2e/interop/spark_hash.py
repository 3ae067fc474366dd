"""Spark SQL's own `hash(...)` (Murmur3, seed 42) over the rows of a Parquet file.

    python spark_hash.py '{"input": "rows.parquet", "keys": [["c0"], ["c1", "c2"]], "output": "hashes.json"}'

Runs with the PySpark venv (local[1], loopback only, no UI). Writes {"hashes": [[h for each key set]
per row, in file order by the `row_id` column], "spark": version} to `output`.
"""

import json
import sys

from pyspark.sql import SparkSession


def main() -> int:
    args = json.loads(sys.argv[1])
    spark = (
        SparkSession.builder.master("local[1]")
        .appName("lakesoul-ts-interop-hash")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    try:
        spark.sparkContext.setLogLevel("ERROR")
        df = spark.read.parquet(args["input"])
        exprs = ["row_id"] + [
            f"hash({', '.join('`' + c + '`' for c in keys)}) AS h{i}"
            for i, keys in enumerate(args["keys"])
        ]
        rows = df.selectExpr(*exprs).orderBy("row_id").collect()
        result = {
            "spark": spark.version,
            "types": {f.name: f.dataType.simpleString() for f in df.schema.fields},
            "hashes": [[row[f"h{i}"] for i in range(len(args["keys"]))] for row in rows],
        }
        with open(args["output"], "w") as out:
            json.dump(result, out)
    finally:
        spark.stop()
    print(json.dumps({"rows": len(rows)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
