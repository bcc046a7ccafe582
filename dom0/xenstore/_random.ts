/**
 * Seeded randomness for the xenstore fuzz tests: a failing round is replayed by its seed.
 *
 * @module
 */

import { XENSTORE_PAYLOAD_MAX } from "@paravirt/public";
import { joinStrings } from "./wire.ts";

/** A small seeded generator, so a failing fuzz round can be replayed by its seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PATHS = [
  "/",
  "/a",
  "/a/b",
  "a",
  "a/b/c",
  "device/vbd/0/state",
  "/local/domain/5/x",
  "/local/domain/6/secret",
  "/local/domain",
  "@releaseDomain",
  "@introduceDomain",
  "@bogus",
  "",
  "//",
  "/a/",
  "bad path",
  "/\xff",
];

/** A random request payload: path-like strings, numbers, junk and NULs. */
export function randomPayload(rand: () => number): Uint8Array {
  const parts: string[] = [];
  const n = Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.5) parts.push(PATHS[Math.floor(rand() * PATHS.length)]);
    else if (r < 0.6) parts.push(String(Math.floor(rand() * 20) - 2));
    else if (r < 0.7) parts.push(["T", "F", "r5", "b0", "n6", "w5", "OK"][Math.floor(rand() * 7)]);
    else if (r < 0.75) parts.push("x".repeat(Math.floor(rand() * 3500)));
    else parts.push(String.fromCharCode(...Array.from({ length: 8 }, () => rand() * 256)));
  }
  const bytes = joinStrings(parts).subarray(0, XENSTORE_PAYLOAD_MAX);
  return rand() < 0.2 ? bytes.subarray(0, Math.floor(rand() * bytes.length)) : bytes;
}
