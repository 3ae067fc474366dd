/**
 * Every fenced block of README.md and docs/*.md runs as written (issue 13 §8). What a fence means:
 *
 * - ```ts / ```js (```ts runnable says the same): a program. Type-checked (tsc, strict, NodeNext; `js` is not type-checked), then run
 *   with node in a fresh working directory (so `Lakehouse.open()` gets a new embedded home in
 *   ./.lakesoul), with the test's S3 server as AWS_ENDPOINT and its buckets `bucket`, `my-bucket` and
 *   `lake` created.
 * - ```ts fragment: part of a program. Type-checked, not run, in the stated context
 *   e2e/docs/docs-context.d.ts (the names fragments use without defining them: `lake`, `table`, `tf`,
 *   `model`, `rank`, ...).
 * - ```sh: run with bash (-e) in a fresh working directory, with `lakesoul-ts` on PATH (the
 *   executable `pnpm install` links) and the embedded defaults.
 * - ```sh norun: commands that set up or test the repository itself (installing pnpm, `pnpm test`,
 *   training runs) or need a server of your own. Checked, not run: bash parses it, every
 *   `pnpm <script>` names a script of package.json and every repository path it names exists.
 * - ```python: run with the test's Python (pyarrow) against `lakesoul-ts serve` serving a table
 *   `events` (id, date, label, score) on loopback with the docs' credentials (`--token s3cret --user
 *   alice:password`): a block that omits them fails, as it would against a server with auth (the
 *   DoPut and transaction blocks of flight.md did); the server's address is in env LAKESOUL_FLIGHT_URL.
 * - ```python fragment: the same, after the stated Python context FRAGMENT_PRELUDE below.
 * - ``` (no language), ```text: output or layout, not code.
 * - every block of a page listed in RUN_ELSEWHERE: run as written by that page's own test (which
 *   starts what the page needs, e.g. two Flight replicas); here it is checked that the test exists
 *   and reads the page.
 * `bash` is the same as `sh`.
 * Any other fence fails the test, so a new kind of block gets a rule here first.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import ts from 'typescript';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { testEnv } from './cli-env.js';
import { runCli, waitForOutput, LINKED_BIN } from './cli-run.js';

const ROOT = resolve(import.meta.dirname, '..');
const WORK = join(import.meta.dirname, '.docs-examples');
const BLOCK_TIMEOUT_MS = 180_000;

/**
 * Pages (or `page#section`, a `## section` of it) whose blocks another test runs as written, with what
 * they need (see the module doc).
 */
const RUN_ELSEWHERE: Record<string, string> = {
  'docs/scale-out.md': 'e2e/scale-out.test.ts',            // two Flight replicas on PostgreSQL + S3
  'docs/flight.md#Spark': 'e2e/spark-source.test.ts',      // PySpark 4 with the lakesoul_ts data source
  'docs/flight.md#Flight SQL from Java (JDBC)': 'e2e/flight-sql.test.ts', // the JDBC driver fetched with mvn, Java 17
};

/**
 * The Python context of ```python fragment blocks: a client of the served table, call options, and
 * rows of the table's schema to write (`table`, and the same split in `parts`).
 */
const FRAGMENT_PRELUDE = `import json, os
from concurrent.futures import ThreadPoolExecutor
import pyarrow as pa
import pyarrow.flight as fl
client = fl.FlightClient(os.environ["LAKESOUL_FLIGHT_URL"])
options = fl.FlightCallOptions(headers=[(b"authorization", b"Bearer s3cret")])
table = pa.table({"id": pa.array([10, 11, 12], pa.int64()), "date": ["2024-01-03"] * 3, "label": ["cat", "dog", "cat"], "score": [0.1, 0.2, 0.3]})
parts = [table.slice(0, 1), table.slice(1)]
`;

interface Block { file: string; section: string; line: number; lang: string; attrs: string[]; code: string; id: string }

