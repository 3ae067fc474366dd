//! Parquet <-> Arrow IPC stream, bytes in and bytes out, for `@lakesoul-ts/io`
//! (`src/parquet/parquet-native.ts`). The same contract as `parquet-wasm-ops.ts`: a decode reads the
//! whole file or some of its ranges (a sparse file: the pieces a selective read fetched, zeros
//! elsewhere) and returns an Arrow IPC stream; an encode takes an IPC stream and writer choices and
//! returns the file. Every call exists synchronously and as a task on libuv's thread pool.
// the local store's file operations use Unix file APIs; elsewhere the store makes Node's calls
#[cfg(unix)]
mod files;

use std::cell::{Cell, RefCell};
use std::io::Read;
use std::sync::Once;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, BinaryArray, Int32Array as ArrowInt32Array, Int64Array, LargeBinaryArray, LargeStringArray, RecordBatch, RecordBatchOptions, RecordBatchReader, StringArray, UInt32Array};
use arrow_ipc::reader::StreamDecoder;
use arrow_schema::SchemaRef;
use arrow_select::concat::concat_batches;
use arrow_select::interleave::interleave;
use arrow_select::take::take;
use arrow_ipc::writer::StreamWriter;
use bytes::Bytes;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::reader::{ChunkReader, Length};
use parquet::schema::types::ColumnPath;

fn reason<E: std::fmt::Display>(e: E) -> Error {
  Error::from_reason(e.to_string())
}

thread_local! {
  /// Whether this thread runs a [`guarded`] call (whose panics become errors, unprinted).
  static GUARDED: Cell<bool> = const { Cell::new(false) };
}
static QUIET_HOOK: Once = Once::new();

/// Runs `f`, turning a panic into an error (a panic on a libuv thread would end the process; corrupt
/// files can make the parquet crate panic). Such panics are not printed: the error says it.
fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
  QUIET_HOOK.call_once(|| {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
      if !GUARDED.with(|g| g.get()) {
        previous(info)
      }
    }));
  });
  let outer = GUARDED.with(|g| g.replace(true));
  let result = catch_unwind(AssertUnwindSafe(f));
  GUARDED.with(|g| g.set(outer));
  match result {
    Ok(r) => r,
    Err(p) => {
      let what = p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned()).unwrap_or_default();
      Err(Error::from_reason(format!("the Parquet codec failed: {what}")))
    }
  }
}

/// The leading magic: a sparse file's first bytes are not fetched, and readers may check them.
const PAR1: &[u8; 4] = b"PAR1";

/// A file of which only some ranges are known; reads elsewhere see zeros (and the magic at 0).
struct Sparse {
  size: u64,
  /// (offset, bytes), sorted by offset.
  pieces: Vec<(u64, Bytes)>,
}

impl Sparse {
  fn fill(&self, start: u64, out: &mut [u8]) {
    let end = start + out.len() as u64;
    for (off, b) in &self.pieces {
      let a = start.max(*off);
      let z = end.min(off + b.len() as u64);
      if a < z {
        out[(a - start) as usize..(z - start) as usize].copy_from_slice(&b[(a - off) as usize..(z - off) as usize]);
      }
    }
    for k in start..end.min(4) {
      out[(k - start) as usize] = PAR1[k as usize];
    }
  }
}

impl Length for Sparse {
  fn len(&self) -> u64 {
    self.size
  }
}

/// Sequential reads of a [`Sparse`] file from an offset.
struct SparseRead {
  src: Arc<Sparse>,
  pos: u64,
}

impl Read for SparseRead {
  fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
    let n = (self.src.size.saturating_sub(self.pos)).min(buf.len() as u64) as usize;
    self.src.fill(self.pos, &mut buf[..n]);
    self.pos += n as u64;
    Ok(n)
  }
}

#[derive(Clone)]
struct SparseSource(Arc<Sparse>);

impl Length for SparseSource {
  fn len(&self) -> u64 {
    self.0.size
  }
}

impl ChunkReader for SparseSource {
  type T = SparseRead;
  fn get_read(&self, start: u64) -> parquet::errors::Result<SparseRead> {
    Ok(SparseRead { src: self.0.clone(), pos: start })
  }
  fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
    if start + length as u64 > self.0.size {
      return Err(ParquetError::EOF(format!("range {start}+{length} is past the file's end ({})", self.0.size)));
    }
    // a range inside one piece is a view of it; otherwise assembled
    for (off, b) in &self.0.pieces {
      if start >= *off && start + length as u64 <= off + b.len() as u64 && start >= 4 {
        return Ok(b.slice((start - off) as usize..(start - off) as usize + length));
      }
    }
    let mut out = vec![0u8; length];
    self.0.fill(start, &mut out);
    Ok(Bytes::from(out))
  }
}

/// One decode: the file, which top-level columns (None: all) and row groups (None: all).
pub struct DecodeTask {
  source: Sparse,
  columns: Option<Vec<String>>,
  row_groups: Option<Vec<u32>>,
  batch_size: u32,
}

fn decode_with<R: ChunkReader + 'static>(src: R, t: &DecodeTask) -> Result<Vec<u8>> {
  let mut b = ParquetRecordBatchReaderBuilder::try_new(src).map_err(reason)?;
  if let Some(cols) = &t.columns {
    let descr = b.metadata().file_metadata().schema_descr_ptr();
    let roots: Vec<usize> = descr.root_schema().get_fields().iter().enumerate().filter(|(_, f)| cols.iter().any(|c| c == f.name())).map(|(i, _)| i).collect();
    b = b.with_projection(ProjectionMask::roots(&descr, roots));
  }
  if let Some(rg) = &t.row_groups {
    b = b.with_row_groups(rg.iter().map(|x| *x as usize).collect());
  }
  // the rows to decode, from the footer
  let rows: i64 = match &t.row_groups {
    Some(rg) => rg.iter().filter_map(|&i| b.metadata().row_groups().get(i as usize)).map(|g| g.num_rows()).sum(),
    None => b.metadata().file_metadata().num_rows(),
  };
  let reader = b.with_batch_size(t.batch_size.max(1) as usize).build().map_err(reason)?;
  let schema = reader.schema();
  let mut out = Vec::new();
  let mut w = StreamWriter::try_new(&mut out, &schema).map_err(reason)?;
  let mut first = true;
  for batch in reader {
    let batch = batch.map_err(reason)?;
    w.write(&batch).map_err(reason)?;
    if first && batch.num_rows() > 0 && (batch.num_rows() as i64) < rows {
      // The rest reserved at the first batch's bytes per row (+1/16), once: grown by doubling, the
      // output was copied again at every doubling and kept up to twice its size (decoding a split's
      // files ~5% faster). A footer announcing more rows than can be held (a corrupt or hostile
      // file) reserves nothing: `try_reserve` fails where `reserve` would abort the process.
      let per_row = w.get_ref().len() as f64 / batch.num_rows() as f64;
      let _ = w.get_mut().try_reserve(((rows - batch.num_rows() as i64) as f64 * per_row * 1.0625) as usize);
    }
    first = false;
  }
  w.finish().map_err(reason)?;
  drop(w);
  Ok(out)
}

