/**
 * The tf backend a test file should train on: `tensorflow` in the native vitest project (which sets
 * LAKESOUL_TFJS_BACKEND), else the file's pure-JS choice.
 */
export function testBackend(pureJs: 'cpu' | 'wasm'): string {
  return process.env.LAKESOUL_TFJS_BACKEND ?? pureJs;
}
