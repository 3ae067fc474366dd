// Public API of @lakesoul-ts/connector-tfjs: lakehouse tables as tf.data.Datasets for tfjs training.
export { tfjsDataset } from './tfjs-dataset.js';
export type {
  TfjsDataset,
  TfjsDatasetOptions,
  TfjsDatasetSource,
  TfjsElement,
  TfLike,
  ScannableTable,
  TableOpener,
  FeatureSpec,
  LabelSpec,
  TransformContext,
  RowTransform,
  BatchTransform,
  ResumeState,
} from './tfjs-dataset.js';
export type { Row, RowValue, RowTensor } from './arrow-rows.js';
export { batchToRows } from './arrow-rows.js';
export { assignShards, equalizedSampleCount, shardIndex } from './shard-assign.js';
export type { EqualizeMode, ShardableSplit, ShardIndexOptions } from './shard-assign.js';
export { SeededRandom, permutation, permute } from './seeded-random.js';
export type { SeededRandomState } from './seeded-random.js';
export { ShuffleBuffer, shuffleStream } from './shuffle-buffer.js';
export { ImagePipeline, images } from './image-pipeline.js';
export type { DecodeOptions } from './image-pipeline.js';
export { AUTO_JS_MAX_PIXELS, DEFAULT_SHARP_CONCURRENCY, createImageExecutor } from './image-executor.js';
export type { CreateImageExecutorOptions, ImageDecoderKind, ImageExecutor, ImageResizeKernel, PixelTarget, TfNodeLike } from './image-executor.js';
export { convertChannels, cropImage, flipHorizontal, resizeBilinear, runImageOps, sniffImageFormat } from './image-kernels.js';
export type { ImageOp, RawImage, ImageCodecs } from './image-kernels.js';
