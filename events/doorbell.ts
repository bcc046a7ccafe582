/**
 * A doorbell: event-channel notifications between the pCPU worker, which owns the channel tables,
 * and a backend in another thread (a driver worker, or dom0's xenstored on the main thread).
 *
 * One doorbell serves up to 32 slots; each slot stands for one domain-0 port the backend uses.
 * Both directions are a bit set plus a sequence word in a SharedArrayBuffer:
 *
 * - hypervisor → backend: {@link Doorbell.ring} sets the slot's bit, bumps `toBackend` and
 *   `Atomics.notify`s it; the backend {@link Doorbell.wait}s on that word and
 *   {@link Doorbell.takeRings} the bits.
 * - backend → hypervisor: {@link Doorbell.kick} sets the slot's bit, bumps `toHypervisor` and
 *   the shared {@link WakeWord}, and notifies it, so a sleeping pCPU wakes; the pCPU loop
 *   {@link Doorbell.takeKicks} and sends on the ports.
 *
 * Rules of use: the buffer is the only thing shared, so a doorbell can be handed to a worker by
 * `postMessage`ing {@link Doorbell.buffer} (and the wake word's buffer) and rebuilt with
 * {@link Doorbell.from}. Bits are set before the sequence word changes (the publish point), and
 * taken with an atomic exchange, so no notification is lost or seen twice.
 *
 * @module
 */

const TO_BACKEND_SEQ = 0;
const TO_BACKEND_BITS = 1;
const TO_HV_SEQ = 2;
const TO_HV_BITS = 3;
const WORDS = 4;

/**
 * `Atomics.waitAsync` with a timer beside it: Deno does not count a pending waitAsync as work that
 * keeps the event loop alive, so the timer does (and is cleared as soon as either fires).
 */
async function waitWord(
  words: Int32Array,
  index: number,
  value: number,
  timeoutMs: number,
): Promise<void> {
  const result = Atomics.waitAsync(words, index, value, timeoutMs);
  if (!result.async) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs));
  await Promise.race([result.value, timeout]);
  clearTimeout(timer);
}

/** Slots one doorbell carries. */
export const DOORBELL_SLOTS = 32;

/** The word a pCPU sleeps on: every kick from any backend bumps it. */
export class WakeWord {
  /** The shared word (one Int32). */
  readonly buffer: SharedArrayBuffer;
  readonly #word: Int32Array;

  /** Creates a wake word, or wraps an existing buffer. */
  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    if (buffer.byteLength < 4) throw new RangeError("A wake word needs 4 bytes");
    this.buffer = buffer;
    this.#word = new Int32Array(buffer, 0, 1);
  }

  /** The current value (compare with a later one to see whether anything happened). */
  get value(): number {
    return Atomics.load(this.#word, 0);
  }

  /** Bumps the word and wakes a waiter. */
  bump(): void {
    Atomics.add(this.#word, 0, 1);
    Atomics.notify(this.#word, 0);
  }

  /** Waits (asynchronously) until the word differs from `seen` or `timeoutMs` passes. */
  async wait(seen: number, timeoutMs: number): Promise<void> {
    await waitWord(this.#word, 0, seen, timeoutMs);
  }
}

/** A bidirectional notification bridge for up to 32 ports. */
export class Doorbell {
  /** The shared state. */
  readonly buffer: SharedArrayBuffer;
  /** The pCPU's wake word, bumped by every kick. */
  readonly wake: WakeWord;
  readonly #words: Int32Array;
  #seenToBackend = 0;

  /** Creates a doorbell tied to the pCPU's wake word. */
  constructor(wake: WakeWord, buffer: SharedArrayBuffer = new SharedArrayBuffer(WORDS * 4)) {
    if (buffer.byteLength < WORDS * 4) throw new RangeError("A doorbell needs 16 bytes");
    this.buffer = buffer;
    this.wake = wake;
    this.#words = new Int32Array(buffer, 0, WORDS);
    this.#seenToBackend = Atomics.load(this.#words, TO_BACKEND_SEQ);
  }

  /** Rebuilds a doorbell from buffers received from another thread. */
  static from(buffer: SharedArrayBuffer, wakeBuffer: SharedArrayBuffer): Doorbell {
    return new Doorbell(new WakeWord(wakeBuffer), buffer);
  }

  static #check(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= DOORBELL_SLOTS) {
      throw new RangeError(`Doorbell slot ${slot} is outside 0..${DOORBELL_SLOTS - 1}`);
    }
  }

  /** Hypervisor side: an event arrived for `slot`. */
  ring(slot: number): void {
    Doorbell.#check(slot);
    Atomics.or(this.#words, TO_BACKEND_BITS, 1 << slot);
    Atomics.add(this.#words, TO_BACKEND_SEQ, 1);
    Atomics.notify(this.#words, TO_BACKEND_SEQ);
  }

  /** Backend side: takes the slots that were rung (a bit set). */
  takeRings(): number {
    return Atomics.exchange(this.#words, TO_BACKEND_BITS, 0);
  }

  /**
   * Backend side: waits until the doorbell rings (or `timeoutMs` passes); returns at once if it
   * rang since the last wait.
   */
  async wait(timeoutMs: number): Promise<void> {
    const seq = Atomics.load(this.#words, TO_BACKEND_SEQ);
    if (seq === this.#seenToBackend) await waitWord(this.#words, TO_BACKEND_SEQ, seq, timeoutMs);
    this.#seenToBackend = Atomics.load(this.#words, TO_BACKEND_SEQ);
  }

  /**
   * Backend side, in a worker thread only: blocks the thread until the doorbell rings (or
   * `timeoutMs` passes) with `Atomics.wait`, which wakes far sooner than {@link wait}; returns at
   * once if it rang since the last wait. The thread's event loop does not run meanwhile, so keep
   * `timeoutMs` short.
   */
  waitSync(timeoutMs: number): void {
    const seq = Atomics.load(this.#words, TO_BACKEND_SEQ);
    if (seq === this.#seenToBackend) Atomics.wait(this.#words, TO_BACKEND_SEQ, seq, timeoutMs);
    this.#seenToBackend = Atomics.load(this.#words, TO_BACKEND_SEQ);
  }

  /** Backend side: asks the hypervisor to send an event on `slot`'s port. */
  kick(slot: number): void {
    Doorbell.#check(slot);
    Atomics.or(this.#words, TO_HV_BITS, 1 << slot);
    Atomics.add(this.#words, TO_HV_SEQ, 1);
    this.wake.bump();
  }

  /** Hypervisor side: takes the slots kicked since the last call (a bit set). */
  takeKicks(): number {
    return Atomics.exchange(this.#words, TO_HV_BITS, 0);
  }
}
