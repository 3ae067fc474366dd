import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { startProgress } from './progress.js';

/** A terminal-like stream that keeps what is drawn (cli-progress draws only on a TTY). */
function terminal(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const w = new Writable({ write(chunk, _enc, cb) { text += String(chunk); cb(); } }) as unknown as NodeJS.WriteStream;
  Object.assign(w, { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  return { stream: w, text: () => text };
}

describe('progress', () => {
  it('shows the share done against a known total, not a full bar from the first frame', () => {
    const t = terminal();
    const p = startProgress({ label: 'scan', unit: 'rows', total: 1000, stream: t.stream });
    p.tick({ rows: 250 });
    p.stop();
    expect(t.text()).toMatch(/scan .*25% \| 250 rows/);
    expect(t.text()).not.toMatch(/100%/);
    // Before anything is done there is no rate to estimate from: '-', never NaN/Infinity.
    expect(t.text()).toMatch(/0% \| 0 rows .*ETA -/);
    expect(t.text()).toMatch(/25% \| 250 rows .*ETA \d+s/);
    expect(t.text()).not.toMatch(/NaN|NF|Inf/);
  });

  it('without a total shows counters and rate, no percentage', () => {
    const t = terminal();
    const p = startProgress({ label: 'import x.csv', unit: 'bytes', stream: t.stream });
    p.tick({ rows: 10, bytes: 2048 });
    p.stop();
    expect(t.text()).toMatch(/import x\.csv \| 10 rows \| 2\.0 KiB/);
    expect(t.text()).not.toMatch(/%/);
  });

  it('is silent when the stream is not a terminal or when quiet', () => {
    let written = '';
    const pipe = new Writable({ write(c, _e, cb) { written += String(c); cb(); } }) as unknown as NodeJS.WriteStream;
    for (const p of [startProgress({ label: 'a', unit: 'rows', total: 5, stream: pipe }), startProgress({ label: 'b', unit: 'rows', total: 5, stream: terminal().stream, quiet: true })]) {
      p.tick({ rows: 5 });
      p.stop();
    }
    expect(written).toBe('');
  });

  it('shows only the counters asked for (a scan or export counts rows, not bytes or files)', () => {
    const t = terminal();
    const p = startProgress({ label: 'export t', unit: 'rows', total: 100, show: ['rows'], stream: t.stream });
    p.tick({ rows: 40 });
    p.stop();
    expect(t.text()).toMatch(/export t .* 40% \| 40 rows \| \d+ rows\/s \| ETA/);
    expect(t.text()).not.toMatch(/ B \||files/);
  });
});
