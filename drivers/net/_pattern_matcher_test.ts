import assert from "node:assert/strict";
import { MATCHER_MAX_PATTERN_BYTES, PatternMatcher } from "./_pattern_matcher.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

function found(matcher: PatternMatcher, text: string): number[] {
  const n = matcher.scan(bytes(text), 0, text.length);
  return [...matcher.hits.subarray(0, n)].sort();
}

Deno.test("pattern matcher: finds every pattern, overlapping and nested, once per scan", () => {
  const m = new PatternMatcher(["he", "she", "his", "hers", "s"].map(bytes));
  assert.deepEqual(found(m, "ushers"), [0, 1, 3, 4]);
  assert.deepEqual(found(m, "his"), [2, 4]);
  assert.deepEqual(found(m, "xyz"), []);
  assert.deepEqual(found(m, "ssss"), [4], "reported once");
});

Deno.test("pattern matcher: agrees with a naive search on random bytes", () => {
  let x = 12345;
  const next = () => (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  const patterns = Array.from({ length: 12 }, (_, i) => {
    const p = new Uint8Array(1 + (i % 4));
    for (let k = 0; k < p.length; k++) p[k] = next() & 7; // small alphabet: many matches
    return p;
  });
  const m = new PatternMatcher(patterns);
  for (let round = 0; round < 200; round++) {
    const data = new Uint8Array(64);
    for (let k = 0; k < data.length; k++) data[k] = next() & 7;
    const from = round % 5;
    const end = data.length - (round % 7);
    const n = m.scan(data, from, end);
    const got = new Set(m.hits.subarray(0, n));
    patterns.forEach((p, i) => {
      let present = false;
      for (let at = from; at + p.length <= end && !present; at++) {
        present = p.every((v, k) => data[at + k] === v);
      }
      assert.equal(got.has(i), present, `pattern ${i} in round ${round}`);
    });
  }
});

Deno.test("pattern matcher: limits", () => {
  assert.throws(() => new PatternMatcher([new Uint8Array(0)]), RangeError);
  assert.throws(
    () => new PatternMatcher([new Uint8Array(MATCHER_MAX_PATTERN_BYTES + 1)]),
    RangeError,
  );
  const all = new PatternMatcher([new Uint8Array(MATCHER_MAX_PATTERN_BYTES).fill(1)]);
  assert.equal(all.scan(new Uint8Array(MATCHER_MAX_PATTERN_BYTES).fill(1), 0, 4096), 1);
});