/// A codec call, bytes out: run on the calling thread, or as a [`Work`] on libuv's thread pool.
pub trait Job: Send {
  fn run(&mut self) -> Result<Vec<u8>>;
}

/// A [`Job`] as a task on libuv's thread pool, resolving with its bytes as a Buffer (not copied).
pub struct Work<J: Job>(J);

impl<J: Job> Task for Work<J> {
  type Output = Vec<u8>;
  type JsValue = Buffer;
  fn compute(&mut self) -> Result<Vec<u8>> {
    self.0.run()
  }
  fn resolve(&mut self, _env: Env, out: Vec<u8>) -> Result<Buffer> {
    Ok(out.into())
  }
}

impl Job for DecodeTask {
  fn run(&mut self) -> Result<Vec<u8>> {
    guarded(|| {
      let whole = self.source.pieces.len() == 1 && self.source.pieces[0].0 == 0 && self.source.pieces[0].1.len() as u64 == self.source.size;
      if whole {
        decode_with(self.source.pieces[0].1.clone(), self)
      } else {
        let sparse = Sparse { size: self.source.size, pieces: std::mem::take(&mut self.source.pieces) };
        decode_with(SparseSource(Arc::new(sparse)), self)
      }
    })
  }
}


/// A JS byte array kept alive (by a reference) while the codec reads it.
pub(crate) struct JsBytes(Uint8Array);

impl AsRef<[u8]> for JsBytes {
  fn as_ref(&self) -> &[u8] {
    &self.0
  }
}

/// What to decode, as JS passes it.
#[napi(object)]
pub struct DecodeRequest {
  /// The file's size in bytes.
  pub size: f64,
  /// Known ranges: `pieces[k]` starts at `offsets[k]`. One piece at 0 of `size` bytes is the whole file.
  pub pieces: Vec<Uint8Array>,
  pub offsets: Vec<f64>,
  pub columns: Option<Vec<String>>,
  pub row_groups: Option<Vec<u32>>,
  pub batch_size: u32,
}

fn decode_task(req: DecodeRequest) -> Result<DecodeTask> {
  if req.pieces.len() != req.offsets.len() {
    return Err(Error::from_reason("pieces and offsets differ in length"));
  }
  // the caller's bytes, not copies: JS keeps them unchanged until the call settles (an aborted call's
  // result is dropped, so a later change can only affect bytes nobody reads)
  let mut pieces: Vec<(u64, Bytes)> = req.pieces.into_iter().zip(&req.offsets).map(|(p, o)| (*o as u64, Bytes::from_owner(JsBytes(p)))).collect();
  pieces.sort_by_key(|(o, _)| *o);
  Ok(DecodeTask { source: Sparse { size: req.size as u64, pieces }, columns: req.columns, row_groups: req.row_groups, batch_size: req.batch_size })
}

/// Decodes on libuv's thread pool; resolves with an Arrow IPC stream.
#[napi]
pub fn decode(req: DecodeRequest) -> Result<AsyncTask<Work<DecodeTask>>> {
  Ok(AsyncTask::new(Work(decode_task(req)?)))
}

/// Decodes on the calling thread; returns an Arrow IPC stream.
#[napi]
pub fn decode_sync(req: DecodeRequest) -> Result<Buffer> {
  Ok(decode_task(req)?.run()?.into())
}

/// A column's writer choices.
#[napi(object)]
pub struct ColumnChoice {
  pub column: String,
  pub dictionary: bool,
  /// 'DELTA_BINARY_PACKED' or 'DELTA_BYTE_ARRAY'; default: the writer's.
  pub encoding: Option<String>,
  /// false: this column's pages are not compressed.
  pub compressed: Option<bool>,
  /// Bytes of encoded values per data page for this column (default: the request's limit).
  pub page_size_limit: Option<u32>,
}

/// What to encode, as JS passes it.
#[napi(object)]
pub struct EncodeRequest {
  /// An Arrow IPC stream: the rows to encode; with `rows`, ignored (may be empty).
  pub ipc: Uint8Array,
  /// With `rows`: the sources whose rows are taken (one schema), as [`prepare_source`] made them.
  pub prepared: Option<Vec<ExternalRef<PreparedCell>>>,
  /// With `rows`: each output row's source (all from the first without it).
  pub src: Option<Uint32Array>,
  /// The output rows, by row of their source: the file holds these rows in this order.
  pub rows: Option<Int32Array>,
  /**
   * With `rows`: the columns (int32, int64, string or binary, without nulls) that order the rows
   * first, compared in this order, stably (equal keys keep the order of `rows`).
   */
  pub sort_keys: Option<Vec<u32>>,
  /// 'zstd', 'snappy' or 'none'.
  pub compression: String,
  pub row_group_size: u32,
  pub data_page_size_limit: u32,
  /// Footer key/value metadata as [key, value] pairs.
  pub metadata: Option<Vec<Vec<String>>>,
  pub created_by: String,
  pub encodings: Vec<ColumnChoice>,
}

/// What an encode writes: a stream's batches, or rows taken from sources.
enum EncodeInput {
  Stream(Bytes),
  Rows { sources: Vec<Arc<PreparedSource>>, src: Option<Uint32Array>, rows: Int32Array, sort_keys: Option<Vec<u32>> },
}

/// The rows of one Arrow IPC stream, decoded and checked once for all the encodes that take rows of
/// it: a write's partitions and buckets come out of the same input batches, and each encode decoded
/// and validated the whole stream again (a 200k-row source: ~0.4 ms a file, 90% of a small
/// partition's encode). Its columns are read in place (the stream's memory stays referenced).
pub struct PreparedSource {
  schema: SchemaRef,
  batch: RecordBatch,
}

fn prepare(bytes: Bytes) -> Result<PreparedSource> {
  let (schema, parts) = read_ipc(bytes)?;
  let batch = if parts.len() == 1 { parts.into_iter().next().unwrap() } else { concat_batches(&schema, &parts).map_err(reason)? };
  Ok(PreparedSource { schema, batch })
}

/// A prepared source behind its JavaScript handle, until [`release_source`] (or the collection of the
/// handle) lets it go; encodes that took it keep it until they end.
pub struct PreparedCell(std::sync::Mutex<Option<Arc<PreparedSource>>>);

impl PreparedCell {
  fn get(&self) -> Result<Arc<PreparedSource>> {
    let held = self.0.lock().map_err(|_| Error::from_reason("a row source's lock is poisoned"))?;
    held.clone().ok_or_else(|| Error::from_reason("a row source was used after its release"))
  }
}

