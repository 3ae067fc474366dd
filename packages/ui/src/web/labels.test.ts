/** Texts of the front end: partitions, how a diff compared them, the command for a whole value. */
import { describe, expect, it } from 'vitest';
import { comparedByText, partitionLabel, wholeValueCommand } from './labels.js';

describe('front end texts', () => {
  it('an unpartitioned table is "(unpartitioned)", as the CLI shows it, not -5', () => {
    expect(partitionLabel('-5')).toBe('(unpartitioned)');
    expect(partitionLabel('date=2024-05-01')).toBe('date=2024-05-01');
    expect(comparedByText({ '-5': 'incremental' })).toBe('(unpartitioned): incremental read');
    expect(comparedByText({ 'd=1': 'reset', 'd=2': 'incremental' })).toBe('d=1: reset (rewritten or dropped in the range: compared whole); d=2: incremental read');
    expect(comparedByText({})).toBe('no partition changed');
  });

  it('the command printing a whole value names the row by an integer key, else leaves the filter to fill in', () => {
    expect(wholeValueCommand('default', 'docs', 'body', [['id', 7]])).toBe("lakesoul-ts scan docs -n default --columns body --filter 'id = 7' --format jsonl");
    expect(wholeValueCommand('default', 'docs', 'body', [['id', '9007199254740993']])).toContain("--filter 'id = 9007199254740993'");
    expect(wholeValueCommand('my ns', "it's", ' b', [['k', "x'; rm -rf /"]])).toBe(`lakesoul-ts scan 'it'\\''s' -n 'my ns' --columns ' b' --filter <a filter selecting this row> --format jsonl`);
    expect(wholeValueCommand('default', 'docs', 'body', [])).toContain('<a filter selecting this row>');
  });

  it('the command reads what the view read: as of its commit (--timestamp, the commit time + 1) and in its partition', () => {
    expect(wholeValueCommand('default', 'notes', 'body', [['id', 1]], { at: 1_796_600_047_272 })).toBe("lakesoul-ts scan notes -n default --timestamp 1796600047273 --columns body --filter 'id = 1' --format jsonl");
    expect(wholeValueCommand('default', 'notes', 'body', [['id', 1]], { at: 5, partition: 'date=2024-05-01,kind=a' })).toBe("lakesoul-ts scan notes -n default --partition date=2024-05-01 --partition kind=a --timestamp 6 --columns body --filter 'id = 1' --format jsonl");
    // a partition that would need quoting is left out; the unpartitioned table names none
    expect(wholeValueCommand('default', 'notes', 'body', [['id', 1]], { partition: "k=a b'c" })).not.toContain('--partition');
    expect(wholeValueCommand('default', 'notes', 'body', [['id', 1]], { at: null, partition: '-5' })).toBe("lakesoul-ts scan notes -n default --columns body --filter 'id = 1' --format jsonl");
    // as the server spells the CLI: with the options that select its lakehouse
    expect(wholeValueCommand('default', 'notes', 'body', [['id', 1]], {}, "pnpm lakesoul-ts --home '/data/my lake'")).toBe("pnpm lakesoul-ts --home '/data/my lake' scan notes -n default --columns body --filter 'id = 1' --format jsonl");
  });
});
