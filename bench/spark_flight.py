"""Timed reads and writes for bench/spark-flight.mjs, in the PySpark venv.

Usage: python spark_flight.py '<json {"uri", "table", "sinkSpark", "sinkPut", "rows", "threads"}>'
Prints one JSON line of seconds: pyarrow reading every endpoint, Spark local[2] reading the table
through the lakesoul_ts source, Spark writing `rows` generated rows, and one pyarrow DoPut of the
same rows. Spark starts (and is warmed up on a tiny read) before any clock runs.
"""
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.flight as fl
from pyspark.sql import SparkSession

from lakesoul_ts.spark import register


def main():
    a = json.loads(sys.argv[1])
    uri, rows = a["uri"], a["rows"]
    client = fl.FlightClient(uri)
    out = {}

    t0 = time.perf_counter()
    info = client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps({"table": a["table"]}).encode()))
    with ThreadPoolExecutor(a["threads"]) as pool:
        read = sum(pool.map(lambda e: client.do_get(e.ticket).read_all().num_rows, info.endpoints))
    out["pyarrowRead"] = time.perf_counter() - t0
    out["endpoints"] = len(info.endpoints)
    if read != rows:
        raise SystemExit(f"pyarrow read {read} rows, expected {rows}")

    spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
             .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.memory", "2g").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    register(spark)
    src = lambda t: spark.read.format("lakesoul_ts").option("uri", uri).option("table", t)
    src(a["table"]).option("filter", "id < 10").load().count()  # warm-up: JVM, Python workers

    t0 = time.perf_counter()
    src(a["table"]).load().write.format("noop").mode("overwrite").save()
    out["sparkRead"] = time.perf_counter() - t0

    gen = spark.range(rows).selectExpr("id", "concat('2024-01-0', cast(id % 4 + 1 as string)) as date", "id / 7.0d as score")
    gen = gen.repartition(8).cache()
    gen.count()  # generated and cached before the clock: the write is what is timed
    t0 = time.perf_counter()
    gen.write.format("lakesoul_ts").option("uri", uri).option("table", a["sinkSpark"]).mode("append").save()
    out["sparkWrite"] = time.perf_counter() - t0
    spark.stop()

    ids = pa.array(range(rows), pa.int64())
    table = pa.table({
        "id": ids,
        "date": pc.binary_join_element_wise("2024-01-0", pc.cast(pc.add(pc.bit_wise_and(ids, 3), 1), pa.string()), ""),
        "score": pc.divide(pc.cast(ids, pa.float64()), 7.0),
    })
    cmd = {"table": a["sinkPut"], "expectedRows": rows}
    t0 = time.perf_counter()
    writer, reader = client.do_put(fl.FlightDescriptor.for_command(json.dumps(cmd).encode()), table.schema)
    writer.write_table(table, max_chunksize=65536)
    writer.done_writing()
    reader.read()
    writer.close()
    out["onePut"] = time.perf_counter() - t0
    print(json.dumps(out))


if __name__ == "__main__":
    main()