/// Lets a prepared source go now (its memory is the caller's stream and the columns decoded from it),
/// rather than when JavaScript collects the handle; encodes that took it keep it until they end.
#[napi]
pub fn release_source(handle: &External<PreparedCell>) {
  if let Ok(mut held) = handle.0.lock() {
    held.take();
  }
}

/// An Arrow IPC stream decoded and validated on libuv's thread pool, for encodes to take rows from
/// (`EncodeRequest::prepared`) until [`release_source`].
#[napi]
pub fn prepare_source(ipc: Uint8Array) -> AsyncTask<PrepareTask> {
  AsyncTask::new(PrepareTask(Bytes::from_owner(JsBytes(ipc))))
}

/// The stream a [`prepare_source`] call decodes (the task keeps the caller's memory referenced).
pub struct PrepareTask(Bytes);

/// What [`prepare_source`] resolves with: the source behind a JavaScript External.
pub struct PreparedHandle(External<PreparedCell>);

impl TypeName for PreparedHandle {
  fn type_name() -> &'static str {
    "External"
  }
  fn value_type() -> ValueType {
    ValueType::External
  }
}

impl ToNapiValue for PreparedHandle {
  unsafe fn to_napi_value(env: napi::sys::napi_env, val: Self) -> Result<napi::sys::napi_value> {
    // SAFETY: called by napi on the JS thread with its env, as for the External itself
    unsafe { External::to_napi_value(env, val.0) }
  }
}

impl Task for PrepareTask {
  type Output = PreparedSource;
  type JsValue = PreparedHandle;
  fn compute(&mut self) -> Result<PreparedSource> {
    guarded(|| prepare(self.0.clone()))
  }
  fn resolve(&mut self, _env: Env, out: PreparedSource) -> Result<PreparedHandle> {
    Ok(PreparedHandle(External::new(PreparedCell(std::sync::Mutex::new(Some(Arc::new(out)))))))
  }
}

/// One encode (the caller's IPC bytes and row indexes, not copies: JS keeps them unchanged until the
/// call settles).
pub struct EncodeTask {
  input: EncodeInput,
  props: WriterProperties,
}

/// The batches of an Arrow IPC stream, read in place (`bytes` is the caller's memory; only buffers
/// not aligned for their type are copied).
fn read_ipc(bytes: Bytes) -> Result<(SchemaRef, Vec<RecordBatch>)> {
  let mut buf = arrow_buffer::Buffer::from(bytes);
  let mut decoder = StreamDecoder::new();
  let mut batches = Vec::new();
  while !buf.is_empty() {
    match decoder.decode(&mut buf).map_err(reason)? {
      Some(b) => batches.push(b),
      None if buf.is_empty() => break,
      None => {}
    }
  }
  decoder.finish().map_err(reason)?;
  let schema = decoder.schema().ok_or_else(|| Error::from_reason("the Arrow IPC stream has no schema"))?;
  Ok((schema, batches))
}

