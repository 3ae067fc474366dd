/**
 * The one way this front end makes DOM: `h(tag, props, ...children)`. Strings and numbers become
 * text nodes (never markup), attributes are set one by one with `setAttribute`, and URLs of `href`
 * and `src` are limited to in-page links, `data:image/` thumbnails and `blob:` URLs this page made.
 * Nothing here assigns `innerHTML`.
 */

/** A child of {@link h}: a node, text, or nothing (null/false are skipped); arrays are flattened. */
export type Child = Node | string | number | null | undefined | false | Child[];

/** Properties of {@link h}: attributes, plus `on<event>` handlers. */
export type Props = Record<string, string | number | boolean | null | undefined | ((ev: Event) => void)>;

function safeUrl(name: string, value: string): string {
  if (name === 'href' && value.startsWith('#')) return value;
  if (name === 'src' && (value.startsWith('data:image/webp;base64,') || value.startsWith('blob:'))) return value;
  throw new Error(`refused ${name} URL: ${value.slice(0, 40)}`);
}

/**
 * Invisible characters that reorder or hide text: bidi embeddings, overrides and isolates, marks,
 * zero-width characters and the byte order mark. Shown as `⟨U+202E⟩`: a value `safe\u202Egnp.exe`
 * rendered as `safe exe.png`, and an unterminated override in a link moved the page's own text.
 */
const INVISIBLE = /[\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/g;

/** `text` with {@link INVISIBLE} characters made visible. */
export function visible(text: string): string {
  return text.replace(INVISIBLE, (c) => `⟨U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`);
}

/** Appends children (text as text nodes, invisible characters shown). */
export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, ...c);
    else if (typeof c === 'string' || typeof c === 'number') parent.appendChild(document.createTextNode(visible(String(c))));
    else parent.appendChild(c);
  }
}

/** Creates an element. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'value' && (el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement)) el.value = String(v);
    else if (k === 'checked' && el instanceof HTMLInputElement) el.checked = Boolean(v);
    // Through the CSSOM, which the page's CSP allows (a `style` attribute would be refused).
    else if (k === 'style') el.style.cssText = String(v);
    else el.setAttribute(k, k === 'href' || k === 'src' ? safeUrl(k, String(v)) : v === true ? '' : String(v));
  }
  append(el, ...children);
  return el;
}

/** Replaces the children of `el`. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}
