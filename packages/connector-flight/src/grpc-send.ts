/**
 * Messages sent where they lie. gRPC puts a 5-byte prefix (a compressed flag, the length) before each
 * message; grpc-js serializes a response, then copies it into a new buffer behind that prefix: for a
 * DoGet, megabytes copied and allocated per stream, which also make V8 collect garbage more often.
 * A pre-encoded FlightData message from {@link FrameBuffers} has {@link FRAME_HEADROOM} free bytes
 * before it: the prefix is written there and the message sent from its own memory.
 *
 * grpc-js offers no hook for this: its server call's `serializeMessage` is replaced, for every
 * server of this process, by one that does the above only for a message whose serializer passed it
 * through unchanged (`withPreEncodedFlightData`) and whose headroom this thread owns
 * ({@link hasFreeHeadroom}); any other message goes to grpc-js's own method. The message's memory is
 * released for the next one only in the write's callback, after the socket has taken the bytes.
 */
import { BaseServerInterceptingCall } from '@grpc/grpc-js/build/src/server-interceptors.js';
import { FRAME_HEADROOM, hasFreeHeadroom } from './frame-buffers.js';

/** What this module uses of a grpc-js server call (private members). */
interface ServerCallInternals {
  handler: { serialize(value: unknown): Buffer };
  serializeMessage(value: unknown): Buffer;
}

let installed: boolean | null = null;

/**
 * Makes grpc-js send pre-encoded messages with free headroom without copying them (see the module
 * comment). Idempotent. False when this grpc-js has no `serializeMessage` to replace: messages are
 * then copied as before.
 */
export function sendMessagesInPlace(): boolean {
  if (installed !== null) return installed;
  const proto = (BaseServerInterceptingCall as unknown as { prototype?: Partial<ServerCallInternals> } | undefined)?.prototype;
  const copying = proto?.serializeMessage;
  if (!proto || typeof copying !== 'function') return (installed = false);
  proto.serializeMessage = function serializeMessage(this: ServerCallInternals, value: unknown): Buffer {
    if (value instanceof Uint8Array && hasFreeHeadroom(value) && this.handler.serialize(value) === value) {
      const out = Buffer.from(value.buffer, value.byteOffset - FRAME_HEADROOM, value.byteLength + FRAME_HEADROOM);
      out[0] = 0; // not compressed
      out.writeUInt32BE(value.byteLength, 1);
      return out;
    }
    return copying.call(this, value);
  };
  return (installed = true);
}
