/**
 * The error a xenstore operation fails with: one of the errno names of `io/xs_wire.h`, which is
 * what travels back to the client in an `XS_ERROR` reply.
 *
 * Rules of use: operations throw {@link XenstoreError} for every refusal a client can cause (bad
 * path, no permission, quota, conflict); the request dispatcher turns it into an error reply.
 * Anything else that escapes an operation is a bug in xenstored, not the client's doing.
 *
 * @module
 */

import type { XsdErrorName } from "@paravirt/public";

export type { XsdErrorName };

/** A refused xenstore operation, with the errno name the client gets back. */
export class XenstoreError extends Error {
  /** The errno name sent in the `XS_ERROR` reply. */
  readonly code: XsdErrorName;

  /** Makes an error with errno name `code` and an optional explanation for logs. */
  constructor(code: XsdErrorName, message?: string) {
    super(message === undefined ? code : `${code}: ${message}`);
    this.name = "XenstoreError";
    this.code = code;
  }
}
