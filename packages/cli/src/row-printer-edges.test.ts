/**
 * Output edges of the row printer: a stream that fails (a full disk) rejects the writes instead of
 * leaving them waiting for a 'drain' that never comes, and the `table` format escapes the invisible
 * characters that reorder what a terminal shows.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { RowPrinter, cutToWidth, displayWidth, escapeControls, tableText, writeWithBackpressure } from './row-printer.js';
import { outputNameOf, partialName, withWriteStream } from './output-file.js';

/** A stream that takes one chunk and never finishes writing it: every later write waits for 'drain'. */
function stuckStream(): Writable {
  return new Writable({ highWaterMark: 1, write() { /* never calls back */ } });
}

describe('writeWithBackpressure on a stream that failed', () => {
  it('rejects the writes after an error destroyed the stream (/dev/full: ENOSPC), in csv, json and jsonl', async () => {
    for (const format of ['csv', 'json', 'jsonl'] as const) {
      const out = createWriteStream('/dev/full');
      const errors: Error[] = [];
      out.on('error', (e) => errors.push(e));
      await once(out, 'open');
      const printer = new RowPrinter(out, format);
      const write = (async () => {
        // a few rows at a time, with time between (the batches of a table): the first write's error
        // arrives between them and destroys the stream
        for (let i = 0; i < 5; i++) {
          await printer.writeRows(['a', 'b'], [[i, 'x'.repeat(10)]]);
          await sleep(20);
        }
        await printer.end();
      })();
      await expect(write, format).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(out.destroyed).toBe(true);
      expect(errors.map((e) => (e as NodeJS.ErrnoException).code)).toEqual(['ENOSPC']);
    }
  }, 20_000);

  it('rejects a write to a stream that is already destroyed, even an empty one', async () => {
    const out = stuckStream();
    out.destroy();
    await expect(writeWithBackpressure(out, 'x')).rejects.toMatchObject({ code: 'ERR_STREAM_DESTROYED' });
    await expect(writeWithBackpressure(out, '')).rejects.toMatchObject({ code: 'ERR_STREAM_DESTROYED' });
    const failed = stuckStream();
    failed.on('error', () => {});
    failed.destroy(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }));
    await expect(writeWithBackpressure(failed, 'x')).rejects.toMatchObject({ code: 'EIO' });
  });

  it('rejects a write waiting for drain when the stream is destroyed or fails meanwhile', async () => {
    const closed = stuckStream();
    const waiting = writeWithBackpressure(closed, 'a long enough chunk');
    expect(waiting).toBeInstanceOf(Promise);
    closed.destroy();
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_STREAM_DESTROYED' });
    const failing = stuckStream();
    failing.on('error', () => {});
    const waiting2 = writeWithBackpressure(failing, 'a long enough chunk');
    failing.destroy(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    await expect(waiting2).rejects.toMatchObject({ code: 'ENOSPC' });
    // and resolves on 'drain' as before
    const slow = new Writable({ highWaterMark: 1, write(_c, _e, cb) { setTimeout(cb, 5); } });
    await writeWithBackpressure(slow, 'abc');
    expect(slow.writableLength).toBe(0);
  });
});

describe('withWriteStream', () => {
  it('fails with an Io error naming the file on a full device, not a hang', async () => {
    let writes = 0;
    const run = withWriteStream('/dev/full', async (out) => {
      for (let i = 0; i < 5; i++) {
        await writeWithBackpressure(out, `row ${i}\n`);
        writes++;
        await sleep(20);
      }
    });
    await expect(run).rejects.toMatchObject({ kind: 'Io', message: 'cannot write /dev/full: ENOSPC: no space left on device, write', context: { file: '/dev/full' } });
    expect(writes).toBeLessThan(5);
  }, 10_000);

  it('names the file the user gave for its temporary file', () => {
    expect(outputNameOf(partialName('/data/out.csv'))).toBe('/data/out.csv');
    expect(outputNameOf('/data/.out.csv.1.part')).toBe(process.pid === 1 ? '/data/out.csv' : '/data/.out.csv.1.part');
    expect(outputNameOf('/dev/full')).toBe('/dev/full');
  });
});

