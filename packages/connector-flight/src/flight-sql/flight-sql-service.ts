/**
 * Arrow Flight SQL on the Flight server (docs/flight.md "Flight SQL"): the metadata commands, SQL
 * statements of the subset in sql-statement.ts, and prepared statements, so that ADBC and JDBC
 * clients connect. Everything is stateless across calls and replicas:
 *
 * - a metadata command's ticket is the command itself (it is re-run against the catalog by DoGet);
 * - a statement is planned by GetFlightInfo into the same signed split tickets as a plain Flight read
 *   (one endpoint per split);
 * - a prepared-statement handle is the statement's text, so any replica can execute or close it, and
 *   closing frees nothing.
 *
 * Auth is the server's: every RPC that reaches this module has been authenticated.
 */
import type { RecordBatch, Schema } from 'apache-arrow';
import { LakeSoulError } from '@lakesoul-ts/meta';
import type { Lakehouse } from '@lakesoul-ts/io';
import type { ActionTypeMessage, FlightDescriptorMessage, FlightInfoMessage } from '../flight-proto.js';
import type { FlightReadCommand } from '../flight-command.js';
import { schemaToIpcMessage } from '../ipc-framing.js';
import { quote } from '../flight-limits.js';
import {
  METADATA_COMMANDS, SUPPORTED_COMMANDS, decodeClosePreparedStatement, decodeCommand, decodeCreatePreparedStatement,
  encodeCreatePreparedStatementResult, encodeMetadataCommand, unpackAny, type FlightSqlCommand,
} from './flight-sql-messages.js';
import { metadataBatch, metadataSchema } from './flight-sql-metadata.js';
import { parseSqlSelect, sqlReadError, SUPPORTED_SQL, type SqlSelect } from './sql-statement.js';

/** The Flight SQL actions served by DoAction (their bodies and results are Any-wrapped protobuf). */
export const FLIGHT_SQL_ACTIONS: readonly ActionTypeMessage[] = [
  {
    type: 'CreatePreparedStatement',
    description: `Flight SQL: prepare a statement (${SUPPORTED_SQL}). Body: Any(ActionCreatePreparedStatementRequest). Result: Any(ActionCreatePreparedStatementResult) with the dataset schema; the handle is stateless and valid on every replica.`,
  },
  { type: 'ClosePreparedStatement', description: 'Flight SQL: close a prepared statement. Body: Any(ActionClosePreparedStatementRequest). Handles hold no server state.' },
];

/** Marks a prepared-statement handle of this server: `LSQ1` then the statement as UTF-8. */
const HANDLE_MAGIC = Buffer.from('LSQ1', 'ascii');

/** What the Flight SQL layer needs from the Flight server it runs in. */
export interface FlightSqlHost {
  /** The lakehouse whose catalog answers the metadata commands. */
  lakehouse: Lakehouse;
  /** Location URI put on endpoints (none = "this service"). */
  location?: string;
  /**
   * The FlightInfo of a read: one endpoint per split, or with a limit one endpoint reading the splits
   * in order until `limit` rows (a limit needs a single reader).
   */
  readInfo(read: FlightReadCommand, limit: number | undefined, descriptor: FlightDescriptorMessage, signal: AbortSignal): Promise<FlightInfoMessage>;
  /** The schema a read returns. */
  readSchema(read: FlightReadCommand, signal: AbortSignal): Promise<Schema>;
}

/** A metadata result to stream from DoGet. */
export interface FlightSqlResult {
  schema: Schema;
  batches: AsyncIterable<RecordBatch>;
}

function unsupportedCommand(name: string): LakeSoulError {
  return new LakeSoulError('Unsupported', `Flight SQL command ${name} is not offered by the lakesoul-ts Flight server: it answers ${SUPPORTED_COMMANDS.join(', ')} (read-only; write through plain Flight DoPut)`, {
    code: 'FLIGHT_SQL_UNSUPPORTED_COMMAND',
  });
}

function refuseTransaction(transactionId: Buffer | undefined): void {
  if (transactionId !== undefined) {
    throw new LakeSoulError('Unsupported', 'Flight SQL transactions are not offered (statements here are reads of a snapshot); leave transaction_id unset', { code: 'FLIGHT_SQL_UNSUPPORTED_COMMAND' });
  }
}

function isMetadata(cmd: FlightSqlCommand): boolean {
  return (METADATA_COMMANDS as readonly string[]).includes(cmd.kind);
}

/** Decodes a prepared-statement handle of this server back into its statement. */
export function statementOfHandle(handle: Buffer): string {
  if (handle.byteLength < HANDLE_MAGIC.byteLength || !handle.subarray(0, HANDLE_MAGIC.byteLength).equals(HANDLE_MAGIC)) {
    throw new LakeSoulError('InvalidArgument', 'unknown prepared statement handle: create it with the CreatePreparedStatement action of this service', { code: 'FLIGHT_SQL_BAD_HANDLE' });
  }
  return handle.subarray(HANDLE_MAGIC.byteLength).toString('utf8');
}

/** The Flight SQL layer of a Flight server; see the module comment. */
export class FlightSqlService {
  constructor(private readonly host: FlightSqlHost) {}

