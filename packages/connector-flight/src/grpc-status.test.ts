import { describe, expect, it } from 'vitest';
import { Metadata, status } from '@grpc/grpc-js';
import { LakeSoulError, mapConnectError, type LakeSoulErrorKind } from '@lakesoul-ts/meta';
import { fromGrpcError, toGrpcStatus } from './grpc-status.js';

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

  it("the catalog refusing the server's own login or privileges reaches the client as INTERNAL with a generic message, never the database's address and role", () => {
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
