// Worker threads: a reusable pool, and the Parquet decode/encode pool (on it, or on the native codec).
export { WorkerPool, workerExecArgv, DEFAULT_MAX_QUEUED, WORKER_TASK_FAILED, type WorkerPoolOptions, type WorkerRunOptions, type WorkerEnvelope, type WorkerReplyEnvelope } from './worker-pool.js';
export {
  createParquetPool,
  NativeParquetPool,
  poolForSize,
  sharedParquetPool,
  closeSharedParquetPool,
  parquetWorkerScript,
  PARQUET_THREADS_ENV,
  PARQUET_POOL_MIN_BYTES,
  type ParquetPool,
  type ParquetTask,
} from './parquet-pool.js';
export { importHidingArgv } from './import-hiding-argv.js';
