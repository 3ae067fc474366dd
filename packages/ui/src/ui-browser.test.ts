/// <reference lib="dom" />
/**
 * The UI in a real headless browser (Debian's chromium driven by playwright-core) on a generated
 * multimodal lakehouse (embedded PGlite catalog, local disk): every view, history and time travel,
 * filter, columns, paging, thumbnails and the full image, diff, statistics, a reference outside the
 * blob roots, hostile table names and cells, and token auth. Screenshots go to test-artifacts/ui/.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startUi, type UiServer } from './ui-server.js';
import { buildDemoLakehouse, HOSTILE_CELL, HOSTILE_NAME, IMAGE_SIDE, SECRET_MARKER, type DemoLakehouse } from './ui-fixtures.js';

const pkgRoot = resolve(fileURLToPath(import.meta.url), '../..');
const artifacts = resolve(pkgRoot, '../../test-artifacts/ui');
/** Where to also write small copies of the screenshots for docs/ui.md (set when refreshing the docs). */
const docShots = process.env.LAKESOUL_UI_DOC_SCREENSHOTS;
const CHROMIUM = process.env.LAKESOUL_CHROMIUM ?? '/usr/bin/chromium';
/** Flags that let Debian's chromium run headless as root on a machine without network. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

let lake: DemoLakehouse;
let ui: UiServer;
let authed: UiServer;
let browser: Browser;
let page: Page;
const dialogs: string[] = [];
const pageErrors: string[] = [];
const bodies: string[] = [];

async function shot(name: string): Promise<void> {
  const png = await page.screenshot({ fullPage: true });
  writeFileSync(join(artifacts, `${name}.png`), png);
  if (docShots) {
    mkdirSync(docShots, { recursive: true });
    // The visible part only, as palette PNGs: small enough to commit.
    const view = await page.screenshot();
    await sharp(view).resize({ width: 1000, withoutEnlargement: true }).png({ palette: true, quality: 70, effort: 10 }).toFile(join(docShots, `ui-${name}.png`));
  }
}

/** Opens a hash route and waits until the app has rendered it. */
async function open(hash: string, server: UiServer = ui): Promise<void> {
  await page.goto(`${server.url}${hash}`);
  await page.waitForFunction((h) => document.body.dataset.ready === h, hash === '' ? '#/' : hash);
}

/** Follows an in-page link and waits for the new route to render. */
async function follow(selector: string): Promise<void> {
  const href = await page.locator(selector).first().getAttribute('href');
  expect(href, `link ${selector}`).toBeTruthy();
  await page.locator(selector).first().click();
  await page.waitForFunction((h) => document.body.dataset.ready === h, href!);
}

function columnTexts(index: number): Promise<string[]> {
  return page.locator(`table.rows tbody tr td:nth-child(${index + 2})`).allTextContents();
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`chromium is missing at ${CHROMIUM}: the UI's browser tests need Debian's chromium package ('apt-get install -y chromium'; .ci/run installs it) or LAKESOUL_CHROMIUM=/path/to/chromium`);
  }
  mkdirSync(artifacts, { recursive: true });
  // The server serves the bundled front end: bundle it from source so the test sees this checkout's code.
  execFileSync(process.execPath, [join(pkgRoot, 'scripts', 'bundle.mjs')], { stdio: 'inherit' });
  lake = await buildDemoLakehouse(mkdtempSync(join(tmpdir(), 'lakesoul-ui-')), { hostile: true });
  ui = await startUi({ lakehouse: lake.lakehouse, port: 0 });
  authed = await startUi({ lakehouse: lake.lakehouse, port: 0, tokens: ['s3cret-token'] });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('response', async (r) => { try { bodies.push((await r.body()).toString('latin1')); } catch { /* redirects, aborted */ } });
});

afterAll(async () => {
  await browser?.close();
  await ui?.close();
  await authed?.close();
  await lake?.lakehouse.close();
});

