import { describe, expect, it } from 'vitest';
import { Metadata, status } from '@grpc/grpc-js';
import { Field, Int64, Schema } from 'apache-arrow';
import { Catalog, LakeSoulError, mapConnectError, type LakeSoulErrorKind } from '@lakesoul-ts/meta';
import { testFile } from '@lakesoul-ts/meta/testing';
import { fromGrpcError, toGrpcStatus } from './grpc-status.js';

/** The error of a commit an embedded catalog refuses with SQLSTATE 42501 (raised by a trigger). */
async function refusedCommit(): Promise<LakeSoulError> {
  // in memory: the default (./.lakesoul/catalog under the working directory) kept table t for the next run
  const catalog = await Catalog.open({ dataDir: ':memory:' });
  try {
    const t = await catalog.createTable({ name: 't', path: 'file:///tmp/grpc-status-refused/t', schema: new Schema([new Field('id', new Int64(), true)]) });
    await catalog.driver.query(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'permission denied for table partition_info' USING ERRCODE = 'insufficient_privilege'; END $$`);
    await catalog.driver.query('CREATE TRIGGER refuse BEFORE INSERT ON partition_info FOR EACH ROW EXECUTE FUNCTION refuse()');
    const e = await catalog.commit({ tableId: t.tableId, op: 'AppendCommit', partitions: [{ partitionDesc: '-5', files: [testFile(t, '-5', 'a')] }] }).then(() => null, (x: unknown) => x);
    if (!LakeSoulError.is(e, 'PermissionDenied')) throw new Error(`expected a PermissionDenied, got ${String(e)}`);
    return e;
  } finally {
    await catalog.close();
  }
}

describe('gRPC status mapping', () => {
  const cases: [LakeSoulErrorKind, status][] = [
    ['NotFound', status.NOT_FOUND], ['InvalidArgument', status.INVALID_ARGUMENT], ['SchemaMismatch', status.INVALID_ARGUMENT],
    ['Conflict', status.ABORTED], ['AlreadyExists', status.ALREADY_EXISTS], ['PermissionDenied', status.PERMISSION_DENIED],
    ['Unauthenticated', status.UNAUTHENTICATED], ['Io', status.INTERNAL], ['Internal', status.INTERNAL],
  ];
  for (const [kind, code] of cases) {
    it(`${kind} -> ${status[code]}, table named`, () => {
      const s = toGrpcStatus(new LakeSoulError(kind, 'boom', { context: { table: 'imgs', namespace: 'ml' } }));
      expect(s.code).toBe(code);
      expect(s.details).toBe('table ml.imgs: boom');
    });
  }

  it('a retryable storage or catalog failure is UNAVAILABLE (clients retry it), a final one INTERNAL', () => {
    expect(toGrpcStatus(new LakeSoulError('Io', 'put s3://b/k failed: read ECONNRESET', { retryable: true })).code).toBe(status.UNAVAILABLE);
    expect(toGrpcStatus(new LakeSoulError('Catalog', 'catalog database unavailable', { code: 'CATALOG_UNAVAILABLE', retryable: true })).code).toBe(status.UNAVAILABLE);
    expect(toGrpcStatus(new LakeSoulError('Catalog', 'commit outcome unknown', { code: 'COMMIT_OUTCOME_UNKNOWN', retryable: false })).code).toBe(status.INTERNAL);
    // the catalog database out of a resource is not a server bug either
    for (const code of ['CATALOG_DISK_FULL', 'CATALOG_OUT_OF_MEMORY', 'CATALOG_RESOURCE_EXHAUSTED']) {
      expect(toGrpcStatus(new LakeSoulError('Catalog', 'catalog database disk full', { code })).code, code).toBe(status.RESOURCE_EXHAUSTED);
    }
    const back = fromGrpcError(Object.assign(new Error('x'), { code: status.UNAVAILABLE, details: 'put failed', metadata: toGrpcStatus(new LakeSoulError('Io', 'put failed', { retryable: true })).metadata as Metadata }), 'DoPut');
    expect([back.kind, back.retryable]).toEqual(['Io', true]);
  });

  it("the catalog refusing the server's own login or privileges reaches the client as INTERNAL with a generic message, never the database's address and role", async () => {
    const url = 'postgres://lakesoul:***@10.0.0.5:5432/lakesoul_prod';
    for (const [sqlstate, said] of [['28P01', 'password authentication failed for user "lakesoul"'], ['28000', 'role "lakesoul" is not permitted to log in'], ['42501', 'permission denied for table table_info']] as const) {
      const e = mapConnectError(Object.assign(new Error(said), { code: sqlstate }), url);
      const logged: string[] = [];
      const s = toGrpcStatus(e, (m) => logged.push(m));
      expect(s.code, sqlstate).toBe(status.INTERNAL);
      expect(s.details).toMatch(/^the catalog database refused this server's (login|access) \(a server configuration fault, not your credentials\)/);
      expect(s.details).not.toMatch(/10\.0\.0\.5|lakesoul_prod|lakesoul"/);
      expect((s.metadata as Metadata).get('x-lakesoul-error-kind')).toEqual(['Catalog']);
      expect(logged.join('\n')).toContain('10.0.0.5:5432');
    }
    // a commit the catalog refused for want of a privilege (its message prefixed by the commit)
    const refused = await refusedCommit();
    expect(refused.message).toMatch(/^commit AppendCommit to table 'default\.t' failed, nothing was committed: catalog permission denied: /);
    const s = toGrpcStatus(refused);
    expect(s.code).toBe(status.INTERNAL);
    expect(s.details).toMatch(/the catalog database refused this server's access \(a server configuration fault, not your credentials\)/);
    // the client's own wrong credentials stay UNAUTHENTICATED, as they were
    expect(toGrpcStatus(new LakeSoulError('Unauthenticated', 'invalid bearer token')).code).toBe(status.UNAUTHENTICATED);
  });

  it('does not repeat a table already named, and maps foreign errors to INTERNAL', () => {
    expect(toGrpcStatus(new LakeSoulError('NotFound', "table 'imgs' not found", { context: { table: 'imgs' } })).details).toBe("table 'imgs' not found");
    expect(toGrpcStatus(new TypeError('x is undefined'))).toMatchObject({ code: status.INTERNAL, details: 'internal error: x is undefined' });
  });

  it('turns a client-side ServiceError back into the same LakeSoulError kind', () => {
    const s = toGrpcStatus(new LakeSoulError('Conflict', 'commit conflict', { context: { table: 'images' } }));
    const err = Object.assign(new Error('x'), { code: s.code, details: s.details, metadata: s.metadata as Metadata });
    const e = fromGrpcError(err, 'DoPut');
    expect(e.kind).toBe('Conflict');
    expect(e.retryable).toBe(true);
    expect(e.message).toContain('table images: commit conflict');
    const bare = fromGrpcError(Object.assign(new Error('y'), { code: status.UNAUTHENTICATED, details: 'no', metadata: new Metadata() }), 'GetFlightInfo');
    expect(bare.kind).toBe('Unauthenticated');
  });
});
