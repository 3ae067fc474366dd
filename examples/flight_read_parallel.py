"""Read a lakesoul-ts table over Arrow Flight, every endpoint in parallel.

    python examples/flight_read_parallel.py grpc://127.0.0.1:8815 events [namespace] [--token T] [--user U --password P]

A lakesoul-ts Flight server returns one endpoint per split (partition x bucket for primary-key
tables), each with a signed ticket that any replica can redeem. This script fetches them with a
thread pool, concatenates them into one pyarrow Table, converts it to a pandas DataFrame, and prints
a JSON summary on the last line.
"""
import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pyarrow.flight as flight


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("table")
    parser.add_argument("namespace", nargs="?", default="default")
    parser.add_argument("--token", help="bearer token configured on the server")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    client = flight.FlightClient(args.url)
    headers = []
    if args.user:
        headers.append(client.authenticate_basic_token(args.user, args.password or ""))
    elif args.token:
        headers.append((b"authorization", b"Bearer " + args.token.encode()))
    options = flight.FlightCallOptions(headers=headers)

    # PATH [namespace, table]; a CMD descriptor takes JSON instead, e.g.
    # flight.FlightDescriptor.for_command(json.dumps({"table": "events", "timestamp": "2024-01-02T00:00:00Z"}).encode())
    info = client.get_flight_info(flight.FlightDescriptor.for_path(args.namespace, args.table), options)

    def read(endpoint):
        # an empty location list means "this same server"; otherwise any listed replica works
        target = client if not endpoint.locations else flight.FlightClient(endpoint.locations[0])
        return target.do_get(endpoint.ticket, options).read_all()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        parts = list(pool.map(read, info.endpoints))
    table = pa.concat_tables(parts) if parts else info.schema.empty_table()
    seconds = time.perf_counter() - started

    df = table.to_pandas()
    print(df.head())
    print(json.dumps({
        "endpoints": len(info.endpoints),
        "arrow_rows": table.num_rows,
        "pandas_rows": len(df),
        "columns": list(df.columns),
        "seconds": round(seconds, 3),
    }))


if __name__ == "__main__":
    main()
