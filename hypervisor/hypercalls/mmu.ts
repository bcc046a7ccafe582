/**
 * The paging hypercalls: `mmu_update` (validated PTE writes and M2P updates, in batches),
 * `update_va_mapping` (replace the leaf entry of one virtual address), and `mmuext_op` (pin and
 * unpin tables, switch the base pointer — the only way to change `satp` — and TLB flushes).
 *
 * Batches stop at the first failing request; `done_out` (when not 0) receives how many
 * succeeded, and the call returns that request's error.
 *
 * @module
 */

import {
  DOMID_SELF,
  EINVAL,
  ENOSYS,
  EPERM,
  MMU_BATCH_MAX,
  MMU_MACHPHYS_UPDATE,
  MMU_NORMAL_PT_UPDATE,
  MMU_PT_UPDATE_PRESERVE_AD,
  MMU_UPDATE,
  MMUEXT_INVLPG_ALL,
  MMUEXT_INVLPG_LOCAL,
  MMUEXT_NEW_BASEPTR,
  MMUEXT_OP,
  MMUEXT_PIN_L1_TABLE,
  MMUEXT_PIN_L2_TABLE,
  MMUEXT_TLB_FLUSH_ALL,
  MMUEXT_TLB_FLUSH_LOCAL,
  MMUEXT_UNPIN_TABLE,
  UVMF_ALL,
  UVMF_INVLPG,
  UVMF_TLB_FLUSH,
} from "@paravirt/public";
import { FRAME_TYPE_PT_LEAF, FRAME_TYPE_PT_ROOT, MAX_FRAMES } from "@paravirt/mmu";
import type { Domain } from "../domain.ts";
import type { Vcpu } from "../vcpu.ts";
import type { Hypercall } from "./host.ts";

/** `satp` with Sv32 selected and root `mfn` (ASID 0). */
export function satpFor(mfn: number): number {
  return (0x8000_0000 | mfn) | 0;
}

/** Switches `vcpu` to root `mfn`, which must validate as a root table. Returns 0 or -errno. */
export function setBasePointer(domain: Domain, vcpu: Vcpu, mfn: number): number {
  if (!Number.isInteger(mfn) || mfn < 0 || mfn >= MAX_FRAMES) return -EINVAL;
  const rc = domain.paging.getType(mfn, FRAME_TYPE_PT_ROOT);
  if (rc < 0) return rc;
  const old = vcpu.baseMfn;
  vcpu.baseMfn = mfn;
  vcpu.hart.setSatp(satpFor(mfn));
  if (old >= 0) domain.paging.putType(old);
  return 0;
}

function flushDomain(domain: Domain): void {
  for (const v of domain.vcpus) v.hart.mmu.flushTranslated();
}

function foreignAllowed(domain: Domain, foreign: number): boolean {
  return foreign === DOMID_SELF || foreign === domain.id;
}

/** The mmu_update hypercall. */
export const mmuUpdate: Hypercall = (_host, domain, vcpu, args) => {
  const list = args[0];
  const count = args[1] >>> 0;
  const doneOut = args[2];
  if (count > MMU_BATCH_MAX) return -EINVAL;
  if (!foreignAllowed(domain, args[3] & 0xffff)) return -EPERM;
  const guest = vcpu.guest;
  let done = 0;
  let rc = 0;
  for (; done < count; done++) {
    const at = list + done * MMU_UPDATE.size;
    const ptr = guest.u64(at + MMU_UPDATE.offset.ptr);
    const valLo = guest.u32(at + MMU_UPDATE.offset.val);
    const valHi = guest.u32(at + MMU_UPDATE.offset.val + 4);
    if (ptr < 0 || ptr >= MAX_FRAMES * 4096 || valHi !== 0) {
      rc = -EINVAL;
      break;
    }
    const command = ptr % 4;
    const address = ptr - command;
    switch (command) {
      case MMU_NORMAL_PT_UPDATE:
      case MMU_PT_UPDATE_PRESERVE_AD:
        rc = domain.paging.update(address, valLo, command === MMU_PT_UPDATE_PRESERVE_AD);
        break;
      case MMU_MACHPHYS_UPDATE: {
        const index = Math.floor(address / 4096) - domain.region.firstFrame;
        if (
          index < 0 || index >= domain.maxPages || !domain.paging.owns(address / 4096 | 0) ||
          valLo < 0 || valLo >= domain.maxPages
        ) {
          rc = -EINVAL;
        } else {
          domain.m2p[index] = valLo;
        }
        break;
      }
      default:
        rc = -ENOSYS;
    }
    if (rc < 0) break;
  }
  if (doneOut !== 0) guest.setU32(doneOut, done);
  return rc;
};

/** The update_va_mapping hypercall: (va, pte low, pte high, flags). */
export const updateVaMapping: Hypercall = (_host, domain, vcpu, args) => {
  const va = args[0];
  const flags = args[3];
  if (args[2] !== 0 || (flags & ~7) !== 0 || (flags & 3) === 3) return -EINVAL;
  if (vcpu.baseMfn < 0) return -EINVAL;
  const address = domain.paging.leafEntryAddress(vcpu.baseMfn, va);
  if (address < 0) return address;
  const rc = domain.paging.update(address, args[1], false);
  if (rc < 0) return rc;
  if ((flags & (UVMF_TLB_FLUSH | UVMF_INVLPG)) !== 0) {
    if ((flags & UVMF_ALL) !== 0) flushDomain(domain);
    else vcpu.hart.mmu.flushTranslated();
  }
  return 0;
};

/** The mmuext_op hypercall: (ops, count, done_out, foreigndom). */
export const mmuextOp: Hypercall = (_host, domain, vcpu, args) => {
  const list = args[0];
  const count = args[1] >>> 0;
  const doneOut = args[2];
  if (count > MMU_BATCH_MAX) return -EINVAL;
  if (!foreignAllowed(domain, args[3] & 0xffff)) return -EPERM;
  const guest = vcpu.guest;
  const paging = domain.paging;
  let done = 0;
  let rc = 0;
  for (; done < count; done++) {
    const at = list + done * MMUEXT_OP.size;
    const command = guest.u32(at + MMUEXT_OP.offset.cmd);
    const arg1 = guest.u64(at + MMUEXT_OP.offset.arg1);
    const frameOk = arg1 >= 0 && arg1 < MAX_FRAMES;
    switch (command) {
      case MMUEXT_PIN_L1_TABLE:
        rc = frameOk ? paging.pin(arg1, FRAME_TYPE_PT_LEAF) : -EINVAL;
        break;
      case MMUEXT_PIN_L2_TABLE:
        rc = frameOk ? paging.pin(arg1, FRAME_TYPE_PT_ROOT) : -EINVAL;
        break;
      case MMUEXT_UNPIN_TABLE:
        rc = frameOk ? paging.unpin(arg1) : -EINVAL;
        break;
      case MMUEXT_NEW_BASEPTR:
        rc = frameOk ? setBasePointer(domain, vcpu, arg1) : -EINVAL;
        break;
      case MMUEXT_TLB_FLUSH_LOCAL:
      case MMUEXT_INVLPG_LOCAL:
        vcpu.hart.mmu.flushTranslated();
        break;
      case MMUEXT_TLB_FLUSH_ALL:
      case MMUEXT_INVLPG_ALL:
        flushDomain(domain);
        break;
      default:
        rc = -ENOSYS;
    }
    if (rc < 0) break;
  }
  if (doneOut !== 0) guest.setU32(doneOut, done);
  return rc;
};
