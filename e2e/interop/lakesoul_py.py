"""LakeSoul's own Python package (PyPI `lakesoul`), driven by the interop tests.

    python lakesoul_py.py <command> '<json arguments>'

Prints one JSON object on stdout. Tables travel as Arrow IPC files (paths in the arguments), so no
value is re-typed on the way. Configuration is upstream's: LAKESOUL_PG_URL (jdbc:postgresql://...),
LAKESOUL_PG_USERNAME, LAKESOUL_PG_PASSWORD, and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
AWS_REGION / AWS_ENDPOINT for s3:// tables. Every write uses format="parquet" (lakesoul 2.0.0
defaults to Vortex, which the TypeScript reader does not read).

Commands:
  create        {name, namespace, path, schema: [[name, type], ...], partitionBy, primaryKeys, hashBucketNum}
  describe      {name, namespace}                        the table as LakeSoul-Python loads it
  namespaces    {namespace?}                             namespaces, and the tables of `namespace`
  write         {name, namespace, input, format?}        rows of the IPC file `input`, one commit
                                                         (format default "parquet")
  scan          {name, namespace, output, partitions?, readerOptions?}
                                                         merged rows as IPC file `output`
  file_rows     {paths, output}                          raw rows of data files, plus a `__file` column
  bucket_oracle {input, primaryKeys, hashBucketNum, workdir, output}
                rows of `input` bucketed by LakeSoul's own writer (no commit); adds `__bucket`
  to_parquet    {input, output}                          IPC file -> Parquet file (for Spark)
  make_bucket   {bucket}                                 creates an S3 bucket on AWS_ENDPOINT
  flight_read   {url, command, output}                   a lakesoul-ts Flight server's flight for CMD
                                                         `command` (every endpoint) as IPC file `output`
  flight_put    {url, command, input}                    rows of `input` by DoPut with CMD `command`
  versions      {}                                       lakesoul / core / pyarrow versions

    python lakesoul_py.py serve

runs the same commands one per stdin line ({"command": ..., "args": {...}}), each answer on one
stdout line after "@@lakesoul_py " (the differential test makes hundreds of calls).
"""

from __future__ import annotations

import json
import os
import re
import sys
import traceback
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

_TYPES = {
    "bool": pa.bool_(),
    "int8": pa.int8(),
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float32": pa.float32(),
    "float64": pa.float64(),
    "string": pa.string(),
    "binary": pa.binary(),
    "date32": pa.date32(),
    "timestamp_us_utc": pa.timestamp("us", tz="UTC"),
    "timestamp_ns": pa.timestamp("ns"),
    "decimal_10_2": pa.decimal128(10, 2),
    # nested: the wheel lists these in file_exist_cols by their leaf fields' names
    "list_int32": pa.list_(pa.int32()),
    "fixed_list_float32_2": pa.list_(pa.float32(), 2),
    "struct_a_int32_b_string": pa.struct([("a", pa.int32()), ("b", pa.string())]),
    "map_string_int32": pa.map_(pa.string(), pa.int32()),
}

_BUCKET = re.compile(r".*_(\d+)(?:\..*)?$")


def _catalog(namespace: str = "default"):
    from lakesoul import LakeSoulCatalog

    return LakeSoulCatalog.from_env(namespace=namespace)


def _read_ipc(path: str) -> pa.Table:
    with pa.memory_map(path) as source:
        return ipc.open_file(source).read_all()


