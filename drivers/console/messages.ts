/**
 * The request the device supervisor sends a console worker (`console_worker.ts`) to start.
 *
 * @module
 */

/** Arguments of `connect`. */
export interface ConsoleConnectArgs {
  /** The domain's region. */
  readonly buffer: SharedArrayBuffer;
  /** Byte offset of the console page in it. */
  readonly offset: number;
  /** The doorbell's buffer. */
  readonly doorbell: SharedArrayBuffer;
  /** The hypervisor's wake word. */
  readonly wake: SharedArrayBuffer;
  /** The doorbell slot of the console port. */
  readonly slot: number;
  /** The heartbeat word. */
  readonly heartbeat: SharedArrayBuffer;
}
