/**
 * The LakeSoul UI front end: a hash-routed single page over the server's read-only JSON API.
 * Every piece of table data (names, cells, properties, messages) is put in the page as text by
 * `h()` (see dom.ts); images arrive as server-made `data:` thumbnails or as `blob:` URLs of bytes
 * fetched with the bearer token.
 */
import { h, replace, type Child } from './dom.js';
import { comparedByText, partitionLabel, wholeValueCommand, type Cell } from './labels.js';

interface Column { name: string; type: string; nullable: boolean; primaryKey: boolean; rangePartition: boolean; blob: boolean; binary: boolean; cdc: boolean; numeric: boolean }
type Preview =
  | { kind: 'image'; type: string; size: number; width: number; height: number; thumbnail: string }
  | { kind: 'file'; type: string; size: number; note?: string }
  | { kind: 'missing' }
  | { kind: 'refused' | 'error'; code: string; message: string };
interface ApiError { kind: string; code: string; message: string }
interface CommitEntry { timestamp: number; partitions: Array<{ partition: string; version: number; op: string }> }
interface PartitionEntry { partition: string; version: number; op: string; timestamp: number; commits: number }

const TOKEN_KEY = 'lakesoul-ui-token';
const PAGE = 25;

/** Route state: everything a view needs, kept in the URL hash. */
interface Route {
  ns?: string;
  table?: string;
  tab: string;
  q: URLSearchParams;
  /** The navigation this route was rendered for (see {@link render}): only the latest one reaches the page. */
  gen: number;
}

/** Thrown by {@link frame} for a view whose navigation is no longer the latest: it must not touch the page. */
class StaleRender extends Error {}

/** The latest navigation: its number, and the controller aborting its requests when the next one starts. */
let generation = 0;
let navigation = new AbortController();

class HttpError extends Error {
  constructor(readonly status: number, readonly error: ApiError) {
    super(error.message);
  }
}

function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function request(path: string, params: Record<string, string | number | undefined>): Promise<Response> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const headers: Record<string, string> = {};
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  // the requests of a view end when the user navigates elsewhere (their answers would be dropped)
  const res = await fetch(`api/${path}?${q}`, { headers, signal: navigation.signal });
  if (!res.ok) {
    let err: ApiError = { kind: 'Internal', code: `HTTP_${res.status}`, message: `${res.status} ${res.statusText}` };
    try { err = ((await res.json()) as { error: ApiError }).error; } catch { /* not JSON */ }
    throw new HttpError(res.status, err);
  }
  return res;
}

async function api<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
  return (await (await request(path, params)).json()) as T;
}

function parseRoute(): Route {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query] = hash.split('?', 2) as [string, string | undefined];
  // a malformed escape (`%E0%A4%A`) is kept as typed: the table is then not found, shown as an error
  const parts = path.split('/').filter(Boolean).map((p) => { try { return decodeURIComponent(p); } catch { return p; } });
  const q = new URLSearchParams(query ?? '');
  if (parts[0] === 't' && parts.length >= 3) return { ns: parts[1], table: parts[2], tab: parts[3] ?? 'overview', q, gen: generation };
  return { tab: 'home', q, gen: generation };
}

function link(ns: string, table: string, tab: string, params: Record<string, string | number | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return `#/t/${encodeURIComponent(ns)}/${encodeURIComponent(table)}/${tab}${qs ? `?${qs}` : ''}`;
}

function go(href: string): void {
  location.hash = href.slice(1);
}

function time(ms: number): string {
  const d = new Date(ms);
  // a link's `at=` may be anything: an invalid time threw, and the page kept the previous view
  return Number.isFinite(d.getTime()) ? d.toISOString().replace('T', ' ').replace('Z', ' UTC') : `invalid time ${JSON.stringify(String(ms))}`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function cellText(v: Cell): string {
  return v === null ? 'null' : String(v);
}

function errorBox(e: unknown): HTMLElement {
  if (e instanceof HttpError) {
    // 429: too many wrong tokens from this address; the form stays, with when to try again
    if (e.status === 401 || e.status === 429) return tokenForm(e.error.message);
    return h('div', { class: 'error', role: 'alert' }, h('strong', null, `${e.error.kind} (${e.error.code})`), ': ', e.error.message);
  }
  return h('div', { class: 'error', role: 'alert' }, String((e as Error)?.message ?? e));
}

function tokenForm(message: string): HTMLElement {
  const input = h('input', { type: 'password', name: 'token', placeholder: 'bearer token', autocomplete: 'off' });
  return h('form', {
    class: 'token-form',
    onsubmit: (ev) => {
      ev.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, input.value);
      void render();
    },
  }, h('p', null, message), input, ' ', h('button', { type: 'submit' }, 'Sign in'));
}

