/**
 * The console ring (`io/console.h`): one page shared by a guest and the console backend, with a
 * byte ring in each direction and free-running 32-bit indices. The domain builder allocates the
 * page and an event channel (unbound, for domain 0) and names both in start-info
 * (`console.mfn`, `console.evtchn`), as Xen's builder does for xenconsoled.
 *
 * Rules of use: the guest produces output into `out` (`out_prod`) and the backend consumes it
 * (`out_cons`); the backend produces typed input into `in` (`in_prod`) and the guest consumes it
 * (`in_cons`). An index is masked with the ring's size minus one to find its byte; a producer
 * never runs more than the ring's size ahead of its consumer, and writes the bytes before it
 * moves its index. Either side notifies the other through the event channel after moving an
 * index.
 *
 * @module
 */

import { type Struct, struct } from "./struct.ts";

/** Bytes of the input ring (backend to guest). */
export const XENCONS_IN_SIZE = 1024;
/** Bytes of the output ring (guest to backend). */
export const XENCONS_OUT_SIZE = 2048;

/** `struct xencons_interface`. */
export const XENCONS_INTERFACE: Struct<
  "in" | "out" | "in_cons" | "in_prod" | "out_cons" | "out_prod"
> = struct(
  "xencons_interface",
  "the console ring page",
  [
    ["in", "u8", XENCONS_IN_SIZE, "typed input, produced by the backend"],
    ["out", "u8", XENCONS_OUT_SIZE, "output, produced by the guest"],
    ["in_cons", "u32", 1, "guest: input consumed"],
    ["in_prod", "u32", 1, "backend: input produced"],
    ["out_cons", "u32", 1, "backend: output consumed"],
    ["out_prod", "u32", 1, "guest: output produced"],
  ],
);
