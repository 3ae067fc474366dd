"""Flight SQL clients for the lakesoul-ts Flight SQL e2e tests: the ADBC Flight SQL driver
(adbc-driver-flightsql, the Go driver behind ADBC) and, for what ADBC hides (endpoints), raw
pyarrow.flight calls with Flight SQL commands encoded here.

Usage: python flight_sql_client.py <command> <url> '<json args>'
Prints one JSON object on stdout. Errors of the calls are reported as
{"error": <exception class>, "message": ...} (exit code 0) so the test can assert on them.
"""
import json
import sys

import adbc_driver_flightsql.dbapi as dbapi
import pyarrow as pa
import pyarrow.flight as fl
import pyarrow.ipc as ipc


def connect(url, args):
    kwargs = {}
    if args.get("bearer"):
        kwargs["adbc.flight.sql.authorization_header"] = "Bearer " + args["bearer"]
    if args.get("basic"):
        kwargs["username"], kwargs["password"] = args["basic"]
    return dbapi.connect(url, db_kwargs=kwargs, autocommit=True)


def write_ipc(table, out):
    with ipc.new_file(out, table.schema) as w:
        w.write_table(table)


def query(url, args):
    with connect(url, args) as conn, conn.cursor() as cur:
        cur.execute(args["sql"])
        table = cur.fetch_arrow_table()
    write_ipc(table, args["out"])
    return {"rows": table.num_rows, "columns": table.column_names}


def prepared(url, args):
    with connect(url, args) as conn, conn.cursor() as cur:
        params = cur.adbc_prepare(args["sql"])
        runs = []
        for _ in range(args.get("times", 1)):
            cur.execute(args["sql"])
            runs.append(cur.fetch_arrow_table())
    write_ipc(runs[-1], args["out"])
    return {"parameters": None if params is None else len(params), "rows": [t.num_rows for t in runs], "columns": runs[-1].column_names}


def objects(url, args):
    with connect(url, args) as conn:
        return {"objects": conn.adbc_get_objects(depth=args.get("depth", "all")).read_all().to_pylist()}


def info(url, args):
    with connect(url, args) as conn:
        return {"info": {k: v for k, v in conn.adbc_get_info().items() if isinstance(v, (str, int, bool))}}


def table_types(url, args):
    with connect(url, args) as conn:
        return {"types": conn.adbc_get_table_types()}


def table_schema(url, args):
    with connect(url, args) as conn:
        schema = conn.adbc_get_table_schema(args["table"], db_schema_filter=args.get("namespace"))
        return {"fields": [[f.name, str(f.type), f.nullable] for f in schema]}


# --- raw Flight SQL over pyarrow.flight (an encoder independent of the server's) ---------------

def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(num, payload):
    return _varint((num << 3) | 2) + _varint(len(payload)) + payload


def any_command(name, fields):
    value = b"".join(_field(n, v.encode() if isinstance(v, str) else v) for n, v in fields)
    return _field(1, ("type.googleapis.com/arrow.flight.protocol.sql." + name).encode()) + _field(2, value)


def endpoints(url, args):
    """GetFlightInfo of a CommandStatementQuery: the endpoints, and the rows each one yields."""
    client = fl.FlightClient(url)
    headers = [(b"authorization", b"Bearer " + args["bearer"].encode())] if args.get("bearer") else []
    opts = fl.FlightCallOptions(headers=headers)
    flight = client.get_flight_info(fl.FlightDescriptor.for_command(any_command("CommandStatementQuery", [(1, args["sql"])])), opts)
    rows = [client.do_get(e.ticket, opts).read_all().num_rows for e in flight.endpoints]
    schema = client.get_schema(fl.FlightDescriptor.for_command(any_command("CommandStatementQuery", [(1, args["sql"])])), opts).schema
    return {"endpoints": len(flight.endpoints), "endpoint_rows": rows, "schema": schema.names, "total_records": flight.total_records}


def tickets(url, args):
    """GetFlightInfo of a command on this server; the tickets, to redeem elsewhere."""
    client = fl.FlightClient(url)
    flight = client.get_flight_info(fl.FlightDescriptor.for_command(any_command(args["command"], [(n, v) for n, v in args.get("fields", [])])))
    return {"tickets": [e.ticket.ticket.hex() for e in flight.endpoints]}


def redeem(url, args):
    client = fl.FlightClient(url)
    tables = [client.do_get(fl.Ticket(bytes.fromhex(t))).read_all() for t in args["tickets"]]
    table = pa.concat_tables(tables) if tables else None
    return {"rows": 0 if table is None else table.num_rows, "pylist": [] if table is None else table.to_pylist()[: args.get("head", 1000)]}


def main():
    command, url = sys.argv[1], sys.argv[2]
    args = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    fn = {
        "query": query, "prepared": prepared, "objects": objects, "info": info, "table_types": table_types,
        "table_schema": table_schema, "endpoints": endpoints, "tickets": tickets, "redeem": redeem,
    }[command]
    try:
        result = fn(url, args)
    except Exception as e:  # reported to the test, which asserts on class and message
        result = {"error": type(e).__name__, "message": str(e)}
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