describe('the table format escapes what could spoof a terminal', () => {
  it('escapes the bidirectional controls and the line and paragraph separators', () => {
    const invisible = ['\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u2028', '\u2029'];
    for (const c of invisible) expect(escapeControls(`a${c}b`)).toBe(`a\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}b`);
    // a file name that shows as "invoice_fdp.exe" reversed: "invoice_\u202eexe.pdf"
    expect(tableText('invoice_\u202eexe.pdf')).toBe('invoice_\\u202eexe.pdf');
    // the controls already escaped stay so; ordinary non-ASCII text stays as it is
    expect(escapeControls('\x1b[2J\u009b\n')).toBe('\\x1b[2J\\u009b\\n');
    expect(escapeControls('héllo 世界 שלום \u200d\u00a0')).toBe('héllo 世界 שלום \u200d\u00a0');
  });

  it('in printed rows and headers, and not in the other formats', async () => {
    const print = async (format: 'table' | 'jsonl' | 'csv') => {
      let text = '';
      const out = new Writable({ write(c, _e, cb) { text += c; cb(); } });
      const p = new RowPrinter(out, format);
      await p.writeRows(['na\u202eme'], [['x\u2028y'], ['\u2066z\u2069']]);
      await p.end();
      return text;
    };
    expect(await print('table')).toBe('na\\u202eme\n─────────────\nx\\u2028y\n\\u2066z\\u2069\n');
    expect(await print('jsonl')).toBe('{"na\u202eme":"x\u2028y"}\n{"na\u202eme":"\u2066z\u2069"}\n');
    expect(await print('csv')).toBe('na\u202eme\nx\u2028y\n\u2066z\u2069\n');
  });
});

describe('the table format measures and cuts by what a terminal shows', () => {
  const nfd = 'cafe\u0301';
  const printed = async (values: string[], maxCellWidth = 40) => {
    let text = '';
    const out = new Writable({ write(chunk, _e, cb) { text += String(chunk); cb(); } });
    const printer = new RowPrinter(out, 'table', maxCellWidth);
    await printer.writeRows(['v', 'n'], values.map((v, i) => [v, i]));
    await printer.end();
    return text.split('\n').filter(Boolean);
  };

  it('aligns NFD accents, CJK and emoji cells with ASCII ones', async () => {
    const lines = await printed([nfd, 'caf\u00e9', '漢字漢字', 'abcdefgh', '😀😀', 'x']);
    // the column of n starts at the same terminal column on every line
    const starts = lines.slice(2).map((l) => displayWidth(l.slice(0, l.lastIndexOf('  ') + 2)));
    expect(new Set(starts)).toEqual(new Set([10]));
    expect(displayWidth(nfd)).toBe(4);
    expect(displayWidth('漢字')).toBe(4);
    expect(displayWidth('😀')).toBe(2);
    expect(displayWidth('👩‍👩‍👧')).toBe(2);
    // text-presentation symbols are one column (as .length counted them), unless U+FE0F asks for the emoji
    expect(displayWidth('™ © ® ↔')).toBe(7);
    expect(displayWidth('\u2764\ufe0f')).toBe(2);
    expect(displayWidth('\u2764')).toBe(1);
  });

  it('cuts a long cell between characters: no half surrogate pair, no accent torn from its letter', async () => {
    const [, , emoji] = await printed(['😀'.repeat(30)], 10);
    expect(emoji).not.toContain('\ufffd');
    expect(emoji!.startsWith('😀😀😀😀…')).toBe(true);
    expect(/[\ud800-\udbff](?![\udc00-\udfff])/.test(emoji!)).toBe(false);
    const [, , accents] = await printed(['e\u0301'.repeat(30)], 10);
    expect(accents!.startsWith('e\u0301'.repeat(9) + '…')).toBe(true);
    expect(cutToWidth('ab漢c', 3)).toBe('ab');
    expect(cutToWidth('abc', 2)).toBe('ab');
  });
});
