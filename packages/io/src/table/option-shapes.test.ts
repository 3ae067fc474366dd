/**
 * createTable's and scan's list and object options given in another shape (a hunt of options that
 * ignore mistakes): `properties: 'a=b'` was stored as `{"0":"a","1":"=","2":"b"}`, `primaryKeys: 'id'`
 * was taken as the columns `i` and `d`, `rangePartitions: 'd'` and `blobs: true` failed with
 * TypeErrors, and a misspelled `blobs.onMissing` value was dropped.
 */
import { describe, expect, it } from 'vitest';
import { Field, Int64, Schema, Utf8 } from 'apache-arrow';
import { useTempLakehouse } from './temp-lakehouse-fixture.js';

describe('option shapes', () => {
  const fixture = useTempLakehouse('lakesoul-create-shapes-');
  const schema = new Schema([new Field('id', new Int64(), false), new Field('d', new Utf8(), false)]);

  it('refuses a string for a list of columns and anything but an object for properties, creating nothing', async () => {
    for (const [options, message] of [
      [{ primaryKeys: 'id' }, /create table 'default\.t': primaryKeys must be an array of column names, got a string: give \['id'\]/],
      [{ rangePartitions: 'd' }, /rangePartitions must be an array of column names, got a string: give \['d'\]/],
      [{ blobColumns: 'd' }, /blobColumns must be an array/],
      [{ primaryKeys: [1] }, /primaryKeys must be an array of column names, got \[1\]/],
      [{ properties: 'a=b' }, /properties must be an object of names to values, got "a=b"/],
      [{ properties: ['x', 'y'] }, /properties must be an object of names to values, got \["x","y"\]/],
    ] as const) {
      await expect(fixture.lh.createTable('t', schema, options as never), JSON.stringify(options)).rejects.toMatchObject({ code: 'INVALID_OPTION_VALUE', message: expect.stringMatching(message) });
      await expect(fixture.lh.openOrCreate('t', [{ id: 1, d: 'x' }], options as never)).rejects.toMatchObject({ code: 'INVALID_OPTION_VALUE' });
    }
    expect(await fixture.lh.listTables()).toEqual([]);
    const t = await fixture.lh.createTable('t', schema, { primaryKeys: ['id'], rangePartitions: ['d'], properties: { a: 'b' } });
    expect([t.info.primaryKeys, t.info.rangePartitions, t.info.properties.a]).toEqual([['id'], ['d'], 'b']);
  });

  it("refuses scan blobs options in another shape, or with a misspelled key or onMissing value", async () => {
    const t = await fixture.lh.createTable('refs', new Schema([new Field('id', new Int64(), false), new Field('img', new Utf8(), true)]));
    for (const [blobs, message] of [
      [true, /blobs: give the blob columns as an array, or \{ columns, allowedRoots, onMissing, \.\.\. \}; got true/],
      [{ columnz: ['img'] }, /blobs: unknown option 'columnz' \(did you mean 'columns'\?\)/],
      [{ columns: 'img' }, /blobs: columns must be an array of strings, got "img"/],
      [{ columns: ['img'], allowedRoots: 'file:///tmp' }, /blobs: allowedRoots must be an array of strings, got "file:\/\/\/tmp"/],
      [{ columns: ['img'], onMissing: 'Null' }, /blobs: onMissing must be 'error' or 'null', got "Null"/],
    ] as const) {
      await expect(t.toArrow({ blobs: blobs as never }), JSON.stringify(blobs)).rejects.toMatchObject({ code: expect.stringMatching(/^(INVALID_OPTION_VALUE|UNKNOWN_OPTION)$/), message: expect.stringMatching(new RegExp(`scan of table 'default\\.refs' ${message.source}`)) });
    }
    expect((await t.toArrow({ blobs: { columns: ['img'], onMissing: 'null' } })).schema.fields.map((f) => f.name)).toEqual(['id', 'img', 'img__bytes']);
  });
});
