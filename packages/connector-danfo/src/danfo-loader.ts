/**
 * Lazy loading of Danfo. Nothing is imported until a frame is first built without an injected `dfd`:
 * importing Danfo costs about 2 s (it loads TensorFlow.js), so callers who already hold the module
 * should pass it as `{ dfd }`.
 */
import { importHidingArgv } from '@lakesoul-ts/io';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { DanfoModule } from './danfo-options.js';

let loading: Promise<DanfoModule> | undefined;

function asModule(m: unknown): DanfoModule | null {
  const cand = m as { DataFrame?: unknown; default?: { DataFrame?: unknown } } | null;
  if (cand && typeof cand.DataFrame === 'function') return cand as DanfoModule;
  if (cand?.default && typeof cand.default.DataFrame === 'function') return cand.default as DanfoModule;
  return null;
}

async function importDanfo(): Promise<DanfoModule> {
  const failures: string[] = [];
  // danfojs-node first (native TensorFlow when its binary is installed), then the pure-JS danfojs.
  for (const name of ['danfojs-node', 'danfojs']) {
    try {
      const spec: string = name; // a variable keeps TypeScript from resolving the optional peers
      // danfojs-node loads tfjs-node, whose addon locator would take the program's options for its own
      const mod = asModule(name === 'danfojs-node' ? await importHidingArgv(spec, import.meta.url) : await import(spec));
      if (mod) return mod;
      failures.push(`${name}: no DataFrame export`);
    } catch (e) {
      failures.push(`${name}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  }
  throw new LakeSoulError('Unsupported', `no Danfo.js module could be loaded; install danfojs or danfojs-node, or pass { dfd } (${failures.join('; ')})`, {
    code: 'DANFO_NOT_AVAILABLE',
  });
}

/**
 * The Danfo module to build frames with: `injected` when given, else `danfojs-node`, else `danfojs`
 * (imported once per process; a failed import is retried on the next call).
 */
export function loadDanfo(injected?: DanfoModule): Promise<DanfoModule> {
  if (injected) {
    if (typeof injected.DataFrame !== 'function') {
      return Promise.reject(new LakeSoulError('InvalidArgument', 'the `dfd` option must be a Danfo module (with a DataFrame constructor)', { code: 'INVALID_ARGUMENT' }));
    }
    return Promise.resolve(injected);
  }
  if (!loading) {
    loading = importDanfo();
    loading.catch(() => { loading = undefined; });
  }
  return loading;
}
