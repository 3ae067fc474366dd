"""DoPuts of malformed Arrow data through pyarrow (which checks buffer sizes, not offset values or
dictionary indices), each declaring its row count; prints one JSON line per case: the answer, and
how long a ListFlights from another client took right after.

usage: python hostile_doput.py grpc://host:port table   (table: id int64!, date utf8!, label utf8, score float64)"""
import json
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.flight as fl

url, table = sys.argv[1], sys.argv[2]
N = 4096
schema = pa.schema([pa.field('id', pa.int64(), False), pa.field('date', pa.utf8(), False),
                    pa.field('label', pa.utf8()), pa.field('score', pa.float64())])


def batch(label):
    return pa.record_batch([pa.array(range(N), pa.int64()), pa.array(['2024-01-01'] * N), label, pa.array([0.5] * N)], schema=schema)


def spinning_offsets():
    # 0, 2^31-1, 0, 2^31-1, ... over a 4 KiB data buffer (it made a hash loop run for hours)
    offsets = np.where(np.arange(N + 1) % 2 == 0, 0, 0x7FFFFFFF).astype(np.int32)
    offsets[-1] = N
    return pa.Array.from_buffers(pa.utf8(), N, [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(b'x' * N)])


def negative_offset():
    offsets = np.arange(N + 1, dtype=np.int32)
    offsets[7] = -5
    return pa.Array.from_buffers(pa.utf8(), N, [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(b'x' * N)])


def dictionary_out_of_range():
    indices = pa.array(np.full(N, 2 ** 30, dtype=np.int32))
    return pa.DictionaryArray.from_buffers(pa.dictionary(pa.int32(), pa.utf8()), N, [None, indices.buffers()[1]], dictionary=pa.array(['x']))


cases = {'spinning_offsets': spinning_offsets, 'negative_offset': negative_offset, 'dictionary_out_of_range': dictionary_out_of_range}
client = fl.FlightClient(url)
other = fl.FlightClient(url)
for name, make in cases.items():
    label = make()
    b = batch(label) if name != 'dictionary_out_of_range' else pa.record_batch(
        [pa.array(range(N), pa.int64()), pa.array(['2024-01-01'] * N), label, pa.array([0.5] * N)],
        schema=pa.schema([schema.field('id'), schema.field('date'), pa.field('label', label.type), schema.field('score')]))
    answer = None
    try:
        w, r = client.do_put(fl.FlightDescriptor.for_command(json.dumps({'table': table, 'expectedRows': N}).encode()), b.schema,
                             options=fl.FlightCallOptions(timeout=30))
        w.write_batch(b)
        w.done_writing()
        r.read()
        w.close()
        answer = 'committed'
    except Exception as e:  # noqa: BLE001 - the error is the answer
        answer = f'{type(e).__name__}: {e}'
    t = time.time()
    try:
        list(other.list_flights(options=fl.FlightCallOptions(timeout=10)))
        alive = round(time.time() - t, 3)
    except Exception as e:  # noqa: BLE001
        alive = f'{type(e).__name__}: {e}'
    print(json.dumps({'case': name, 'answer': answer[:400], 'listFlightsSeconds': alive}), flush=True)
