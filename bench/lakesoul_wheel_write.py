"""The lakesoul wheel's side of bench/io-write-peers.mjs: one round of "create a PK table, write the
base rows, upsert the update rows", timed inside this process (reading the Arrow IPC inputs and
importing the wheel are not timed).

    python lakesoul_wheel_write.py '{"name", "path", "base", "upsert", "buckets", "threads", "partition_by"?}'

Configuration is upstream's (LAKESOUL_PG_URL, LAKESOUL_PG_USERNAME, LAKESOUL_PG_PASSWORD). Prints
one JSON object: {"writeMs", "upsertMs", "bytes"} (bytes: the base write's files).
"""

import json
import sys
import time

import pyarrow as pa
import pyarrow.ipc as ipc
from lakesoul import LakeSoulCatalog


def read_ipc(path: str) -> pa.Table:
    with pa.memory_map(path) as source:
        return ipc.open_file(source).read_all()


def main() -> None:
    args = json.loads(sys.argv[1])
    base = read_ipc(args["base"])
    # the primary key is not nullable in the table the wheel creates (a key column of strings arrives
    # nullable in the IPC file; it holds no nulls)
    key = base.schema.get_field_index("id")
    schema = base.schema.set(key, base.schema.field(key).with_nullable(False))
    base = base.cast(schema)
    upsert = read_ipc(args["upsert"]).cast(schema)
    catalog = LakeSoulCatalog.from_env(namespace="default")
    table = catalog.create_table(
        args["name"],
        namespace="default",
        path=args["path"],
        schema=base.schema,
        partition_by=args.get("partition_by", []),
        primary_keys=["id"],
        hash_bucket_num=args["buckets"],
    )
    threads = args["threads"]
    t0 = time.perf_counter()
    written = table.write_arrow(base, format="parquet", thread_num=threads)
    t1 = time.perf_counter()
    table.write_arrow(upsert, format="parquet", thread_num=threads)
    t2 = time.perf_counter()
    print(json.dumps({
        "writeMs": (t1 - t0) * 1000,
        "upsertMs": (t2 - t1) * 1000,
        "bytes": sum(f.size for f in written.files),
    }))


if __name__ == "__main__":
    main()
