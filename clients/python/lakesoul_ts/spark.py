"""Spark data source ``lakesoul_ts``: lakesoul-ts tables read and written through its Arrow Flight server.

Register once per session, then use the format::

    from lakesoul_ts.spark import register
    register(spark)
    df = spark.read.format("lakesoul_ts").option("uri", "grpc://host:8815").option("table", "events").load()

Reads: the driver plans with GetFlightInfo; every endpoint (one per split) becomes one Spark input
partition, redeemed by the executor that reads it (DoGet), so the Flight server (or its replicas)
serves the tasks in parallel. The schema comes from GetSchema. Filters Spark pushes (Spark 4.1+, with
``spark.sql.python.filterPushdown.enabled``; ``register`` turns it on) are translated into the
server's filter grammar where the translation is exact, and the rest stay with Spark (a session with
pushdown off gets a reader that pushes nothing); projection is the ``columns`` option or a user
schema naming a subset of the columns (matched case-insensitively; its types must be the table's).
Zone-less Arrow timestamps read as ``timestamp_ntz``, zoned ones as ``timestamp``.
An incremental read (``startTimestamp``) whose range rewrote or dropped partitions is refused,
naming them (the server lists them in the schema metadata ``lakesoul.reset_partitions``): their rows
are each partition's whole state at the end, to replace, which a DataFrame of changes cannot say;
``allowResetPartitions`` "true" reads them anyway and logs a warning naming them.

Writes: the driver begins one Flight write transaction; every task streams its rows with DoPut under
it (staged, invisible); the driver commits once with the total row count, or rolls back when any task
failed or the job was aborted, which deletes the staged files. A task killed mid-stream breaks its
DoPut, which poisons the transaction on the server, so it can never commit. The DataFrame's columns are matched
to the table's case-insensitively; a column the table lacks is refused (before the transaction
begins), a missing nullable column is written as nulls, a missing non-null one is refused.
``mode("append")`` adds
the rows (``writeMode`` "upsert" merges them by primary key, the default of primary-key tables);
``mode("overwrite")`` begins the transaction in mode overwrite: its one commit replaces the table, or
only the partitions chosen by ``replaceWhere`` / ``replacePartitions``, with the DataFrame's rows.
"""
from __future__ import annotations

import json
import logging
import math
import time
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
    "uri", "table", "namespace", "token", "user", "password", "columns", "filter", "partitions", "filterPushdown",
    "versionAsOf", "timestampAsOf", "startTimestamp", "endTimestamp", "allowResetPartitions", "writeMode", "replaceWhere",
    "replacePartitions", "timeZone",
)

#: Schema metadata key under which the Flight server lists, for an incremental read, the partitions
#: rewritten (update, delete, overwrite) or dropped within the range (a JSON array of descriptions).
RESET_PARTITIONS_KEY = b"lakesoul.reset_partitions"

_log = logging.getLogger("lakesoul_ts.spark")


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


def _partitions_option(text: str, table: str, name: str) -> Any:
    """A partitions option: JSON (a list of partition descriptions or an object of range-column
    values) or one description such as ``date=2024-05-01``."""
    t = text.strip()
    if t[:1] in ("[", "{"):
        try:
            return json.loads(t)
        except ValueError as e:
            raise LakeSoulTsOptionError(f'lakesoul_ts (table {table}): "{name}" is not valid JSON ({e}): {text!r}') from None
    return [t]


def _read_command(options: Dict[str, str], settings: Dict[str, Any], columns: Optional[List[str]] = None,
                  pushed: Sequence[str] = ()) -> Dict[str, Any]:
    cmd: Dict[str, Any] = {"table": settings["table"], "namespace": settings["namespace"]}
    if columns is None and _opt(options, "columns"):
        # as written: :func:`_option_columns` matches them with the table's (a name may end in spaces)
        columns = [c for c in _opt(options, "columns").split(",") if c.strip()]
    if columns is not None:
        cmd["columns"] = columns
    if _opt(options, "partitions") is not None:
        cmd["partitions"] = _partitions_option(_opt(options, "partitions"), settings["table"], "partitions")
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


def _allow_resets(options: Dict[str, str], table: str) -> bool:
    """The ``allowResetPartitions`` option: "true" reads an increment that has partitions to replace."""
    v = _opt(options, "allowResetPartitions")
    if v is None:
        return False
    if v.strip().lower() not in ("true", "false"):
        raise LakeSoulTsOptionError(f'lakesoul_ts (table {table}): "allowResetPartitions" must be "true" or "false", got {v!r}')
    return v.strip().lower() == "true"


