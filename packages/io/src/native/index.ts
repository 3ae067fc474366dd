// io's native addon: its loading and the parts used outside the Parquet codec.
export { PARQUET_CODEC_ENV, NATIVE_PARQUET_ADDON, type NativeKernels } from './native-addon.js';
export { nativeFiles, type NativeFiles } from './native-files.js';
