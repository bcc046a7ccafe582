/**
 * Version queries (`xen/version.h`) and console I/O (`xen/xen.h`).
 *
 * @module
 */

/** Returns (major << 16) | minor. */
export const XENVER_version = 0;
/** Writes a 16-byte extra-version string. */
export const XENVER_extraversion = 1;
/** Writes a 1024-byte capabilities string. */
export const XENVER_capabilities = 3;
/** Writes `xen_feature_info` (submap index in, 32-bit map out). */
export const XENVER_get_features = 6;
/** Returns the page size. */
export const XENVER_pagesize = 7;

/** The version we report: 4.17 (the Xen release whose headers we follow). */
export const XEN_VERSION_MAJOR = 4;
/** Minor version. */
export const XEN_VERSION_MINOR = 17;
/** The extra version string. */
export const XEN_EXTRAVERSION = "-paravirt";
/** The capabilities string. */
export const XEN_CAPABILITIES = "xen-3.0-riscv32";

/** console_io: write `count` bytes from a guest buffer. */
export const CONSOLEIO_write = 0;
/** console_io: read up to `count` bytes into a guest buffer (control domain). */
export const CONSOLEIO_read = 1;
/** Most bytes one console_io write takes. */
export const CONSOLEIO_MAX = 4096;
