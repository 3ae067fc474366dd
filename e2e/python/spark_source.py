"""Drives the lakesoul_ts Spark data source (clients/python) in one local[2,2] Spark session (two
threads, a failed task run once more) for e2e/spark-source.test.ts.

Usage: python spark_source.py '<json: {"steps": [...], "bytesUrl": url}>'
Each step is {"op": "read" | "write" | "exec", ...}; the answers are printed as one JSON line (a list, one
entry per step). A write step that fails reports {"error": ...} instead of raising, so the test
asserts on it, as does a read step with "fails": true. A read step's "conf" is set for that step only;
with "collect": true it answers its rows (sorted; floats as repr) and schema instead of writing "out". bytesUrl answers the number of bytes the Flight server has sent so far (the test's
counting proxy), read before and after each step.
"""
import json
import os
import sys
import time
import urllib.request

import pyarrow as pa
import pyarrow.ipc as ipc
from pyspark import TaskContext
from pyspark.sql import SparkSession

from lakesoul_ts.spark import LakeSoulTsDataSource, LakeSoulTsWriter, register


class KilledWriter(LakeSoulTsWriter):
    """The source's writer, except that the Python worker writing partition 1 dies mid-stream: after
    its first batch went into its DoPut, before the stream's end (5 s later, when the other task has
    staged its files in the transaction)."""

    def write(self, iterator):
        if TaskContext.get().partitionId() != 1:
            return super().write(iterator)

        def dying():
            for b in iterator:
                yield b
                time.sleep(5)
                os._exit(1)
        return super().write(dying())


def source_with(writer_class, format_name):
    """A format named `format_name`: lakesoul_ts with `writer_class` as its writer."""

    class Source(LakeSoulTsDataSource):
        @classmethod
        def name(cls):
            return format_name

        def writer(self, schema, overwrite):
            return writer_class(self.options, overwrite, schema)

    return Source


class FlakyWriter(LakeSoulTsWriter):
    """The source's writer, except that the first attempt of partition 1 fails with a Python exception
    after its first batch went into its DoPut; Spark runs the task again (the session is local[2,2]),
    and that attempt writes every row."""

    def write(self, iterator):
        ctx = TaskContext.get()
        if ctx.partitionId() != 1 or ctx.attemptNumber() > 0:
            return super().write(iterator)

        def failing():
            for b in iterator:
                yield b
                raise RuntimeError("flaky task: the first attempt fails")
        return super().write(failing())


#: the kill test's format and the retry test's
KilledSource = source_with(KilledWriter, "lakesoul_ts_killed")
FlakySource = source_with(FlakyWriter, "lakesoul_ts_flaky")


def sent_bytes(url):
    with urllib.request.urlopen(url) as r:
        return json.loads(r.read())["bytes"]


def plain(v):
    # JSON-safe: floats as their repr (NaN, inf), other non-JSON values as text.
    if v is None or isinstance(v, (bool, int, str)):
        return v
    return repr(v) if isinstance(v, float) else str(v)


def read_step(spark, step):
    for k, v in step.get("conf", {}).items():
        spark.conf.set(k, v)
    try:
        reader = spark.read.format("lakesoul_ts")
        for k, v in step["options"].items():
            reader = reader.option(k, v)
        if step.get("schema"):
            reader = reader.schema(step["schema"])
        df = reader.load()
        if step.get("where"):
            df = df.filter(step["where"])
        if step.get("select"):
            df = df.select(*step["select"])
        if step.get("exprs"):
            df = df.selectExpr(*step["exprs"])
        if step.get("collect"):
            # Small answers: the rows (sorted) and the schema, in the JSON answer.
            rows = sorted(([plain(v) for v in r] for r in df.collect()), key=json.dumps)
            return {"rows": rows, "schema": df.schema.simpleString()}
        table = df.toArrow()
    except Exception as e:  # noqa: BLE001 - reported to the test when the step expects a failure
        if not step.get("fails"):
            raise
        return {"error": type(e).__name__, "message": str(e)[:20000]}
    finally:
        for k in step.get("conf", {}):
            spark.conf.unset(k)
    with ipc.new_file(step["out"], table.schema) as w:
        w.write_table(table)
    return {"rows": table.num_rows, "columns": table.schema.names, "partitions": df.rdd.getNumPartitions() if not step.get("where") else None}


def kill_second_partition(batches):
    # Task 1 is killed mid-write: its Python worker dies after handing rows to the writer, late enough
    # that task 0 has staged its files in the transaction (which the rollback must then delete).
    ctx = TaskContext.get()
    for b in batches:
        yield b
        if ctx.partitionId() == 1:
            time.sleep(5)
            os._exit(1)


def exec_step(spark, step):
    # A documentation example, run as written in this session (docs/flight.md, "Spark").
    try:
        exec(compile(step["code"], step.get("name", "<doc>"), "exec"), {"spark": spark})
    except Exception:  # noqa: BLE001 - reported to the test
        import traceback
        return {"error": traceback.format_exc()[-3000:]}
    return {"ok": True}


def write_step(spark, step):
    # (set first: a timestamp literal of the DataFrame's expressions is read in the session zone)
    for k, v in step.get("conf", {}).items():
        spark.conf.set(k, v)
    try:
        return _write(spark, step)
    finally:
        for k in step.get("conf", {}):
            spark.conf.unset(k)


def _write(spark, step):
    with ipc.open_file(step["input"]) as f:
        table = f.read_all()
    df = spark.createDataFrame(table)
    if step.get("exprs"):
        df = df.selectExpr(*step["exprs"])
    df = df.repartition(step.get("tasks", 2))
    if step.get("where"):
        df = df.filter(step["where"])
    if step.get("kill"):
        df = df.mapInArrow(kill_second_partition, df.schema)
    w = df.write.format(step.get("format", "lakesoul_ts")).mode(step.get("mode", "append"))
    for k, v in step["options"].items():
        w = w.option(k, v)
    try:
        w.save()
    except Exception as e:  # noqa: BLE001 - reported to the test
        return {"error": type(e).__name__, "message": str(e)[:20000]}
    return {"ok": True}


def main():
    args = json.loads(sys.argv[1])
    spark = (SparkSession.builder.master("local[2,2]").appName("lakesoul_ts-e2e")
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
             .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    register(spark)
    spark.dataSource.register(KilledSource)
    spark.dataSource.register(FlakySource)
    out = []
    try:
        for step in args["steps"]:
            before = sent_bytes(args["bytesUrl"])
            answer = {"read": read_step, "write": write_step, "exec": exec_step}[step["op"]](spark, step)
            answer["bytes"] = sent_bytes(args["bytesUrl"]) - before
            out.append(answer)
    finally:
        spark.stop()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
