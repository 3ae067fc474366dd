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
});