describe('lakesoul-ts ui in chromium', () => {
  test('namespaces and tables, then a table: schema, partitioning, properties, partitions with buckets', async () => {
    await open('');
    const links = await page.locator('a.table-link').allTextContents();
    expect(links).toContain('images');
    expect(links).toContain(HOSTILE_NAME);
    await shot('tables');
    await follow('a.table-link:text-is("images")');
    const schema = await page.locator('[data-testid=schema] tbody tr').allTextContents();
    expect(schema[0]).toMatch(/^idInt64no\s*primary key$/);
    expect(schema.find((r) => r.startsWith('date'))).toMatch(/range partition/);
    expect(schema.find((r) => r.startsWith('image_path'))).toMatch(/blob/);
    await expect.poll(() => page.locator('main').textContent()).toMatch(/Hash partitioning: id into 2 buckets/);
    const props = await page.locator('[data-testid=properties] tbody tr').allTextContents();
    expect(props).toContain('lakesoul_blob_columnsimage_path');
    const parts = await page.locator('[data-testid=partitions] tbody tr').allTextContents();
    expect(parts).toHaveLength(2);
    expect(parts[0]).toMatch(/^date=2024-05-01\s*2UpdateCommit/);
    // Bucket layout: each partition lists its buckets with file counts.
    expect(parts[1]).toMatch(/bucket 0: \d+ files?, [\d.]+ KiB\s*bucket 1: \d+ files?, [\d.]+ KiB$/);
    await shot('overview');
  });

  test('history: one entry per commit across partitions and per partition; clicking one time-travels', async () => {
    await open(`#/t/default/images/history`);
    const commits = page.locator('[data-testid=commits] > li');
    await expect.poll(() => commits.count()).toBe(4);
    expect(await commits.nth(3).textContent()).toMatch(/date=2024-05-01 v0 MergeCommit.*date=2024-05-02 v0 MergeCommit/);
    expect(await page.locator('.partition-history').count()).toBe(2);
    await shot('history');
    // The oldest commit: 40 rows, the wrong labels not yet corrected.
    await follow('[data-testid=commits] > li:last-child a.when');
    expect(await page.getByTestId('travel-banner').textContent()).toContain(new Date(lake.commits[0]!).toISOString().replace('T', ' ').replace('Z', ' UTC'));
    const ranges: string[] = [];
    ranges.push(await page.getByTestId('page-range').first().textContent() ?? '');
    await follow('a.next');
    ranges.push(await page.getByTestId('page-range').first().textContent() ?? '');
    expect(ranges.map((r) => r.trim())).toEqual(['rows 1–25', 'rows 26–40']);
    // A per-partition entry: that partition only, as of its version 0.
    await open(`#/t/default/images/history`);
    await follow('.partition-history:has(h3:text-is("date=2024-05-02")) li:last-child a.when');
    expect((await page.getByTestId('page-range').first().textContent())?.trim()).toBe('rows 1–16');
    expect(new Set(await columnTexts(1))).toEqual(new Set(['2024-05-02']));
  });

  test('rows: filter, column selection, paging, thumbnails, a non-image blob, and the row detail with the full image', async () => {
    await open(`#/t/default/images/rows`);
    expect((await page.getByTestId('page-range').first().textContent())?.trim()).toBe('rows 1–25');
    // Thumbnails are server-made images that the browser decoded.
    const thumbs = page.locator('img.thumb');
    await expect.poll(() => thumbs.count()).toBeGreaterThan(20);
    expect(await thumbs.first().evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(96);
    await shot('rows');
    await follow('a.next');
    expect((await page.getByTestId('page-range').first().textContent())?.trim()).toBe('rows 26–42');
    // Filter and a subset of columns.
    await page.fill('input[name=filter]', "label = 'disc' and score >= 0.5");
    await page.locator('label.col-choice:has-text("date") input').uncheck();
    await page.locator('label.col-choice:has-text("score") input').uncheck();
    await page.click('form.query button[type=submit]');
    await page.waitForFunction(() => document.body.dataset.ready?.includes('filter='));
    const headers = await page.locator('table.rows thead th').allTextContents();
    expect(headers).toEqual(['#', 'id', 'label', 'image_path']);
    const labels = await columnTexts(1);
    expect(labels.length).toBeGreaterThan(3);
    expect(new Set(labels)).toEqual(new Set(['disc']));
    await shot('rows-filtered');
    // The WAV blob shows its type and size, with a download.
    await open(`#/t/default/images/rows?filter=${encodeURIComponent(`id = ${lake.audioId}`)}`);
    expect(await page.locator('.blob-cell .file').textContent()).toBe('audio/wav, 844 B');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button.download')]);
    expect(download.suggestedFilename()).toBe('clip_038.wav');
    // A thumbnail opens the row detail, which shows the full image at its own size.
    await open(`#/t/default/images/rows`);
    await page.locator('img.thumb').first().click();
    await page.waitForFunction(() => document.body.dataset.ready?.includes('/row?'));
    const full = page.locator('img.full-image');
    await expect.poll(() => full.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(IMAGE_SIDE);
    expect(await page.getByTestId('row-detail').textContent()).toMatch(/image_pathmedia\/img_\d+\.png/);
    await shot('row');
  });

  test('a reference outside the blob roots shows a refusal, never the bytes', async () => {
    await open(`#/t/default/images/rows?filter=${encodeURIComponent(`id = ${lake.refusedId}`)}`);
    expect(await page.locator('.blob-cell .refused').textContent()).toBe('refused (BLOB_OUTSIDE_ROOTS)');
    await follow('a.row-link');
    const alert = page.locator('.images .refused');
    expect(await alert.textContent()).toMatch(/^Refused \(BLOB_OUTSIDE_ROOTS\): .*outside the allowed roots/);
    await shot('refused');
    // Asking the API for the bytes directly is refused as well.
    const res = await page.evaluate(async (u) => {
      const r = await fetch(u);
      return { status: r.status, body: await r.text() };
    }, `${ui.url}api/blob?table=images&filter=${encodeURIComponent(`id = ${lake.refusedId}`)}&row=0&column=image_path`);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).error.code).toBe('BLOB_OUTSIDE_ROOTS');
    expect(bodies.length).toBeGreaterThan(10);
    for (const b of [...bodies, res.body]) expect(b).not.toContain(SECRET_MARKER);
  });

  test('diff of two commits from incremental reads: added, changed, deleted', async () => {
    const [c0, c1, c2, c3] = lake.commits as [number, number, number, number];
    await open(`#/t/default/images/diff?from=${c0}&to=${c1}`);
    expect(await page.getByTestId('diff-counts').textContent()).toBe('0 added, 5 changed, 0 deleted');
    const changed = await page.locator('[data-testid=diff-changed] tbody tr').allTextContents();
    expect(changed).toHaveLength(5);
    expect(changed.every((r) => /label/.test(r))).toBe(true);
    await open(`#/t/default/images/diff?from=${c1}&to=${c3}`);
    expect(await page.getByTestId('diff-counts').textContent()).toBe('4 added, 0 changed, 2 deleted');
    expect(await page.locator('main').textContent()).toMatch(/date=2024-05-01: reset \(rewritten or dropped in the range: compared whole\).*date=2024-05-02: incremental read/);
    await shot('diff');
    // The form picks the range from the history.
    await page.selectOption('select[name=from]', String(c2));
    await page.selectOption('select[name=to]', String(c3));
    await page.click('form.query button[type=submit]');
    await page.waitForFunction((f) => document.body.dataset.ready?.includes(`from=${f}`), c2);
    expect(await page.getByTestId('diff-counts').textContent()).toBe('0 added, 0 changed, 2 deleted');
  });

  test('statistics: a histogram of a numeric column, value counts of a label column', async () => {
    await open(`#/t/default/images/stats?column=score`);
    const bins = page.locator('[data-testid=histogram] .bin');
    expect(await bins.count()).toBe(20);
    const counts = (await page.locator('[data-testid=histogram] .bin .count').allTextContents()).map(Number);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(42);
    await shot('histogram');
    await open(`#/t/default/images/stats?column=label`);
    const rows = await page.locator('[data-testid=counts] .count-row').allTextContents();
    expect(rows).toEqual(['disc16', 'square14', 'stripes12']);
    await shot('counts');
    // Time travel applies: before the corrections the counts differ.
    await open(`#/t/default/images/stats?column=label&at=${lake.commits[0]}`);
    expect(await page.locator('[data-testid=counts] .count-row').allTextContents()).not.toEqual(rows);
  });

  test('table names, column names, properties and cells holding HTML and script are shown as text', async () => {
    await open('');
    expect(await page.locator('a.table-link').allTextContents()).toContain(HOSTILE_NAME);
    expect(await page.locator('main').textContent()).toContain(HOSTILE_CELL);
    const enc = encodeURIComponent(HOSTILE_NAME);
    await open(`#/t/hostile/${enc}/overview`);
    expect(await page.locator('h1').textContent()).toBe(HOSTILE_NAME);
    expect(await page.getByTestId('properties').textContent()).toContain(HOSTILE_CELL);
    await open(`#/t/hostile/${enc}/rows`);
    const cells = await columnTexts(1);
    expect(cells).toEqual([HOSTILE_CELL, HOSTILE_NAME]);
    expect(await page.locator('table.rows thead').textContent()).toContain(HOSTILE_NAME);
    await open(`#/t/hostile/${enc}/stats?column=${enc}`);
    expect(await page.locator('[data-testid=counts]').textContent()).toContain(HOSTILE_CELL);
    await shot('hostile');
    // No element came from the data, no script ran.
    expect(await page.locator('#injected').count()).toBe(0);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(1);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  test('invisible characters in values are shown, and malformed links end in an error, not the previous page', async () => {
    // `safe` + RLO + `gnp.exe` rendered as "safe exe.png"; an unterminated override in a link moved the page's text
    await lake.lakehouse.createTable('bidi', [{ id: 1n, s: 'safe\u202Egnp.exe\u202C \u200Finvoice' }]);
    await open('#/t/default/bidi/rows');
    expect(await columnTexts(1)).toEqual(['safe⟨U+202E⟩gnp.exe⟨U+202C⟩ ⟨U+200F⟩invoice']);
    for (const hash of ['#/t/default/images/rows?at=%E2%80%AE1', '#/t/%E0%A4%A/x/rows']) {
      await open(hash);
      expect(await page.locator('.error').count(), hash).toBeGreaterThan(0);
    }
    expect(pageErrors).toEqual([]);
  });

  test('a rows page loaded at the latest state: after another commit, its download, next page and row links reach the rows it listed', async () => {
    const doc = (id: bigint) => new TextEncoder().encode(`contract of customer ${id}`);
    const ids = Array.from({ length: 30 }, (_, i) => BigInt(100 + i));
    const t = await lake.lakehouse.createTable('people', ids.map((id) => ({ id, doc: doc(id) })), { primaryKeys: ['id'], hashBucketNum: 1 });
    await open('#/t/default/people/rows');
    expect((await columnTexts(0))[0]).toBe('100');
    // another writer adds customers 1..5, which sort before 100
    await t.write([1n, 2n, 3n, 4n, 5n].map((id) => ({ id, doc: doc(id) })));
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('table.rows tbody tr').first().locator('button.download').click()]);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync((await download.path())!, 'utf8')).toBe('contract of customer 100');
    await follow('a.next');
    expect(await columnTexts(0)).toEqual(['125', '126', '127', '128', '129']);
    expect(await page.getByTestId('pinned-banner').textContent()).toMatch(/^Rows as of the commit at .*, the newest when the list was loaded/);
    await follow('a.row-link');
    expect(await page.getByTestId('row-detail').textContent()).toMatch(/^columnvalueid125doc/);
    // the banner leads to the latest rows, customer 1 first
    await follow('[data-testid=pinned-banner] a');
    expect((await columnTexts(0))[0]).toBe('1');
  });

  test('only the latest navigation reaches the page: a slow diff finishing after the user went elsewhere is dropped', async () => {
    await open('#/t/default/images/overview');
    // a diff ending 2.5 s ahead of now waits for its end: a slow view
    const slow = `/t/default/images/diff?from=${lake.commits[0]}&to=${Date.now() + 2_500}`;
    await page.evaluate((hash) => { location.hash = hash; }, slow);
    await expect.poll(() => page.evaluate(() => document.body.dataset.loading)).toBe('true');
    await page.waitForTimeout(300);
    await page.evaluate(() => { location.hash = '/t/default/images/history'; });
    await page.waitForFunction(() => document.body.dataset.ready === '#/t/default/images/history');
    await page.waitForTimeout(3_500);
    expect(await page.locator('h1').first().textContent()).toBe('History');
    expect(await page.evaluate(() => [document.body.dataset.ready, document.body.dataset.loading])).toEqual(['#/t/default/images/history', undefined]);
    expect(await page.locator('.tab.active').textContent()).toBe('History');
  });

  test('a diff link naming a time that is no commit listed shows that time selected, not the latest commit', async () => {
    const latest = lake.commits[lake.commits.length - 1]!;
    await open(`#/t/default/images/diff?from=1&to=${latest}`);
    expect(await page.locator('select[name=from] option:checked').textContent()).toBe('1970-01-01 00:00:00.001 UTC (from the link: not one of the commits listed)');
    expect(await page.locator('select[name=to] option:checked').getAttribute('value')).toBe(String(latest));
  });

  test('the row detail of a 120,000-character value wraps it: the page is no wider than the window', async () => {
    await lake.lakehouse.createTable('longval', [{ id: 1n, s: 'A'.repeat(120_000) }], { primaryKeys: ['id'], hashBucketNum: 1 });
    await open('#/t/default/longval/row?row=0');
    expect(await page.getByTestId('cut-note').count()).toBe(1);
    expect(await page.getByTestId('cut-note').locator('code').textContent()).toMatch(/^lakesoul-ts scan longval -n default --timestamp \d+ --columns s --filter 'id = 1' --format jsonl$/);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1200);
  });

  test('a base64 token with + given in the address signs in (+ is not read as a space)', async () => {
    const token = 'q8+Zk3/VbXw1Lr+0aPz7Yc2d9Ue4Hs6Ti5Gf1Jm0NkA=';
    const plus = await startUi({ lakehouse: lake.lakehouse, port: 0, tokens: [token] });
    try {
      await page.goto(`${plus.url}?token=${token}`);
      await page.waitForFunction(() => document.body.dataset.ready === '#/');
      expect(await page.locator('a.table-link').allTextContents()).toContain('images');
      expect(await page.evaluate(() => sessionStorage.getItem('lakesoul-ui-token'))).toBe(token);
      expect(page.url()).not.toContain('token=');
    } finally {
      await page.evaluate(() => sessionStorage.clear());
      await plus.close();
    }
  });

  test('with a token: the API refuses calls without it; the page asks for it and then works', async () => {
    await page.goto(authed.url);
    await page.waitForSelector('form.token-form');
    const status = (init?: { method?: string; headers?: Record<string, string> }) =>
      page.evaluate(async ([u, i]) => (await fetch(u, i ?? undefined)).status, [`${authed.url}api/namespaces`, init ?? null] as const);
    expect(await status()).toBe(401);
    expect(await status({ headers: { authorization: 'Bearer nope' } })).toBe(401);
    expect(await status({ headers: { authorization: 'Bearer s3cret-token' } })).toBe(200);
    // Writes are not part of the API.
    expect(await status({ method: 'POST', headers: { authorization: 'Bearer s3cret-token' } })).toBe(405);
    await shot('token');
    await page.fill('input[name=token]', 's3cret-token');
    await page.click('form.token-form button');
    await expect.poll(() => page.locator('a.table-link').allTextContents()).toContain('images');
  });
});
