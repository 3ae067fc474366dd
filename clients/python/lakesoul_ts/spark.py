"""Spark data source ``lakesoul_ts``: lakesoul-ts tables read and written through its Arrow Flight server.

Register once per session, then use the format::

    from lakesoul_ts.spark import register
    register(spark)
    df = spark.read.format("lakesoul_ts").option("uri", "grpc://host:8815").option("table", "events").load()

Reads: the driver plans with GetFlightInfo; every endpoint (one per split) becomes one Spark input
partition, redeemed by the executor that reads it (DoGet), so the Flight server (or its replicas)
serves the tasks in parallel. The schema comes from GetSchema. Filters Spark pushes (Spark 4.1+, with
``spark.sql.python.filterPushdown.enabled``; ``register`` turns it on) are translated into the
server's filter grammar where the translation is exact, and the rest stay with Spark; projection is
the ``columns`` option or a user schema naming a subset of the columns.

Writes: the driver begins one Flight write transaction; every task streams its rows with DoPut under
it (staged, invisible); the driver commits once with the total row count, or rolls back when any task
failed or the job was aborted, which deletes the staged files. A task killed mid-stream breaks its
DoPut, which poisons the transaction on the server, so it can never commit. ``mode("append")`` adds
the rows (``writeMode`` "upsert" merges them by primary key, the default of primary-key tables);
``mode("overwrite")`` begins the transaction in mode overwrite: its one commit replaces the table, or
only the partitions chosen by ``replaceWhere`` / ``replacePartitions``, with the DataFrame's rows.
"""
from __future__ import annotations

import json
import math
import datetime as _dt
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import pyarrow as pa
import pyarrow.flight as fl
from pyspark.sql.datasource import (
    DataSource,
    DataSourceArrowWriter,
    DataSourceReader,
    InputPartition,
    WriterCommitMessage,
)
from pyspark.sql.types import StructType

#: The format name: ``spark.read.format(FORMAT)``.
FORMAT = "lakesoul_ts"

#: Options read by the source (case-insensitive, as Spark passes them).
OPTIONS = (
    "uri", "table", "namespace", "token", "user", "password", "columns", "filter",
    "versionAsOf", "timestampAsOf", "startTimestamp", "endTimestamp", "writeMode", "replaceWhere", "replacePartitions",
)


class LakeSoulTsOptionError(ValueError):
    """An option of the ``lakesoul_ts`` source is missing or malformed; the message names it."""


def _opt(options: Dict[str, str], name: str) -> Optional[str]:
    # Spark hands options over case-insensitively; look the name up the same way.
    lowered = name.lower()
    for k, v in options.items():
        if k.lower() == lowered:
            return v
    return None


def _settings(options: Dict[str, str]) -> Dict[str, Any]:
    known = {o.lower() for o in OPTIONS}
    unknown = sorted(k for k in options if k.lower() not in known and k.lower() != "path")
    if unknown:
        raise LakeSoulTsOptionError(f"lakesoul_ts: unknown option(s) {', '.join(unknown)}; known: {', '.join(OPTIONS)}")
    table = _opt(options, "table") or _opt(options, "path")
    if not table:
        raise LakeSoulTsOptionError('lakesoul_ts: option "table" is required (the table name; "namespace" defaults to "default")')
    s: Dict[str, Any] = {
        "uri": _opt(options, "uri") or "grpc://127.0.0.1:8815",
        "table": table,
        "namespace": _opt(options, "namespace") or "default",
        "token": _opt(options, "token"),
        "user": _opt(options, "user"),
        "password": _opt(options, "password"),
    }
    if (s["user"] is None) != (s["password"] is None):
        raise LakeSoulTsOptionError(f'lakesoul_ts (table {table}): give both "user" and "password", or neither')
    return s


def _connect(settings: Dict[str, Any], location: Optional[str] = None) -> Tuple[fl.FlightClient, fl.FlightCallOptions]:
    client = fl.FlightClient(location or settings["uri"])
    headers: List[Tuple[bytes, bytes]] = []
    if settings.get("token"):
        headers.append((b"authorization", b"Bearer " + settings["token"].encode()))
    elif settings.get("user") is not None:
        headers.append(client.authenticate_basic_token(settings["user"], settings["password"]))
    return client, fl.FlightCallOptions(headers=headers)


def _time(value: str) -> Any:
    """Epoch milliseconds when the option is an integer, else the text (ISO-8601, checked by the server)."""
    v = value.strip()
    return int(v) if v.lstrip("-").isdigit() else v