/** Sets the page: header (breadcrumbs, time-travel banner, tabs) and the view's content. */
function frame(route: Route, content: Child): void {
  // a slow view (a diff) finishing after the user went elsewhere: the page is the newer view's
  if (route.gen !== generation) throw new StaleRender();
  const top = document.getElementById('top')!;
  const crumbs: Child[] = [h('a', { href: '#/', class: 'brand' }, 'LakeSoul')];
  if (route.ns && route.table) {
    crumbs.push(' / ', h('span', { class: 'ns' }, route.ns), ' / ', h('a', { href: link(route.ns, route.table, 'overview', keep(route)), class: 'tname' }, route.table));
  }
  const bar: Child[] = [h('nav', { class: 'crumbs' }, crumbs)];
  if (route.ns && route.table) {
    const at = route.q.get('at');
    const pin = route.q.get('pin');
    const partition = route.q.get('partition');
    if (at || partition) {
      bar.push(h('div', { class: 'travel', 'data-testid': 'travel-banner' },
        at ? ['Viewing the table as of the commit at ', h('strong', null, time(Number(at)))] : 'Viewing the latest state',
        partition ? [' — partition ', h('strong', null, partitionLabel(partition))] : null,
        ' ', h('a', { href: link(route.ns, route.table, route.tab === 'row' ? 'rows' : route.tab), class: 'button' }, 'back to latest, all partitions')));
    }
    if (pin && !at) {
      // a page opened from a list loaded at the latest state reads the snapshot that list read
      bar.push(h('div', { class: 'travel pinned', 'data-testid': 'pinned-banner' },
        'Rows as of the commit at ', h('strong', null, time(Number(pin))), ', the newest when the list was loaded; later commits are not shown. ',
        h('a', { href: link(route.ns, route.table, 'rows', { partition: partition ?? undefined, filter: route.q.get('filter') ?? undefined, columns: route.q.get('columns') ?? undefined }), class: 'button' }, 'show the latest rows')));
    }
    const tabs = [['overview', 'Overview'], ['history', 'History'], ['rows', 'Rows'], ['diff', 'Diff'], ['stats', 'Stats']] as const;
    bar.push(h('nav', { class: 'tabs' }, tabs.map(([id, label]) =>
      h('a', { href: link(route.ns!, route.table!, id, keep(route)), class: route.tab === id || (route.tab === 'row' && id === 'rows') ? 'tab active' : 'tab' }, label))));
  }
  replace(top, bar);
  replace(document.getElementById('main')!, content);
}

/** The time-travel and partition settings carried from view to view. */
function keep(route: Route): Record<string, string | undefined> {
  return { at: route.q.get('at') ?? undefined, partition: route.q.get('partition') ?? undefined };
}

/**
 * The commit the rows of a view are read at: `at` (time travel), else `pin`, the commit a list of
 * rows loaded at the latest state read (its row links, pager and downloads carry it, so they reach
 * the rows it listed whatever was committed since).
 */
function readAt(route: Route): string | undefined {
  return route.q.get('at') ?? route.q.get('pin') ?? undefined;
}

function table(headers: Child[], rows: Child[][], attrs: Record<string, string> = {}): HTMLTableElement {
  return h('table', attrs, h('thead', null, h('tr', null, headers.map((c) => h('th', null, c)))), h('tbody', null, rows.map((r) => h('tr', null, r.map((c) => h('td', null, c))))));
}

// ---------------------------------------------------------------------------------------------
// Views