/// One sort column of every source, typed ([`sort_by_keys`]).
enum SortColumn<'a> {
  I64(Vec<&'a Int64Array>),
  I32(Vec<&'a ArrowInt32Array>),
  Str(Vec<&'a StringArray>),
  Bin(Vec<&'a BinaryArray>),
  LargeStr(Vec<&'a LargeStringArray>),
  LargeBin(Vec<&'a LargeBinaryArray>),
}

impl<'a> SortColumn<'a> {
  /// Column `k` of every batch, or an error naming its type (and nulls, which it may not hold).
  fn of(batches: &[&'a RecordBatch], k: usize) -> Result<Self> {
    let cols: Vec<&ArrayRef> = batches.iter().map(|b| b.column(k)).collect();
    if cols.iter().any(|c| c.null_count() > 0) {
      return Err(Error::from_reason(format!("the sort key (column {k}) has nulls")));
    }
    let col = if let Some(c) = downcast_all(&cols) {
      Self::I64(c)
    } else if let Some(c) = downcast_all(&cols) {
      Self::I32(c)
    } else if let Some(c) = downcast_all(&cols) {
      Self::Str(c)
    } else if let Some(c) = downcast_all(&cols) {
      Self::Bin(c)
    } else if let Some(c) = downcast_all(&cols) {
      Self::LargeStr(c)
    } else if let Some(c) = downcast_all(&cols) {
      Self::LargeBin(c)
    } else {
      return Err(Error::from_reason(format!("the sort key (column {k}) is {}, not int32, int64, string or binary", cols[0].data_type())));
    };
    Ok(col)
  }

  /// Row `a` against row `b` (each (source, row)): numbers numerically, bytes unsigned, a prefix first.
  fn cmp(&self, (sa, ra): (usize, usize), (sb, rb): (usize, usize)) -> std::cmp::Ordering {
    match self {
      Self::I64(c) => c[sa].value(ra).cmp(&c[sb].value(rb)),
      Self::I32(c) => c[sa].value(ra).cmp(&c[sb].value(rb)),
      Self::Str(c) => c[sa].value(ra).as_bytes().cmp(c[sb].value(rb).as_bytes()),
      Self::Bin(c) => c[sa].value(ra).cmp(c[sb].value(rb)),
      Self::LargeStr(c) => c[sa].value(ra).as_bytes().cmp(c[sb].value(rb).as_bytes()),
      Self::LargeBin(c) => c[sa].value(ra).cmp(c[sb].value(rb)),
    }
  }
}

/// The rows (and their sources) ordered by the columns `ks` of the sources, compared in that order,
/// stably: int32 or int64 values, or strings/binaries by their unsigned bytes, a prefix first
/// (`arrow/pk-compare.ts`'s order).
fn sort_by_keys(batches: &[&RecordBatch], ks: &[usize], src: Option<&[u32]>, rows: &[i32]) -> Result<(Option<Vec<u32>>, Vec<i32>)> {
  let cols = ks.iter().map(|&k| SortColumn::of(batches, k)).collect::<Result<Vec<_>>>()?;
  let at = |i: u32| (src.map_or(0, |s| s[i as usize] as usize), rows[i as usize] as usize);
  let n = rows.len();
  // (key, position) pairs are distinct: an unstable sort of them is a stable sort by key
  fn positions<K: Ord>(mut keyed: Vec<(K, u32)>) -> Vec<u32> {
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
  }
  let keyed = |key: &dyn Fn((usize, usize)) -> i64| positions((0..n as u32).map(|i| (key(at(i)), i)).collect());
  let order = match &cols[..] {
    // one integer column: plain (value, position) pairs
    [SortColumn::I64(c)] => keyed(&|(s, r)| c[s].value(r)),
    [SortColumn::I32(c)] => keyed(&|(s, r)| i64::from(c[s].value(r))),
    // one string column: (bytes, position) pairs, the slices found once
    [SortColumn::Str(c)] => positions((0..n as u32).map(|i| { let (s, r) = at(i); (c[s].value(r).as_bytes(), i) }).collect()),
    _ => {
      let mut order: Vec<u32> = (0..n as u32).collect();
      order.sort_unstable_by(|&a, &b| cols.iter().map(|c| c.cmp(at(a), at(b))).find(|o| o.is_ne()).unwrap_or(a.cmp(&b)));
      order
    }
  };
  let out_rows = order.iter().map(|&i| rows[i as usize]).collect();
  let out_src = src.map(|s| order.iter().map(|&i| s[i as usize]).collect());
  Ok((out_src, out_rows))
}

/// Every column of `cols` as an `A`, or None when one is another array type.
fn downcast_all<'a, A: 'static>(cols: &[&'a ArrayRef]) -> Option<Vec<&'a A>> {
  cols.iter().map(|&c| c.as_any().downcast_ref::<A>()).collect()
}

/// Rows `rows` (of source `src[i]`, or of the first) of `prepared`, as one batch (the sources of one
/// schema). Checks every row against its source's length.
fn take_rows(prepared: &[Arc<PreparedSource>], src: Option<&[u32]>, rows: &[i32], sort_keys: Option<&[u32]>) -> Result<(SchemaRef, RecordBatch)> {
  let schema = prepared.first().map(|p| p.schema.clone()).ok_or_else(|| Error::from_reason("rows to encode without a source"))?;
  if let Some(k) = prepared.iter().position(|p| p.schema.fields() != schema.fields()) {
    return Err(Error::from_reason(format!("source {k} has another schema than source 0")));
  }
  let batches: Vec<&RecordBatch> = prepared.iter().map(|p| &p.batch).collect();
  if let Some(s) = src {
    if s.len() != rows.len() {
      return Err(Error::from_reason(format!("src has {} entries for {} rows", s.len(), rows.len())));
    }
  }
  let lens: Vec<usize> = batches.iter().map(|b| b.num_rows()).collect();
  for (i, &r) in rows.iter().enumerate() {
    let s = src.map_or(0, |s| s[i] as usize);
    if s >= lens.len() || r < 0 || r as usize >= lens[s] {
      return Err(Error::from_reason(format!("row {i}: ({s}, {r}) is outside the sources ({} of {:?} rows)", lens.len(), lens)));
    }
  }
  let sorted;
  let (src, rows) = match sort_keys {
    None => (src, rows),
    Some(ks) => {
      if let Some(&k) = ks.iter().find(|&&k| k as usize >= schema.fields().len()) {
        return Err(Error::from_reason(format!("sort key column {k} of {}", schema.fields().len())));
      }
      let ks: Vec<usize> = ks.iter().map(|&k| k as usize).collect();
      sorted = sort_by_keys(&batches, &ks, src, rows)?;
      (sorted.0.as_deref(), &sorted.1[..])
    }
  };

  let columns: Vec<ArrayRef> = if batches.len() == 1 {
    let idx = UInt32Array::from_iter_values(rows.iter().map(|&r| r as u32));
    batches[0].columns().iter().map(|c| take(c.as_ref(), &idx, None)).collect::<std::result::Result<_, _>>().map_err(reason)?
  } else {
    let pairs: Vec<(usize, usize)> = rows.iter().enumerate().map(|(i, &r)| (src.map_or(0, |s| s[i] as usize), r as usize)).collect();
    (0..schema.fields().len())
      .map(|k| {
        let cols: Vec<&dyn Array> = batches.iter().map(|b| b.column(k).as_ref()).collect();
        interleave(&cols, &pairs)
      })
      .collect::<std::result::Result<_, _>>()
      .map_err(reason)?
  };
  let out = RecordBatch::try_new_with_options(schema.clone(), columns, &RecordBatchOptions::new().with_row_count(Some(rows.len()))).map_err(reason)?;
  Ok((schema, out))
}

fn writer_properties(req: &EncodeRequest) -> Result<WriterProperties> {
  let compression = match req.compression.as_str() {
    "zstd" => Compression::ZSTD(ZstdLevel::default()),
    "snappy" => Compression::SNAPPY,
    "none" => Compression::UNCOMPRESSED,
    other => return Err(Error::from_reason(format!("unknown compression '{other}' (zstd, snappy or none)"))),
  };
  let mut p = WriterProperties::builder()
    .set_compression(compression)
    .set_statistics_enabled(EnabledStatistics::Page)
    .set_data_page_size_limit(req.data_page_size_limit.max(1) as usize)
    .set_max_row_group_row_count(Some(req.row_group_size.max(1) as usize))
    .set_created_by(req.created_by.clone());
  if let Some(md) = &req.metadata {
    let kv = md.iter().map(|pair| KeyValue::new(pair.first().cloned().unwrap_or_default(), pair.get(1).cloned())).collect();
    p = p.set_key_value_metadata(Some(kv));
  }
  for c in &req.encodings {
    let path = ColumnPath::from(c.column.clone());
    p = p.set_column_dictionary_enabled(path.clone(), c.dictionary);
    if let Some(e) = &c.encoding {
      let enc = match e.as_str() {
        "DELTA_BINARY_PACKED" => Encoding::DELTA_BINARY_PACKED,
        "DELTA_BYTE_ARRAY" => Encoding::DELTA_BYTE_ARRAY,
        other => return Err(Error::from_reason(format!("unknown encoding '{other}' for column '{}'", c.column))),
      };
      p = p.set_column_encoding(path.clone(), enc);
    }
    if let Some(limit) = c.page_size_limit {
      p = p.set_column_data_page_size_limit(path.clone(), limit.max(1) as usize);
    }
    if c.compressed == Some(false) {
      p = p.set_column_compression(path, Compression::UNCOMPRESSED);
    }
  }
  Ok(p.build())
}

impl Job for EncodeTask {
  fn run(&mut self) -> Result<Vec<u8>> {
    let props = self.props.clone();
    guarded(|| {
      let (schema, batches) = match &self.input {
        EncodeInput::Stream(ipc) => read_ipc(ipc.clone())?,
        EncodeInput::Rows { sources, src, rows, sort_keys } => {
          let (schema, batch) = take_rows(sources, src.as_deref(), rows, sort_keys.as_deref())?;
          (schema, vec![batch])
        }
      };
      let mut out = Vec::new();
      let mut w = ArrowWriter::try_new(&mut out, schema, Some(props)).map_err(reason)?;
      for batch in &batches {
        w.write(batch).map_err(reason)?;
      }
      w.close().map_err(reason)?;
      Ok(out)
    })
  }
}


fn encode_task(req: EncodeRequest) -> Result<EncodeTask> {
  let props = writer_properties(&req)?;
  let input = match req.rows {
    None => EncodeInput::Stream(Bytes::from_owner(JsBytes(req.ipc))),
    Some(rows) => {
      // the handles are JavaScript references, released here on the calling thread; the task keeps the sources
      let sources = req.prepared.unwrap_or_default().iter().map(|h| h.get()).collect::<Result<_>>()?;
      EncodeInput::Rows { sources, src: req.src, rows, sort_keys: req.sort_keys }
    }
  };
  Ok(EncodeTask { input, props })
}

/// Encodes on libuv's thread pool; resolves with the Parquet file.
#[napi]
pub fn encode(req: EncodeRequest) -> Result<AsyncTask<Work<EncodeTask>>> {
  Ok(AsyncTask::new(Work(encode_task(req)?)))
}

/// Encodes on the calling thread; returns the Parquet file.
#[napi]
pub fn encode_sync(req: EncodeRequest) -> Result<Buffer> {
  Ok(encode_task(req)?.run()?.into())
}

/// The version of this addon's interface (its functions and request fields): `parquet/parquet-native.ts`
/// loads only the version it was written for, so an addon built from older sources is refused, not
/// called with fields it would ignore (an old encode does not know `sort_keys` and would leave the
/// rows unsorted). Raise it with every change of a function or field.
#[napi]
pub fn interface_version() -> u32 {
  4
}

/// The parquet crate's version this addon was built with.
#[napi]
pub fn parquet_version() -> &'static str {
  "59.3.0"
}

/// An f64 as a u64 ordered like the numbers (no NaN here; -0 is 0, as JavaScript's `===` has it).
fn ordered_bits(x: f64) -> u64 {
  let b = if x == 0.0 { 0u64 } else { x.to_bits() };
  if b >> 63 == 1 {
    !b
  } else {
    b | (1 << 63)
  }
}

thread_local! {
  /// Merge buffers of [`sorted_winners`] ((ordered key, payload) pairs) and [`sorted_winners_bytes`]
  /// (payloads), kept between calls: fresh memory costs a page fault per 4 KiB on first touch, more
  /// than the merge itself.
  static PAIRS: RefCell<[Vec<(u64, u64)>; 2]> = const { RefCell::new([Vec::new(), Vec::new()]) };
  static PAYLOADS: RefCell<[Vec<u64>; 2]> = const { RefCell::new([Vec::new(), Vec::new()]) };
}

/// `v` grown to at least `n` entries (once; every slot below `n` is written before it is read).
fn at_least<T: Copy + Default>(v: &mut Vec<T>, n: usize) {
  if v.len() < n {
    v.resize(n, T::default());
  }
}

/// Merges adjacent runs pairwise, pass after pass, from `a` into `b` and back, the earlier run first
/// among equal entries (`before(x, y)`: x sorts strictly before y); `bounds` are the runs' starts
/// plus the end. Returns whether the result is in `b`.
fn merge_passes<T: Copy>(a: &mut [T], b: &mut [T], mut bounds: Vec<usize>, before: impl Fn(&T, &T) -> bool) -> bool {
  let mut flipped = false;
  while bounds.len() > 2 {
    let (src, dst) = if flipped { (&*b, &mut *a) } else { (&*a, &mut *b) };
    let mut next = Vec::with_capacity(bounds.len() / 2 + 2);
    let mut r = 0;
    while r + 1 < bounds.len() {
      let (lo, mid) = (bounds[r], bounds[r + 1]);
      let hi = if r + 2 < bounds.len() { bounds[r + 2] } else { mid };
      next.push(lo);
      // branch-free: the interleaving of two runs is random
      let (mut i, mut j, mut o) = (lo, mid, lo);
      while i < mid && j < hi {
        let take_b = before(&src[j], &src[i]);
        dst[o] = if take_b { src[j] } else { src[i] };
        j += take_b as usize;
        i += !take_b as usize;
        o += 1;
      }
      dst[o..o + mid - i].copy_from_slice(&src[i..mid]);
      o += mid - i;
      dst[o..o + hi - j].copy_from_slice(&src[j..hi]);
      r += 2;
    }
    next.push(*bounds.last().unwrap());
    bounds = next;
    flipped = !flipped;
  }
  flipped
}

/// Checks one round's per-source arguments (`lens[s]`: the keys source `s` holds) and returns its rows.
fn round_rows(lens: &[usize], starts: &[u32], ends: &[u32], indexes: &[i32], has: &[bool], win_s: &Int32Array, win_r: &Int32Array) -> Result<usize> {
  let k = lens.len();
  if starts.len() != k || ends.len() != k || indexes.len() != k || has.len() != k {
    return Err(Error::from_reason("sortedWinners: per-source arguments differ in length"));
  }
  let mut total = 0usize;
  for s in 0..k {
    if starts[s] > ends[s] || ends[s] as usize > lens[s] {
      return Err(Error::from_reason(format!("sortedWinners: source {s}'s rows [{}, {}) are outside its {} keys", starts[s], ends[s], lens[s])));
    }
    total += (ends[s] - starts[s]) as usize;
  }
  if win_s.len() < total || win_r.len() < total {
    return Err(Error::from_reason(format!("sortedWinners: winner arrays hold {} and {}, the round has {total} rows", win_s.len(), win_r.len())));
  }
  Ok(total)
}

/// The source with the most rows in the round (read in place by the last merge), or None without sources.
fn largest(starts: &[u32], ends: &[u32]) -> Option<usize> {
  (0..starts.len()).max_by_key(|&s| ends[s] - starts[s])
}

/// Calls `each(at, source << 32 | row)` for the rows of every source but `skip`, in source order
/// (`at` counting from 0); returns the runs' bounds (their starts plus the end).
fn payloads_except(starts: &[u32], ends: &[u32], skip: usize, mut each: impl FnMut(usize, u64)) -> Vec<usize> {
  let mut bounds = Vec::with_capacity(starts.len() + 1);
  let mut at = 0;
  for s in (0..starts.len()).filter(|&s| s != skip) {
    bounds.push(at);
    for r in starts[s]..ends[s] {
      each(at, ((s as u64) << 32) | u64::from(r));
      at += 1;
    }
  }
  bounds.push(at);
  bounds
}

/// Where a round's winners go: per distinct key, the greatest (source, row) of a source that has the
/// columns, as its `indexes[source]` (-1 when none) and row.
struct Winners<'a> {
  indexes: &'a [i32],
  has: &'a [bool],
  ws: &'a mut [i32],
  wr: &'a mut [i32],
}

impl Winners<'_> {
  /// Merges the `m` merged entries (key `m_key(i)`, payload `m_pay(i)`, in key order) with the
  /// `b` keys `b_key(j)` of source `big` (row `first + j`), writing each distinct key's winner.
  /// Returns the number of keys.
  #[allow(clippy::too_many_arguments)]
  fn merge<K: PartialOrd + Copy>(self, m: usize, m_key: impl Fn(usize) -> K, m_pay: impl Fn(usize) -> u64, b: usize, b_key: impl Fn(usize) -> K, big: usize, first: u32) -> usize {
    let big_has = self.has[big];
    let big_pay = (big as u64) << 32;
    let (mut i, mut j, mut n) = (0usize, 0usize, 0usize);
    while i < m || j < b {
      let key = if j >= b {
        m_key(i)
      } else if i >= m {
        b_key(j)
      } else {
        let (x, y) = (m_key(i), b_key(j));
        if y < x { y } else { x }
      };
      let mut win: Option<u64> = None;
      while i < m && m_key(i) == key {
        let p = m_pay(i);
        if self.has[(p >> 32) as usize] && win.map_or(true, |w| p > w) {
          win = Some(p);
        }
        i += 1;
      }
      while j < b && b_key(j) == key {
        let p = big_pay | u64::from(first + j as u32);
        if big_has && win.map_or(true, |w| p > w) {
          win = Some(p);
        }
        j += 1;
      }
      (self.ws[n], self.wr[n]) = match win {
        Some(p) => (self.indexes[(p >> 32) as usize], (p & 0xffff_ffff) as i32),
        None => (-1, -1),
      };
      n += 1;
    }
    n
  }
}

/// The UseLast winners of one merge-on-read round (`merge/merge-on-read.ts`, `sortedWinners`): the
/// rows `[starts[k], ends[k])` of every source's numeric keys `keys[k]` (each ascending; sources in
/// merge order) merged into one order in which equal keys stay in (source, row) order, and per distinct key
/// the last of its rows whose source has the columns (`has[k]`). Writes, per distinct key in
/// ascending order, the winner's `indexes[k]` (or -1 when no source of the key has the columns) to
/// `win_s` and its row to `win_r`; returns the number of distinct keys.
///
/// The last row of a key in that order is its greatest (source, row) pair, so the runs may be merged
/// in any order: every source but the one with the most rows is merged pairwise in scratch buffers,
/// and that largest one (a layered table's base file) is read in place by the last merge, which
/// writes the winners as it goes instead of laying out the whole merged round first.
#[napi]
pub fn sorted_winners(keys: Vec<Float64Array>, starts: Vec<u32>, ends: Vec<u32>, indexes: Vec<i32>, has: Vec<bool>, mut win_s: Int32Array, mut win_r: Int32Array) -> Result<i32> {
  let lens: Vec<usize> = keys.iter().map(|k| k.len()).collect();
  let total = round_rows(&lens, &starts, &ends, &indexes, &has, &win_s, &win_r)?;
  let Some(big) = largest(&starts, &ends) else { return Ok(0) };
  let rest = total - (ends[big] - starts[big]) as usize;
  PAIRS.with(|cell| {
    let mut scratch = cell.borrow_mut();
    let [a, b] = &mut *scratch;
    at_least(a, rest);
    at_least(b, rest);
    let (a, b) = (&mut a[..rest], &mut b[..rest]);
    let bounds = payloads_except(&starts, &ends, big, |at, p| {
      a[at] = (ordered_bits(keys[(p >> 32) as usize][(p & 0xffff_ffff) as usize]), p);
    });
    let merged: &[(u64, u64)] = if merge_passes(a, b, bounds, |x, y| x.0 < y.0) { b } else { a };
    let big_keys = &keys[big][starts[big] as usize..ends[big] as usize];
    let (ws, wr) = unsafe { (win_s.as_mut(), win_r.as_mut()) };
    let winners = Winners { indexes: &indexes, has: &has, ws, wr };
    Ok(winners.merge(merged.len(), |i| merged[i].0, |i| merged[i].1, big_keys.len(), |j| ordered_bits(big_keys[j]), big, starts[big]) as i32)
  })
}

/// The winners of a round of `total` rows whose keys are compared through `key(source << 32 | row)`:
/// every source but the largest merged pairwise as payloads, then merged with the largest read in
/// place ([`Winners::merge`]). The callers check the arguments first.
#[allow(clippy::too_many_arguments)]
fn merge_payloads<'k, K: PartialOrd + Copy + 'k>(starts: &[u32], ends: &[u32], indexes: &[i32], has: &[bool], win_s: &mut Int32Array, win_r: &mut Int32Array, total: usize, key: impl Fn(u64) -> K + 'k) -> Result<i32> {
  let Some(big) = largest(starts, ends) else { return Ok(0) };
  let rest = total - (ends[big] - starts[big]) as usize;
  PAYLOADS.with(|cell| {
    let mut scratch = cell.borrow_mut();
    let [a, b] = &mut *scratch;
    at_least(a, rest);
    at_least(b, rest);
    let (a, b) = (&mut a[..rest], &mut b[..rest]);
    let bounds = payloads_except(starts, ends, big, |at, p| a[at] = p);
    let merged: &[u64] = if merge_passes(a, b, bounds, |x, y| key(*x) < key(*y)) { b } else { a };
    let (first, big_pay) = (starts[big], (big as u64) << 32);
    let (ws, wr) = unsafe { (win_s.as_mut(), win_r.as_mut()) };
    let winners = Winners { indexes, has, ws, wr };
    let n = (ends[big] - first) as usize;
    Ok(winners.merge(merged.len(), |i| key(merged[i]), |i| merged[i], n, |j| key(big_pay | u64::from(first + j as u32)), big, first) as i32)
  })
}

/// [`sorted_winners`] for keys of bytes (strings, binaries) with 32-bit offsets: source `k`'s key of
/// row `r` is `values[k][offsets[k][r]..offsets[k][r + 1]]`, ordered by unsigned bytes, a prefix
/// first (as `arrow/pk-compare.ts` orders them). Every offset of the round is checked against its
/// source's bytes.
#[napi]
pub fn sorted_winners_bytes(values: Vec<Uint8Array>, offsets: Vec<Int32Array>, starts: Vec<u32>, ends: Vec<u32>, indexes: Vec<i32>, has: Vec<bool>, mut win_s: Int32Array, mut win_r: Int32Array) -> Result<i32> {
  if values.len() != offsets.len() {
    return Err(Error::from_reason("sortedWinnersBytes: values and offsets differ in length"));
  }
  let lens: Vec<usize> = offsets.iter().map(|o| o.len().saturating_sub(1)).collect();
  let total = round_rows(&lens, &starts, &ends, &indexes, &has, &win_s, &win_r)?;
  for s in 0..values.len() {
    check_offsets(&offsets[s], &values[s], starts[s], ends[s]).map_err(|v| Error::from_reason(format!("sortedWinnersBytes: source {s}'s offsets of rows [{}, {}) are not within its {v} bytes", starts[s], ends[s])))?;
  }
  let key = |p: u64| -> &[u8] {
    let (s, r) = ((p >> 32) as usize, (p & 0xffff_ffff) as usize);
    &values[s][offsets[s][r] as usize..offsets[s][r + 1] as usize]
  };
  merge_payloads(&starts, &ends, &indexes, &has, &mut win_s, &mut win_r, total, key)
}

/// Whether the offsets of rows `[lo, hi)` (`o[lo..=hi]`) ascend within `values`; Err(its byte count) when not.
fn check_offsets(o: &[i32], values: &[u8], lo: u32, hi: u32) -> std::result::Result<(), usize> {
  let (lo, hi) = (lo as usize, hi as usize);
  if lo < hi && (o[lo] < 0 || o[lo..=hi].windows(2).any(|w| w[1] < w[0]) || o[hi] as usize > values.len()) {
    return Err(values.len());
  }
  Ok(())
}

/// The key columns of a round's sources for [`sorted_winners_tuple`]: per column numbers (`kinds[c]`
/// 0) or bytes with 32-bit offsets (1); source `s`'s `q`-th numeric column is `nums[s * nn + q]`,
/// its `q`-th byte column `values` / `offsets[s * nb + q]`.
struct Tuples<'a> {
  kinds: &'a [u8],
  nums: &'a [Float64Array],
  values: &'a [Uint8Array],
  offsets: &'a [Int32Array],
  nn: usize,
  nb: usize,
}

impl Tuples<'_> {
  /// The key tuple of payload `a` (`source << 32 | row`) against that of `b`, column by column:
  /// numbers numerically (-0 = 0; no NaN here), bytes unsigned, a prefix first.
  fn cmp(&self, a: u64, b: u64) -> std::cmp::Ordering {
    let (sa, ra, sb, rb) = ((a >> 32) as usize, (a & 0xffff_ffff) as usize, (b >> 32) as usize, (b & 0xffff_ffff) as usize);
    let (mut qn, mut qb) = (0, 0);
    for &kind in self.kinds {
      let o = if kind == 0 {
        let (x, y) = (self.nums[sa * self.nn + qn][ra], self.nums[sb * self.nn + qn][rb]);
        qn += 1;
        x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal)
      } else {
        let (oa, ob) = (&self.offsets[sa * self.nb + qb], &self.offsets[sb * self.nb + qb]);
        let ka = &self.values[sa * self.nb + qb][oa[ra] as usize..oa[ra + 1] as usize];
        let kb = &self.values[sb * self.nb + qb][ob[rb] as usize..ob[rb + 1] as usize];
        qb += 1;
        ka.cmp(kb)
      };
      if o != std::cmp::Ordering::Equal {
        return o;
      }
    }
    std::cmp::Ordering::Equal
  }
}

/// A payload compared by its key tuple ([`Winners::merge`]'s key for [`sorted_winners_tuple`]).
#[derive(Clone, Copy)]
struct TupleKey<'a>(u64, &'a Tuples<'a>);

impl PartialEq for TupleKey<'_> {
  fn eq(&self, other: &Self) -> bool {
    self.1.cmp(self.0, other.0) == std::cmp::Ordering::Equal
  }
}

impl PartialOrd for TupleKey<'_> {
  fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
    Some(self.1.cmp(self.0, other.0))
  }
}