def _read_command(options: Dict[str, str], settings: Dict[str, Any], columns: Optional[List[str]] = None,
                  pushed: Sequence[str] = ()) -> Dict[str, Any]:
    cmd: Dict[str, Any] = {"table": settings["table"], "namespace": settings["namespace"]}
    if columns is None and _opt(options, "columns"):
        columns = [c.strip() for c in _opt(options, "columns").split(",") if c.strip()]
    if columns is not None:
        cmd["columns"] = columns
    filters = ([f"({_opt(options, 'filter')})"] if _opt(options, "filter") else []) + [f"({p})" for p in pushed]
    if filters:
        cmd["filter"] = " and ".join(filters)
    version, ts = _opt(options, "versionAsOf"), _opt(options, "timestampAsOf")
    start, end = _opt(options, "startTimestamp"), _opt(options, "endTimestamp")
    if version is not None:
        try:
            cmd["version"] = int(version)
        except ValueError:
            raise LakeSoulTsOptionError(f'lakesoul_ts (table {settings["table"]}): "versionAsOf" must be an integer, got {version!r}') from None
    if ts is not None:
        cmd["timestamp"] = _time(ts)
    if start is not None:
        cmd["incremental"] = {"start": _time(start), **({"end": _time(end)} if end is not None else {})}
    elif end is not None:
        raise LakeSoulTsOptionError(f'lakesoul_ts (table {settings["table"]}): "endTimestamp" needs "startTimestamp"')
    return cmd


def _descriptor(cmd: Dict[str, Any]) -> fl.FlightDescriptor:
    return fl.FlightDescriptor.for_command(json.dumps(cmd).encode())


# ---- filters: Spark's pushed filters -> the server's filter grammar -------------------------------

def _column(attribute: Tuple[str, ...]) -> Optional[str]:
    if len(attribute) != 1:  # a nested field: the grammar names top-level columns only
        return None
    return '"' + attribute[0].replace('"', '""') + '"'


def _literal(value: Any) -> Optional[str]:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return f"DATE '{value.isoformat()}'"
    # datetimes (time zone semantics), decimals, bytes: left to Spark
    return None


def _like(value: Any, prefix: str, suffix: str) -> Optional[str]:
    if not isinstance(value, str):
        return None
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("'", "''")
    return f"like '{prefix}{escaped}{suffix}'"


def filter_text(f: Any) -> Optional[str]:
    """The server-grammar text of one Spark ``pyspark.sql.datasource`` filter, or None when it has no
    exact translation (Spark then evaluates it). ``Not`` is never pushed: SQL's NOT over a NULL
    comparison keeps the row out, which only a three-valued evaluator matches."""
    from pyspark.sql import datasource as ds

    col = _column(getattr(f, "attribute", ()))
    if col is None:
        return None
    comparisons = {"EqualTo": "=", "GreaterThan": ">", "GreaterThanOrEqual": ">=", "LessThan": "<", "LessThanOrEqual": "<="}
    name = type(f).__name__
    if name in comparisons or (name == "EqualNullSafe" and f.value is not None):
        lit = _literal(f.value)
        return None if lit is None else f"{col} {comparisons.get(name, '=')} {lit}"
    if isinstance(f, ds.In):
        lits = [_literal(v) for v in f.value]
        if not lits or any(v is None for v in lits):
            return None
        return f"{col} in ({', '.join(lits)})"
    if isinstance(f, ds.IsNull):
        return f"{col} is null"
    if isinstance(f, ds.IsNotNull):
        return f"{col} is not null"
    if isinstance(f, ds.StringStartsWith):
        like = _like(f.value, "", "%")
    elif isinstance(f, ds.StringEndsWith):
        like = _like(f.value, "%", "")
    elif isinstance(f, ds.StringContains):
        like = _like(f.value, "%", "%")
    else:
        return None
    return None if like is None else f"{col} {like}"


# ---- reading -------------------------------------------------------------------------------------

class FlightEndpointPartition(InputPartition):
    """One Flight endpoint (one split of the table) as a Spark input partition: its signed ticket and
    the locations to redeem it at (none: the source's ``uri``)."""

    def __init__(self, ticket: Optional[bytes], locations: List[str]):
        super().__init__(ticket)
        self.ticket = ticket
        self.locations = locations