async function homeView(route: Route): Promise<void> {
  const nss = await api<Array<{ name: string; comment: string; tables: Array<{ name: string; primaryKeys: string[]; rangePartitions: string[]; blobColumns: string[]; unsupported: string | null }> }>>('namespaces');
  frame(route, [
    h('h1', null, 'Namespaces and tables'),
    nss.map((ns) => h('section', { class: 'ns-block' },
      h('h2', null, ns.name, ns.comment ? h('span', { class: 'muted' }, ` — ${ns.comment}`) : null),
      ns.tables.length === 0 ? h('p', { class: 'muted' }, 'no tables') :
        table(['table', 'primary keys', 'range partitions', 'blob columns'], ns.tables.map((t) => [
          t.unsupported === null ? h('a', { href: link(ns.name, t.name, 'overview'), class: 'table-link' }, t.name)
            : [h('span', { class: 'muted', title: t.unsupported }, t.name), h('span', { class: 'muted', 'data-testid': 'unreadable' }, ' (cannot be read by this version)')],
          t.primaryKeys.join(', ') || '—',
          t.rangePartitions.join(', ') || '—',
          t.blobColumns.join(', ') || '—',
        ]), { class: 'tables' }))),
  ]);
}

interface TableJson {
  namespace: string; name: string; path: string; columns: Column[]; primaryKeys: string[]; rangePartitions: string[]; hashBucketNum: number; cdcColumn: string | null;
  properties: Record<string, string>;
  partitions: Array<{ partition: string; values: Record<string, string | null>; version: number; op: string; timestamp: number; files: number; bytes: number; buckets: Array<{ bucket: number; files: number; bytes: number }> }>;
}

function flags(c: Column): string {
  return [c.primaryKey && 'primary key', c.rangePartition && 'range partition', c.blob && 'blob', c.cdc && 'CDC'].filter(Boolean).join(', ');
}

async function overviewView(route: Route): Promise<void> {
  const t = await api<TableJson>('table', { ns: route.ns, table: route.table, ...keep(route) });
  const totalFiles = t.partitions.reduce((s, p) => s + p.files, 0);
  const totalBytes = t.partitions.reduce((s, p) => s + p.bytes, 0);
  frame(route, [
    h('h1', null, t.name),
    h('p', { class: 'muted path' }, t.path),
    h('section', null, h('h2', null, 'Schema'),
      table(['column', 'type', 'nullable', ''], t.columns.map((c) => [h('code', null, c.name), c.type, c.nullable ? 'yes' : 'no', flags(c)]), { 'data-testid': 'schema' }),
      h('p', null,
        'Range partitioning: ', t.rangePartitions.length ? h('code', null, t.rangePartitions.join(', ')) : 'none', '. ',
        'Hash partitioning: ', t.primaryKeys.length ? [h('code', null, t.primaryKeys.join(', ')), ` into ${t.hashBucketNum} buckets`] : 'none (no primary key)', '.',
        t.cdcColumn ? [' CDC column: ', h('code', null, t.cdcColumn), '.'] : null)),
    h('section', null, h('h2', null, 'Properties'),
      Object.keys(t.properties).length === 0 ? h('p', { class: 'muted' }, 'none') :
        table(['property', 'value'], Object.entries(t.properties).map(([k, v]) => [h('code', null, k), v]), { 'data-testid': 'properties' })),
    h('section', null, h('h2', null, `Partitions (${t.partitions.length}; ${totalFiles} files, ${bytes(totalBytes)})`),
      table(['partition', 'version', 'last commit', 'files', 'size', 'buckets'], t.partitions.map((p) => [
        h('a', { href: link(t.namespace, t.name, 'rows', { ...keep(route), partition: p.partition }) }, partitionLabel(p.partition)),
        String(p.version), `${p.op}, ${time(p.timestamp)}`, String(p.files), bytes(p.bytes),
        p.buckets.map((b) => h('span', { class: 'bucket', title: `${b.files} files, ${bytes(b.bytes)}` }, t.primaryKeys.length ? `bucket ${b.bucket}: ${b.files} file${b.files === 1 ? '' : 's'}, ${bytes(b.bytes)}` : `${b.files} file${b.files === 1 ? '' : 's'}`)),
      ]), { 'data-testid': 'partitions' })),
  ]);
}