/// [`sorted_winners`] for keys of several columns, each numbers (`kinds[c]` 0: every source's values
/// as a Float64Array ordered like the key, no NaN) or bytes (1: values and 32-bit offsets, unsigned
/// bytes, a prefix first); compared column by column. Layout: see [`Tuples`]. Every offset of the
/// round is checked against its source's bytes.
#[napi]
#[allow(clippy::too_many_arguments)]
pub fn sorted_winners_tuple(kinds: Vec<u8>, nums: Vec<Float64Array>, values: Vec<Uint8Array>, offsets: Vec<Int32Array>, starts: Vec<u32>, ends: Vec<u32>, indexes: Vec<i32>, has: Vec<bool>, mut win_s: Int32Array, mut win_r: Int32Array) -> Result<i32> {
  let k = starts.len();
  let nn = kinds.iter().filter(|&&c| c == 0).count();
  let nb = kinds.len() - nn;
  if kinds.iter().any(|&c| c > 1) || nums.len() != k * nn || values.len() != k * nb || offsets.len() != k * nb || kinds.is_empty() {
    return Err(Error::from_reason(format!("sortedWinnersTuple: {} sources of kinds {kinds:?} need {} number and {} byte columns, got {}, {} values and {} offsets", k, k * nn, k * nb, nums.len(), values.len(), offsets.len())));
  }
  let lens: Vec<usize> = (0..k)
    .map(|s| {
      let n = (0..nn).map(|q| nums[s * nn + q].len());
      let b = (0..nb).map(|q| offsets[s * nb + q].len().saturating_sub(1));
      n.chain(b).min().unwrap_or(0)
    })
    .collect();
  let total = round_rows(&lens, &starts, &ends, &indexes, &has, &win_s, &win_r)?;
  for s in 0..k {
    for q in 0..nb {
      check_offsets(&offsets[s * nb + q], &values[s * nb + q], starts[s], ends[s]).map_err(|v| Error::from_reason(format!("sortedWinnersTuple: source {s}'s offsets of byte column {q}, rows [{}, {}), are not within its {v} bytes", starts[s], ends[s])))?;
    }
  }
  let tuples = Tuples { kinds: &kinds, nums: &nums, values: &values, offsets: &offsets, nn, nb };
  merge_payloads(&starts, &ends, &indexes, &has, &mut win_s, &mut win_r, total, |p| TupleKey(p, &tuples))
}