def _check_resets(info: fl.FlightInfo, cmd: Dict[str, Any], settings: Dict[str, Any], allow: bool) -> None:
    """An incremental read whose range rewrote or dropped partitions gives each of them whole, as of
    the range's end (a dropped one: no rows): a consumer must replace what it holds for them, which a
    DataFrame of changes cannot say. Refuses it, naming them, unless ``allow``; then logs a warning."""
    if "incremental" not in cmd:
        return
    raw = (info.schema.metadata or {}).get(RESET_PARTITIONS_KEY)
    resets: List[str] = json.loads(raw) if raw else []
    if not resets:
        return
    table = f'{settings["namespace"]}.{settings["table"]}'
    shown = ", ".join(resets[:20]) + (f" and {len(resets) - 20} more" if len(resets) > 20 else "")
    inc = cmd["incremental"]
    what = (f"lakesoul_ts (table {table}): the incremental read from {inc['start']} to {inc.get('end', 'now')} has "
            f"{len(resets)} partition(s) rewritten (update, delete, overwrite) or dropped within the range: {shown}. "
            "Their rows here are each partition's whole state at the end of the range (none when it was dropped): "
            "replace what you hold for these partitions with them, do not apply them as changes")
    if not allow:
        raise LakeSoulTsOptionError(
            f'{what}. Spark cannot express a replacement: read them anyway with option allowResetPartitions "true" '
            '(and replace those partitions yourself), or read the table as of the end with "timestampAsOf" '
            '(with "partitions" naming them).')
    _log.warning("%s.", what)


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
        # the server refuses NUL in a command (its catalog's text cannot hold it): Spark compares those
        return None if "\x00" in value else "'" + value.replace("'", "''") + "'"
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return f"DATE '{value.isoformat()}'"
    # datetimes (time zone semantics), decimals, bytes: left to Spark
    return None


def _like(value: Any, prefix: str, suffix: str) -> Optional[str]:
    if not isinstance(value, str) or "\x00" in value:
        return None
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("'", "''")
    return f"like '{prefix}{escaped}{suffix}'"


def _is_float(data_type: Any, value: Any) -> bool:
    from pyspark.sql.types import DoubleType, FloatType

    values = value if isinstance(value, (tuple, list)) else (value,)
    return isinstance(data_type, (FloatType, DoubleType)) or any(isinstance(v, float) for v in values)


def filter_text(f: Any, data_type: Any = None) -> Optional[str]:
    """The server-grammar text of one Spark ``pyspark.sql.datasource`` filter, or None when it has no
    exact translation (Spark then evaluates it). ``data_type`` is the Spark type of the filter's column
    (a float literal marks a float column too). ``Not`` is never pushed: SQL's NOT over a NULL
    comparison keeps the row out, which only a three-valued evaluator matches.

    NaN: Spark orders NaN above every other value and equal to itself; the server's NaN satisfies
    only ``!=`` and ``NOT IN``. On a float column ``>`` and ``>=`` are therefore sent as
    ``(c > x or c != c)`` (``c != c`` holds for NaN alone); ``=``, ``<=>``, ``<``, ``<=`` and ``IN``
    with non-NaN literals keep NaN out on both sides; a NaN or infinite literal is not pushed."""
    from pyspark.sql import datasource as ds

    col = _column(getattr(f, "attribute", ()))
    if col is None:
        return None
    comparisons = {"EqualTo": "=", "GreaterThan": ">", "GreaterThanOrEqual": ">=", "LessThan": "<", "LessThanOrEqual": "<="}
    name = type(f).__name__
    if name in comparisons or (name == "EqualNullSafe" and f.value is not None):
        lit = _literal(f.value)
        if lit is None:
            return None
        text = f"{col} {comparisons.get(name, '=')} {lit}"
        if name in ("GreaterThan", "GreaterThanOrEqual") and _is_float(data_type, f.value):
            return f"({text} or {col} != {col})"  # Spark: NaN > x for every x
        return text
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

