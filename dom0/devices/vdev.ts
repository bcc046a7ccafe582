/**
 * Virtual device names and numbers of Xen's block devices (`docs/misc/vbd-interface.txt`): the
 * xenbus device id of a disk is its `virtual-device` number.
 *
 * - `xvdX` (disks 0–15): `(202 << 8) | (disk << 4) | partition`; beyond disk 15 (`xvdq`, ...,
 *   `xvdaa`): `(1 << 28) | (disk << 8) | partition`.
 * - `hdX`: IDE majors (disks 0–3 on 3 and 22, 64 minors each); `sdX`: SCSI major 8 (disks 0–15,
 *   16 minors each).
 * - A plain number is taken as the device id itself.
 *
 * @module
 */

const XVD_MAJOR = 202;
const EXTENDED = 1 << 28;

/** Disk index of a letter sequence: a=0 … z=25, aa=26 … (as Linux's naming). */
function diskIndex(letters: string): number {
  let n = 0;
  for (const c of letters) n = n * 26 + (c.charCodeAt(0) - 96);
  return n - 1;
}

/** Letters of disk index `n`. */
function diskLetters(n: number): string {
  let s = "";
  for (n += 1; n > 0; n = Math.floor((n - 1) / 26)) {
    s = String.fromCharCode(97 + ((n - 1) % 26)) + s;
  }
  return s;
}

/** The device id of `vdev` (`xvda` → 51712). Throws a TypeError for a name it cannot map. */
export function vdevToDevid(vdev: string): number {
  if (/^\d+$/.test(vdev)) {
    const n = Number(vdev);
    if (n > 0 && n < 2 ** 31) return n;
  }
  const match = /^(xvd|hd|sd)([a-z]{1,3})(\d*)$/.exec(vdev);
  if (!match) throw new TypeError(`Virtual device "${vdev}" is not xvdX, hdX, sdX or a number`);
  const [, kind, letters, partText] = match;
  const disk = diskIndex(letters);
  const part = partText === "" ? 0 : Number(partText);
  if (kind === "xvd") {
    if (disk < 16 && part < 16) return (XVD_MAJOR << 8) | (disk << 4) | part;
    if (disk < 1 << 20 && part < 256) return EXTENDED | (disk << 8) | part;
  } else if (kind === "hd") {
    if (disk < 4 && part < 64) return ((disk < 2 ? 3 : 22) << 8) | ((disk % 2) << 6) | part;
  } else if (disk < 16 && part < 16) {
    return (8 << 8) | (disk << 4) | part;
  }
  throw new TypeError(`Virtual device "${vdev}" is out of range`);
}

/** The `xvdX` name of an `xvd` device id (or the number as text for other kinds). */
export function devidToVdev(devid: number): string {
  if ((devid & EXTENDED) !== 0) {
    const part = devid & 0xff;
    return `xvd${diskLetters((devid >>> 8) & 0xfffff)}${part ? part : ""}`;
  }
  if (devid >>> 8 === XVD_MAJOR) {
    const part = devid & 15;
    return `xvd${diskLetters((devid >>> 4) & 15)}${part ? part : ""}`;
  }
  return String(devid);
}
