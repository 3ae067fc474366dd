/**
 * A Parquet export whose read failed partway (a data file gone, an S3 error) wrote a valid file of
 * the rows read so far and exited 0 saying it had exported them: parquet-wasm's stream ends the file
 * when its source errors. CSV failed rightly. Found by a hunt of export and import round trips.
 */
import { closeSync, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { expect, it } from 'vitest';
import { cliInProcess as cli, inTempDirNoServer } from './test-support/run-in-process.js';

it('a read failing partway fails a Parquet export, to a file (kept as it was, also through a symbolic link) and to stdout', async () => {
  await inTempDirNoServer('lakesoul-cli-parquet-export-', async (dir) => {
    writeFileSync(join(dir, 'a.csv'), 'id,s\n1,a\n2,b\n');
    writeFileSync(join(dir, 'b.csv'), 'id,s\n3,c\n4,d\n');
    expect((await cli(dir, ['table', 'create', 't', '--schema', 'id:int64!,s:utf8'])).code).toBe(0);
    expect((await cli(dir, ['import', 't', 'a.csv'])).code).toBe(0);
    expect((await cli(dir, ['import', 't', 'b.csv'])).code).toBe(0);
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.parquet'));
    const newest = files.sort((x, y) => statSync(join(dir, y)).mtimeMs - statSync(join(dir, x)).mtimeMs)[0]!;
    renameSync(join(dir, newest), join(dir, 'gone.bin'));
    // a directory, with or without an extension, is named as one (without, it was refused as a
    // format the extension does not tell)
    mkdirSync(join(dir, 'somedir'));
    const toDir = await cli(dir, ['export', 't', 'somedir']);
    expect(toDir.code).toBe(4);
    expect(toDir.err).toContain('somedir is a directory: give the file to write');
    writeFileSync(join(dir, 'out.parquet'), 'OLD');
    for (const args of [['export', 't', 'out.parquet'], ['export', 't', '-', '--format', 'parquet'], ['export', 't', 'out.csv']]) {
      const r = await cli(dir, args);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(3);
      expect(r.err).toMatch(/no longer exists/);
      expect(r.out + r.err).not.toMatch(/exported \d+ rows?/);
    }
    expect(readFileSync(join(dir, 'out.parquet'), 'utf8')).toBe('OLD');
    expect(readdirSync(dir).filter((f) => f.includes('out.'))).toEqual(['out.parquet']);

    // through a symbolic link: its target is replaced once complete, never written in place (a failed
    // export destroyed the earlier file it pointed to), and the link stays
    mkdirSync(join(dir, 'keep'));
    writeFileSync(join(dir, 'keep', 'target.csv'), 'OLD TARGET');
    symlinkSync(join('keep', 'target.csv'), join(dir, 'link.csv'));
    symlinkSync(join('keep', 'new.csv'), join(dir, 'dangling.csv'));
    expect((await cli(dir, ['export', 't', 'link.csv'])).code).toBe(3);
    expect(readFileSync(join(dir, 'keep', 'target.csv'), 'utf8')).toBe('OLD TARGET');
    expect(readdirSync(join(dir, 'keep'))).toEqual(['target.csv']);
    renameSync(join(dir, 'gone.bin'), join(dir, newest));
    for (const link of ['link.csv', 'dangling.csv']) {
      const r = await cli(dir, ['export', 't', link]);
      expect(r.code, r.err).toBe(0);
      expect(lstatSync(join(dir, link)).isSymbolicLink()).toBe(true);
    }
    expect(readFileSync(join(dir, 'keep', 'target.csv'), 'utf8').split('\n').sort()).toEqual(['', '1,a', '2,b', '3,c', '4,d', 'id,s']);
    expect(readFileSync(join(dir, 'keep', 'new.csv'), 'utf8')).toBe(readFileSync(join(dir, 'keep', 'target.csv'), 'utf8'));
    expect(readdirSync(join(dir, 'keep')).sort()).toEqual(['new.csv', 'target.csv']);

    // a relative link reached through a linked directory names what the kernel resolves (the file
    // beside the link's real directory), never a file beside the path as written
    mkdirSync(join(dir, 'real'));
    mkdirSync(join(dir, 'x'));
    writeFileSync(join(dir, 'x', 'target.csv'), 'UNRELATED');
    symlinkSync(join(dir, 'real'), join(dir, 'x', 'dirlink'));
    symlinkSync(join('..', 'keep', 'target.csv'), join(dir, 'real', 'out.csv'));
    expect((await cli(dir, ['export', 't', join('x', 'dirlink', 'out.csv')])).code).toBe(0);
    expect(readFileSync(join(dir, 'x', 'target.csv'), 'utf8')).toBe('UNRELATED');
    expect(readFileSync(join(dir, 'keep', 'target.csv'), 'utf8')).toBe(readFileSync(join(dir, 'keep', 'new.csv'), 'utf8'));
    expect(lstatSync(join(dir, 'real', 'out.csv')).isSymbolicLink()).toBe(true);

    // '..' after a linked directory in a link's target leaves where that directory really is
    mkdirSync(join(dir, 'D'));
    mkdirSync(join(dir, 'other', 'deep'), { recursive: true });
    writeFileSync(join(dir, 'D', 'victim.csv'), 'VICTIM');
    writeFileSync(join(dir, 'other', 'victim.csv'), 'OTHER');
    symlinkSync(join(dir, 'other', 'deep'), join(dir, 'D', 'lnk'));
    symlinkSync('lnk/../victim.csv', join(dir, 'D', 'out.csv'));
    expect((await cli(dir, ['export', 't', join('D', 'out.csv')])).code).toBe(0);
    expect(readFileSync(join(dir, 'D', 'victim.csv'), 'utf8')).toBe('VICTIM');
    expect(readFileSync(join(dir, 'other', 'victim.csv'), 'utf8')).toBe(readFileSync(join(dir, 'keep', 'new.csv'), 'utf8'));
  });
});

// /dev/fd/N and /proc/self/fd/N are descriptors the shell opened: written through (opened anew, as
// `tee /dev/fd/3` does), never replaced by another file renamed over the one they point to, which the
// descriptor no longer reaches. Run where /proc exists (Linux, as CI): macOS has /dev/fd but no /proc
it.runIf(existsSync('/proc/self/fd'))('export to /dev/fd/N or /proc/self/fd/N writes through the descriptor', async () => {
  await inTempDirNoServer('lakesoul-cli-export-fd-', async (dir) => {
    writeFileSync(join(dir, 'rows.csv'), 'id\n1\n');
    expect((await cli(dir, ['table', 'create', 't', '--schema', 'id:int64!'])).code).toBe(0);
    expect((await cli(dir, ['import', 't', 'rows.csv'])).code).toBe(0);
    for (const via of ['/dev/fd', '/proc/self/fd']) {
      const log = join(dir, `log-${basename(via)}.csv`);
      writeFileSync(log, 'EARLIER LINE\n');
      const inode = statSync(log).ino;
      const fd = openSync(log, 'a');
      try {
        const r = await cli(dir, ['export', 't', `${via}/${fd}`, '--format', 'csv']);
        expect(r.code, r.err).toBe(0);
        expect(fstatSync(fd).nlink, 'the file the descriptor reaches is still the one at its path').toBe(1);
      } finally {
        closeSync(fd);
      }
      expect(statSync(log).ino).toBe(inode);
      expect(readFileSync(log, 'utf8')).toBe('id\n1\n');
    }
  });
});
