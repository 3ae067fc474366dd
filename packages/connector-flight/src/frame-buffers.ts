/**
 * Memory of serialized FlightData messages, used again. A DoGet serializes each message into a new
 * buffer, and grpc-js copies it into another (its 5-byte prefix first; it offers no way around that copy);
 * after that copy the first buffer is garbage. Megabytes of such buffers per DoGet make V8 run a full
 * garbage collection every few DoGets (ArrayBuffer memory counts towards its old-generation limit), a
 * quarter of a DoGet's time on the server's thread. Handing a message's buffer back once gRPC has
 * taken its bytes lets the next message be written into it instead.
 */

/** Messages smaller than this are not worth a buffer of their own (they come from Node's shared pool). */
export const MIN_POOLED_FRAME_BYTES = 64 * 1024;

/** Free buffers kept at most by default (each at most a message bound: 4 MiB by default). */
export const DEFAULT_FREE_FRAME_BUFFERS = 4;

/** Where the serialization of a FlightData message gets its memory. */
export interface FrameAllocator {
  /** A Buffer of exactly `size` bytes; its contents are not defined. */
  take(size: number): Buffer;
}

/**
 * A few free message buffers (one thread's). `take` gives a message either a free buffer at least as
 * large or a new one; `release` returns a message's buffer, which must not be read by anyone after.
 */
export class FrameBuffers implements FrameAllocator {
  private readonly free: ArrayBuffer[] = [];

  constructor(
    /** Free buffers kept at most; more released ones are left to the garbage collector. */
    readonly maxFree = DEFAULT_FREE_FRAME_BUFFERS,
  ) {}

  /** Free buffers held now. */
  get size(): number {
    return this.free.length;
  }

  take(size: number): Buffer {
    if (size < MIN_POOLED_FRAME_BYTES) return Buffer.allocUnsafe(size);
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const n = this.free[i]!.byteLength;
      if (n >= size && (best < 0 || n < this.free[best]!.byteLength)) best = i;
    }
    if (best < 0) return Buffer.allocUnsafeSlow(size);
    const buffer = this.free[best]!;
    this.free[best] = this.free[this.free.length - 1]!;
    this.free.pop();
    return Buffer.from(buffer, 0, size);
  }

  /**
   * Takes back the buffer of `frame` when the message owns it whole from its start (one `take` made
   * or a worker transferred); a view into memory shared with others, a small message or a buffer that
   * has been transferred away (detached, length 0) is left alone. False when it was not kept.
   */
  release(frame: Uint8Array): boolean {
    if (!FrameBuffers.owned(frame) || this.free.length >= this.maxFree) return false;
    this.free.push(frame.buffer as ArrayBuffer);
    return true;
  }

  /** Whether `frame` starts its own ArrayBuffer and is large enough to have been given one by `take`. */
  static owned(frame: Uint8Array): boolean {
    return frame.byteOffset === 0 && frame.byteLength >= MIN_POOLED_FRAME_BYTES && !(frame.buffer instanceof SharedArrayBuffer);
  }
}
