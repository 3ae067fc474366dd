#!/usr/bin/env node
// The test environment: provides the real services the test suite runs against, runs a command
// inside it, and stops what it started.
//
//   node scripts/test-env.mjs -- vitest run [files...]
//
// - PostgreSQL: LAKESOUL_PG_URL (+ LAKESOUL_PG_USERNAME / LAKESOUL_PG_PASSWORD) when set, otherwise a
//   throwaway server started from the machine's PostgreSQL binaries (initdb + pg_ctl) in a temp dir.
// - S3: a moto server (PyPI `moto[server]`) on a free loopback port, with its own credentials.
// - Python: a virtual environment in .venv with the pinned packages of e2e/python/requirements.txt
//   (pyarrow, moto, lakesoul), created or refreshed when the requirements change (python-envs.mjs).
// The command sees LAKESOUL_TEST_PG_URL, LAKESOUL_TEST_S3_ENDPOINT, LAKESOUL_TEST_PYTHON and AWS_*.
// - Temp files: the command's TMPDIR is a directory of its own, removed when it ends, so the temp
//   homes, tables and sockets the tests make (hundreds of MB in a suite run, and a test that fails
//   leaves its own) do not pile up in the machine's /tmp. LAKESOUL_TEST_KEEP_TMP=1 keeps it (its path
//   is printed) to look into a failure.
// Anything missing is reported with the way to get it; nothing is skipped silently.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, readdirSync, chmodSync, chownSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTestVenv } from './python-envs.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const command = sep >= 0 ? argv.slice(sep + 1) : argv;
if (command.length === 0) {
  console.error('usage: node scripts/test-env.mjs -- <command> [args...]   (e.g. -- vitest run packages/meta)');
  process.exit(2);
}

const cleanups = [];
let cleaning = false;
async function cleanup() {
  if (cleaning) return;
  cleaning = true;
  for (const fn of cleanups.reverse()) {
    try { await fn(); } catch (e) { console.error(`[test-env] cleanup: ${e.message}`); }
  }
}
function fail(message) {
  console.error(`\n[test-env] ${message}\n`);
  return cleanup().then(() => process.exit(1));
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => cleanup().then(() => process.exit(130)));

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => res(port)); });
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// PostgreSQL
function jdbcToPg(url, user, password) {
  const m = /^jdbc:postgresql:\/\/([^/?]+)\/([^?]+)(\?.*)?$/.exec(url);
  if (!m) return url; // already postgres://
  const auth = user ? `${encodeURIComponent(user)}${password ? ':' + encodeURIComponent(password) : ''}@` : '';
  return `postgres://${auth}${m[1]}/${m[2]}`;
}
function findPgBin() {
  const fromEnv = process.env.PG_BINDIR;
  if (fromEnv && existsSync(join(fromEnv, 'initdb'))) return fromEnv;
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(join(dir, 'initdb'))) return dir;
  } catch { /* try the Debian layout */ }
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin/initdb'))).sort((a, b) => Number(b) - Number(a));
    if (versions.length) return join(base, versions[0], 'bin');
  }
  return null;
}
async function startPostgres() {
  if (process.env.LAKESOUL_PG_URL) {
    const url = jdbcToPg(process.env.LAKESOUL_PG_URL, process.env.LAKESOUL_PG_USERNAME, process.env.LAKESOUL_PG_PASSWORD);
    console.error('[test-env] PostgreSQL: using LAKESOUL_PG_URL');
    return url;
  }
  const bin = findPgBin();
  if (!bin) throw new Error('PostgreSQL server binaries (initdb, pg_ctl) were not found. Install them (Debian: apt-get install -y postgresql), set PG_BINDIR, or point LAKESOUL_PG_URL at a server.');
  const dir = mkdtempSync(join(tmpdir(), 'lakesoul-pg-'));
  const data = join(dir, 'data');
  const port = await freePort();
  const asRoot = userInfo().uid === 0;
  const run = (cmd, args) => {
    const full = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    const r = spawnSync(full[0], full[1], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed (exit ${r.status}): ${r.stderr || r.stdout}`);
  };
  if (asRoot) {
    // PostgreSQL refuses to run as root; the Debian package creates the 'postgres' user.
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    if (id.status !== 0) throw new Error("running as root needs the 'postgres' system user (created by apt-get install postgresql)");
    const uid = Number(id.stdout.trim());
    chownSync(dir, uid, uid);
  }
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  run(join(bin, 'initdb'), ['-D', data, '-U', 'lakesoul', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  run(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o',
    `-p ${port} -h 127.0.0.1 -k ${dir} -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`, 'start']);
  cleanups.push(() => run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']));
  run(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'lakesoul', 'lakesoul_test']);
  console.error(`[test-env] PostgreSQL ${bin.split('/').at(-2)} started on 127.0.0.1:${port}`);
  return `postgres://lakesoul:lakesoul@127.0.0.1:${port}/lakesoul_test`;
}

// ---------------------------------------------------------------------------------------------
// S3 (moto)
async function startMoto(py) {
  const port = await freePort();
  const moto = join(dirname(py), 'moto_server');
  const child = spawn(moto, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  let exited = null;
  child.on('exit', (code) => { exited = code; });
  cleanups.push(async () => { if (exited === null) { child.kill('SIGTERM'); await sleep(100); } });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (exited !== null) throw new Error(`moto_server exited (code ${exited}): ${stderr}`);
    try {
      const r = await fetch(`${endpoint}/moto-api/`);
      if (r.status < 500) { console.error(`[test-env] S3 (moto) started on ${endpoint}`); return endpoint; }
    } catch { /* not up yet */ }
    await sleep(100);
  }
  throw new Error(`moto_server did not answer on ${endpoint} within 30 s: ${stderr}`);
}

// ---------------------------------------------------------------------------------------------
let code = 1;
try {
  const py = ensureTestVenv();
  const [pgUrl, s3] = await Promise.all([startPostgres(), startMoto(py)]);
  const testTmp = mkdtempSync(join(tmpdir(), 'lakesoul-test-'));
  // as /tmp is: tests hand files in it to other users (the PostgreSQL server reads an SSL key from it,
  // tests run commands as other users), which a 0700 directory kept out
  chmodSync(testTmp, 0o1777);
  if (process.env.LAKESOUL_TEST_KEEP_TMP === '1') console.error(`[test-env] temp files kept in ${testTmp}`);
  else cleanups.push(() => rmSync(testTmp, { recursive: true, force: true, maxRetries: 3 }));
  const env = {
    ...process.env,
    LAKESOUL_TEST_PG_URL: pgUrl,
    LAKESOUL_TEST_S3_ENDPOINT: s3,
    LAKESOUL_TEST_PYTHON: py,
    LAKESOUL_TEST_ENV: '1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    TURBO_TELEMETRY_DISABLED: '1',
    // The CLI leaves a background catalog server on each embedded home it opens (5 min idle); the suite
    // opens hundreds of homes, so it runs the commands without it, and e2e/cli-catalog-server.test.ts
    // turns it on to test it.
    LAKESOUL_CATALOG_SERVER: process.env.LAKESOUL_CATALOG_SERVER ?? 'off',
    // The AWS SDK pinned for Node 20 notes on every process start that later releases need Node 22.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH}`,
    TMPDIR: testTmp,
  };
  const child = spawn(command[0], command.slice(1), { stdio: 'inherit', env, cwd: root });
  code = await new Promise((res) => child.on('exit', (c, sig) => res(c ?? (sig ? 1 : 0))));
} catch (e) {
  await fail(e.message);
}
await cleanup();
process.exit(code);
