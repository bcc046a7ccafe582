/**
 * The SiFive test finisher (`sifive,test1`): a write of 0x5555 ends the machine with success,
 * `(code << 16) | 0x3333` ends it with failure `code`, and 0x7777 asks for a reset.
 *
 * @module
 */

import type { AccessSize, MmioDevice } from "@paravirt/mmu";

/** What the program asked the finisher for. */
export type FinisherRequest =
  | { readonly kind: "pass" }
  | { readonly kind: "fail"; readonly code: number }
  | { readonly kind: "reset" };

/** The test finisher device. */
export class TestFinisher implements MmioDevice {
  /** Called when the program writes a recognised command. */
  onFinish: (request: FinisherRequest) => void = () => {};

  /** MMIO read: the register reads as zero. */
  read(_offset: number, _size: AccessSize): number {
    return 0;
  }

  /** MMIO write. Unknown commands are ignored, as on QEMU. */
  write(offset: number, _size: AccessSize, value: number): void {
    if (offset !== 0) return;
    switch (value & 0xffff) {
      case 0x5555:
        this.onFinish({ kind: "pass" });
        break;
      case 0x3333:
        this.onFinish({ kind: "fail", code: (value >>> 16) & 0xffff });
        break;
      case 0x7777:
        this.onFinish({ kind: "reset" });
        break;
    }
  }
}
