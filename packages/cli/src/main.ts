#!/usr/bin/env node
// The `lakesoul-ts` command. The build bundles it into dist/bin.js (scripts/bundle-bin.mjs), what the
// package's `bin` runs; dist/main.js is the same command unbundled.
// The AWS SDK release pinned for Node 20 warns on every start that later releases need Node 22; the
// CLI is supported on Node 20, so the note is noise for its users (library users still see it once).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// `lakesoul-ts --version` (before any command) needs nothing else: answer before loading the CLI.
const first = process.argv[2];
if (first === '--version' || first === '-V') {
  const { readFileSync } = await import('node:fs');
  process.stdout.write(`${(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version}\n`);
  process.exit(0);
}
const { claimOutputFailureReport } = await import('./row-printer.js');
// A reader that stops early (`lakesoul-ts scan t | head`) closes the pipe: stop quietly, as other
// command-line tools do, instead of crashing on the next write.
for (const s of [process.stdout, process.stderr]) {
  s.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    // a full disk or a failing device behind the output: say so (it was an uncaught exception's stack)
    if (s === process.stdout && claimOutputFailureReport()) {
      try { process.stderr.write(`error: cannot write to standard output: ${e.message}\n`); } catch { /* stderr is gone too */ }
    }
    process.exit(1);
  });
}
// Everything the end of a run needs is loaded before the command runs (commands.js imports the other
// two anyway): a `serve` running for days ends after the package was rebuilt or upgraded, when its
// bundle's chunks (names hashed by content) are no longer on disk.
const [{ run }, { embeddedCatalogOpenedDirectly }, { catalogServerEnabled, startCatalogServerInBackground }] = await Promise.all([
  import('./commands.js'), import('./cli-context.js'), import('./catalog-daemon.js'),
]);

const code = await run(process.argv.slice(2));
// A command that opened an embedded catalog itself leaves a background catalog server behind, so that
// the next commands on that home skip PGlite's start (catalog-daemon.ts; LAKESOUL_CATALOG_SERVER=off).
const home = embeddedCatalogOpenedDirectly();
if (home !== undefined && catalogServerEnabled()) startCatalogServerInBackground(home);
// Every command closes what it opened, but a dependency may still hold a timer or socket (PGlite
// re-arms one, pg's pool idles): the command's work is done, so exit once the output is flushed.
await Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((res) => {
  if (s.writableLength === 0) res(); else s.write('', () => res());
})));
process.exit(code);
