#!/usr/bin/env node
// Lint rules over packages/*/src read with the TypeScript compiler API (run by `pnpm lint` and
// `pnpm test`). Exit 1 naming each file and line that breaks one:
//   1. long functions: a function body over MAX_FUNCTION_LINES lines needs a comment at its top (just
//      before it or first in its body) containing `Why long:` and the reason (issue 19 §7);
//   2. import cycles: no cycle of imports between the files of packages/io/src (type-only imports
//      included: a cycle is a layering fault even when erased at run time) (issue 15);
//   3. one abort module: abort helpers (a module-level function or constant whose name mentions
//      abort) are defined only in packages/meta/src/abort.ts (issue 19 §3).
// `node scripts/check-code.mjs --list` prints every long function with its length.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const MAX_FUNCTION_LINES = 150;
const WHY_LONG = /Why long:/;

// Files another open issue is rewriting: their long functions and local abort helpers go with the
// rewrite. Remove an entry when its issue lands.
const BEING_REWRITTEN = {
  'packages/io/src/merge/merge-on-read.ts': 'being rewritten by issue 15 (merge stages)',
  'packages/io/src/arrow/take-rows.ts': 'being rewritten by issue 15',
  'packages/io/src/table/table-writer.ts': 'being rewritten by issue 15 (writes)',
};
const ABORT_MODULE = 'packages/meta/src/abort.ts';
// The shapes the seven former local copies had: a check, an error factory, a test, a sleep.
const ABORT_HELPER_NAME = /^(check|throwIf|assertNot|ensureNot)?Abort(ed)?(Error|ErrorFor)?$|^isAbort(Error)?$|^abortable/i;

function* sourceFiles(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (name !== 'node_modules' && name !== 'dist') yield* sourceFiles(p); }
    else if (/\.(ts|mts|tsx)$/.test(name) && !/\.d\.ts$/.test(name) && !/\.test\.tsx?$/.test(name)) yield p;
  }
}

function parse(file) {
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
}

function functionName(node) {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text;
  if (node.name) return node.name.getText();
  const p = node.parent;
  if (p && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) && p.name) return p.name.getText();
  return '(anonymous)';
}

function commentsAround(node, sf) {
  const text = sf.getFullText();
  // The comment before a function sits on its statement (`export const f = () => ...`, a method).
  let anchor = node;
  while (anchor.parent && !ts.isSourceFile(anchor.parent) && !ts.isBlock(anchor.parent) && !ts.isClassLike(anchor.parent) && !ts.isObjectLiteralExpression(anchor.parent)) anchor = anchor.parent;
  const before = (ts.getLeadingCommentRanges(text, anchor.getFullStart()) ?? []).map((r) => text.slice(r.pos, r.end));
  const body = node.body && ts.isBlock(node.body) ? node.body : undefined;
  const first = body ? body.statements[0] : undefined;
  const inside = body
    ? (ts.getLeadingCommentRanges(text, first ? first.getFullStart() : body.getStart() + 1) ?? []).map((r) => text.slice(r.pos, r.end))
    : [];
  return [...before, ...inside].join('\n');
}

/** Functions whose body spans more than MAX_FUNCTION_LINES lines: `{ file, line, name, lines, explained }`. */
export function longFunctions(files) {
  const out = [];
  for (const file of files) {
    const sf = parse(file);
    // A reason given at the top of a function covers the functions written inside it.
    const visit = (node, explainedAbove = false) => {
      let explained = explainedAbove;
      if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node) ||
        ts.isConstructorDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node)) && node.body) {
        const start = sf.getLineAndCharacterOfPosition(node.body.getStart()).line;
        const end = sf.getLineAndCharacterOfPosition(node.body.getEnd()).line;
        const lines = end - start + 1;
        if (lines > MAX_FUNCTION_LINES) {
          explained ||= WHY_LONG.test(commentsAround(node, sf));
          out.push({ file: relative(root, file), line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1, name: functionName(node), lines, explained });
        }
      }
      ts.forEachChild(node, (child) => visit(child, explained));
    };
    visit(sf);
  }
  return out;
}

