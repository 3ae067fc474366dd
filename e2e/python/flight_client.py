"""pyarrow.flight driver for the lakesoul-ts Flight e2e tests.

Usage: python flight_client.py <command> <url> '<json args>'
Prints one JSON object on stdout. Errors raised by Flight calls are reported as
{"error": <exception class>, "message": ...} (exit code 0) so the test can assert on them.
"""
import base64
import hashlib
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pyarrow.flight as fl
import pyarrow.ipc as ipc


def call_options(args):
    headers = []
    if args.get("bearer"):
        headers.append((b"authorization", b"Bearer " + args["bearer"].encode()))
    return fl.FlightCallOptions(headers=headers)


def connect(url, args):
    client = fl.FlightClient(url)
    opts = call_options(args)
    if args.get("basic"):
        user, password = args["basic"]
        header = client.authenticate_basic_token(user, password)
        opts = fl.FlightCallOptions(headers=[header])
    return client, opts


def descriptor(args):
    if "path" in args:
        return fl.FlightDescriptor.for_path(*args["path"])
    return fl.FlightDescriptor.for_command(json.dumps(args["cmd"]).encode())


def cmd_list(client, opts, args):
    out = []
    for info in client.list_flights(options=opts):
        out.append({
            "path": [p.decode() if isinstance(p, bytes) else p for p in info.descriptor.path],
            "total_records": info.total_records,
            "columns": info.schema.names,
            "endpoints": len(info.endpoints),
        })
    return {"flights": out}


def read_endpoint(client, opts, endpoint):
    reader = client.do_get(endpoint.ticket, options=opts)
    return reader.read_all()


def cmd_read(client, opts, args):
    info = client.get_flight_info(descriptor(args), options=opts)
    threads = int(args.get("threads", 8))
    endpoints = info.endpoints
    if args.get("endpoint") is not None:
        endpoints = [endpoints[int(args["endpoint"])]]
    # "repeat": read the endpoints that many times on this connection (a benchmark's rounds: the
    # first pays this process's first-call set-up); "seconds" is the first round, "round_seconds" all,
    # "round_cpu_seconds" the CPU this process spent in each
    round_seconds = []
    round_cpu = []
    for _ in range(max(1, int(args.get("repeat", 1)))):
        started = time.perf_counter()
        cpu = time.process_time()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            tables = list(pool.map(lambda e: read_endpoint(client, opts, e), endpoints))
        round_seconds.append(time.perf_counter() - started)
        round_cpu.append(time.process_time() - cpu)
    table = pa.concat_tables(tables) if tables else info.schema.empty_table()
    if args.get("out"):
        with ipc.new_file(args["out"], table.schema) as w:
            w.write_table(table)
    expirations = [e.expiration_time.as_py().timestamp() if e.expiration_time is not None else None for e in info.endpoints]
    return {
        "endpoints": len(info.endpoints),
        "endpoint_rows": [t.num_rows for t in tables],
        "rows": table.num_rows,
        "total_records": info.total_records,
        "ordered": info.ordered,
        "columns": table.schema.names,
        "schema_columns": info.schema.names,
        "expirations": expirations,
        "locations": [[loc.uri.decode() for loc in e.locations] for e in info.endpoints],
        "seconds": round_seconds[0],
        "round_seconds": round_seconds,
        # this process's CPU time (all its threads) per round
        "round_cpu_seconds": round_cpu,
        "bytes": table.nbytes,
    }


def cmd_schema(client, opts, args):
    result = client.get_schema(descriptor(args), options=opts)
    return {"columns": result.schema.names, "types": [str(t) for t in result.schema.types]}


