/**
 * Multi-pattern byte search (Aho–Corasick as a DFA): every pattern is found in one pass over the
 * bytes, one table lookup per byte, however many patterns there are — the intrusion detector's
 * hot path.
 *
 * Rules of use: build once from the patterns (at most {@link MATCHER_MAX_PATTERN_BYTES} bytes in
 * all, so the table stays small: states × 256 × 2 bytes); {@link PatternMatcher.scan} reports each
 * pattern at most once per call, in `hits`. No allocation per scan.
 *
 * @module
 */

/** Most pattern bytes in all (each byte adds at most one state). */
export const MATCHER_MAX_PATTERN_BYTES = 4096;
/** Top bit of a DFA edge: its target state reports patterns (states stay below it). */
const ACCEPT = 0x8000;

/** Finds which of a set of byte patterns occur in a span of bytes. */
export class PatternMatcher {
  /** Indices of the patterns found by the last {@link scan} (the first `scan()` entries). */
  readonly hits: Int32Array;
  readonly #delta: Uint16Array;
  readonly #outStart: Int32Array;
  readonly #outList: Int32Array;
  readonly #seen: Uint32Array;
  #generation = 0;

  /** Builds the automaton. Throws a RangeError for empty patterns or too many bytes. */
  constructor(patterns: readonly Uint8Array[]) {
    const total = patterns.reduce((n, p) => n + p.length, 0);
    if (total > MATCHER_MAX_PATTERN_BYTES) {
      throw new RangeError(
        `Patterns of ${total} bytes exceed the ${MATCHER_MAX_PATTERN_BYTES}-byte limit`,
      );
    }
    if (patterns.some((p) => p.length === 0)) throw new RangeError("A pattern is empty");
    const maxStates = total + 1;
    // The trie: goto[s * 256 + c] (−1: none), and the patterns ending at each state.
    const trie = new Int32Array(maxStates * 256).fill(-1);
    const ends: number[][] = [[]];
    let states = 1;
    patterns.forEach((pattern, index) => {
      let s = 0;
      for (const c of pattern) {
        if (trie[s * 256 + c] < 0) {
          trie[s * 256 + c] = states++;
          ends.push([]);
        }
        s = trie[s * 256 + c];
      }
      ends[s].push(index);
    });
    // Failure links breadth-first; the DFA's missing edges follow them.
    const fail = new Int32Array(states);
    const delta = new Uint16Array(states * 256);
    const outputs: number[][] = ends.map((e) => [...e]);
    const queue: number[] = [];
    for (let c = 0; c < 256; c++) {
      const next = trie[c];
      if (next > 0) {
        delta[c] = next;
        fail[next] = 0;
        queue.push(next);
      }
    }
    for (let head = 0; head < queue.length; head++) {
      const s = queue[head];
      outputs[s].push(...outputs[fail[s]]);
      for (let c = 0; c < 256; c++) {
        const next = trie[s * 256 + c];
        if (next > 0) {
          fail[next] = delta[fail[s] * 256 + c];
          delta[s * 256 + c] = next;
          queue.push(next);
        } else {
          delta[s * 256 + c] = delta[fail[s] * 256 + c];
        }
      }
    }
    this.#outStart = new Int32Array(states + 1);
    const list: number[] = [];
    for (let s = 0; s < states; s++) {
      this.#outStart[s] = list.length;
      list.push(...new Set(outputs[s]));
    }
    this.#outStart[states] = list.length;
    // Mark edges into states that report something with the top bit: one load per byte.
    for (let e = 0; e < delta.length; e++) {
      const target = delta[e];
      if (this.#outStart[target + 1] > this.#outStart[target]) delta[e] = target | ACCEPT;
    }
    this.#delta = delta;
    this.#outList = Int32Array.from(list);
    this.#seen = new Uint32Array(patterns.length);
    this.hits = new Int32Array(patterns.length);
  }

  /** Searches `bytes[from, end)`. Returns how many distinct patterns occur (listed in `hits`). */
  scan(bytes: Uint8Array, from: number, end: number): number {
    const delta = this.#delta;
    const outStart = this.#outStart;
    const generation = ++this.#generation >>> 0;
    let found = 0;
    let t = 0;
    for (let i = from; i < end; i++) {
      // At the root the next state depends on the byte alone: no chain of dependent loads.
      t = t === 0 ? delta[bytes[i]] : delta[((t & 0x7fff) << 8) | bytes[i]];
      if (t < ACCEPT) continue;
      const s = t & 0x7fff;
      for (let k = outStart[s], last = outStart[s + 1]; k < last; k++) {
        const pattern = this.#outList[k];
        if (this.#seen[pattern] !== generation) {
          this.#seen[pattern] = generation;
          this.hits[found++] = pattern;
        }
      }
    }
    return found;
  }
}
