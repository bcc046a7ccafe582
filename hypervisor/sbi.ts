/**
 * The SBI calls a PV guest may make besides hypercalls (they arrive on the same `ecall`): base
 * (with `probe_extension`, which answers 1 for the hypercall extension — how a kernel learns it
 * is paravirtualized), timer, system reset, and the legacy console and timer calls.
 *
 * Results follow the SBI convention: `a0` = error, `a1` = value (legacy calls: `a0` only).
 *
 * @module
 */

import { IRQ_S_TIMER } from "@paravirt/cpu";
import {
  HYPERCALL_EXTENSION,
  SBI_BASE_GET_IMPL_ID,
  SBI_BASE_GET_IMPL_VERSION,
  SBI_BASE_GET_MARCHID,
  SBI_BASE_GET_MIMPID,
  SBI_BASE_GET_MVENDORID,
  SBI_BASE_GET_SPEC_VERSION,
  SBI_BASE_PROBE_EXTENSION,
  SBI_ERR_INVALID_PARAM,
  SBI_ERR_NOT_SUPPORTED,
  SBI_EXT_BASE,
  SBI_EXT_SRST,
  SBI_EXT_TIME,
  SBI_IMPL_ID_PARAVIRT,
  SBI_LEGACY_GETCHAR,
  SBI_LEGACY_PUTCHAR,
  SBI_LEGACY_SHUTDOWN,
  SHUTDOWN_crash,
  SHUTDOWN_poweroff,
  SHUTDOWN_reboot,
} from "@paravirt/public";
import { NS_PER_TICK } from "./clock.ts";
import type { Domain } from "./domain.ts";
import type { Vcpu } from "./vcpu.ts";
import type { HypercallHost } from "./hypercalls/host.ts";

/** Legacy SBI set_timer (extension 0x00). */
const SBI_LEGACY_SET_TIMER = 0x00;
/** SBI v2.0: major 2, minor 0. */
const SPEC_VERSION = 2 << 24;

/** Extensions `probe_extension` reports as present. */
const PRESENT = new Set<number>([
  SBI_EXT_BASE,
  SBI_EXT_TIME,
  SBI_EXT_SRST,
  HYPERCALL_EXTENSION,
  SBI_LEGACY_SET_TIMER,
  SBI_LEGACY_PUTCHAR,
  SBI_LEGACY_GETCHAR,
  SBI_LEGACY_SHUTDOWN,
]);

/** Arms the SBI timer of `vcpu` for `ticks` of the time CSR (clears the pending line). */
function setTimer(host: HypercallHost, vcpu: Vcpu, lo: number, hi: number): void {
  const ticks = (hi >>> 0) * 0x1_0000_0000 + (lo >>> 0);
  vcpu.hart.mipLines &= ~(1 << IRQ_S_TIMER);
  vcpu.sbiTimerDeadline = ticks >= 2 ** 52 ? Infinity : ticks * NS_PER_TICK;
  host.timersChanged(vcpu);
}

/**
 * Serves the SBI call in `vcpu`'s registers (a7 = extension, a6 = function) and writes the
 * results. Never throws on guest input.
 */
export function handleSbi(host: HypercallHost, domain: Domain, vcpu: Vcpu): void {
  const x = vcpu.hart.x;
  const extension = x[17] >>> 0;
  const fn = x[16];
  let error = 0;
  let value = 0;
  switch (extension) {
    case SBI_EXT_BASE:
      switch (fn) {
        case SBI_BASE_GET_SPEC_VERSION:
          value = SPEC_VERSION;
          break;
        case SBI_BASE_GET_IMPL_ID:
          value = SBI_IMPL_ID_PARAVIRT;
          break;
        case SBI_BASE_GET_IMPL_VERSION:
          value = 1;
          break;
        case SBI_BASE_PROBE_EXTENSION:
          value = PRESENT.has(x[10] >>> 0) ? 1 : 0;
          break;
        case SBI_BASE_GET_MVENDORID:
        case SBI_BASE_GET_MARCHID:
        case SBI_BASE_GET_MIMPID:
          value = 0;
          break;
        default:
          error = SBI_ERR_NOT_SUPPORTED;
      }
      break;
    case SBI_EXT_TIME:
      if (fn === 0) setTimer(host, vcpu, x[10], x[11]);
      else error = SBI_ERR_NOT_SUPPORTED;
      break;
    case SBI_EXT_SRST: {
      if (fn !== 0) {
        error = SBI_ERR_NOT_SUPPORTED;
        break;
      }
      const type = x[10] >>> 0;
      const reason = x[11] >>> 0;
      if (type > 2 || reason > 1) {
        error = SBI_ERR_INVALID_PARAM;
        break;
      }
      host.shutdown(
        domain,
        reason === 1 ? SHUTDOWN_crash : type === 0 ? SHUTDOWN_poweroff : SHUTDOWN_reboot,
      );
      break;
    }
    case SBI_LEGACY_SET_TIMER:
      setTimer(host, vcpu, x[10], x[11]);
      x[10] = 0;
      return;
    case SBI_LEGACY_PUTCHAR:
      domain.console.output(Uint8Array.of(x[10] & 0xff));
      x[10] = 0;
      return;
    case SBI_LEGACY_GETCHAR: {
      const bytes = domain.console.read(1);
      x[10] = bytes.length === 1 ? bytes[0] : -1;
      return;
    }
    case SBI_LEGACY_SHUTDOWN:
      host.shutdown(domain, SHUTDOWN_poweroff);
      x[10] = 0;
      return;
    default:
      error = SBI_ERR_NOT_SUPPORTED;
  }
  x[10] = error;
  x[11] = value;
}
