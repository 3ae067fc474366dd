"""pyarrow.flight driver for e2e/flight-findings.test.ts: reads with a JSON command, creates tables from
a pyarrow schema, writes and reads back columns of given pyarrow types, writes one oversized row.

Usage: python flight_findings.py <command> <url> '<json args>'
Prints one JSON object on stdout; errors of Flight calls as {"error": <class>, "message": ...}.
"""
import base64
import datetime
import json

import pyarrow as pa
import pyarrow.flight as fl

from flight_client import command_line, print_result

# The pyarrow types a test may name, with two sample values of each.
TYPES = {
    "month_day_nano": (pa.month_day_nano_interval(), [pa.MonthDayNano([1, 2, 3]), pa.MonthDayNano([-4, 5, 6000000001])]),
    "timestamp_s": (pa.timestamp("s"), [datetime.datetime(2024, 1, 1, 0, 0, 1), datetime.datetime(2262, 4, 12)]),
    "duration_ms": (pa.duration("ms"), [datetime.timedelta(milliseconds=1), datetime.timedelta(days=3, milliseconds=7)]),
    "dictionary": (pa.dictionary(pa.int32(), pa.string()), ["a", "b"]),
}


def rows_of(table):
    out = []
    for row in table.to_pylist():
        out.append({k: (str(v) if isinstance(v, int) and abs(v) >= 2 ** 53 else v if isinstance(v, (int, float, str, bool, type(None))) else repr(v)) for k, v in row.items()})
    return out


def cmd_read(client, args):
    info = client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(args["cmd"]).encode()))
    tables = [client.do_get(e.ticket).read_all() for e in info.endpoints]
    table = pa.concat_tables(tables) if tables else info.schema.empty_table()
    return {"rows": rows_of(table), "types": [str(t) for t in table.schema.types]}


def action(client, kind, body):
    return [json.loads(r.body.to_pybytes().decode()) for r in client.do_action(fl.Action(kind, json.dumps(body).encode()))]


def cmd_create(client, args):
    """create-table with schemaIpc: an id column and one column per named type."""
    fields = [pa.field("id", pa.int64(), False)] + [pa.field(c, TYPES[t][0]) for c, t in args["columns"].items()]
    schema = pa.schema(fields)
    return {"result": action(client, "create-table", {"name": args["name"], "schemaIpc": base64.b64encode(schema.serialize().to_pybytes()).decode()})}


def cmd_roundtrip(client, args):
    """create-table (schemaIpc) of the named types, DoPut two rows, DoGet them back: the types and values as received."""
    made = cmd_create(client, args)
    cols = {"id": pa.array([1, 2], pa.int64())}
    for c, t in args["columns"].items():
        cols[c] = pa.array(TYPES[t][1], TYPES[t][0])
    table = pa.table(cols)
    writer, reader = client.do_put(fl.FlightDescriptor.for_command(json.dumps({"table": args["name"], "expectedRows": table.num_rows}).encode()), table.schema)
    writer.write_table(table)
    writer.done_writing()
    reader.read()
    writer.close()
    info = client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps({"table": args["name"]}).encode()))
    got = pa.concat_tables([client.do_get(e.ticket).read_all() for e in info.endpoints]).sort_by("id")
    return {
        "created": made["result"],
        "sent_types": [str(t) for t in table.schema.types],
        "types": [str(t) for t in got.schema.types],
        "equal": got.equals(table),
        "values": {c: [repr(v) for v in got.column(c).to_pylist()] for c in args["columns"]},
        "sent": {c: [repr(v) for v in table.column(c).to_pylist()] for c in args["columns"]},
    }


def cmd_big_row(client, args):
    """create-table (id int64, s utf8), DoPut one row whose string has `bytes` bytes, DoGet it back."""
    action(client, "create-table", {"name": args["name"], "schema": [{"name": "id", "type": "int64", "nullable": False}, {"name": "s", "type": "utf8"}]})
    table = pa.table({"id": pa.array([1], pa.int64()), "s": pa.array(["x" * int(args["bytes"])], pa.string())})
    writer, reader = client.do_put(fl.FlightDescriptor.for_command(json.dumps({"table": args["name"], "expectedRows": table.num_rows}).encode()), table.schema)
    writer.write_table(table)
    writer.done_writing()
    put = json.loads(reader.read().to_pybytes().decode())
    writer.close()
    out = {"put": put}
    try:
        info = client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps({"table": args["name"]}).encode()))
        got = pa.concat_tables([client.do_get(e.ticket).read_all() for e in info.endpoints])
        out["rows"] = got.num_rows
        out["length"] = len(got.column("s")[0].as_py())
    except (fl.FlightError, pa.ArrowException) as e:
        out["read_error"] = type(e).__name__
        out["read_message"] = str(e)
    return out


COMMANDS = {"read": cmd_read, "create": cmd_create, "roundtrip": cmd_roundtrip, "big_row": cmd_big_row}


def main():
    command, url, args = command_line()
    client = fl.FlightClient(url)
    print_result(client, lambda: COMMANDS[command](client, args))


if __name__ == "__main__":
    main()
