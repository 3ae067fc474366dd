/**
 * `LakeSoulErrorCode` (packages/meta/src/errors.ts) is every code the packages throw, so that
 * `LakeSoulError.hasCode(e, 'CODE')` compiles for each: the docs told users to branch on
 * DATAFRAME_TYPE_MISMATCH, BLOB_OUTSIDE_ROOTS, PURGE_FOREIGN_FILES, INVALID_WAREHOUSE, RESUME_PAST_END,
 * DANFO_NOT_AVAILABLE... which were not in it, and hasCode refused them at compile time. The shipped
 * sources (tests, test support and fixtures left out) are read with the TypeScript compiler; a code is
 * thrown where a string literal is
 * - the value of a `code` property (`new LakeSoulError(kind, message, { code: 'X' })`, a ternary of
 *   literals included), except in `Object.assign(error, { code })` (Node-style errors for a local
 *   catch), `process.emitWarning(message, { code })` (warning codes, not errors) and
 *   `JSON.stringify(...)` (an HTTP answer's body: the UI server's refusal of a write method);
 * - the default of a parameter named `code`, or the argument a call passes to a function (or class)
 *   whose parameter of that position is named `code` (declared in the file, or imported from a
 *   relative module);
 * - and every kind's default code (its name in SNAKE_CASE, what an error without a code carries).
 * docs/errors.md, the one page listing the codes, lists each code of the union and no other.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const ERRORS_TS = join(ROOT, 'packages/meta/src/errors.ts');

function* shippedSources(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (name !== 'node_modules' && name !== 'dist') yield* shippedSources(p); }
    else if (/\.ts$/.test(name) && !/\.d\.ts$|\.test\.ts$|\.test-d\.ts$/.test(name) && !/test-support|test-fixtures/.test(p)) yield p;
  }
}

const parse = (file: string) => ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);

/** The string literal members of the exported type alias `name` in `sf`. */
function literalUnion(sf: ts.SourceFile, name: string): string[] {
  const alias = sf.statements.find((s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === name);
  if (!alias || !ts.isUnionTypeNode(alias.type)) throw new Error(`${name} is no union type in ${sf.fileName}`);
  return alias.type.types.map((t) => {
    if (!ts.isLiteralTypeNode(t) || !ts.isStringLiteral(t.literal)) throw new Error(`${name} has a member that is no string literal: ${t.getText()}`);
    return t.literal.text;
  });
}

/** String literals an expression evaluates to: itself, a ternary's branches, `a ?? b`, `a || b`. */
function literals(n: ts.Expression, out: string[] = []): string[] {
  if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) out.push(n.text);
  else if (ts.isConditionalExpression(n)) { literals(n.whenTrue, out); literals(n.whenFalse, out); }
  else if (ts.isParenthesizedExpression(n) || ts.isAsExpression(n)) literals(n.expression, out);
  else if (ts.isBinaryExpression(n) && (n.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken || n.operatorToken.kind === ts.SyntaxKind.BarBarToken)) { literals(n.left, out); literals(n.right, out); }
  return out;
}

const calleeName = (e: ts.Expression): string | undefined => (ts.isIdentifier(e) ? e.text : ts.isPropertyAccessExpression(e) ? e.name.text : undefined);

