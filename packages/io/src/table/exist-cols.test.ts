import { describe, expect, it } from 'vitest';
import { Field, Int32, Int64, List, Map_, Struct, Utf8 } from 'apache-arrow';
import { existingColumns, fileColumnListing } from './exist-cols.js';

const fields: Field[] = [
  new Field('id', new Int64(), false),
  new Field('lst', new List(new Field('item', new Int32(), true)), true),
  new Field('st', new Struct([new Field('a', new Int32(), true), new Field('b', new Utf8(), true)]), true),
  new Field('mp', new Map_<Utf8, Int32>(new Field('entries', new Struct<{ key: Utf8; value: Int32 }>([new Field('key', new Utf8(), false), new Field('value', new Int32(), true)]), false)), true),
  new Field('added', new Utf8(), true),
];

describe('existingColumns', () => {
  it('returns a list of column names as it is (dropped columns included)', () => {
    expect(existingColumns(['id', 'lst', 'st'], fields)).toEqual(['id', 'lst', 'st']);
    expect(existingColumns(['id', 'gone'], fields)).toEqual(['id', 'gone']);
  });

  it("takes nested columns listed by their leaf fields' names (LakeSoul's Rust writer) as present", () => {
    expect(existingColumns(['id', 'item', 'a', 'b', 'key', 'value'], fields)).toEqual(['id', 'lst', 'st', 'mp']);
    // a file written before 'added' and 'mp' existed, with a column dropped since
    expect(existingColumns(['id', 'item', 'a', 'b', 'gone'], fields)).toEqual(['id', 'lst', 'st', 'gone']);
  });

  it('gives a leaf named like another column to the right one, by the order of the columns', () => {
    const item = [new Field('id', new Int64(), false), new Field('item', new Int32(), true), new Field('lst', new List(new Field('item', new Int32(), true)), true)];
    expect(existingColumns(['id', 'item', 'item'], item)).toEqual(['id', 'item', 'lst']);
    expect(existingColumns(['id', 'item'], item), 'a file before lst was added').toEqual(['id', 'item']);
    const kv = [new Field('id', new Int64(), false), fields[3], new Field('key', new Utf8(), true), new Field('value', new Int32(), true)];
    expect(existingColumns(['id', 'key', 'value', 'key', 'value'], kv)).toEqual(['id', 'mp', 'key', 'value']);
    // a struct<a> the wheel wrote, then a column `a` added to the table: the file has st, not a
    const evolved = [new Field('id', new Int64(), false), new Field('st', new Struct([new Field('a', new Int32(), true)]), true), new Field('a', new Int32(), true)];
    expect(existingColumns(['id', 'a'], evolved)).toEqual(['id', 'st']);
  });

  it('does not take a nested column whose leaves are not all there', () => {
    expect(existingColumns(['id', 'a', 'gone'], fields)).toEqual(['id', 'a', 'gone']);
  });

  it('fileColumnListing lists a partial file so that it reads back as written, or says it cannot', () => {
    const leaves = [new Field('id', new Int64(), false), new Field('s', new Struct([new Field('x', new Int32(), true), new Field('y', new Utf8(), true)]), true), new Field('x', new Int32(), true), new Field('y', new Utf8(), true)];
    // as they are, [id, x, y] read as [id, s]: reversed, x and y no longer form s's run
    expect(existingColumns(['id', 'x', 'y'], leaves)).toEqual(['id', 's']);
    const listing = fileColumnListing(['id', 'x', 'y'], leaves)!;
    expect(listing).toEqual(['y', 'x', 'id']);
    expect(existingColumns(listing, leaves).sort()).toEqual(['id', 'x', 'y']);
    // a list's single leaf `item` beside a column `item`: no order tells them apart
    const item = [new Field('id', new Int64(), false), new Field('tags', new List(new Field('item', new Utf8(), true)), true), new Field('item', new Utf8(), true)];
    expect(fileColumnListing(['id', 'item'], item)).toBeUndefined();
    // files that name their nested columns, or leave out none, are listed as they are
    expect(fileColumnListing(['id', 'tags', 'item'], item)).toEqual(['id', 'tags', 'item']);
    expect(fileColumnListing(['id', 'tags'], item)).toEqual(['id', 'tags']);
    expect(fileColumnListing(['id', 'st', 'added'], fields)).toEqual(['id', 'st', 'added']);
  });
});
