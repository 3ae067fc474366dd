// Public API of @lakesoul-ts/connector-flight: an Arrow Flight server over a lakehouse, a small
// Flight client, and the protocol pieces (framing, tickets) they are built from.
export {
  createFlightServer, FlightServer, FLIGHT_ACTIONS, DEFAULT_MAX_CONCURRENT_STREAMS, DEFAULT_MEMORY_BUDGET_BYTES, DEFAULT_PUT_BUFFER_BYTES,
  DEFAULT_PUT_IDLE_MS, DEFAULT_GET_IDLE_MS, PUT_FIRST_RESERVATION_BYTES, MIN_PUT_BUFFER_BYTES, PUT_BUDGET_SHARE, MAX_CONCURRENT_HANDSHAKES, MAX_HANDSHAKE_PAYLOAD_BYTES, HANDSHAKE_TIMEOUT_MS,
  MAX_HANDSHAKES_PER_HOST, UNAUTHENTICATED_HANDSHAKE_TIMEOUT_MS, MAX_CONCURRENT_AUTHENTICATED_HANDSHAKES, MAX_REQUEST_MESSAGE_BYTES,
  DEFAULT_MAX_CONNECTIONS_PER_HOST, DEFAULT_MAX_CONNECTIONS, DEFAULT_CONNECTION_IDLE_MS,
} from './flight-server.js';
export { ByteBudget } from './byte-budget.js';
export type { BudgetReservation, ReserveOptions } from './byte-budget.js';
export type { CreateFlightServerOptions, FlightServerStats } from './flight-server.js';
export { FlightClient, toDescriptor } from './flight-client.js';
export { INCREMENTAL_END_METADATA_KEY, RESET_PARTITIONS_METADATA_KEY, withResetPartitions } from './reset-partitions.js';
export { FlightTransactions, DEFAULT_TRANSACTION_TTL_MS, DEFAULT_MAX_OPEN_TRANSACTIONS, DEFAULT_MAX_OPEN_TRANSACTIONS_PER_CALLER } from './flight-transactions.js';
export type { FlightTransactionsOptions, BegunTransaction, TransactionMode } from './flight-transactions.js';
export * from './flight-limits.js';
export { MAX_STATUS_DETAILS_CHARS } from './grpc-status.js';
export type {
  ConnectOptions, CallOptions, DoGetOptions, FlightDescriptorInput, FlightEndpoint, FlightInfo, FlightPutResult, ReadAllOptions,
} from './flight-client.js';
export { HmacTicketSigner } from './hmac-ticket-signer.js';
export type { TicketSignerOptions, VerifiedTicket } from './hmac-ticket-signer.js';
export { AUTH_OFF_TOKEN, BearerAuth } from './bearer-auth.js';
export { MIN_UNGUESSABLE_TOKEN_CHARS } from '@lakesoul-ts/meta';
export { limitReceivedMessages, type OversizedMessage } from './grpc-receive-limit.js';
export type { BearerAuthOptions, Principal } from './bearer-auth.js';
export { toGrpcStatus, fromGrpcError } from './grpc-status.js';
export { parseReadCommand, parseWriteCommand, parseBeginCommand, scanOptionsOf, DEFAULT_NAMESPACE, READ_COMMAND_KEYS, WRITE_COMMAND_KEYS, BEGIN_COMMAND_KEYS } from './flight-command.js';
export type { FlightReadCommand, FlightWriteCommand, FlightBeginCommand } from './flight-command.js';
export { parseCreateTableRequest, parseTypeName } from './create-table-request.js';
export type { CreateTableRequest } from './create-table-request.js';
export {
  DEFAULT_MAX_MESSAGE_BYTES, batchToFlightData, decodeFlightData, recordBatchesToFlightData, schemaFromIpcMessage,
  schemaToFlightData, schemaToIpcMessage,
} from './ipc-framing.js';
export type { DecodedFlightStream, EncodeOptions } from './ipc-framing.js';
export { FLIGHT_PROTO_PATH, FLIGHT_SERVICE_NAME, loadFlightProtocol } from './flight-proto.js';
export type {
  ActionTypeMessage, DescriptorTypeName, FlightDataMessage, FlightDescriptorMessage, FlightEndpointMessage, FlightInfoMessage, LoadedFlight,
  LocationMessage, ProtoTimestamp, TicketMessage,
} from './flight-proto.js';
export { FlightSqlService, FLIGHT_SQL_ACTIONS, statementOfHandle } from './flight-sql/flight-sql-service.js';
export type { FlightSqlHost, FlightSqlResult } from './flight-sql/flight-sql-service.js';
export { parseSqlSelect, SUPPORTED_SQL, FLIGHT_SQL_CATALOG } from './flight-sql/sql-statement.js';
export type { SqlSelect } from './flight-sql/sql-statement.js';
export { FLIGHT_SQL_TYPE_PREFIX, SUPPORTED_COMMANDS as FLIGHT_SQL_COMMANDS, decodeCommand as decodeFlightSqlCommand, packAny as packFlightSqlAny } from './flight-sql/flight-sql-messages.js';
export type { FlightSqlCommand } from './flight-sql/flight-sql-messages.js';
export { SQL_INFO_IDS, sqlInfoBatch, likePattern } from './flight-sql/flight-sql-metadata.js';
export type { SqlInfoValue } from './flight-sql/flight-sql-metadata.js';
