/**
 * What every backend driver stands on: the backend end of Xen's shared rings ({@link BackRing})
 * and grant access with Xen's checks ({@link GrantMapper}). Backends run in workers and reach a
 * frontend's memory only through these.
 *
 * @module
 */

export * from "./ring.ts";
export * from "./grant_mapper.ts";
