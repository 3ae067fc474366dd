/**
 * A receive limit per gRPC method. grpc-js has one limit for every method of a server
 * (`grpc.max_receive_message_length`), and it buffers a whole message up to that limit before the
 * handler sees it: the Flight server's limit is 64 MiB (DoPut batches), so any unary call could make
 * it hold 64 MiB, although no unary request is larger than a ticket (4 MiB).
 *
 * grpc-js offers no per-method limit. Its server call decodes messages with a `StreamDecoder` that
 * reads each message's 5-byte prefix (compressed flag, length) and throws as soon as the length is
 * over its `maxReadMessageLength`, before buffering any of the message. {@link limitReceivedMessages}
 * lowers that bound on one call's decoder (from a server interceptor, which receives the call before
 * any message is read), and answers an oversized message with the caller's own status instead of
 * grpc-js's. The rest of the message is discarded as it arrives.
 */
import { status, type ServerInterceptingCallInterface, type StatusObject } from '@grpc/grpc-js';

/** What this module uses of a grpc-js server call (private members). */
interface DecoderInternals {
  maxReadMessageLength: number;
  readMessageSize: number;
  write(data: Buffer): Buffer[];
}

/**
 * Bounds the messages `call` receives to `limit` bytes each: a message whose length prefix is over it
 * is answered with `refuse(bytes)` (sent as the call's status) before any of it is buffered, and
 * everything the client sends after it is discarded. Call it from a server interceptor, before the
 * call reads. Returns false (and changes nothing) when this grpc-js does not decode messages the way
 * described in the module comment: the server-wide limit then applies as before.
 */
export function limitReceivedMessages(call: ServerInterceptingCallInterface, limit: number, refuse: (bytes: number) => Partial<StatusObject>): boolean {
  const decoder = (call as unknown as { decoder?: Partial<DecoderInternals> }).decoder;
  if (!decoder || typeof decoder.write !== 'function' || typeof decoder.maxReadMessageLength !== 'number') return false;
  if (decoder.maxReadMessageLength !== -1 && decoder.maxReadMessageLength <= limit) return true;
  const write = decoder.write.bind(decoder);
  let refused = false;
  decoder.maxReadMessageLength = limit;
  decoder.write = (data: Buffer): Buffer[] => {
    if (refused) return [];
    try {
      return write(data);
    } catch (e) {
      // the decoder throws only for a length over its bound (or a state it never reaches)
      refused = true;
      const bytes = typeof decoder.readMessageSize === 'number' ? decoder.readMessageSize : NaN;
      const answer = bytes > limit ? refuse(bytes) : { code: status.RESOURCE_EXHAUSTED, details: (e as Error).message };
      call.sendStatus(answer as Parameters<ServerInterceptingCallInterface['sendStatus']>[0]);
      return [];
    }
  };
  return true;
}