def _write_ipc(table: pa.Table, path: str) -> None:
    with pa.OSFile(path, "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _filesystem(uri: str):
    if uri.startswith("s3://"):
        endpoint = os.environ["AWS_ENDPOINT"]
        fs = pafs.S3FileSystem(
            access_key=os.environ["AWS_ACCESS_KEY_ID"],
            secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
            region=os.environ.get("AWS_REGION", "us-east-1"),
            endpoint_override=endpoint,
            scheme="http" if endpoint.startswith("http://") else "https",
        )
        return fs, uri[len("s3://"):]
    if uri.startswith("file://"):
        # LakeSoul's writer reports percent-encoded file URIs (a '+' in a directory name is %2B).
        return pafs.LocalFileSystem(), unquote(uri[len("file://"):])
    return pafs.LocalFileSystem(), uri


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Reorders/casts the IPC input to the table schema (the writer insists on an exact match)."""
    columns = [table.column(field.name).cast(field.type) for field in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def cmd_versions(_args):
    import lakesoul._lib as lib

    return {
        "lakesoul": lib.__version__,
        "build": lib.__build_info__,
        "core": lib.__core_version__,
        "coreBuild": lib.__core_build_info__,
        "pyarrow": pa.__version__,
        "python": sys.version.split()[0],
    }


def cmd_create(args):
    schema = pa.schema([pa.field(name, _TYPES[kind]) for name, kind in args["schema"]])
    table = _catalog().create_table(
        args["name"],
        namespace=args.get("namespace", "default"),
        path=args["path"],
        schema=schema,
        partition_by=args.get("partitionBy", []),
        primary_keys=args.get("primaryKeys", []),
        hash_bucket_num=args.get("hashBucketNum"),
    )
    return {
        "tableId": table.id,
        "path": table.path,
        "properties": dict(table.properties),
        "partitionBy": list(table.partition_by),
        "primaryKeys": list(table.primary_keys),
    }


def cmd_describe(args):
    table = _catalog().table(args["name"], namespace=args.get("namespace", "default"))
    schema = table.schema
    return {
        "tableId": table.id,
        "path": table.path,
        "namespace": table.namespace,
        "schema": [[f.name, str(f.type), f.nullable] for f in schema],
        "partitionBy": list(table.partition_by),
        "primaryKeys": list(table.primary_keys),
        "properties": dict(table.properties),
        "hashBucketNum": _try(lambda: table.hash_bucket_num),
    }


def _try(fn):
    try:
        return fn()
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error}"}


def cmd_namespaces(args):
    catalog = _catalog()
    result = {"namespaces": list(catalog.list_namespaces())}
    if args.get("namespace"):
        result["tables"] = list(catalog.list_tables(args["namespace"]))
    return result


def cmd_write(args):
    table = _catalog().table(args["name"], namespace=args.get("namespace", "default"))
    data = _conform(_read_ipc(args["input"]), table.schema)
    result = table.write_arrow(data, format=args.get("format", "parquet"))
    return {
        "rows": result.row_count,
        "files": [
            {
                "partition": f.partition,
                "path": f.path,
                "size": f.size,
                "existingColumns": list(f.existing_columns),
                "rowCount": f.row_count,
            }
            for f in result.files
        ],
    }


def cmd_scan(args):
    table = _catalog().table(args["name"], namespace=args.get("namespace", "default"))
    scan = table.scan(partitions=args.get("partitions") or None)
    if args.get("readerOptions"):
        scan = scan.options(reader_options=args["readerOptions"])
    result = scan.to_arrow_table()
    _write_ipc(result, args["output"])
    return {"rows": result.num_rows, "columns": result.schema.names}


def cmd_file_rows(args):
    parts = []
    for uri in args["paths"]:
        fs, path = _filesystem(uri)
        # partitioning=None: range columns are not in the files and must not be guessed from the path.
        data = pq.read_table(path, filesystem=fs, partitioning=None)
        data = data.append_column("__file", pa.array([uri] * data.num_rows, pa.string()))
        parts.append(data)
    result = pa.concat_tables(parts, promote_options="permissive")
    _write_ipc(result, args["output"])
    return {"rows": result.num_rows}


def cmd_bucket_oracle(args):
    from lakesoul.io import IOConfig, Writer

    data = _read_ipc(args["input"])
    keys = args["primaryKeys"]
    fields = [
        pa.field(f.name, f.type, nullable=f.name not in keys) for f in data.schema
    ]
    schema = pa.schema(fields)
    data = pa.Table.from_arrays(data.columns, schema=schema)
    config = IOConfig(
        path=args["workdir"],
        schema=schema,
        format="parquet",
        primary_keys=keys,
        hash_bucket_num=args["hashBucketNum"],
        thread_num=1,
    )
    with Writer(config) as writer:
        writer.write(data)
    parts = []
    for info in writer.result.files:
        match = _BUCKET.match(info.path)
        if not match:
            raise ValueError(f"no bucket in file name {info.path}")
        fs, path = _filesystem(info.path)
        rows = pq.read_table(path, filesystem=fs, partitioning=None)
        rows = rows.append_column(
            "__bucket", pa.array([int(match.group(1))] * rows.num_rows, pa.int32())
        )
        parts.append(rows)
    result = pa.concat_tables(parts)
    _write_ipc(result, args["output"])
    return {"rows": result.num_rows, "files": len(parts)}


def cmd_to_parquet(args):
    data = _read_ipc(args["input"])
    pq.write_table(data, args["output"])
    return {"rows": data.num_rows}


def cmd_flight_read(args):
    """A lakesoul-ts Flight server's flight for CMD `command`, every endpoint, as IPC file `output`."""
    import pyarrow.flight as fl

    with fl.FlightClient(args["url"]) as client:
        descriptor = fl.FlightDescriptor.for_command(json.dumps(args["command"]).encode())
        info = client.get_flight_info(descriptor)
        tables = [client.do_get(endpoint.ticket).read_all() for endpoint in info.endpoints]
    result = pa.concat_tables(tables) if tables else info.schema.empty_table()
    _write_ipc(result, args["output"])
    return {"rows": result.num_rows, "endpoints": len(info.endpoints)}


def cmd_flight_put(args):
    """Rows of IPC file `input` sent by DoPut with CMD `command` (its expectedRows added); the server's answer."""
    import pyarrow.flight as fl

    data = _read_ipc(args["input"])
    command = {**args["command"], "expectedRows": data.num_rows}
    with fl.FlightClient(args["url"]) as client:
        writer, reader = client.do_put(fl.FlightDescriptor.for_command(json.dumps(command).encode()), data.schema)
        writer.write_table(data)
        writer.done_writing()
        answer = json.loads(reader.read().to_pybytes())
        writer.close()
    return answer


def cmd_make_bucket(args):
    import boto3

    boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT"]).create_bucket(
        Bucket=args["bucket"]
    )
    return {"bucket": args["bucket"]}


def _run(command: str, args) -> dict:
    """One command's answer: its result, or the error it raised with its traceback."""
    handler = globals().get(f"cmd_{command}")
    if handler is None:
        return {"error": f"unknown command {command}"}
    try:
        return handler(args)
    except Exception as error:  # reported to the test, which fails with the message
        return {"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()}


def serve() -> int:
    """One command per stdin line ({"command", "args"}), one answer per stdout line after SERVE_MARK
    (the wheel's own output cannot be taken for one): tests with many calls pay the import once."""
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        answer = _run(request["command"], request.get("args", {}))
        sys.stdout.write(SERVE_MARK + json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


SERVE_MARK = "@@lakesoul_py "


def main() -> int:
    command = sys.argv[1]
    if command == "serve":
        return serve()
    answer = _run(command, json.loads(sys.argv[2]) if len(sys.argv) > 2 else {})
    print(json.dumps(answer))
    return 2 if str(answer.get("error", "")).startswith("unknown command") else 1 if "error" in answer else 0


if __name__ == "__main__":
    sys.exit(main())