def _version_hint(e: Exception, cmd: Dict[str, Any], settings: Dict[str, Any]) -> None:
    """Raises the server's refusal of a version read on a table with several partitions, said in this
    source's options (the server's hint names the Flight CMD's and the CLI's)."""
    if "version" in cmd and "partitions" not in cmd and "per partition" in str(e):
        raise LakeSoulTsOptionError(
            f'lakesoul_ts (table {settings["table"]}): "versionAsOf" is a version of one partition and the table has '
            'several: name it with the "partitions" option (a description such as date=2024-05-01, or JSON such as '
            '{"date": "2024-05-01"}), or read the whole table as of a time with "timestampAsOf". '
            f'The server said: {e}') from None


class FlightEndpointPartition(InputPartition):
    """One Flight endpoint (one split of the table) as a Spark input partition: its signed ticket, the
    locations to redeem it at (none: the source's ``uri``) and the table columns it reads, in the
    order of the DataFrame's columns."""

    def __init__(self, ticket: Optional[bytes], locations: List[str], names: Optional[List[str]] = None):
        super().__init__(ticket)
        self.ticket = ticket
        self.locations = locations
        self.names = names


def _match_columns(wanted: Sequence[str], table: Sequence[str]) -> Tuple[Dict[str, str], List[str], List[str]]:
    """Matches names as Spark does (case-insensitively): a name equal to a table column is that
    column, else the one table column equal to it ignoring case. Returns {wanted: table column}, the
    names matching none, and the names matching several (or a column another name already took)."""
    exact = set(table)
    taken: Dict[str, str] = {}
    out: Dict[str, str] = {}
    unknown: List[str] = []
    ambiguous: List[str] = []
    for w in wanted:
        if w in exact:
            hit = [w]
        else:
            hit = [t for t in table if t.lower() == w.lower()]
        if not hit:
            unknown.append(w)
        elif len(hit) > 1 or hit[0] in taken:
            ambiguous.append(w)
        else:
            taken[hit[0]] = w
            out[w] = hit[0]
    return out, unknown, ambiguous


def _option_columns(wanted: Sequence[str], table: pa.Schema, name: str) -> List[str]:
    """The table columns the ``columns`` option names, matched as a user schema's names are (as
    Spark matches names: case-insensitively): a name as written when the table has it, else without
    the spaces around it. Refuses names matching no column, or several, naming the table's."""
    given = [w if w in table.names else w.strip() for w in wanted]
    found, unknown, ambiguous = _match_columns(given, table.names)
    if unknown or ambiguous:
        what = "; ".join(([f"no column {', '.join(map(repr, unknown))}"] if unknown else [])
                         + ([f"{', '.join(map(repr, ambiguous))} twice, or a name matching several columns (names differing in case only)"] if ambiguous else []))
        raise LakeSoulTsOptionError(f"lakesoul_ts (table {name}): the columns option names {what}; table columns: {', '.join(table.names)}")
    return [found[w] for w in given]


def _spark_type(t: pa.DataType) -> Any:
    from pyspark.sql.pandas.types import from_arrow_type

    return from_arrow_type(t, prefer_timestamp_ntz=True)