/// Variable-width values (32-bit offsets) of the rows `rows` (negative: a null, no bytes) gathered from
/// the sources `values[s]` / `offsets[s]`, row `i` from source `src[i]` (all from source 0 without
/// `src`), as `take-rows.ts`'s `gatherBytes32` does in JavaScript: writes the output offsets
/// (`rows.len() + 1`) to `out_offsets` and returns the bytes. Consecutive rows of one source are
/// copied as one range. Every offset is checked against its source, so bad input is an error.
#[napi]
pub fn gather_bytes(values: Vec<Uint8Array>, offsets: Vec<Int32Array>, src: Option<Uint32Array>, rows: Int32Array, mut out_offsets: Int32Array) -> Result<Buffer> {
  let n = rows.len();
  if out_offsets.len() != n + 1 || values.len() != offsets.len() || values.is_empty() || src.as_ref().is_some_and(|s| s.len() != n) {
    return Err(Error::from_reason("gatherBytes: arguments of inconsistent lengths"));
  }
  let bounds = |i: usize| -> Result<(usize, usize, usize)> {
    let s = src.as_ref().map_or(0, |s| s[i] as usize);
    let r = rows[i] as usize;
    let (o, v) = (offsets.get(s), values.get(s));
    match (o, v) {
      (Some(o), Some(v)) if r + 1 < o.len() && o[r] >= 0 && o[r] <= o[r + 1] && o[r + 1] as usize <= v.len() => Ok((s, o[r] as usize, o[r + 1] as usize)),
      _ => Err(Error::from_reason(format!("gatherBytes: row {r} of source {s} is outside its values"))),
    }
  };
  let oo = unsafe { out_offsets.as_mut() };
  let mut total = 0usize;
  for i in 0..n {
    oo[i] = total as i32;
    if rows[i] >= 0 {
      let (_, a, b) = bounds(i)?;
      total += b - a;
      if total > i32::MAX as usize {
        return Err(Error::from_reason("gatherBytes: the gathered values exceed 2 GiB"));
      }
    }
  }
  oo[n] = total as i32;
  let mut data = Vec::with_capacity(total);
  let mut i = 0;
  while i < n {
    if rows[i] < 0 {
      i += 1;
      continue;
    }
    let (s, a, mut b) = bounds(i)?;
    let mut j = i + 1;
    while j < n && rows[j] == rows[j - 1] + 1 && src.as_ref().is_none_or(|x| x[j] as usize == s) {
      b = bounds(j)?.2;
      j += 1;
    }
    data.extend_from_slice(&values[s][a..b]);
    i = j;
  }
  Ok(data.into())
}

