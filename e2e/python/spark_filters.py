"""Translates Spark data source filters with lakesoul_ts.spark.filter_text and reads what each one
selects through the Flight server, for e2e/spark-filters.test.ts.

Usage: python spark_filters.py <grpc uri> '<json {"table", "cases": [{"name", "filter": [class, column(s), value]}]}>'
Prints one JSON line: per case {"name", "text" (null: not pushed), "ids" (sorted, when pushed)}.
"""
import datetime
import json
import sys

import pyarrow.flight as fl
from pyspark.sql import datasource as ds

from lakesoul_ts.spark import filter_text


def build(spec):
    kind, column, value = spec
    path = tuple(column) if isinstance(column, list) else (column,)
    if kind == "Not":
        return ds.Not(build(value))
    if kind in ("IsNull", "IsNotNull"):
        return getattr(ds, kind)(path)
    if isinstance(value, dict) and "date" in value:
        value = datetime.date.fromisoformat(value["date"])
    if isinstance(value, dict) and "float" in value:
        value = float(value["float"])
    if kind == "In":
        value = tuple(value)
    return getattr(ds, kind)(path, value)


def main():
    uri, args = sys.argv[1], json.loads(sys.argv[2])
    client = fl.FlightClient(uri)
    out = []
    for case in args["cases"]:
        text = filter_text(build(case["filter"]))
        entry = {"name": case["name"], "text": text}
        if text is not None:
            cmd = {"table": args["table"], "columns": ["id"], "filter": text}
            info = client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(cmd).encode()))
            ids = []
            for e in info.endpoints:
                ids += client.do_get(e.ticket).read_all().column("id").to_pylist()
            entry["ids"] = sorted(ids)
        out.append(entry)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