class LakeSoulTsReader(DataSourceReader):
    """Plans on the driver (GetFlightInfo), reads one endpoint per task (DoGet). Pushes no filters:
    the reader of a session without filter pushdown (:class:`LakeSoulTsFilteringReader` pushes them)."""

    def __init__(self, options: Dict[str, str], schema: StructType):
        self.options = dict(options)
        self.settings = _settings(self.options)
        self.schema = schema
        self.columns = [f.name for f in schema.fields]
        self.pushed: List[str] = []
        self._names: Optional[List[str]] = None

    def _table_names(self) -> List[str]:
        """The table columns the DataFrame's columns are (matched case-insensitively, as Spark
        matches names), checked against the table's types; one GetSchema, on the driver."""
        if self._names is not None:
            return self._names
        table = f'{self.settings["namespace"]}.{self.settings["table"]}'
        client, call = _connect(self.settings)
        try:
            base = {"table": self.settings["table"], "namespace": self.settings["namespace"]}
            target = client.get_schema(_descriptor(base), call).schema
        finally:
            client.close()
        found, unknown, ambiguous = _match_columns(self.columns, target.names)
        if unknown or ambiguous:
            what = "; ".join(([f"no column {', '.join(map(repr, unknown))}"] if unknown else [])
                             + ([f"{', '.join(map(repr, ambiguous))} twice, or a name matching several columns (names differing in case only)"] if ambiguous else []))
            raise LakeSoulTsOptionError(f"lakesoul_ts (table {table}): the schema given (or the columns option) names {what}; table columns: {', '.join(target.names)}")
        for field in self.schema.fields:
            have = _spark_type(target.field(found[field.name]).type)
            if have.simpleString() != field.dataType.simpleString():
                raise LakeSoulTsOptionError(
                    f"lakesoul_ts (table {table}): column '{found[field.name]}' is {have.simpleString()} in the table, "
                    f"the schema given says {field.dataType.simpleString()}; give it as {have.simpleString()} (or cast after loading)")
        self._names = [found[c] for c in self.columns]
        return self._names

    def command(self) -> Dict[str, Any]:
        """The CMD the driver plans with: projection, the ``filter`` option AND the pushed filters, time travel."""
        return _read_command(self.options, self.settings, self._table_names(), self.pushed)

    def partitions(self) -> Sequence[InputPartition]:
        allow = _allow_resets(self.options, self.settings["table"])
        cmd = self.command()
        client, call = _connect(self.settings)
        try:
            info = client.get_flight_info(_descriptor(cmd), call)
        except (fl.FlightError, pa.ArrowException) as e:
            _version_hint(e, cmd, self.settings)
            raise
        finally:
            client.close()
        _check_resets(info, cmd, self.settings, allow)
        names = cmd["columns"]
        parts = [FlightEndpointPartition(e.ticket.ticket, [str(loc.uri.decode() if isinstance(loc.uri, bytes) else loc.uri) for loc in e.locations], names)
                 for e in info.endpoints]
        # Spark needs one partition at least; an empty table reads nothing from it.
        return parts or [FlightEndpointPartition(None, [], names)]

    def read(self, partition: FlightEndpointPartition) -> Iterator[pa.RecordBatch]:
        from pyspark.sql.pandas.types import to_arrow_schema

        if partition.ticket is None:
            return
        # Spark takes the batches as its types' Arrow form (timestamps in UTC, microseconds), named as the DataFrame's columns.
        target = to_arrow_schema(self.schema)
        names = partition.names or self.columns
        location = next((u for u in partition.locations if u.startswith("grpc")), None)
        client, call = _connect(self.settings, location)
        try:
            reader = client.do_get(fl.Ticket(partition.ticket), call)
            for chunk in reader:
                batch = chunk.data
                arrays = []
                for name, field in zip(names, target):
                    a = batch.column(name)
                    arrays.append(a if a.type == field.type else a.cast(field.type, safe=False))
                yield pa.RecordBatch.from_arrays(arrays, schema=target)
        finally:
            client.close()


#: The most filter text pushed into one read command: the server takes filters of 16,384 characters
#: in commands of 64 KiB; what does not fit stays with Spark.
PUSHED_FILTER_CHARS = 16 * 1024


class LakeSoulTsFilteringReader(LakeSoulTsReader):
    """:class:`LakeSoulTsReader` that takes the filters Spark pushes (Spark >= 4.1, with
    ``spark.sql.python.filterPushdown.enabled``): those with an exact translation go into the CMD."""

    def pushFilters(self, filters: List[Any]) -> List[Any]:  # Spark >= 4.1
        import dataclasses

        types = {f.name: f.dataType for f in self.schema.fields}
        names = dict(zip(self.columns, self._table_names()))
        kept = []
        # (counted as the server counts characters: UTF-16 code units, two for an emoji)
        units = lambda text: len(text.encode("utf-16-le")) // 2  # noqa: E731
        room = PUSHED_FILTER_CHARS - sum(units(p) + 9 for p in self.pushed) - units(_opt(self.options, "filter") or "")
        for f in filters:
            attribute = getattr(f, "attribute", ())
            text = None
            if len(attribute) == 1 and attribute[0] in names:
                text = filter_text(dataclasses.replace(f, attribute=(names[attribute[0]],)), types[attribute[0]])
            # a filter the command has no room for (a long IN list) is Spark's: pushed, the server
            # refused the read command as over its size limit, failing the query
            if text is None or units(text) + 9 > room:
                kept.append(f)
            else:
                room -= units(text) + 9  # ' and (' + ')'
                self.pushed.append(text)
        return kept


def _pushdown_enabled() -> bool:
    """Whether the Spark planner that asks for the reader has filter pushdown on. Spark 4.1 refuses a
    reader implementing pushFilters when ``spark.sql.python.filterPushdown.enabled`` is false, and the
    Python worker planning the read holds that setting (``enable_pushdown``) but hands it to no one;
    the worker planning with pushdown (which then calls pushFilters) holds no such value."""
    import sys

    frame = sys._getframe(2)
    for _ in range(4):
        if frame is None:
            break
        value = frame.f_locals.get("enable_pushdown")
        if isinstance(value, bool):
            return value
        frame = frame.f_back
    return True