// Spark's Murmur3_x86_32 (LakeSoul's bucket hash), folded over a key column: `hashes[i]` is the
// running hash of row i (the seed, or the previous key columns' hash) and becomes this column's
// hash of it. Columns without nulls only (the caller hashes others in JavaScript, which skips
// nulls). The same arithmetic as `src/hash/spark-murmur3.ts`, which documents the value mapping.

fn mix_k1(k: u32) -> u32 {
  k.wrapping_mul(0xcc9e2d51).rotate_left(15).wrapping_mul(0x1b873593)
}

fn mix_h1(h: u32, k: u32) -> u32 {
  (h ^ k).rotate_left(13).wrapping_mul(5).wrapping_add(0xe6546b64)
}

fn fmix(mut h: u32, len: u32) -> u32 {
  h ^= len;
  h ^= h >> 16;
  h = h.wrapping_mul(0x85ebca6b);
  h ^= h >> 13;
  h = h.wrapping_mul(0xc2b2ae35);
  h ^ (h >> 16)
}

/// Spark `hashInt` of each value (int32, date32, and the smaller ints widened by the caller).
#[napi]
pub fn fold_hash_i32(values: Int32Array, mut hashes: Int32Array) -> Result<()> {
  if values.len() != hashes.len() {
    return Err(Error::from_reason(format!("{} values for {} hashes", values.len(), hashes.len())));
  }
  // SAFETY: JS does not touch `hashes` during this synchronous call.
  let out = unsafe { hashes.as_mut() };
  for (h, &v) in out.iter_mut().zip(values.iter()) {
    *h = fmix(mix_h1(*h as u32, mix_k1(v as u32)), 4) as i32;
  }
  Ok(())
}