class LakeSoulTsReader(DataSourceReader):
    """Plans on the driver (GetFlightInfo), reads one endpoint per task (DoGet)."""

    def __init__(self, options: Dict[str, str], schema: StructType):
        self.options = dict(options)
        self.settings = _settings(self.options)
        self.columns = [f.name for f in schema.fields]
        self.pushed: List[str] = []

    def pushFilters(self, filters: List[Any]) -> List[Any]:  # Spark >= 4.1
        kept = []
        for f in filters:
            text = filter_text(f)
            if text is None:
                kept.append(f)
            else:
                self.pushed.append(text)
        return kept

    def command(self) -> Dict[str, Any]:
        """The CMD the driver plans with: projection, the ``filter`` option AND the pushed filters, time travel."""
        return _read_command(self.options, self.settings, self.columns, self.pushed)

    def partitions(self) -> Sequence[InputPartition]:
        client, call = _connect(self.settings)
        try:
            info = client.get_flight_info(_descriptor(self.command()), call)
        finally:
            client.close()
        parts = [FlightEndpointPartition(e.ticket.ticket, [str(loc.uri.decode() if isinstance(loc.uri, bytes) else loc.uri) for loc in e.locations])
                 for e in info.endpoints]
        # Spark needs one partition at least; an empty table reads nothing from it.
        return parts or [FlightEndpointPartition(None, [])]

    def read(self, partition: FlightEndpointPartition) -> Iterator[pa.RecordBatch]:
        if partition.ticket is None:
            return
        location = next((u for u in partition.locations if u.startswith("grpc")), None)
        client, call = _connect(self.settings, location)
        try:
            reader = client.do_get(fl.Ticket(partition.ticket), call)
            for chunk in reader:
                batch = chunk.data
                if batch.schema.names != self.columns:
                    batch = pa.RecordBatch.from_arrays([batch.column(c) for c in self.columns], names=self.columns)
                yield batch
        finally:
            client.close()


# ---- writing -------------------------------------------------------------------------------------

@dataclass
class StagedCommitMessage(WriterCommitMessage):
    """What one task staged in the transaction (the driver sums ``rows`` into the commit's expectedRows)."""

    rows: int
    streams: int


class LakeSoulTsWriter(DataSourceArrowWriter):
    """One Flight transaction per Spark write: begun here (on the driver), one DoPut stream per task,
    one commit (or rollback) by the driver."""

    def __init__(self, options: Dict[str, str], overwrite: bool):
        self.options = dict(options)
        self.settings = _settings(self.options)
        table = f'{self.settings["namespace"]}.{self.settings["table"]}'
        mode = _opt(self.options, "writeMode")
        if mode not in (None, "append", "upsert"):
            raise LakeSoulTsOptionError(f'lakesoul_ts (table {table}): "writeMode" must be "append" or "upsert", got {mode!r}')
        begin: Dict[str, Any] = {"table": self.settings["table"], "namespace": self.settings["namespace"]}
        if overwrite:
            if mode is not None:
                raise LakeSoulTsOptionError(f'lakesoul_ts (table {table}): "writeMode" goes with mode "append"; mode "overwrite" replaces the rows')
            begin.update(_replace_options(self.options, table))
        elif _opt(self.options, "replaceWhere") is not None or _opt(self.options, "replacePartitions") is not None:
            raise LakeSoulTsOptionError(f'lakesoul_ts (table {table}): "replaceWhere" and "replacePartitions" need mode "overwrite"')
        # DoPut streams of an overwrite transaction give no mode: the transaction's commit decides.
        self.mode = mode
        client, call = _connect(self.settings)
        try:
            # The table's schema: each task casts Spark's Arrow types (nullable, Spark's widths) to it.
            base = {"table": self.settings["table"], "namespace": self.settings["namespace"]}
            self.schema_ipc = client.get_schema(_descriptor(base), call).schema.serialize().to_pybytes()
            self.transaction = _action(client, call, "begin", begin)["transaction"]
        finally:
            client.close()

    def write(self, iterator: Iterator[pa.RecordBatch]) -> StagedCommitMessage:
        target = pa.ipc.read_schema(pa.py_buffer(self.schema_ipc))
        first = next(iterator, None)
        if first is None:
            return StagedCommitMessage(rows=0, streams=0)
        cmd = {"table": self.settings["table"], "namespace": self.settings["namespace"], "transaction": self.transaction}
        if self.mode:
            cmd["mode"] = self.mode
        client, call = _connect(self.settings)
        rows = 0
        try:
            writer, reader = client.do_put(_descriptor(cmd), target, call)
            batch: Optional[pa.RecordBatch] = first
            while batch is not None:
                writer.write_batch(_conform(batch, target))
                rows += batch.num_rows
                batch = next(iterator, None)
            writer.done_writing()
            reader.read()
            writer.close()
        finally:
            client.close()
        return StagedCommitMessage(rows=rows, streams=1)

    def commit(self, messages: List[Optional[WriterCommitMessage]]) -> None:
        rows = sum(m.rows for m in messages if isinstance(m, StagedCommitMessage))
        client, call = _connect(self.settings)
        try:
            _action(client, call, "commit", {"transaction": self.transaction, "expectedRows": rows})
        finally:
            client.close()

    def abort(self, messages: List[Optional[WriterCommitMessage]]) -> None:
        client, call = _connect(self.settings)
        try:
            _action(client, call, "rollback", {"transaction": self.transaction})
        except fl.FlightError:
            pass  # already rolled back (a poisoned commit or the server's expiry): nothing is committed either way
        finally:
            client.close()


