/**
 * The hypervisor's limits and tunables, one commented constant each (xv6's `param.h`).
 *
 * @module
 */

/** Smallest domain: 1 MiB (a kernel, its tables and a little room). */
export const MIN_DOMAIN_PAGES = 256;
/** Largest domain: 1 GiB, what the linear map at 0xC000_0000 can hold. */
export const MAX_DOMAIN_PAGES = 262_144;
/** Most domains alive at once (domain ids are 1..this; 0 is the control domain). */
export const MAX_DOMAINS = 4000;
/** Most vCPUs per domain. */
export const MAX_VCPUS = 8;
/** Longest command line (bytes, without the NUL), as start-info holds it. */
export const MAX_CMDLINE = 1023;
/** Largest guest buffer a single console_io write copies. */
export const CONSOLE_WRITE_MAX = 4096;
/** Console output kept per domain for `xl console` replay and `xl dmesg` (bytes). */
export const CONSOLE_HISTORY = 64 * 1024;
/** Typed input queued per domain before further bytes are dropped. */
export const CONSOLE_INPUT_MAX = 4096;
/** Hypervisor log lines kept for `xl dmesg`. */
export const LOG_LINES = 1000;
/**
 * Instructions a vCPU runs between looks at the clock, at most. Small enough that timers and
 * preemption are ~1 ms accurate at our speed, large enough that the look costs nothing.
 */
export const CHUNK_MAX_INSTRUCTIONS = 250_000;
/**
 * The chunk limit while split-driver I/O is in flight (a backend was rung or kicked within
 * {@link IO_ACTIVE_NS}): backends' kicks are seen between chunks, so shorter chunks mean lower
 * I/O latency, at about a microsecond of loop overhead per chunk.
 */
export const CHUNK_IO_INSTRUCTIONS = 20_000;
/** How long after a doorbell was rung or kicked the short chunks stay in force. */
export const IO_ACTIVE_NS = 5e6;
/** Instructions per second assumed before the first measurement (then measured as we go). */
export const INITIAL_INSTRUCTIONS_PER_SECOND = 150e6;
/** The time CSR's frequency: 10 MHz, as QEMU's virt board (100 ns per tick). */
export const TIMEBASE_HZ = 10_000_000;
