/**
 * A bounded, seeded shuffle buffer (the reservoir-style buffer of tf.data / torchdata): it holds at
 * most `capacity` items; once full, each incoming item replaces a uniformly chosen resident, which is
 * emitted. The output order is a pure function of the input order, the capacity and the generator.
 */
import { SeededRandom, type SeededRandomState } from './seeded-random.js';

/** A bounded shuffle buffer over items of type `T`. */
export class ShuffleBuffer<T> {
  private readonly items: T[] = [];

  /**
   * @param capacity Maximum resident items (>= 1). 1 means no shuffling.
   * @param rng The generator that picks the item to emit; its draws fully determine the order.
   */
  constructor(
    readonly capacity: number,
    private readonly rng: SeededRandom,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ShuffleBuffer: capacity must be a positive integer, got ${capacity}`);
  }

  /**
   * A buffer continuing from a simulated position (`simulateShuffle`): `items` are the resident
   * items in slot order, `rngState` the generator state at that point.
   */
  static restore<T>(capacity: number, items: T[], rngState: SeededRandomState): ShuffleBuffer<T> {
    const b = new ShuffleBuffer<T>(capacity, SeededRandom.fromState(rngState));
    if (items.length > capacity) throw new RangeError(`ShuffleBuffer.restore: ${items.length} items exceed capacity ${capacity}`);
    b.items.push(...items);
    return b;
  }

  /** Items currently held. */
  get size(): number {
    return this.items.length;
  }

  /** Adds `item`; returns the emitted item once the buffer is full, else `undefined`. */
  push(item: T): { value: T } | undefined {
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return undefined;
    }
    const j = this.rng.int(this.capacity);
    const out = this.items[j];
    this.items[j] = item;
    return { value: out };
  }

  /** Emits one remaining item (random order) or `undefined` when empty: call at end of input. */
  pop(): { value: T } | undefined {
    const n = this.items.length;
    if (n === 0) return undefined;
    const j = this.rng.int(n);
    const out = this.items[j];
    this.items[j] = this.items[n - 1];
    this.items.pop();
    return { value: out };
  }
}

/** Shuffles an (async) iterable through a {@link ShuffleBuffer}; the whole stream is emitted once. */
export async function* shuffleStream<T>(source: AsyncIterable<T> | Iterable<T>, capacity: number, rng: SeededRandom): AsyncGenerator<T> {
  const buf = new ShuffleBuffer<T>(capacity, rng);
  for await (const item of source) {
    const out = buf.push(item);
    if (out) yield out.value;
  }
  for (let out = buf.pop(); out; out = buf.pop()) yield out.value;
}

/** Where a shuffled stream stands after some emissions; see `simulateShuffle`. */
export interface ShuffleSimulation {
  /** Input items consumed (pushed) so far: the stream continues with input position `pushed`. */
  pushed: number;
  /** Input positions resident in the buffer, in slot order. */
  slots: number[];
  /** Generator state to continue with. */
  rngState: SeededRandomState;
}

/**
 * Replays a {@link ShuffleBuffer} over input positions `0..n-1` (data-free) until `emitted` items came
 * out, so a stream can restart there by re-reading only the resident items and the inputs from
 * `pushed` on. The draws are exactly those of `shuffleStream(input of length n, capacity, rng)`.
 */
export function simulateShuffle(n: number, capacity: number, rng: SeededRandom, emitted: number): ShuffleSimulation {
  if (emitted > n) throw new RangeError(`simulateShuffle: ${emitted} emissions from ${n} items`);
  const buf = new ShuffleBuffer<number>(capacity, rng);
  let out = 0;
  let pushed = 0;
  while (out < emitted && pushed < n) {
    if (buf.push(pushed++)) out++;
  }
  while (out < emitted) {
    buf.pop();
    out++;
  }
  return { pushed, slots: [...(buf as unknown as { items: number[] }).items], rngState: rng.getState() };
}
