/**
 * A domain's console as the hypervisor serves it through `console_io`: output goes to listeners
 * (the toolstack's `xl console`, the showcase's prefixed log) and into a bounded history; input
 * typed by the toolstack queues up for `CONSOLEIO_read` and raises `VIRQ_CONSOLE`.
 *
 * Rules of use: listeners must not throw; a listener that does is removed so the guest's output
 * never stops the hypervisor.
 *
 * @module
 */

import { CONSOLE_HISTORY, CONSOLE_INPUT_MAX } from "./params.ts";

/** Receives console output of a domain. */
export type ConsoleListener = (bytes: Uint8Array) => void;

/** One domain's console. */
export class DomainConsole {
  /** Bytes written by the guest so far (a metric). */
  written = 0;
  /** Input bytes dropped because the queue was full (a metric). */
  droppedInput = 0;
  /** Called when input arrives (the hypervisor raises VIRQ_CONSOLE). */
  onInput: () => void = () => {};

  readonly #listeners = new Set<ConsoleListener>();
  #history = new Uint8Array(CONSOLE_HISTORY);
  #historyLength = 0;
  #input: number[] = [];

  /** Adds a listener; returns a function that removes it. */
  listen(listener: ConsoleListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Output from the guest. */
  output(bytes: Uint8Array): void {
    this.written += bytes.length;
    this.#remember(bytes);
    for (const listener of this.#listeners) {
      try {
        listener(bytes);
      } catch {
        this.#listeners.delete(listener);
      }
    }
  }

  #remember(bytes: Uint8Array): void {
    const keep = this.#history.length;
    if (bytes.length >= keep) {
      this.#history.set(bytes.subarray(bytes.length - keep));
      this.#historyLength = keep;
      return;
    }
    const overflow = this.#historyLength + bytes.length - keep;
    if (overflow > 0) {
      this.#history.copyWithin(0, overflow, this.#historyLength);
      this.#historyLength -= overflow;
    }
    this.#history.set(bytes, this.#historyLength);
    this.#historyLength += bytes.length;
  }

  /** The most recent output (up to {@link CONSOLE_HISTORY} bytes). */
  history(): Uint8Array {
    return this.#history.slice(0, this.#historyLength);
  }

  /** Queues typed input for the guest (bytes beyond the queue limit are dropped and counted). */
  input(bytes: Uint8Array): void {
    const room = CONSOLE_INPUT_MAX - this.#input.length;
    const take = Math.min(room, bytes.length);
    for (let i = 0; i < take; i++) this.#input.push(bytes[i]);
    this.droppedInput += bytes.length - take;
    if (take > 0) this.onInput();
  }

  /** Takes up to `max` queued input bytes. */
  read(max: number): Uint8Array {
    const n = Math.max(0, Math.min(max, this.#input.length));
    return Uint8Array.from(this.#input.splice(0, n));
  }

  /** Bytes of input waiting. */
  get pendingInput(): number {
    return this.#input.length;
  }
}
