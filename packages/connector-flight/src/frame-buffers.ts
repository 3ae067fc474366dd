/**
 * Memory of serialized FlightData messages, used again. A DoGet serializes each message into a new
 * buffer; after gRPC has written it, that buffer is garbage. Megabytes of such buffers per DoGet make
 * V8 run a full garbage collection every few DoGets (ArrayBuffer memory counts towards its
 * old-generation limit), a quarter of a DoGet's time on the server's thread. Handing a message's
 * buffer back once gRPC has sent it lets the next message be written into it instead.
 *
 * Each pooled message starts {@link FRAME_HEADROOM} bytes into its memory: gRPC's message prefix is
 * written there and the message sent where it lies (`grpc-send.ts`), where grpc-js would otherwise
 * copy every message into a new buffer behind its prefix.
 */

/** Bytes kept free before each pooled message: gRPC's message prefix (a compressed flag, a 4-byte length). */
export const FRAME_HEADROOM = 5;

/** The memory of pooled messages of this thread (made by `take` or adopted from a worker): their headroom is free. */
const withHeadroom = new WeakSet<ArrayBufferLike>();

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
    const need = size + FRAME_HEADROOM;
    for (let i = 0; i < this.free.length; i++) {
      const n = this.free[i]!.byteLength;
      if (n >= need && (best < 0 || n < this.free[best]!.byteLength)) best = i;
    }
    let buffer: ArrayBuffer;
    if (best < 0) {
      buffer = Buffer.allocUnsafeSlow(need).buffer as ArrayBuffer; // memory of its own, not zeroed
      withHeadroom.add(buffer);
    } else {
      buffer = this.free[best]!;
      this.free[best] = this.free[this.free.length - 1]!;
      this.free.pop();
    }
    return Buffer.from(buffer, FRAME_HEADROOM, size);
  }

  /**
   * Takes back the buffer of `frame` when the message owns it (one `take` made or a worker
   * transferred); a view into memory shared with others, a small message or a buffer that has been
   * transferred away (detached, length 0) is left alone. False when it was not kept.
   */
  release(frame: Uint8Array): boolean {
    if (!FrameBuffers.owned(frame) || this.free.length >= this.maxFree) return false;
    withHeadroom.add(frame.buffer); // (a buffer a worker sent back is a new object on this thread)
    this.free.push(frame.buffer as ArrayBuffer);
    return true;
  }

  /**
   * Whether `frame` lies where `take` puts a message in its own memory (after the headroom) and is
   * large enough to have been given memory of its own.
   */
  static owned(frame: Uint8Array): boolean {
    return frame.byteOffset === FRAME_HEADROOM && frame.byteLength >= MIN_POOLED_FRAME_BYTES && !(frame.buffer instanceof SharedArrayBuffer);
  }

  /**
   * Takes `frame`, a message a `take` of another thread made and transferred here, as pooled memory of
   * this thread: its headroom is free (see {@link hasFreeHeadroom}). False when it does not have that
   * shape (nothing is recorded).
   */
  static adopt(frame: Uint8Array): boolean {
    if (!FrameBuffers.owned(frame)) return false;
    withHeadroom.add(frame.buffer);
    return true;
  }
}

/**
 * Whether the {@link FRAME_HEADROOM} bytes before `frame` are free memory this thread may write:
 * `frame` is a message a {@link FrameBuffers} made here (or adopted) and still lies where it was put.
 */
export function hasFreeHeadroom(frame: Uint8Array): boolean {
  return frame.byteOffset === FRAME_HEADROOM && withHeadroom.has(frame.buffer);
}