# ---- writing -------------------------------------------------------------------------------------

@dataclass
class StagedCommitMessage(WriterCommitMessage):
    """What one task staged in the transaction (the driver sums ``rows`` into the commit's expectedRows)."""

    rows: int
    streams: int
    #: The name this task's DoPut gave its stream: the commit takes the streams of the tasks that
    #: succeeded, so a failed attempt's rows (its stream may have ended as if complete) are dropped.
    stream: Optional[str] = None


class LakeSoulTsWriter(DataSourceArrowWriter):
    """One Flight transaction per Spark write: begun here (on the driver), one DoPut stream per task,
    one commit (or rollback) by the driver."""

    def __init__(self, options: Dict[str, str], overwrite: bool, schema: Optional[StructType] = None):
        self.options = dict(options)
        self.settings = _settings(self.options)
        table = f'{self.settings["namespace"]}.{self.settings["table"]}'
        self.table = table
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
        zone = _opt(self.options, "timeZone")
        if zone is not None:
            import pyarrow.compute as pc

            try:
                pc.assume_timezone(pa.array([0], pa.timestamp("us")), zone)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as e:
                raise LakeSoulTsOptionError(f'lakesoul_ts (table {table}): "timeZone" {zone!r} is no time zone ({e}); give an IANA name such as "Europe/Paris", or "UTC"') from None
        client, call = _connect(self.settings)
        try:
            # The table's schema: each task casts Spark's Arrow types (nullable, Spark's widths) to it.
            base = {"table": self.settings["table"], "namespace": self.settings["namespace"]}
            target = client.get_schema(_descriptor(base), call).schema
            if schema is not None:  # the DataFrame's columns, checked before a transaction begins
                _write_columns(schema.fieldNames(), target, table)
            self.schema_ipc = target.serialize().to_pybytes()
            self.transaction = _action(client, call, "begin", begin)["transaction"]
        finally:
            client.close()

    def write(self, iterator: Iterator[pa.RecordBatch]) -> StagedCommitMessage:
        target = pa.ipc.read_schema(pa.py_buffer(self.schema_ipc))
        first = next(iterator, None)
        if first is None:
            return StagedCommitMessage(rows=0, streams=0)
        import uuid

        stream = uuid.uuid4().hex  # this attempt's: Spark may run the task again
        cmd = {"table": self.settings["table"], "namespace": self.settings["namespace"], "transaction": self.transaction, "stream": stream}
        if self.mode:
            cmd["mode"] = self.mode
        client, call = _connect(self.settings)
        rows = 0
        try:
            writer, reader = client.do_put(_descriptor(cmd), target, call)
            batch: Optional[pa.RecordBatch] = first
            while batch is not None:
                writer.write_batch(_conform(batch, target, self.table, _opt(self.options, "timeZone")))
                rows += batch.num_rows
                batch = next(iterator, None)
            writer.done_writing()
            reader.read()
            writer.close()
        finally:
            client.close()
        return StagedCommitMessage(rows=rows, streams=1, stream=stream)

    def commit(self, messages: List[Optional[WriterCommitMessage]]) -> None:
        staged = [m for m in messages if isinstance(m, StagedCommitMessage)]
        rows = sum(m.rows for m in staged)
        # the streams of the tasks that succeeded: a failed attempt's are left out (and deleted)
        streams = [m.stream for m in staged if m.stream is not None]
        body = {"transaction": self.transaction, "expectedRows": rows, "streams": streams}
        # A commit whose reply was lost (the connection broke, the call timed out) is sent again: the
        # server answers a commit sent twice with the first one's outcome, so the job learns whether
        # it committed instead of rolling back a committed transaction (and a rerun writing it twice).
        for attempt in range(COMMIT_ATTEMPTS):
            client, call = _connect(self.settings)
            try:
                _action(client, call, "commit", body)
                return
            except (fl.FlightUnavailableError, fl.FlightTimedOutError):
                if attempt == COMMIT_ATTEMPTS - 1:
                    raise
                time.sleep(0.5 * (attempt + 1))
            finally:
                client.close()

    def abort(self, messages: List[Optional[WriterCommitMessage]]) -> None:
        client, call = _connect(self.settings)
        try:
            _action(client, call, "rollback", {"transaction": self.transaction})
        except (fl.FlightError, pa.ArrowException):
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
        out["replacePartitions"] = _partitions_option(parts, table, "replacePartitions")
    return out


