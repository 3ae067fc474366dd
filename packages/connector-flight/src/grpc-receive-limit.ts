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
 *
 * That prefix gives the length as sent: a client may compress its messages (`grpc-encoding: gzip` or
 * `deflate`), and grpc-js inflates a compressed message up to the server-wide limit (60 MiB of spaces
 * arrive as 61 KB of gzip). The call's own `maxReceiveMessageSize`, which bounds the inflating, is
 * lowered too, so inflating stops as soon as the output passes the method's limit.
 */
import { status, type ServerInterceptingCallInterface, type StatusObject } from '@grpc/grpc-js';

/** What this module uses of a grpc-js server call (private members). */
interface DecoderInternals {
  maxReadMessageLength: number;
  readMessageSize: number;
  write(data: Buffer): Buffer[];
}

/** What this module uses of a grpc-js server call's inflating of compressed messages (private members). */
interface InflateInternals {
  maxReceiveMessageSize: number;
  incomingEncoding: string;
  decompressMessage(message: Buffer, encoding: string): Buffer | Promise<Buffer>;
}

/** How a message came to be over the limit: its length prefix, or its size once inflated. */
export interface OversizedMessage {
  /** The length the message's prefix gives: as sent, compressed or not. */
  bytes: number;
  /** Set when the message was compressed and passed the limit as it was inflated: the encoding. */
  compressed?: string;
}

/**
 * Bounds the messages `call` receives to `limit` bytes each: a message whose length prefix is over it
 * is answered with `refuse({ bytes })` (sent as the call's status) before any of it is buffered, and
 * everything the client sends after it is discarded; a compressed message is inflated no further than
 * `limit` bytes, and answered with `refuse({ bytes, compressed })` when it goes past. Call it from a
 * server interceptor, before the call reads. Returns false (and changes nothing) when this grpc-js
 * does not decode or inflate messages the way described in the module comment: the server-wide limit
 * then applies as before.
 */
export function limitReceivedMessages(call: ServerInterceptingCallInterface, limit: number, refuse: (message: OversizedMessage) => Partial<StatusObject>): boolean {
  const decoder = (call as unknown as { decoder?: Partial<DecoderInternals> }).decoder;
  const inflate = call as unknown as Partial<InflateInternals>;
  if (!decoder || typeof decoder.write !== 'function' || typeof decoder.maxReadMessageLength !== 'number') return false;
  if (typeof inflate.maxReceiveMessageSize !== 'number' || typeof inflate.decompressMessage !== 'function') return false;
  if (decoder.maxReadMessageLength !== -1 && decoder.maxReadMessageLength <= limit) return true;
  const send = (answer: Partial<StatusObject>) => call.sendStatus(answer as Parameters<ServerInterceptingCallInterface['sendStatus']>[0]);
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
      send(bytes > limit ? refuse({ bytes }) : { code: status.RESOURCE_EXHAUSTED, details: (e as Error).message });
      return [];
    }
  };
  // grpc-js stops inflating past maxReceiveMessageSize and rejects with its own RESOURCE_EXHAUSTED,
  // which the call sends as its status: the caller's answer is sent in its place
  inflate.maxReceiveMessageSize = limit;
  const decompress = inflate.decompressMessage.bind(call);
  inflate.decompressMessage = async (message: Buffer, encoding: string): Promise<Buffer> => {
    try {
      return await decompress(message, encoding);
    } catch (e) {
      if ((e as Partial<StatusObject> | null)?.code !== status.RESOURCE_EXHAUSTED) throw e;
      throw { code: status.RESOURCE_EXHAUSTED, details: '', ...refuse({ bytes: message.length - 5, compressed: encoding }) };
    }
  };
  return true;
}