async function historyView(route: Route): Promise<void> {
  const hist = await api<{ partitions: Record<string, PartitionEntry[]>; commits: CommitEntry[]; total: number }>('history', { ns: route.ns, table: route.table });
  const ns = route.ns!;
  const name = route.table!;
  const at = route.q.get('at');
  const commits = hist.commits;
  frame(route, [
    h('h1', null, 'History'),
    h('p', { class: 'muted' }, 'Newest first. Click an entry to view the table as of that commit (time travel).'),
    hist.total > commits.length ? h('p', { class: 'muted', 'data-testid': 'history-limit' }, `The newest ${commits.length} of ${hist.total} commits.`) : null,
    h('section', null, h('h2', null, `Commits across partitions (${hist.total > commits.length ? `newest ${commits.length} of ${hist.total}` : commits.length})`),
      h('ol', { class: 'timeline', 'data-testid': 'commits' }, commits.map((c, i) => {
        const prev = commits[i + 1];
        return h('li', { class: String(c.timestamp) === at ? 'entry current' : 'entry' },
          h('a', { href: link(ns, name, 'rows', { at: c.timestamp }), class: 'when', 'data-ts': c.timestamp }, time(c.timestamp)),
          i === 0 ? h('span', { class: 'chip latest' }, 'latest') : null,
          ' ', c.partitions.map((p) => h('span', { class: 'chip' }, `${partitionLabel(p.partition)} v${p.version} ${p.op}`)),
          prev ? [' ', h('a', { href: link(ns, name, 'diff', { from: prev.timestamp, to: c.timestamp }), class: 'diff-link' }, 'diff with previous')] : null);
      }))),
    h('section', null, h('h2', null, 'Per partition'),
      Object.entries(hist.partitions).map(([p, entries]) => h('div', { class: 'partition-history' },
        h('h3', null, partitionLabel(p)),
        h('ol', { class: 'timeline' }, entries.map((e) => h('li', { class: 'entry' },
          h('a', { href: link(ns, name, 'rows', { at: e.timestamp, partition: p }), class: 'when' }, `v${e.version}`),
          ` ${e.op} `, h('span', { class: 'muted' }, `${time(e.timestamp)}, ${e.commits} commit(s) in snapshot`))))))),
  ]);
}

function previewCell(p: Preview | undefined, onOpen: (() => void) | null): Child {
  if (!p) return '';
  switch (p.kind) {
    case 'image':
      return h('img', { src: p.thumbnail, class: 'thumb', alt: `${p.type}, ${p.width}×${p.height}`, title: `${p.type}, ${p.width}×${p.height}, ${bytes(p.size)}`, onclick: onOpen ?? undefined });
    case 'file':
      return h('span', { class: 'file' }, `${p.type}, ${bytes(p.size)}`);
    case 'missing':
      return h('span', { class: 'muted' }, 'missing');
    case 'refused':
    case 'error':
      return h('span', { class: 'refused', title: p.message }, `${p.kind} (${p.code})`);
  }
}