def _write_columns(names: Sequence[str], target: pa.Schema, table: str) -> Dict[str, str]:
    """{table column: DataFrame column} for a write of ``names`` (matched as Spark matches names,
    case-insensitively). Refuses DataFrame columns the table does not have (their values would be
    lost), names matching one column twice, and a missing non-null column; a missing nullable column
    is written as nulls."""
    found, unknown, ambiguous = _match_columns(names, target.names)
    problems = []
    if unknown:
        problems.append(f"the DataFrame's column(s) {', '.join(map(repr, unknown))} are not in the table")
    if ambiguous:
        problems.append(f"the DataFrame's column(s) {', '.join(map(repr, ambiguous))} match a table column another DataFrame column matches too (names differing in case only)")
    by_table = {t: n for n, t in found.items()}
    missing = [f.name for f in target if f.name not in by_table and not f.nullable]
    if missing:
        problems.append(f"the DataFrame has no column {', '.join(map(repr, missing))} (non-null in the table)")
    if problems:
        raise LakeSoulTsOptionError(f"lakesoul_ts (table {table}): {'; '.join(problems)} (table columns: {', '.join(target.names)}; DataFrame columns: {', '.join(names)})")
    return by_table


def _conform(batch: pa.RecordBatch, target: pa.Schema, table: str = "", time_zone: Optional[str] = None) -> pa.RecordBatch:
    """``batch`` with the table's columns, in the table's order and types (see :func:`_write_columns`;
    a missing nullable column is nulls; a value that does not fit the type fails the cast, and so the
    task and the write). Timestamps cross kinds as Spark's casts do (:func:`_timestamp_kind`)."""
    by_table = _write_columns(batch.schema.names, target, table)
    arrays = []
    for field in target:
        if field.name in by_table:
            column = batch.column(by_table[field.name])
            arrays.append(_timestamp_kind(column, field, table, time_zone).cast(field.type))
        else:
            arrays.append(pa.nulls(batch.num_rows, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=target)


def _timestamp_kind(column: pa.Array, field: pa.Field, table: str, time_zone: Optional[str]) -> pa.Array:
    """``column`` ready to cast to ``field``'s type when one is a timestamp with a time zone (Spark's
    ``timestamp``, an instant) and the other without (``timestamp_ntz``, a wall-clock time), as Spark
    casts between them in the session's time zone: pyarrow's cast keeps the UTC clock, so a Spark
    ``timestamp`` of 12:00 in Los Angeles was stored in a zone-less column as 19:00, and a
    ``timestamp_ntz`` of 12:00 in a zoned one as 12:00 UTC. Spark hands a ``timestamp`` over in the
    session's zone, which gives its wall clock; a ``timestamp_ntz`` into a zoned column needs the zone
    (the ``timeZone`` option), or is refused."""
    import pyarrow.compute as pc

    source, wanted = column.type, field.type
    if not (pa.types.is_timestamp(source) and pa.types.is_timestamp(wanted)) or (source.tz is None) == (wanted.tz is None):
        return column
    if source.tz is not None:
        return pc.local_timestamp(column)
    if time_zone is None:
        raise LakeSoulTsOptionError(
            f"lakesoul_ts (table {table}): column '{field.name}' holds instants (timestamp with time zone {wanted.tz}) and the "
            "DataFrame's is timestamp_ntz (a wall-clock time): give the time zone it is in, "
            '.option("timeZone", spark.conf.get("spark.sql.session.timeZone")), or cast it in Spark first '
            f"(col('{field.name}').cast('timestamp'))")
    # As Java's LocalDateTime.atZone, which Spark's cast uses: a time twice in the zone (the clock set
    # back) is its earlier instant; a time the zone skips (the clock set forward) moves later by the
    # gap, i.e. takes the offset before it (02:30 in Los Angeles on 2024-03-10 is 10:30Z; pyarrow's
    # choices give 09:59:59.999999Z or 10:00Z). The offset before a gap is that of the earliest
    # instant pyarrow gives for it.
    before = pc.assume_timezone(column, time_zone, ambiguous="earliest", nonexistent="earliest")
    offset = pc.subtract(pc.local_timestamp(before), before.cast(pa.timestamp(source.unit)))
    return pc.subtract(column, offset).cast(pa.timestamp(source.unit, "UTC"))


#: How many times the writer's commit is sent when its reply is lost (the server answers repeats alike).
COMMIT_ATTEMPTS = 3


def _action(client: fl.FlightClient, call: fl.FlightCallOptions, kind: str, body: Dict[str, Any]) -> Dict[str, Any]:
    results = list(client.do_action(fl.Action(kind, json.dumps(body).encode()), call))
    return json.loads(results[0].body.to_pybytes()) if results else {}


# ---- the source ----------------------------------------------------------------------------------

class LakeSoulTsDataSource(DataSource):
    """The ``lakesoul_ts`` format. Options: ``uri`` (default grpc://127.0.0.1:8815), ``table``
    (required), ``namespace`` (default "default"), ``token`` or ``user``+``password``; reads:
    ``columns`` (comma-separated), ``filter`` (the server's grammar), ``partitions`` (a partition
    description such as ``date=2024-05-01``, or JSON: a list of them or an object of range-column
    values), ``versionAsOf`` (a partition's version: on a table with several partitions, with
    ``partitions`` naming one), ``timestampAsOf`` (epoch ms or ISO-8601),
    ``startTimestamp``/``endTimestamp`` (an incremental read; one whose range rewrote or dropped
    partitions is refused, naming them, unless ``allowResetPartitions`` is "true": those partitions
    are then read whole as of the end, with a warning), ``filterPushdown`` ("false": push no
    filters; default: as the session's ``spark.sql.python.filterPushdown.enabled``); writes: ``writeMode`` ("append" or "upsert"; default: the table's) with mode append,
    ``replaceWhere`` or ``replacePartitions`` with mode overwrite, ``timeZone`` (the zone a
    ``timestamp_ntz`` column's wall-clock times are in, when the table's column holds instants; a
    ``timestamp`` into a zone-less column is written as its wall clock in the session's zone, as
    Spark's cast to ``timestamp_ntz``)."""

    @classmethod
    def name(cls) -> str:
        return FORMAT

    def schema(self) -> StructType:
        from pyspark.sql.pandas.types import from_arrow_schema

        settings = _settings(self.options)
        client, call = _connect(settings)
        cmd = _read_command(self.options, settings)
        try:
            if "columns" in cmd:  # matched case-insensitively, as a user schema's names are
                base = {"table": settings["table"], "namespace": settings["namespace"]}
                table = client.get_schema(_descriptor(base), call).schema
                cmd["columns"] = _option_columns(cmd["columns"], table, f'{settings["namespace"]}.{settings["table"]}')
            result = client.get_schema(_descriptor(cmd), call)
        except (fl.FlightError, pa.ArrowException) as e:
            _version_hint(e, cmd, settings)
            raise
        finally:
            client.close()
        # A zone-less timestamp is a wall-clock time: Spark's timestamp_ntz, which no session time zone shifts.
        return from_arrow_schema(result.schema, prefer_timestamp_ntz=True)

    def reader(self, schema: StructType) -> LakeSoulTsReader:
        # A reader with pushFilters fails every read when the session has filter pushdown off (Spark 4.1):
        # that session gets the reader without it. The "filterPushdown" option ("false") opts out too.
        option = _opt(self.options, "filterPushdown")
        if option is not None and option.strip().lower() not in ("true", "false"):
            raise LakeSoulTsOptionError(f'lakesoul_ts (table {self.options.get("table")}): "filterPushdown" must be "true" or "false", got {option!r}')
        if (option is None or option.strip().lower() == "true") and _pushdown_enabled():
            return LakeSoulTsFilteringReader(self.options, schema)
        return LakeSoulTsReader(self.options, schema)

    def writer(self, schema: StructType, overwrite: bool) -> LakeSoulTsWriter:
        return LakeSoulTsWriter(self.options, overwrite, schema)


def register(spark: Any, filter_pushdown: bool = True) -> None:
    """Registers the ``lakesoul_ts`` format with ``spark`` and, unless told not to, turns on Spark's
    filter pushdown into Python data sources (``spark.sql.python.filterPushdown.enabled``, Spark 4.1+)."""
    spark.dataSource.register(LakeSoulTsDataSource)
    if filter_pushdown:
        spark.conf.set("spark.sql.python.filterPushdown.enabled", "true")