  /** The Flight SQL command a descriptor carries, or undefined for a plain Flight descriptor. */
  static command(descriptor: FlightDescriptorMessage | null | undefined): FlightSqlCommand | undefined {
    return descriptor ? decodeCommand(descriptor.cmd) : undefined;
  }

  /** True when DoPut's descriptor is a Flight SQL command (writes through Flight SQL are refused). */
  static isCommandBytes(bytes: Uint8Array | null | undefined): boolean {
    return unpackAny(bytes) !== undefined;
  }

  private statement(cmd: FlightSqlCommand): SqlSelect {
    if (cmd.kind === 'CommandStatementQuery') {
      refuseTransaction(cmd.transactionId);
      return parseSqlSelect(cmd.query);
    }
    if (cmd.kind === 'CommandPreparedStatementQuery') return parseSqlSelect(statementOfHandle(cmd.handle));
    throw unsupportedCommand(cmd.kind === 'other' ? cmd.name : cmd.kind);
  }

  /** GetFlightInfo of a Flight SQL command. */
  async getFlightInfo(cmd: FlightSqlCommand, descriptor: FlightDescriptorMessage, signal: AbortSignal): Promise<FlightInfoMessage> {
    if (isMetadata(cmd)) {
      return {
        schema: Buffer.from(schemaToIpcMessage(metadataSchema(cmd))),
        flight_descriptor: descriptor,
        endpoint: [{
          ticket: { ticket: encodeMetadataCommand(cmd) },
          location: this.host.location ? [{ uri: this.host.location }] : [],
          expiration_time: null,
          app_metadata: Buffer.alloc(0),
        }],
        total_records: '-1',
        total_bytes: '-1',
        ordered: false,
        app_metadata: Buffer.alloc(0),
      };
    }
    const { read, limit } = this.statement(cmd);
    return this.sqlRead(read, () => this.host.readInfo(read, limit, descriptor, signal));
  }

  /** Runs a statement's read, its errors said in SQL terms ({@link sqlReadError}). */
  private async sqlRead<T>(read: FlightReadCommand, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      if (!LakeSoulError.hasCode(e, 'VERSION_NEEDS_PARTITION')) throw e;
      const columns = await this.host.lakehouse.table(read.table, read.namespace).then((t) => t.info.rangePartitions, () => []);
      throw sqlReadError(e, read, columns);
    }
  }

  /** GetSchema of a Flight SQL command: the encapsulated IPC schema message. */
  async getSchema(cmd: FlightSqlCommand, signal: AbortSignal): Promise<Buffer> {
    if (isMetadata(cmd)) return Buffer.from(schemaToIpcMessage(metadataSchema(cmd)));
    const { read } = this.statement(cmd);
    return Buffer.from(schemaToIpcMessage(await this.sqlRead(read, () => this.host.readSchema(read, signal))));
  }

  /** The result of a metadata ticket, or undefined when `ticket` is not one (a signed split ticket). */
  metadataTicket(ticket: Buffer, signal: AbortSignal): FlightSqlResult | undefined {
    const cmd = decodeCommand(ticket);
    if (!cmd) return undefined;
    if (!isMetadata(cmd)) throw new LakeSoulError('InvalidArgument', `a Flight SQL ${cmd.kind === 'other' ? cmd.name : cmd.kind} is no ticket: redeem the tickets of the endpoints GetFlightInfo returned`);
    const lakehouse = this.host.lakehouse;
    return {
      schema: metadataSchema(cmd),
      batches: (async function* () {
        yield await metadataBatch(cmd, lakehouse, signal);
      })(),
    };
  }

  /** Answers a Flight SQL action; undefined when `type` is not one. */
  async doAction(type: string, body: Buffer, signal: AbortSignal): Promise<Buffer[] | undefined> {
    switch (type) {
      case 'CreatePreparedStatement': {
        const req = decodeCreatePreparedStatement(body);
        refuseTransaction(req.transactionId);
        const { read } = parseSqlSelect(req.query);
        const schema = await this.sqlRead(read, () => this.host.readSchema(read, signal));
        const handle = Buffer.concat([HANDLE_MAGIC, Buffer.from(req.query, 'utf8')]);
        // No parameters: an empty parameter schema tells clients there is nothing to bind.
        return [encodeCreatePreparedStatementResult(handle, schemaToIpcMessage(schema), Buffer.alloc(0))];
      }
      case 'ClosePreparedStatement': {
        statementOfHandle(decodeClosePreparedStatement(body));
        return [];
      }
      case 'CancelQuery':
      case 'CancelFlightInfo':
      case 'BeginTransaction':
      case 'EndTransaction':
      case 'BeginSavepoint':
      case 'EndSavepoint':
      case 'CreatePreparedSubstraitPlan':
        throw new LakeSoulError('Unsupported', `Flight SQL action ${quote(type)} is not offered: the Flight SQL actions here are ${FLIGHT_SQL_ACTIONS.map((a) => a.type).join(', ')}`, { code: 'FLIGHT_SQL_UNSUPPORTED_COMMAND' });
      default:
        return undefined;
    }
  }
}
