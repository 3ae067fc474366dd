"""The lakesoul wheel's side of bench/io-read-peers.mjs: full reads of tables written by lakesoul-ts,
timed inside this process (importing the wheel and one warm-up read are not timed).

    python lakesoul_wheel_read.py '{"tables": ["layered", "compacted"]}'

Configuration is upstream's (LAKESOUL_PG_URL, LAKESOUL_PG_USERNAME, LAKESOUL_PG_PASSWORD). Prints one
JSON object: {name: {"ms", "rows", "scoreSum", "idSum"}} per table (string ids: "idSum" sums their
bytes).
"""

import json
import sys
import time

import pyarrow as pa
import pyarrow.compute as pc
from lakesoul import LakeSoulCatalog


def main() -> None:
    args = json.loads(sys.argv[1])
    catalog = LakeSoulCatalog.from_env(namespace="default")
    tables = {name: catalog.table(name, namespace="default") for name in args["tables"]}
    tables[args["tables"][0]].scan().to_arrow_table()  # warm-up: catalog connection, thread pools
    out = {}
    for name, table in tables.items():
        t0 = time.perf_counter()
        data = table.scan().to_arrow_table()
        ms = (time.perf_counter() - t0) * 1000
        ids = data.column("id")
        if pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type):
            ids = pc.binary_length(ids)
        out[name] = {
            "ms": ms,
            "rows": data.num_rows,
            "scoreSum": pc.sum(data.column("score")).as_py(),
            "idSum": str(pc.sum(ids).as_py()),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