/** Downloads the blob of `column` of row `row` of the rows read at commit `at` (the page's, never the latest of now). */
async function download(route: Route, at: number | null, row: number, column: string): Promise<void> {
  const res = await request('blob', { ns: route.ns, table: route.table, at: at ?? undefined, partition: route.q.get('partition') ?? undefined, filter: route.q.get('filter') ?? undefined, row, column, mode: 'original' });
  const disposition = res.headers.get('content-disposition') ?? '';
  const m = /filename\*=UTF-8''([^;]+)/.exec(disposition);
  const url = URL.createObjectURL(await res.blob());
  const a = h('a', { href: '#', download: m ? decodeURIComponent(m[1]!) : 'blob' });
  a.href = url;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function rowsView(route: Route): Promise<void> {
  const ns = route.ns!;
  const name = route.table!;
  const t = await api<TableJson>('table', { ns, table: name, ...keep(route) });
  const filter = route.q.get('filter') ?? '';
  const chosen = route.q.get('columns')?.split(',').filter(Boolean) ?? t.columns.map((c) => c.name);
  const offset = Number(route.q.get('offset') ?? '0');
  const query = { filter: filter || undefined, columns: route.q.get('columns') ?? undefined };
  const filterInput = h('input', { type: 'text', name: 'filter', value: filter, placeholder: "e.g. label = 'cat' and score >= 0.5", size: 50 });
  const boxes = t.columns.map((c) => h('label', { class: 'col-choice' }, h('input', { type: 'checkbox', name: 'col', value: c.name, checked: chosen.includes(c.name) }), c.name));
  const form = h('form', {
    class: 'query',
    onsubmit: (ev) => {
      ev.preventDefault();
      const cols = boxes.map((b) => b.querySelector('input')!).filter((i) => i.checked).map((i) => i.value);
      go(link(ns, name, 'rows', { ...keep(route), filter: filterInput.value.trim() || undefined, columns: cols.length === t.columns.length ? undefined : cols.join(',') }));
    },
  }, h('label', null, 'Filter ', filterInput), ' ', h('button', { type: 'submit' }, 'Apply'), h('div', { class: 'cols' }, 'Columns: ', boxes));
  let content: Child;
  try {
    const page = await api<{ columns: Column[]; offset: number; rows: Cell[][]; more: boolean; previews: Record<string, Preview[]>; at: number | null }>('rows', { ns, table: name, ...keep(route), at: readAt(route), ...query, offset, limit: PAGE });
    // the links of this page read the snapshot it read: at the latest state, pinned to its newest commit
    const base = { ...keep(route), pin: route.q.get('at') ? undefined : (page.at ?? undefined), ...query };
    const pager = h('div', { class: 'pager' },
      offset > 0 ? h('a', { href: link(ns, name, 'rows', { ...base, offset: Math.max(0, offset - PAGE) }), class: 'button prev' }, '← previous') : null,
      h('span', { class: 'muted', 'data-testid': 'page-range' }, page.rows.length ? ` rows ${offset + 1}–${offset + page.rows.length} ` : ' no rows '),
      page.more ? h('a', { href: link(ns, name, 'rows', { ...base, offset: offset + PAGE }), class: 'button next' }, 'next →') : null);
    const rowHref = (i: number) => link(ns, name, 'row', { ...base, row: offset + i });
    content = [pager, table(['#', ...page.columns.map((c) => h('span', { title: c.type }, c.name))], page.rows.map((r, i) => [
      h('a', { href: rowHref(i), class: 'row-link' }, String(offset + i + 1)),
      ...r.map((v, j) => {
        const c = page.columns[j]!;
        if (!c.blob && !c.binary) return h('span', { class: v === null ? 'null' : 'cell' }, cellText(v));
        const p = page.previews[c.name]?.[i];
        return h('div', { class: 'blob-cell' }, previewCell(p, () => go(rowHref(i))),
          p?.kind === 'file' ? h('button', { type: 'button', class: 'download', onclick: () => void download(route, page.at, offset + i, c.name) }, 'download') : null,
          h('div', { class: 'ref' }, cellText(v)));
      }),
    ]), { class: 'rows', 'data-testid': 'rows' }), pager];
  } catch (e) {
    content = errorBox(e);
  }
  frame(route, [h('h1', null, 'Rows'), form, content]);
}

let infoRequest: Promise<{ command: string }> | undefined;
/** What the server says about itself (how the CLI commands it shows begin), asked once per page load. */
function serverInfo(): Promise<{ command: string }> {
  infoRequest ??= api<{ command: string }>('info').catch((e: unknown) => {
    infoRequest = undefined; // asked again by the next view
    throw e;
  });
  return infoRequest;
}

async function rowView(route: Route): Promise<void> {
  const ns = route.ns!;
  const name = route.table!;
  const index = Number(route.q.get('row') ?? '0');
  const [r, info] = await Promise.all([
    api<{ columns: Column[]; index: number; values: Cell[]; truncated: string[]; previews: Record<string, Preview>; at: number | null }>('row', { ns, table: name, ...keep(route), at: readAt(route), filter: route.q.get('filter') ?? undefined, row: index }),
    serverInfo(),
  ]);
  // the image and the downloads read the snapshot the row was read at (at the latest state: its newest commit)
  const params = { ns, table: name, ...keep(route), at: r.at ?? undefined, filter: route.q.get('filter') ?? undefined, row: index };
  const key = r.columns.flatMap((c, i): Array<[string, Cell]> => (c.primaryKey ? [[c.name, r.values[i] ?? null]] : []));
  // long text is cut (MAX_DETAIL_CHARS): say so, and how to print the whole value
  const valueCell = (c: Column, i: number): Child => {
    const shown = h('span', { class: r.values[i] === null ? 'null' : 'value' }, cellText(r.values[i] ?? null));
    if (!r.truncated?.includes(c.name)) return shown;
    return [shown, h('div', { class: 'muted', 'data-testid': 'cut-note' }, 'Cut for display; the whole value: ', h('code', null, wholeValueCommand(ns, name, c.name, key, { at: r.at, partition: route.q.get('partition') }, info.command)))];
  };
  const images: Child[] = [];
  for (const c of r.columns) {
    if (!c.blob && !c.binary) continue;
    const p = r.previews[c.name];
    const box = h('figure', { class: 'full', 'data-column': c.name }, h('figcaption', null, c.name));
    images.push(box);
    if (p?.kind === 'image') {
      request('blob', { ...params, column: c.name, mode: 'full' }).then(async (res) => {
        const img = h('img', { src: URL.createObjectURL(await res.blob()), alt: `${c.name} of row ${index + 1}`, class: 'full-image' });
        // Small images are shown enlarged with sharp pixels; larger ones at most 640 px wide, smoothly.
        img.addEventListener('load', () => { if (img.naturalWidth < 256) img.classList.add('enlarged'); });
        box.appendChild(img);
        box.appendChild(h('div', { class: 'muted' }, `${p.type}, ${p.width}×${p.height}, ${bytes(p.size)} `, h('button', { type: 'button', class: 'download', onclick: () => void download(route, r.at, index, c.name) }, 'download original')));
      }).catch((e) => box.appendChild(errorBox(e)));
    } else if (p?.kind === 'file') {
      box.appendChild(h('div', null, `${p.type}, ${bytes(p.size)}`, p.note ? h('span', { class: 'muted' }, ` (${p.note})`) : null, ' ',
        h('button', { type: 'button', class: 'download', onclick: () => void download(route, r.at, index, c.name) }, 'download')));
    } else if (p?.kind === 'refused' || p?.kind === 'error') {
      box.appendChild(h('div', { class: 'error refused', role: 'alert' }, h('strong', null, `${p.kind === 'refused' ? 'Refused' : 'Error'} (${p.code})`), ': ', p.message));
    } else {
      box.appendChild(h('div', { class: 'muted' }, 'missing'));
    }
  }
  frame(route, [
    h('p', null, h('a', { href: link(ns, name, 'rows', { ...keep(route), pin: route.q.get('at') ? undefined : (r.at ?? undefined), filter: route.q.get('filter') ?? undefined, columns: route.q.get('columns') ?? undefined, offset: Math.floor(index / PAGE) * PAGE }) }, '← rows')),
    h('h1', null, `Row ${index + 1}`),
    h('div', { class: 'detail' },
      table(['column', 'value'], r.columns.map((c, i) => [h('code', null, c.name), valueCell(c, i)]), { 'data-testid': 'row-detail' }),
      h('div', { class: 'images' }, images)),
  ]);
}

interface DiffJson {
  from: number; to: number; primaryKeys: string[]; columns: string[];
  counts: { added: number; changed: number; deleted: number; unchanged: number };
  added: Record<string, Cell>[]; deleted: Record<string, Cell>[];
  changed: Array<{ key: Record<string, Cell>; before: Record<string, Cell>; after: Record<string, Cell>; columns: string[] }>;
  partitions: Record<string, string>; truncated: boolean; partial: boolean; partialPartitions: string[];
}

/** The analysis read limits, as the diff page names them (MAX_ANALYSIS_ROWS and MAX_ANALYSIS_BYTES of the server). */
const MAX_ANALYSIS_ROWS_TEXT = '200,000 rows or 256 MiB per read';

async function diffView(route: Route): Promise<void> {
  const ns = route.ns!;
  const name = route.table!;
  const hist = await api<{ commits: CommitEntry[] }>('history', { ns, table: name });
  const commits = hist.commits;
  if (commits.length < 2) {
    frame(route, [h('h1', null, 'Diff'), h('p', { class: 'muted' }, 'The table has fewer than two commits.')]);
    return;
  }
  const to = Number(route.q.get('to') ?? commits[0]!.timestamp);
  const from = Number(route.q.get('from') ?? commits[1]!.timestamp);
  // a time from the link that is no commit listed (`from=1`, or older than the listed ones) is shown
  // as what the diff is computed from, not replaced in the list by the latest commit
  const pick = (sel: string, value: number) => {
    const options = commits.map((c) => {
      const o = h('option', { value: c.timestamp }, `${time(c.timestamp)} (${c.partitions.map((p) => `${partitionLabel(p.partition)} v${p.version} ${p.op}`).join('; ')})`);
      if (c.timestamp === value) o.selected = true;
      return o;
    });
    if (!commits.some((c) => c.timestamp === value)) {
      const o = h('option', { value, 'data-testid': 'unlisted-time' }, `${time(value)} (from the link: not one of the commits listed)`);
      o.selected = true;
      const at = commits.findIndex((c) => c.timestamp < value);
      options.splice(at < 0 ? options.length : at, 0, o);
    }
    return h('select', { name: sel }, options);
  };
  const fromSel = pick('from', from);
  const toSel = pick('to', to);
  const form = h('form', {
    class: 'query',
    onsubmit: (ev) => {
      ev.preventDefault();
      const a = Number(fromSel.value);
      const b = Number(toSel.value);
      go(link(ns, name, 'diff', { ...keep(route), at: undefined, from: Math.min(a, b), to: Math.max(a, b) }));
    },
  }, h('label', null, 'From ', fromSel), ' ', h('label', null, 'to ', toSel), ' ', h('button', { type: 'submit' }, 'Compare'));
  let content: Child;
  try {
    const d = await api<DiffJson>('diff', { ns, table: name, partition: route.q.get('partition') ?? undefined, from, to });
    const cols = d.columns;
    const rowsTable = (rows: Record<string, Cell>[], cls: string) => table(cols, rows.map((r) => cols.map((c) => cellText(r[c] ?? null))), { class: `diff ${cls}` });
    content = [
      h('p', { 'data-testid': 'diff-counts' }, `${d.counts.added} added, ${d.counts.changed} changed, ${d.counts.deleted} deleted`, d.counts.unchanged ? `, ${d.counts.unchanged} rewritten unchanged` : '', d.truncated ? ' (lists truncated)' : ''),
      d.partial ? h('p', { class: 'error', role: 'alert', 'data-testid': 'diff-partial' }, `Counts partial: a read stopped at its limit (${MAX_ANALYSIS_ROWS_TEXT}), so ${d.partialPartitions.map(partitionLabel).join(', ')} ${d.partialPartitions.length === 1 ? 'was' : 'were'} not compared whole. Narrow the diff to a partition, or compare closer commits.`) : null,
      h('p', { class: 'muted', 'data-testid': 'diff-compared' }, 'Compared by: ', comparedByText(d.partitions)),
      d.added.length ? [h('h2', null, `Added (${d.counts.added})`), rowsTable(d.added, 'added')] : null,
      d.changed.length ? [h('h2', null, `Changed (${d.counts.changed})`), table(['key', 'column', 'before', 'after'], d.changed.flatMap((c) => c.columns.map((col, i) => [
        i === 0 ? Object.entries(c.key).map(([k, v]) => `${k}=${cellText(v)}`).join(', ') : '', col, h('span', { class: 'before' }, cellText(c.before[col] ?? null)), h('span', { class: 'after' }, cellText(c.after[col] ?? null)),
      ])), { class: 'diff changed', 'data-testid': 'diff-changed' })] : null,
      d.deleted.length ? [h('h2', null, `Deleted (${d.counts.deleted})`), rowsTable(d.deleted, 'deleted')] : null,
    ];
  } catch (e) {
    content = errorBox(e);
  }
  frame(route, [h('h1', null, 'Diff of two commits'), form, content]);
}

type Stats =
  | { kind: 'histogram'; column: string; count: number; nulls: number; nonFinite: { nan: number; infinity: number; negativeInfinity: number }; min: number | null; max: number | null; bins: Array<{ lo: number; hi: number; count: number }>; truncated: boolean }
  | { kind: 'counts'; column: string; count: number; nulls: number; distinct: number; values: Array<{ value: Cell; count: number }>; others: number; truncated: boolean };

/** A bin edge or summary number, short enough to sit under a 40 px bar. */
function num(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(3)));
}