def _replace_options(options: Dict[str, str], table: str) -> Dict[str, Any]:
    """The ``begin`` fields of an overwrite: mode overwrite, and ``replaceWhere`` (the filter grammar, on
    range partition columns) or ``replacePartitions`` (a JSON list of partition descriptions or a JSON
    object of range-column values, or one description such as ``date=2024-05-01``)."""
    out: Dict[str, Any] = {"mode": "overwrite"}
    where, parts = _opt(options, "replaceWhere"), _opt(options, "replacePartitions")
    if where is not None and parts is not None:
        raise LakeSoulTsOptionError(f'lakesoul_ts (table {table}): give "replaceWhere" or "replacePartitions", not both')
    if where is not None:
        out["replaceWhere"] = where
    if parts is not None:
        text = parts.strip()
        if text[:1] in ("[", "{"):
            try:
                out["replacePartitions"] = json.loads(text)
            except ValueError as e:
                raise LakeSoulTsOptionError(f'lakesoul_ts (table {table}): "replacePartitions" is not valid JSON ({e}): {parts!r}') from None
        else:
            out["replacePartitions"] = [text]
    return out


def _conform(batch: pa.RecordBatch, target: pa.Schema) -> pa.RecordBatch:
    """``batch`` with the table's columns, in the table's order and types (a missing column is an error
    naming it; a value that does not fit the type fails the cast, and so the task and the write)."""
    names = batch.schema.names
    arrays = []
    for field in target:
        if field.name not in names:
            raise LakeSoulTsOptionError(f"lakesoul_ts: the DataFrame has no column '{field.name}' (table columns: {', '.join(target.names)}; got {', '.join(names)})")
        arrays.append(batch.column(names.index(field.name)).cast(field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=target)


def _action(client: fl.FlightClient, call: fl.FlightCallOptions, kind: str, body: Dict[str, Any]) -> Dict[str, Any]:
    results = list(client.do_action(fl.Action(kind, json.dumps(body).encode()), call))
    return json.loads(results[0].body.to_pybytes()) if results else {}


# ---- the source ----------------------------------------------------------------------------------

class LakeSoulTsDataSource(DataSource):
    """The ``lakesoul_ts`` format. Options: ``uri`` (default grpc://127.0.0.1:8815), ``table``
    (required), ``namespace`` (default "default"), ``token`` or ``user``+``password``; reads:
    ``columns`` (comma-separated), ``filter`` (the server's grammar), ``versionAsOf``,
    ``timestampAsOf`` (epoch ms or ISO-8601), ``startTimestamp``/``endTimestamp`` (an incremental
    read); writes: ``writeMode`` ("append" or "upsert"; default: the table's) with mode append,
    ``replaceWhere`` or ``replacePartitions`` with mode overwrite."""

    @classmethod
    def name(cls) -> str:
        return FORMAT

    def schema(self) -> StructType:
        from pyspark.sql.pandas.types import from_arrow_schema

        settings = _settings(self.options)
        client, call = _connect(settings)
        try:
            result = client.get_schema(_descriptor(_read_command(self.options, settings)), call)
        finally:
            client.close()
        return from_arrow_schema(result.schema)

    def reader(self, schema: StructType) -> LakeSoulTsReader:
        return LakeSoulTsReader(self.options, schema)

    def writer(self, schema: StructType, overwrite: bool) -> LakeSoulTsWriter:
        return LakeSoulTsWriter(self.options, overwrite)


def register(spark: Any, filter_pushdown: bool = True) -> None:
    """Registers the ``lakesoul_ts`` format with ``spark`` and, unless told not to, turns on Spark's
    filter pushdown into Python data sources (``spark.sql.python.filterPushdown.enabled``, Spark 4.1+)."""
    spark.dataSource.register(LakeSoulTsDataSource)
    if filter_pushdown:
        spark.conf.set("spark.sql.python.filterPushdown.enabled", "true")
