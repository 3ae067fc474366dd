// Worker threads: a reusable pool, and the Parquet decode/encode pool built on it.
export { WorkerPool, DEFAULT_MAX_QUEUED, WORKER_TASK_FAILED, type WorkerPoolOptions, type WorkerRunOptions, type WorkerEnvelope, type WorkerReplyEnvelope } from './worker-pool.js';
export {
  createParquetPool,
  sharedParquetPool,
  closeSharedParquetPool,
  parquetWorkerScript,
  PARQUET_THREADS_ENV,
  PARQUET_POOL_MIN_BYTES,
  type ParquetPool,
  type ParquetTask,
} from './parquet-pool.js';