/// Spark `hashLong` of each value, given as pairs of 32-bit words (low, high).
#[napi]
pub fn fold_hash_i64(words: Int32Array, mut hashes: Int32Array) -> Result<()> {
  if words.len() != 2 * hashes.len() {
    return Err(Error::from_reason(format!("{} words for {} hashes", words.len(), hashes.len())));
  }
  // SAFETY: JS does not touch `hashes` during this synchronous call.
  let out = unsafe { hashes.as_mut() };
  for (h, w) in out.iter_mut().zip(words.chunks_exact(2)) {
    let x = mix_h1(*h as u32, mix_k1(w[0] as u32));
    *h = fmix(mix_h1(x, mix_k1(w[1] as u32)), 8) as i32;
  }
  Ok(())
}

/// Spark `hashUnsafeBytes` of each value (`values[offsets[i]..offsets[i + 1]]`): whole little-endian
/// words, then each remaining byte on its own, sign-extended. Offsets are checked.
#[napi]
pub fn fold_hash_bytes(values: Uint8Array, offsets: Int32Array, mut hashes: Int32Array) -> Result<()> {
  if offsets.len() != hashes.len() + 1 {
    return Err(Error::from_reason(format!("{} offsets for {} hashes", offsets.len(), hashes.len())));
  }
  let v: &[u8] = &values;
  // SAFETY: JS does not touch `hashes` during this synchronous call.
  let out = unsafe { hashes.as_mut() };
  for (i, h) in out.iter_mut().enumerate() {
    let (a, z) = (offsets[i], offsets[i + 1]);
    if a < 0 || z < a || z as usize > v.len() {
      return Err(Error::from_reason(format!("value {i}: offsets {a}..{z} outside the {} bytes of values", v.len())));
    }
    let bytes = &v[a as usize..z as usize];
    let mut x = *h as u32;
    let mut words = bytes.chunks_exact(4);
    for w in &mut words {
      x = mix_h1(x, mix_k1(u32::from_le_bytes([w[0], w[1], w[2], w[3]])));
    }
    for &b in words.remainder() {
      x = mix_h1(x, mix_k1(b as i8 as i32 as u32));
    }
    *h = fmix(x, bytes.len() as u32) as i32;
  }
  Ok(())
}

/// Int64 keys (pairs of 32-bit words, low then high) as doubles, into `out`; false (with `out`
/// partly written) when a key is beyond +-2^53, where doubles stop being exact.
#[napi]
pub fn i64_keys_as_f64(words: Int32Array, mut out: Float64Array) -> Result<bool> {
  if words.len() != 2 * out.len() {
    return Err(Error::from_reason(format!("{} words for {} keys", words.len(), out.len())));
  }
  // SAFETY: JS does not touch `out` during this synchronous call.
  let o = unsafe { out.as_mut() };
  const LIMIT: i64 = 1 << 53;
  for (x, w) in o.iter_mut().zip(words.chunks_exact(2)) {
    let v = (i64::from(w[1]) << 32) | i64::from(w[0] as u32);
    if !(-LIMIT..LIMIT).contains(&v) {
      return Ok(false);
    }
    *x = v as f64;
  }
  Ok(true)
}

/// Fixed-width values gathered by row: output row `i` is the `width` bytes of row `rows[i]` of
/// `values[src[i]]` (of `values[0]` without `src`); rows < 0 are left as they are in `out` (nulls).
/// Every row is checked against its source.
#[napi]
pub fn gather_fixed(values: Vec<Uint8Array>, width: u32, src: Option<Uint32Array>, rows: Int32Array, mut out: Uint8Array) -> Result<()> {
  let (n, w) = (rows.len(), width as usize);
  if w == 0 || out.len() != n * w || values.is_empty() || src.as_ref().is_some_and(|s| s.len() != n) {
    return Err(Error::from_reason("gatherFixed: arguments of inconsistent lengths"));
  }
  let vals: Vec<&[u8]> = values.iter().map(|v| &v[..]).collect();
  // SAFETY: JS does not touch `out` during this synchronous call.
  let o = unsafe { out.as_mut() };
  for i in 0..n {
    let r = rows[i];
    if r < 0 {
      continue;
    }
    let s = src.as_ref().map_or(0, |s| s[i] as usize);
    let a = r as usize * w;
    match vals.get(s) {
      Some(v) if a + w <= v.len() => o[i * w..(i + 1) * w].copy_from_slice(&v[a..a + w]),
      _ => return Err(Error::from_reason(format!("gatherFixed: row {r} of source {s} is outside its values"))),
    }
  }
  Ok(())
}
