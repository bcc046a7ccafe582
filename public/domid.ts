/**
 * Domain identifiers (`xen/xen.h`). Ordinary domains are 0 (the control domain) up to
 * {@link DOMID_FIRST_RESERVED} - 1.
 *
 * @module
 */

/** First reserved domain id. */
export const DOMID_FIRST_RESERVED = 0x7ff0;
/** "The calling domain". */
export const DOMID_SELF = 0x7ff0;
/** I/O memory owner. */
export const DOMID_IO = 0x7ff1;
/** Owner of the hypervisor's own frames. */
export const DOMID_XEN = 0x7ff2;
/** Owner of sharable pages. */
export const DOMID_COW = 0x7ff3;
/** Unknown owner. */
export const DOMID_INVALID = 0x7ff4;
/** The idle domain. */
export const DOMID_IDLE = 0x7fff;