function extractBlocks(): Block[] {
  const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
  const blocks: Block[] = [];
  for (const file of files) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    let section = '';
    for (let i = 0; i < lines.length; i++) {
      const heading = /^## (.*)$/.exec(lines[i]!);
      if (heading) section = heading[1]!.trim();
      const open = /^(\s*)(```+)(.*)$/.exec(lines[i]!);
      if (!open) continue;
      const [, indent, ticks, info] = open;
      const body: string[] = [];
      let j = i + 1;
      for (; j < lines.length && !new RegExp(`^${indent}${ticks}\\s*$`).test(lines[j]!); j++) body.push(lines[j]!.slice(indent!.length));
      if (j >= lines.length) throw new Error(`${file}:${i + 1}: fence never closed`);
      const [lang = '', ...attrs] = info!.trim().split(/\s+/).filter(Boolean);
      blocks.push({ file, section, line: i + 1, lang, attrs, code: body.join('\n') + '\n', id: `${file.replace(/[/.]/g, '_')}_L${i + 1}` });
      i = j;
    }
  }
  return blocks;
}

const blocks = extractBlocks();
const kind = (b: Block): string => {
  const a = b.attrs.join(' ');
  if (RUN_ELSEWHERE[b.file] || RUN_ELSEWHERE[`${b.file}#${b.section}`]) return 'elsewhere';
  if (b.lang === '' || b.lang === 'text') return 'text';
  if ((b.lang === 'ts' || b.lang === 'typescript') && (a === '' || a === 'runnable')) return 'ts';
  if ((b.lang === 'ts' || b.lang === 'typescript') && a === 'fragment') return 'ts-fragment';
  if (b.lang === 'js' && a === '') return 'js';
  if ((b.lang === 'sh' || b.lang === 'bash') && a === '') return 'sh';
  if ((b.lang === 'sh' || b.lang === 'bash') && a === 'norun') return 'sh-norun';
  if (b.lang === 'python' && a === '') return 'python';
  if (b.lang === 'python' && a === 'fragment') return 'python-fragment';
  return `unknown: \`\`\`${b.lang} ${a}`;
};
const where = (b: Block) => `${b.file}:${b.line}`;

describe('every fenced block of README.md and docs/*.md runs as written', () => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  let server: ReturnType<typeof runCli> | undefined;

  beforeAll(async () => {
    rmSync(WORK, { recursive: true, force: true });
    mkdirSync(WORK, { recursive: true });
    const endpoint = testEnv('LAKESOUL_TEST_S3_ENDPOINT');
    Object.assign(env, { AWS_ENDPOINT: endpoint, AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID ?? 'testing', AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY ?? 'testing',
      AWS_REGION: env.AWS_REGION ?? 'us-east-1', FLIGHT_TICKET_SECRET: 'docs-examples-ticket-secret-0123456789' });
    delete env.LAKESOUL_PG_URL;
    delete env.lakesoul_home;
    const s3 = new S3Client({ endpoint, region: env.AWS_REGION, forcePathStyle: true,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! } });
    for (const bucket of ['bucket', 'my-bucket', 'lake']) {
      await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((e: { name?: string }) => {
        if (!/BucketAlready/.test(e.name ?? '')) throw e;
      });
    }
    s3.destroy();
  });
  afterAll(async () => {
    if (server) { server.child.kill('SIGTERM'); await server.catch(() => undefined); }
  });

  it('every fence is of a known kind', () => {
    expect(blocks.length).toBeGreaterThan(20);
    expect(blocks.filter((b) => kind(b).startsWith('unknown')).map((b) => `${where(b)}: ${kind(b)}`)).toEqual([]);
  });

  it('pages whose blocks another test runs name a test that reads them', () => {
    for (const [where_, test] of Object.entries(RUN_ELSEWHERE)) {
      const [page, section] = where_.split('#') as [string, string | undefined];
      expect(blocks.some((b) => b.file === page && (section === undefined || b.section === section)), `${where_} has blocks`).toBe(true);
      expect(readFileSync(join(ROOT, test), 'utf8'), `${test} reads ${page}`).toContain(page);
    }
  });

  it('TypeScript blocks (programs and fragments) type-check', () => {
    const tsBlocks = blocks.filter((b) => kind(b) === 'ts' || kind(b) === 'ts-fragment');
    const files: string[] = [];
    for (const b of tsBlocks) {
      const f = join(WORK, `${b.id}.ts`);
      // A fragment is a module of its own, typed against the stated context (docs-context.d.ts).
      writeFileSync(f, `${b.code}\nexport {};\n`);
      files.push(f);
    }
    const config = {
      extends: '../../tsconfig.base.json',
      compilerOptions: { noEmit: true, declaration: false, sourceMap: false, inlineSources: false, types: ['node'], noUnusedLocals: false },
      files: [...files.map((f) => f.slice(WORK.length + 1)), '../docs/docs-context.d.ts'],
    };
    writeFileSync(join(WORK, 'tsconfig.json'), JSON.stringify(config, null, 2));
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', join(WORK, 'tsconfig.json')], { encoding: 'utf8' });
    // Map diagnostics back to the markdown line.
    const report = (r.stdout + r.stderr).replace(/(\w+)_L(\d+)\.ts\((\d+),(\d+)\)/g, (_m, id: string, line: string, l: string) => {
      const b = tsBlocks.find((x) => x.id === `${id}_L${line}`);
      return b ? `${where(b)} +${l}` : _m;
    });
    expect(r.status, report).toBe(0);
  }, BLOCK_TIMEOUT_MS);

  for (const b of blocks.filter((x) => kind(x) === 'ts' || kind(x) === 'js')) {
    it(`${where(b)} (${b.lang}) runs`, () => {
      const js = b.lang === 'js' ? b.code : ts.transpileModule(b.code, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
      }).outputText;
      const file = join(WORK, `${b.id}.run.mjs`);
      writeFileSync(file, js);
      const cwd = mkdtempSync(join(tmpdir(), 'docs-example-'));
      const r = spawnSync(process.execPath, [file], { cwd, env, encoding: 'utf8', timeout: BLOCK_TIMEOUT_MS });
      expect(r.status, `${where(b)} exited ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`).toBe(0);
    }, BLOCK_TIMEOUT_MS + 10_000);
  }

  for (const b of blocks.filter((x) => kind(x) === 'sh')) {
    it(`${where(b)} (sh) runs`, () => {
      const cwd = mkdtempSync(join(tmpdir(), 'docs-example-'));
      const r = spawnSync('bash', ['-e', '-c', b.code], {
        cwd, encoding: 'utf8', timeout: BLOCK_TIMEOUT_MS,
        env: { ...env, PATH: `${dirname(LINKED_BIN)}:${env.PATH}` },
      });
      expect(r.status, `${where(b)} exited ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`).toBe(0);
    }, BLOCK_TIMEOUT_MS + 10_000);
  }

  for (const b of blocks.filter((x) => kind(x) === 'sh-norun')) {
    it(`${where(b)} (sh norun) parses and names scripts and files that exist`, () => {
      execFileSync('bash', ['-n', '-c', b.code]);
      const scripts = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
      const builtins = new Set(['install', 'i', 'add', 'exec', 'run', 'build', 'test', 'lakesoul-ts']);
      for (const m of b.code.matchAll(/\bpnpm\s+([a-z][\w:-]*)/g)) {
        expect(scripts.includes(m[1]!) || builtins.has(m[1]!), `${where(b)}: pnpm ${m[1]} is neither a script nor a pnpm command`).toBe(true);
      }
      for (const m of b.code.matchAll(/(?:^|\s)((?:examples|scripts|e2e|bench|docs|packages)\/[\w./-]+)/g)) {
        expect(existsSync(join(ROOT, m[1]!)), `${where(b)}: ${m[1]} does not exist`).toBe(true);
      }
    });
  }

  const pyBlocks = blocks.filter((x) => kind(x) === 'python' || kind(x) === 'python-fragment');
  for (const b of pyBlocks) {
    it(`${where(b)} (python) runs against a served table`, async () => {
      if (!server) {
        const home = mkdtempSync(join(tmpdir(), 'docs-serve-'));
        const g = ['--home', home];
        const ok = async (args: string[]) => { const r = await runCli([...g, ...args]); expect(r.code, r.err).toBe(0); };
        await ok(['table', 'create', 'events', '--schema', 'id:int64!,date:utf8!,label:utf8,score:float64', '--partition-by', 'date', '--primary-key', 'id', '--buckets', '2']);
        const csv = join(home, 'events.csv');
        writeFileSync(csv, 'id,date,label,score\n1,2024-01-01,cat,0.5\n2,2024-01-01,dog,0.9\n3,2024-01-02,cat,0.7\n');
        await ok(['import', 'events', csv]);
        // with the docs' credentials: a block that forgets to send them fails here, as it would for a reader
        server = runCli([...g, 'serve', '--port', '0', '--token', 's3cret', '--user', 'alice:password'], { timeoutMs: 3_600_000 });
        const m = await waitForOutput(server.child, /grpc:\/\/127\.0\.0\.1:(\d+)/);
        env.LAKESOUL_FLIGHT_URL = `grpc://127.0.0.1:${m[1]}`;
      }
      const code = kind(b) === 'python-fragment' ? FRAGMENT_PRELUDE + b.code : b.code;
      const r = spawnSync(testEnv('LAKESOUL_TEST_PYTHON'), ['-c', code], { cwd: ROOT, env, encoding: 'utf8', timeout: BLOCK_TIMEOUT_MS });
      expect(r.status, `${where(b)} exited ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`).toBe(0);
    }, BLOCK_TIMEOUT_MS + 60_000);
  }
});