async function statsView(route: Route): Promise<void> {
  const ns = route.ns!;
  const name = route.table!;
  const t = await api<TableJson>('table', { ns, table: name, ...keep(route) });
  const usable = t.columns.filter((c) => !c.blob && !c.binary);
  const column = route.q.get('column') ?? (usable.find((c) => c.numeric) ?? usable[0])?.name;
  const filter = route.q.get('filter') ?? '';
  const sel = h('select', { name: 'column' }, t.columns.map((c) => {
    const o = h('option', { value: c.name }, `${c.name} (${c.numeric ? 'histogram' : 'value counts'})`);
    if (c.name === column) o.selected = true;
    return o;
  }));
  const filterInput = h('input', { type: 'text', name: 'filter', value: filter, size: 40, placeholder: 'optional filter' });
  const form = h('form', {
    class: 'query',
    onsubmit: (ev) => {
      ev.preventDefault();
      go(link(ns, name, 'stats', { ...keep(route), column: sel.value, filter: filterInput.value.trim() || undefined }));
    },
  }, h('label', null, 'Column ', sel), ' ', h('label', null, 'Filter ', filterInput), ' ', h('button', { type: 'submit' }, 'Show'));
  let content: Child = null;
  if (column) {
    try {
      const s = await api<Stats>('stats', { ns, table: name, ...keep(route), column, filter: filter || undefined });
      const summary = `${s.count} rows, ${s.nulls} null${s.truncated ? ' (first rows only)' : ''}`;
      if (s.kind === 'histogram') {
        const max = Math.max(1, ...s.bins.map((b) => b.count));
        // NaN and infinities have no bin: said apart from the nulls
        const nf = s.nonFinite;
        const apart = [nf.nan && `${nf.nan} NaN`, nf.infinity && `${nf.infinity} +Infinity`, nf.negativeInfinity && `${nf.negativeInfinity} -Infinity`].filter(Boolean).join(', ');
        content = [h('h2', null, `Histogram of ${s.column}`), h('p', { class: 'muted', 'data-testid': 'histogram-summary' }, `${summary}${apart ? `, ${apart} (not in the bins)` : ''}; min ${s.min === null ? '—' : num(s.min)}, max ${s.max === null ? '—' : num(s.max)}`),
          h('div', { class: 'histogram', 'data-testid': 'histogram' }, s.bins.map((b) => h('div', { class: 'bin', title: `[${num(b.lo)}, ${num(b.hi)}): ${b.count}` },
            h('div', { class: 'bar', style: `height:${Math.round((b.count / max) * 160)}px` }),
            h('div', { class: 'count' }, String(b.count)),
            h('div', { class: 'label' }, num(b.lo)))))];
      } else {
        const max = Math.max(1, ...s.values.map((v) => v.count));
        content = [h('h2', null, `Value counts of ${s.column}`), h('p', { class: 'muted' }, `${summary}; ${s.distinct} distinct${s.others ? `, ${s.others} rows in other values` : ''}`),
          h('div', { class: 'counts', 'data-testid': 'counts' }, s.values.map((v) => h('div', { class: 'count-row' },
            h('span', { class: 'value' }, cellText(v.value)),
            h('span', { class: 'hbar', style: `width:${Math.max(2, Math.round((v.count / max) * 300))}px` }),
            h('span', { class: 'n' }, String(v.count)))))];
      }
    } catch (e) {
      content = errorBox(e);
    }
  }
  frame(route, [h('h1', null, 'Column statistics'), form, content]);
}

