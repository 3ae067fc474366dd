//! File operations of `@lakesoul-ts/io`'s local store (`src/store/local-store.ts`), each one task on
//! threads of their own ([`IO_THREADS`]): a new file written and flushed is one task instead of four Node calls
//! (open, write, fsync, close), each a thread-pool round trip with its promise and handle objects on
//! the JavaScript thread. The store decides everything else (which path, when to rename, which
//! directories to flush); these only run the system calls.
use std::ffi::c_int;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::IntoRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::panic::AssertUnwindSafe;
use std::sync::{mpsc, Arc, Mutex, OnceLock};

use bytes::Bytes;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::JsBytes;

extern "C" {
  fn close(fd: c_int) -> c_int;
}

/// Why a file operation failed: the OS error number (`errno`, positive) and the system call.
#[napi(object)]
pub struct FileFailure {
  pub errno: i32,
  pub syscall: String,
}

fn failure(e: io::Error, syscall: &str) -> FileFailure {
  // an error without an OS number (a short write the std library reports as WriteZero): EIO
  FileFailure { errno: e.raw_os_error().unwrap_or(5), syscall: syscall.to_string() }
}

/// Closes a file, reporting the error `close` returns (dropping a `File` ignores it).
fn close_checked(f: File) -> io::Result<()> {
  let fd = f.into_raw_fd();
  // SAFETY: `fd` was just taken from the File, which no longer owns it; closed exactly once here.
  if unsafe { close(fd) } == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// Creates `path` (it must not exist: `O_EXCL`, mode 0666 less the umask), writes `data`, flushes it
/// to disk when `fsync`, closes it. On a failure after the file was created, the file is removed.
fn create_file(path: &str, data: &[u8], fsync: bool) -> std::result::Result<(), FileFailure> {
  let mut f = OpenOptions::new().write(true).create_new(true).mode(0o666).open(path).map_err(|e| failure(e, "open"))?;
  let written = (|| {
    f.write_all(data).map_err(|e| failure(e, "write"))?;
    if fsync {
      f.sync_all().map_err(|e| failure(e, "fsync"))?;
    }
    close_checked(f).map_err(|e| failure(e, "close"))
  })();
  if written.is_err() {
    let _ = std::fs::remove_file(path);
  }
  written
}

/// Threads of the file operations. They spend their time waiting for the disk (a flush of a small
/// file takes ~0.5 ms here), so they are kept off libuv's thread pool, whose 4 threads also run the
/// codec's encodes and decodes: 200 new files flushed 4 at a time there took 25-30 ms, 16 at a time
/// on their own threads 10 ms, and the encodes waited behind them.
const IO_THREADS: usize = 16;

type IoJob = Box<dyn FnOnce() + Send>;

/// Runs `job` on one of the [`IO_THREADS`] (started at the first call, kept for the process).
fn run_io(job: IoJob) -> Result<()> {
  static QUEUE: OnceLock<std::result::Result<mpsc::Sender<IoJob>, String>> = OnceLock::new();
  let queue = QUEUE.get_or_init(|| {
    let (tx, rx) = mpsc::channel::<IoJob>();
    let rx = Arc::new(Mutex::new(rx));
    let mut started = 0;
    let mut refused = None;
    for i in 0..IO_THREADS {
      let rx = rx.clone();
      let spawned = std::thread::Builder::new()
        .name(format!("lakesoul-io-{i}"))
        .stack_size(256 * 1024)
        .spawn(move || loop {
          let next = match rx.lock() {
            Ok(r) => r.recv(),
            Err(_) => return,
          };
          match next {
            // a job that panics leaves its promise unsettled, not the pool a thread short
            Ok(job) => drop(std::panic::catch_unwind(AssertUnwindSafe(job))),
            Err(_) => return,
          }
        });
      match spawned {
        Ok(_) => started += 1,
        Err(e) => refused = Some(e),
      }
    }
    // fewer threads than asked (a process limit) still serve; none is an error for every call
    match (started, refused) {
      (0, Some(e)) => Err(format!("cannot start the file threads: {e}")),
      _ => Ok(tx),
    }
  });
  match queue {
    Ok(tx) => tx.send(job).map_err(|_| Error::from_reason("the file threads have stopped")),
    Err(e) => Err(Error::from_reason(e.clone())),
  }
}

/// Writes a new file on the file threads (see [`create_file`]); resolves with null, or with the
/// failure (nothing is left behind by a failure after the file was created).
#[napi(ts_return_type = "Promise<FileFailure | null>")]
pub fn create_file_task<'env>(env: &'env Env, path: String, data: Uint8Array, fsync: bool) -> Result<Object<'env>> {
  let (deferred, promise) = env.create_deferred()?;
  let data = Bytes::from_owner(JsBytes(data));
  run_io(Box::new(move || {
    let out = create_file(&path, &data, fsync).err();
    // the caller's bytes are let go on the JavaScript thread
    deferred.resolve(move |_| {
      drop(data);
      Ok(out)
    });
  }))?;
  Ok(promise)
}

/// Flushes a directory's entries: opens it, `fsync` (whose failure is ignored: some file systems
/// cannot flush a directory), closes it. Only a failure to open it is reported.
fn sync_directory(path: &str) -> std::result::Result<(), FileFailure> {
  let dir = File::open(path).map_err(|e| failure(e, "open"))?;
  let _ = dir.sync_all();
  Ok(())
}

/// Flushes a directory's entries on the file threads (see [`sync_directory`]).
#[napi(ts_return_type = "Promise<FileFailure | null>")]
pub fn sync_directory_task<'env>(env: &'env Env, path: String) -> Result<Object<'env>> {
  let (deferred, promise) = env.create_deferred()?;
  run_io(Box::new(move || {
    let out = sync_directory(&path).err();
    deferred.resolve(move |_| Ok(out));
  }))?;
  Ok(promise)
}