def cmd_tamper(client, opts, args):
    info = client.get_flight_info(descriptor(args), options=opts)
    ticket = bytearray(info.endpoints[0].ticket.ticket)
    pos = int(args.get("pos", len(ticket) // 2))
    ticket[pos] ^= 0x01
    try:
        client.do_get(fl.Ticket(bytes(ticket)), options=opts).read_all()
        return {"error": None}
    except (fl.FlightError, pa.ArrowException) as e:
        return {"error": type(e).__name__, "message": str(e)}


def cmd_expire(client, opts, args):
    info = client.get_flight_info(descriptor(args), options=opts)
    first = client.do_get(info.endpoints[0].ticket, options=opts).read_all().num_rows
    # a retry of the same ticket before expiry works too
    again = client.do_get(info.endpoints[0].ticket, options=opts).read_all().num_rows
    time.sleep(float(args["sleep"]))
    try:
        client.do_get(info.endpoints[0].ticket, options=opts).read_all()
        return {"first": first, "again": again, "error": None}
    except (fl.FlightError, pa.ArrowException) as e:
        return {"first": first, "again": again, "error": type(e).__name__, "message": str(e)}


def make_table(args, start, n):
    ids = pa.array(range(start, start + n), pa.int64())
    images = [hashlib.sha256(str(i).encode()).digest() * (1 + i % 40) + bytes([0, 255, i % 256]) for i in range(start, start + n)]
    cols = {
        "id": ids,
        "date": pa.array(["2024-02-0%d" % (1 + i % 2) for i in range(start, start + n)], pa.string()),
        "label": pa.array(["py-%d" % i for i in range(start, start + n)], pa.string()),
        "score": pa.array([i / 8 for i in range(start, start + n)], pa.float64()),
        "image": pa.array(images, pa.binary()),
    }
    return pa.table({k: cols[k] for k in args["columns"]})


def action_json(client, opts, kind, body):
    results = list(client.do_action(fl.Action(kind, json.dumps(body).encode()), options=opts))
    return json.loads(results[0].body.to_pybytes().decode())


def cmd_put_fail(client, opts, args):
    """A producer that fails mid-stream the ways pyarrow lets it: raises inside `with writer`, returns
    without done_writing(), or calls writer.close() without done_writing()."""
    n = int(args["rows"])
    table = make_table(args, int(args.get("start", 0)), n)
    batches = table.to_batches(max_chunksize=max(1, n // 5))
    writer, reader = client.do_put(descriptor(args), table.schema, options=opts)
    how = args["how"]
    sent = 0
    try:
        if how == "raise":
            try:
                with writer:
                    for b in batches[:3]:
                        writer.write_batch(b)
                        sent += b.num_rows
                    raise RuntimeError("producer failed")
            except RuntimeError:
                pass
        elif how == "close_only":
            for b in batches[:3]:
                writer.write_batch(b)
                sent += b.num_rows
            writer.close()
        elif how == "no_done":
            for b in batches[:3]:
                writer.write_batch(b)
                sent += b.num_rows
            # the producer returns: writer and reader are dropped, the client closes below
            del writer, reader
        else:
            raise ValueError(how)
    except (fl.FlightError, pa.ArrowException) as e:
        return {"sent": sent, "error": type(e).__name__, "message": str(e)}
    return {"sent": sent}


def cmd_txn(client, opts, args):
    """begin (with the fields of args["begin"]) -> `workers` concurrent DoPut streams from separate clients -> commit / rollback / nothing."""
    body = {"table": args["table"]}
    if args.get("namespace"):
        body["namespace"] = args["namespace"]
    # extra begin fields (mode, replacePartitions, replaceWhere): the begin body only, not the DoPut CMD
    tid = action_json(client, opts, "begin", dict(body, **args.get("begin", {})))["transaction"]
    workers = int(args.get("workers", 2))
    n = int(args["rows"])
    start = int(args.get("start", 0))

    names = args.get("stream_names")  # true: "w<k>-a<attempt>"; "same": every stream "w"

    def worker(k, attempt=0):
        c = fl.FlightClient(args["url"])
        try:
            part = make_table(args, start + k * n, n)
            cmd = dict(body, transaction=tid)
            if args.get("mode"):
                cmd["mode"] = args["mode"]
            if names:
                cmd["stream"] = "w" if names == "same" else f"w{k}-a{attempt}"
            writer, reader = c.do_put(fl.FlightDescriptor.for_command(json.dumps(cmd).encode()), part.schema, options=opts)
            if k == args.get("fail_worker") and attempt == 0:
                with writer:
                    writer.write_batch(part.to_batches(max_chunksize=max(1, n // 4))[0])
                    raise RuntimeError("worker failed")
            writer.write_table(part, max_chunksize=max(1, n // 4))
            writer.done_writing()
            meta = reader.read()
            writer.close()
            return dict(json.loads(meta.to_pybytes().decode()), **({"stream": cmd["stream"]} if names else {}))
        except RuntimeError as e:
            return {"failed": str(e)}
        except (fl.FlightError, pa.ArrowException) as e:
            return {"error": type(e).__name__, "message": str(e)}
        finally:
            c.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        puts = list(pool.map(worker, range(workers)))
    # a coordinator running failed writers again (Spark's next task attempt)
    if args.get("retry_failed"):
        puts += [worker(k, 1) for k, p in enumerate(puts) if "failed" in p or "error" in p]
    out = {"transaction": tid, "puts": puts}
    end = args.get("end", "commit")
    try:
        if end == "commit":
            commit_body = {"transaction": tid}
            if args.get("expectedRows") is not None:
                commit_body["expectedRows"] = args["expectedRows"]
            if names:
                commit_body["streams"] = args.get("streams", [p["stream"] for p in puts if "stream" in p])
            out["commit"] = action_json(client, opts, "commit", commit_body)
        elif end == "rollback":
            out["rollback"] = action_json(client, opts, "rollback", {"transaction": tid})
    except (fl.FlightError, pa.ArrowException) as e:
        out["error"] = type(e).__name__
        out["message"] = str(e)
    return out


def cmd_hostile(client, opts, args):
    """Sends the largest and deepest hostile inputs; reports each error's class and message."""
    big = "x" * (1 << 20)
    cases = {
        "path_1mb_name": lambda: client.get_flight_info(fl.FlightDescriptor.for_path(big), options=opts),
        "schema_1mb_name": lambda: client.get_schema(fl.FlightDescriptor.for_path("default", big), options=opts),
        "cmd_30mb": lambda: client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps({"table": "events", "pad": "p" * (30 << 20)}).encode()), options=opts),
        "cmd_1mb_table": lambda: client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps({"table": big}).encode()), options=opts),
        "filter_parens": lambda: client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps({"table": "events", "filter": "(" * 10000 + "id > 1" + ")" * 10000}).encode()), options=opts),
        "filter_not": lambda: client.get_flight_info(fl.FlightDescriptor.for_command(json.dumps({"table": "events", "filter": "not " * 5000 + "id > 1"}).encode()), options=opts),
        "version_1e300": lambda: client.get_flight_info(fl.FlightDescriptor.for_command(b'{"table": "events", "version": 1e300}'), options=opts),
        "nul_table": lambda: client.get_flight_info(fl.FlightDescriptor.for_path("default", "ev\u0000ents"), options=opts),
        "type_list_5000": lambda: list(client.do_action(fl.Action("create-table", json.dumps({"name": "deep", "schema": [{"name": "c", "type": "list<" * 5000 + "int64" + ">" * 5000}]}).encode()), options=opts)),
        "ticket_garbage": lambda: client.do_get(fl.Ticket(b"LST1" + bytes(range(256)) * 4), options=opts).read_all(),
        "action_1mb_type": lambda: list(client.do_action(fl.Action(big, b"{}"), options=opts)),
        "put_filter_key": lambda: put_with(client, opts, {"table": "sink", "filter": "id > 1", "expectedRows": 1}),
    }
    out = {}
    for name, fn in cases.items():
        try:
            fn()
            out[name] = {"error": None, "message": ""}
        except (fl.FlightError, pa.ArrowException, KeyError) as e:
            out[name] = {"error": type(e).__name__, "message": str(e)[:5000]}
    return out


def put_with(client, opts, cmd):
    table = pa.table({"id": pa.array([1], pa.int64()), "date": ["2024-01-01"], "label": ["x"], "score": [1.0]})
    writer, reader = client.do_put(fl.FlightDescriptor.for_command(json.dumps(cmd).encode()), table.schema, options=opts)
    writer.write_table(table)
    writer.done_writing()
    reader.read()
    writer.close()


def cmd_put(client, opts, args):
    n = int(args["rows"])
    start = int(args.get("start", 0))
    ids = pa.array(range(start, start + n), pa.int64())
    images = [hashlib.sha256(str(i).encode()).digest() * (1 + i % 40) + bytes([0, 255, i % 256]) for i in range(start, start + n)]
    cols = {
        "id": ids,
        "date": pa.array(["2024-02-0%d" % (1 + i % 2) for i in range(start, start + n)], pa.string()),
        "label": pa.array(["py-%d" % i for i in range(start, start + n)], pa.string()),
        "score": pa.array([i / 8 for i in range(start, start + n)], pa.float64()),
        "image": pa.array(images, pa.binary()),
    }
    table = pa.table({k: cols[k] for k in args["columns"]})
    if args.get("out"):
        with ipc.new_file(args["out"], table.schema) as w:
            w.write_table(table)
    writer, reader = client.do_put(descriptor(args), table.schema, options=opts)
    try:
        # several batches in one stream: the server must commit once, at the end
        writer.write_table(table, max_chunksize=max(1, n // 4))
        writer.done_writing()
        meta = reader.read()
        writer.close()
    except (fl.FlightError, pa.ArrowException) as e:
        return {"error": type(e).__name__, "message": str(e)}
    return {"result": json.loads(meta.to_pybytes().decode()) if meta is not None else None}


def cmd_action(client, opts, args):
    try:
        results = list(client.do_action(fl.Action(args["type"], json.dumps(args["body"]).encode()), options=opts))
        return {"results": [json.loads(r.body.to_pybytes().decode()) for r in results]}
    except (fl.FlightError, pa.ArrowException) as e:
        return {"error": type(e).__name__, "message": str(e)}


def cmd_actions(client, opts, args):
    return {"actions": [a.type for a in client.list_actions(options=opts)]}


def cmd_schema_ipc(client, opts, args):
    schema = pa.schema([("id", pa.int64(), False), ("name", pa.string()), ("photo", pa.binary())])
    return {"schemaIpc": base64.b64encode(schema.serialize().to_pybytes()).decode()}


def cmd_auth(client, opts, args):
    """Tries list_flights without credentials, then with whatever args give; reports each outcome."""
    out = {}
    try:
        bare = fl.FlightClient(args["url"])
        out["anonymous"] = len(list(bare.list_flights()))
    except (fl.FlightError, pa.ArrowException) as e:
        out["anonymous"] = type(e).__name__
    try:
        out["with_credentials"] = len(list(client.list_flights(options=opts)))
    except (fl.FlightError, pa.ArrowException) as e:
        out["with_credentials"] = type(e).__name__ + ": " + str(e)
    return out


def cmd_unimplemented(client, opts, args):
    out = {}
    try:
        writer, reader = client.do_exchange(descriptor(args), options=opts)
        writer.begin(pa.schema([("x", pa.int64())]))
        writer.done_writing()
        reader.read_all()
        out["exchange"] = None
    except (fl.FlightError, pa.ArrowException) as e:
        out["exchange"] = type(e).__name__
        out["exchange_message"] = str(e)
    return out


COMMANDS = {
    "unimplemented": cmd_unimplemented,
    "list": cmd_list, "read": cmd_read, "schema": cmd_schema, "tamper": cmd_tamper, "expire": cmd_expire,
    "put": cmd_put, "put_fail": cmd_put_fail, "hostile": cmd_hostile, "txn": cmd_txn, "action": cmd_action, "actions": cmd_actions, "schema_ipc": cmd_schema_ipc, "auth": cmd_auth,
}


def command_line():
    """The command, the server's URL and the JSON arguments of the script's command line."""
    return sys.argv[1], sys.argv[2], json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}


def print_error(e):
    print(json.dumps({"error": type(e).__name__, "message": str(e)}))


def print_result(client, call):
    """Prints call()'s result as JSON, or its Flight or Arrow error; closes the client after."""
    try:
        print(json.dumps(call()))
    except (fl.FlightError, pa.ArrowException) as e:
        print_error(e)
    finally:
        client.close()


def main():
    command, url, args = command_line()
    args["url"] = url
    try:
        client, opts = connect(url, args)
    except (fl.FlightError, pa.ArrowException) as e:
        print_error(e)
        return
    print_result(client, lambda: COMMANDS[command](client, opts, args))


if __name__ == "__main__":
    main()