/**
 * Renders the view of the address. Each call is a new navigation: the previous one's requests are
 * aborted and its view, should it finish anyway, is dropped ({@link frame} refuses it), so only the
 * latest navigation reaches the page. While a view loads, the page shows so (`data-loading`).
 */
async function render(): Promise<void> {
  navigation.abort();
  navigation = new AbortController();
  const gen = ++generation;
  document.body.dataset.loading = 'true';
  const route = parseRoute();
  try {
    if (route.tab === 'home' || !route.ns || !route.table) await homeView(route);
    else if (route.tab === 'history') await historyView(route);
    else if (route.tab === 'rows') await rowsView(route);
    else if (route.tab === 'row') await rowView(route);
    else if (route.tab === 'diff') await diffView(route);
    else if (route.tab === 'stats') await statsView(route);
    else await overviewView(route);
  } catch (e) {
    if (e instanceof StaleRender || gen !== generation) return;
    frame(route, errorBox(e));
  }
  if (gen !== generation) return;
  delete document.body.dataset.loading;
  document.body.dataset.ready = location.hash || '#/';
}

/**
 * The `token` parameter of a query string, decoded from its percent escapes only: URLSearchParams
 * reads `+` as a space, so a base64 token (`q8+Zk3...`) pasted as is failed, and counted toward the
 * lockout of failed logins.
 */
function tokenInAddress(search: string): string | null {
  for (const part of search.replace(/^\?/, '').split('&')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq) !== 'token') continue;
    const raw = part.slice(eq + 1);
    try { return decodeURIComponent(raw); } catch { return raw; }
  }
  return null;
}

// A token given once in the address (`?token=...`) moves to session storage and out of the address bar.
const given = tokenInAddress(location.search);
if (given) {
  sessionStorage.setItem(TOKEN_KEY, given);
  history.replaceState(null, '', location.pathname + location.hash);
}
window.addEventListener('hashchange', () => {
  delete document.body.dataset.ready;
  void render();
});
void render();
