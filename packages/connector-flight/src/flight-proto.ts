/**
 * Loading of the Arrow Flight protocol (proto/Flight.proto, shipped with the package) and the plain
 * object shapes its messages take on the wire with the loader options used here (field names as in
 * the .proto, bytes as Buffer, 64-bit integers as decimal strings, enums as names).
 */
import { loadSync, type Options } from '@grpc/proto-loader';
import { loadPackageDefinition, type ServiceDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import { fileURLToPath } from 'node:url';

/** Path of the Flight.proto shipped with this package (next to `src/` and `dist/`). */
export const FLIGHT_PROTO_PATH: string = fileURLToPath(new URL('../proto/Flight.proto', import.meta.url));

/** The gRPC service name of Arrow Flight. */
export const FLIGHT_SERVICE_NAME = 'arrow.flight.protocol.FlightService';

const LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

/** `google.protobuf.Timestamp`; `seconds` is a decimal string (int64). */
export interface ProtoTimestamp {
  seconds: string | number;
  nanos: number;
}

/** FlightDescriptor.DescriptorType names. */
export type DescriptorTypeName = 'UNKNOWN' | 'PATH' | 'CMD';

/** A FlightDescriptor message. */
export interface FlightDescriptorMessage {
  type: DescriptorTypeName;
  cmd: Buffer;
  path: string[];
}

/** A Ticket message. */
export interface TicketMessage {
  ticket: Buffer;
}

/** A Location message. */
export interface LocationMessage {
  uri: string;
}

/** A FlightEndpoint message. */
export interface FlightEndpointMessage {
  ticket: TicketMessage | null;
  location: LocationMessage[];
  expiration_time: ProtoTimestamp | null;
  app_metadata: Buffer;
}

/** A FlightInfo message; `total_records`/`total_bytes` are decimal strings (-1 = unknown). */
export interface FlightInfoMessage {
  schema: Buffer;
  flight_descriptor: FlightDescriptorMessage | null;
  endpoint: FlightEndpointMessage[];
  total_records: string;
  total_bytes: string;
  ordered: boolean;
  app_metadata: Buffer;
}

/** A FlightData message: one encapsulated IPC message split into header and body. */
export interface FlightDataMessage {
  flight_descriptor: FlightDescriptorMessage | null;
  data_header: Buffer;
  app_metadata: Buffer;
  data_body: Buffer;
}

/** A HandshakeRequest / HandshakeResponse message. */
export interface HandshakeMessage {
  protocol_version: string;
  payload: Buffer;
}

/** An Action message. */
export interface ActionMessage {
  type: string;
  body: Buffer;
}

/** A Result message. */
export interface ResultMessage {
  body: Buffer;
}

/** An ActionType message. */
export interface ActionTypeMessage {
  type: string;
  description: string;
}

/** A PutResult message. */
export interface PutResultMessage {
  app_metadata: Buffer;
}

/** A SchemaResult message. */
export interface SchemaResultMessage {
  schema: Buffer;
}

/** A Criteria message. */
export interface CriteriaMessage {
  expression: Buffer;
}

/** The Flight service loaded from its .proto: the server's service definition and the client constructor. */
export interface LoadedFlight {
  service: ServiceDefinition;
  client: ServiceClientConstructor;
}

let loaded: LoadedFlight | undefined;

/**
 * `service` with DoGet's response serializer passing a Buffer through unchanged: an already serialized
 * FlightData (`recordBatchesToFlightFrames`) is written as it is; a message object is serialized as before.
 */
export function withPreEncodedFlightData(service: ServiceDefinition): ServiceDefinition {
  const doGet = service.DoGet;
  const serialize = doGet.responseSerialize;
  return { ...service, DoGet: { ...doGet, responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : serialize(value)) } };
}

/**
 * Parses Flight.proto (once per process, on first use, never at import) and returns the service
 * definition for servers and the generic client constructor for clients.
 */
export function loadFlightProtocol(): LoadedFlight {
  if (loaded) return loaded;
  const definition = loadSync(FLIGHT_PROTO_PATH, LOADER_OPTIONS);
  const service = definition[FLIGHT_SERVICE_NAME] as ServiceDefinition | undefined;
  if (!service || !('DoGet' in service)) throw new Error(`${FLIGHT_PROTO_PATH} does not define ${FLIGHT_SERVICE_NAME}`);
  const grpcObject = loadPackageDefinition(definition) as any;
  const client = grpcObject.arrow.flight.protocol.FlightService as ServiceClientConstructor;
  loaded = { service, client };
  return loaded;
}
