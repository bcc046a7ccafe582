/**
 * What the guest's `disktest` writes, computed independently: the pattern word of each sector
 * and the checksum its closing line must carry.
 *
 * @module
 */

const FNV_PRIME = 16777619;

/** Word `word` (0..127) of sector `sector` under `seed` (disktest.c's pattern()). */
export function patternWord(seed: number, sector: number, word: number): number {
  const lo = sector >>> 0;
  const hi = Math.floor(sector / 2 ** 32) >>> 0;
  let x = (Math.imul(lo, 0x9e3779b1) ^ Math.imul(hi, 0x85ebca77) ^ Math.imul(word, 0xc2b2ae3d) ^
    Math.imul(seed, 0x27d4eb2f)) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x2c1b3c6d) >>> 0;
  x = (x ^ (x >>> 12)) >>> 0;
  return x;
}

/**
 * The closing line of disktest over sectors 0..count-1 (verify, write or read mode): the sum of
 * (first word ^ sector) * 16777619 over the sectors, mod 2^32.
 */
export function expectedDisktest(seed: number, count: number): string {
  let hash = 0;
  for (let s = 0; s < count; s++) {
    hash = (hash + Math.imul((patternWord(seed, s, 0) ^ s) >>> 0, FNV_PRIME)) >>> 0;
  }
  return `app disktest: done checksum=0x${hash.toString(16).padStart(8, "0")}`;
}

/**
 * The first sector of `disk` (bytes from sector 0) whose contents differ from the pattern, or -1.
 * Only sectors 0..count-1 are compared.
 */
export function firstBadSector(disk: Uint8Array, seed: number, count: number): number {
  const view = new DataView(disk.buffer, disk.byteOffset, disk.byteLength);
  for (let s = 0; s < count; s++) {
    for (let w = 0; w < 128; w++) {
      if (view.getUint32(s * 512 + w * 4, true) !== patternWord(seed, s, w)) return s;
    }
  }
  return -1;
}
