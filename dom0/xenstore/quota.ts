/**
 * The limits that keep one guest from exhausting xenstored, in one place (xenstored's
 * `-E -W -T -S` options and `quota` control command). They apply to unprivileged domains only;
 * dom0 and host tools are trusted. Each limit names the error the guest gets, as xenstored does.
 *
 * @module
 */

/** Per-domain limits. */
export interface Quota {
  /** Nodes a domain may own (counted by owner); creating one more fails with `ENOSPC`. */
  readonly maxNodes: number;
  /** Bytes of one node: its value plus its children's names (one NUL each); over is `ENOSPC`. */
  readonly maxEntrySize: number;
  /** Watches a domain may hold; one more fails with `E2BIG`. */
  readonly maxWatches: number;
  /** Transactions open at once per connection; one more fails with `ENOSPC`. */
  readonly maxTransactions: number;
  /** Nodes one transaction may touch (read or write); one more fails with `ENOSPC`. */
  readonly maxTransactionNodes: number;
  /** Permission entries on one node; more fails with `ENOSPC`. */
  readonly maxPerms: number;
  /**
   * Messages (replies and watch events) queued for a guest that is not reading its ring. While
   * the queue is this long no more requests are taken from the ring, and watch events are
   * dropped (counted in the metrics).
   */
  readonly maxPendingMessages: number;
}

/** xenstored's defaults. */
export const DEFAULT_QUOTA: Quota = {
  maxNodes: 1000,
  maxEntrySize: 2048,
  maxWatches: 128,
  maxTransactions: 10,
  maxTransactionNodes: 1024,
  maxPerms: 5,
  maxPendingMessages: 64,
};