/** Relative imports (and re-exports) of a file, resolved to source files. */
function importsOf(file) {
  const sf = parse(file);
  const out = [];
  for (const st of sf.statements) {
    const spec = (ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier) ? st.moduleSpecifier.text : undefined;
    if (!spec || !spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    out.push(target.endsWith('.ts') ? target : join(target, 'index.ts'));
  }
  return out;
}

/** The import cycles (strongly connected components of more than one file, or a self-import) among `files`. */
export function importCycles(files) {
  const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => files.includes(t))]));
  // Tarjan's strongly connected components, iterative over the recursion it replaces.
  let index = 0;
  const idx = new Map(), low = new Map(), onStack = new Set(), stack = [], cycles = [];
  const strong = (v) => {
    idx.set(v, index); low.set(v, index); index++; stack.push(v); onStack.add(v);
    for (const w of graph.get(v)) {
      if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do { w = stack.pop(); onStack.delete(w); comp.push(w); } while (w !== v);
      if (comp.length > 1 || graph.get(v).includes(v)) cycles.push(comp.map((f) => relative(root, f)).sort());
    }
  };
  for (const f of files) if (!idx.has(f)) strong(f);
  return cycles;
}

/** Module-level functions or constants named like an abort helper, outside the abort module. */
export function abortHelpers(files) {
  const out = [];
  for (const file of files) {
    const rel = relative(root, file);
    if (rel === ABORT_MODULE) continue;
    const sf = parse(file);
    for (const st of sf.statements) {
      const names = ts.isFunctionDeclaration(st) && st.name ? [st.name.text]
        : ts.isVariableStatement(st) ? st.declarationList.declarations.filter((d) => d.initializer && (ts.isArrowFunction(d.initializer) || ts.isFunctionExpression(d.initializer))).map((d) => d.name.getText())
        : [];
      for (const name of names) if (ABORT_HELPER_NAME.test(name)) out.push({ file: rel, line: sf.getLineAndCharacterOfPosition(st.getStart()).line + 1, name });
    }
  }
  return out;
}

function main() {
  const pkgs = readdirSync(join(root, 'packages')).filter((p) => statSync(join(root, 'packages', p, 'src'), { throwIfNoEntry: false })?.isDirectory());
  const all = pkgs.flatMap((p) => [...sourceFiles(join(root, 'packages', p, 'src'))]);
  const problems = [];
  const long = longFunctions(all);
  if (process.argv.includes('--list')) for (const f of long) console.log(`${f.lines}\t${f.file}:${f.line} ${f.name}${f.explained ? ' (explained)' : ''}`);
  for (const f of long) {
    if (f.explained || BEING_REWRITTEN[f.file]) continue;
    problems.push(`${f.file}:${f.line}: function ${f.name} is ${f.lines} lines (over ${MAX_FUNCTION_LINES}): split it into named steps, or say why it must be one function in a comment at its top starting "Why long:"`);
  }
  for (const c of importCycles([...sourceFiles(join(root, 'packages/io/src'))])) {
    problems.push(`import cycle in packages/io/src: ${c.join(' <-> ')}: move the file that uses the upper layer above it (see DESIGN.md's layering)`);
  }
  for (const h of abortHelpers(all)) {
    if (BEING_REWRITTEN[h.file]) continue;
    problems.push(`${h.file}:${h.line}: ${h.name} looks like an abort helper: use the ones of ${ABORT_MODULE} (throwIfAborted, abortedError, abortedErrorFor, isAbortError, abortableSleep) instead of defining another`);
  }
  if (problems.length) {
    console.error(`check-code: ${problems.length} problem(s):\n  ` + problems.join('\n  '));
    process.exit(1);
  }
  console.log(`check-code: no unexplained function over ${MAX_FUNCTION_LINES} lines, no import cycle in io, one abort module`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