/** Functions and classes of `sf` with a parameter named `code`: name -> its position. */
function codeParameters(sf: ts.SourceFile): Map<string, number> {
  const found = new Map<string, number>();
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionLike(n)) {
      const at = n.parameters.findIndex((p) => ts.isIdentifier(p.name) && p.name.text === 'code');
      const p = n.parent;
      const name = n.name && ts.isIdentifier(n.name) ? n.name.text
        : ts.isConstructorDeclaration(n) && ts.isClassLike(p) && p.name ? p.name.text
          : p && ts.isVariableDeclaration(p) && ts.isIdentifier(p.name) ? p.name.text : undefined;
      if (at >= 0 && name) found.set(name, at);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

/** Every code the shipped sources throw, with where (file:line). */
function thrownCodes(): Map<string, string[]> {
  const files = readdirSync(join(ROOT, 'packages')).filter((p) => existsSync(join(ROOT, 'packages', p, 'src'))).flatMap((p) => [...shippedSources(join(ROOT, 'packages', p, 'src'))]);
  const sources = new Map(files.map((f) => [f, parse(f)]));
  const declared = new Map([...sources].map(([f, sf]) => [f, codeParameters(sf)]));
  const codePosition = (file: string, sf: ts.SourceFile, name: string): number | undefined => {
    const local = declared.get(file)!.get(name);
    if (local !== undefined) return local;
    for (const s of sf.statements) {
      const bindings = ts.isImportDeclaration(s) ? s.importClause?.namedBindings : undefined;
      if (!bindings || !ts.isNamedImports(bindings) || !ts.isStringLiteral((s as ts.ImportDeclaration).moduleSpecifier)) continue;
      const spec = ((s as ts.ImportDeclaration).moduleSpecifier as ts.StringLiteral).text;
      if (!spec.startsWith('.')) continue;
      for (const el of bindings.elements) {
        if (el.name.text === name) return declared.get(resolve(dirname(file), spec.replace(/\.js$/, '.ts')))?.get((el.propertyName ?? el.name).text);
      }
    }
    return undefined;
  };
  const found = new Map<string, string[]>();
  for (const [file, sf] of sources) {
    const add = (codes: string[], n: ts.Node) => {
      for (const c of codes) found.set(c, [...found.get(c) ?? [], `${relative(ROOT, file)}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`]);
    };
    const visit = (n: ts.Node): void => {
      if (ts.isPropertyAssignment(n) && (ts.isIdentifier(n.name) || ts.isStringLiteral(n.name)) && n.name.text === 'code') {
        let call: ts.Node = n.parent;
        while (!ts.isCallExpression(call) && !ts.isNewExpression(call) && !ts.isSourceFile(call)) call = call.parent;
        const notAnError = ts.isCallExpression(call) && ['assign', 'emitWarning', 'stringify'].includes(calleeName(call.expression) ?? '');
        if (!notAnError) add(literals(n.initializer), n);
      }
      if (ts.isParameter(n) && ts.isIdentifier(n.name) && n.name.text === 'code' && n.initializer) add(literals(n.initializer), n);
      if ((ts.isCallExpression(n) || ts.isNewExpression(n)) && n.arguments) {
        const name = calleeName(n.expression);
        const at = name === undefined ? undefined : codePosition(file, sf, name);
        if (at !== undefined && n.arguments[at]) add(literals(n.arguments[at]!), n);
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return found;
}

const errorsTs = parse(ERRORS_TS);
const union = literalUnion(errorsTs, 'LakeSoulErrorCode');
const kindCodes = literalUnion(errorsTs, 'LakeSoulErrorKind').map((k) => k.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase());
const thrown = thrownCodes();

describe('LakeSoulErrorCode is every code the packages throw', () => {
  it('the sources are read (the extraction finds codes thrown each way)', () => {
    expect(thrown.size).toBeGreaterThan(150);
    // a code property, a ternary of codes, a helper's code parameter (imported), its default
    for (const c of ['COMMIT_CONFLICT', 'TABLE_PATH_EXISTS', 'TABLE_PATH_OVERLAP', 'DATAFRAME_TYPE_MISMATCH', 'RESUME_PAST_END', 'BAD_DATASET_OPTION', 'UI_BAD_ROW']) {
      expect(thrown.has(c), c).toBe(true);
    }
    // not errors: a Node-style error code for a local catch, a warning's code
    for (const c of ['EISDIR', 'LAKESOUL_CATALOG_WAIT', 'LAKESOUL_DANFO_NAN_NULLS', 'UI_READ_ONLY']) expect(thrown.has(c), c).toBe(false);
  });

  it('each thrown code is in the union (so hasCode compiles for it)', () => {
    const missing = [...thrown].filter(([c]) => !union.includes(c)).map(([c, where]) => `${c} (${where.slice(0, 3).join(', ')})`);
    expect(missing, 'codes thrown but not in LakeSoulErrorCode: add each to the union in packages/meta/src/errors.ts and to docs/errors.md').toEqual([]);
  });

  it("each kind's default code is in the union", () => {
    expect(kindCodes.filter((c) => !union.includes(c))).toEqual([]);
  });

  it('the union holds no code nothing throws, and none twice', () => {
    expect(union.filter((c) => !thrown.has(c) && !kindCodes.includes(c)), 'in LakeSoulErrorCode but never thrown').toEqual([]);
    expect(union.filter((c, i) => union.indexOf(c) !== i)).toEqual([]);
  });

  it('docs/errors.md lists each code of the union, and no other code', () => {
    const page = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
    // the code column of its tables: a row starting with a code in backticks
    const listed = [...page.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]!);
    expect(union.filter((c) => !listed.includes(c)), 'in LakeSoulErrorCode, not in docs/errors.md').toEqual([]);
    expect(listed.filter((c) => !union.includes(c)), 'in docs/errors.md, not in LakeSoulErrorCode').toEqual([]);
    expect(listed.filter((c, i) => listed.indexOf(c) !== i), 'listed twice').toEqual([]);
  });

  it('hasCode compiles for every code of the union and refuses another', () => {
    const program = (body: string) => {
      const file = join(ROOT, 'e2e', '.error-codes-check.ts');
      const host = ts.createCompilerHost({});
      const original = host.getSourceFile.bind(host);
      host.getSourceFile = (name, target, ...rest) => (name === file ? ts.createSourceFile(name, body, target) : original(name, target, ...rest));
      const p = ts.createProgram([file], { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true, types: [] }, host);
      return ts.getPreEmitDiagnostics(p).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    };
    const imports = `import { LakeSoulError } from '../packages/meta/src/errors.js';\ndeclare const e: unknown;\n`;
    expect(program(`${imports}${union.map((c) => `LakeSoulError.hasCode(e, '${c}');`).join('\n')}\n`)).toEqual([]);
    expect(program(`${imports}LakeSoulError.hasCode(e, 'NO_SUCH_CODE');\n`).join('\n')).toMatch(/NO_SUCH_CODE/);
  });
});
