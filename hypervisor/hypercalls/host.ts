/**
 * What hypercall handlers may ask of the hypervisor: the narrow interface `hypervisor.ts`
 * implements, so each handler file depends on services, not on the whole hypervisor.
 *
 * @module
 */

import type { Clock } from "../clock.ts";
import type { Domain } from "../domain.ts";
import type { BlockReason, Vcpu } from "../vcpu.ts";

/** A hypercall handler: returns the value for a0 (>= 0, or a negative Xen errno). */
export type Hypercall = (
  host: HypercallHost,
  domain: Domain,
  vcpu: Vcpu,
  args: Int32Array,
) => number;

/** Services the hypervisor offers to hypercall handlers. */
export interface HypercallHost {
  /** System time. */
  readonly clock: Clock;
  /** A domain by id (guests only; undefined for dom0 and unknown ids). */
  domain(domid: number): Domain | undefined;
  /** Blocks `vcpu` (it stops running when the handler returns). */
  block(vcpu: Vcpu, reason: BlockReason): void;
  /** Brings `vcpu` up or takes it down (VCPUOP_up/down). */
  setVcpuUp(vcpu: Vcpu, up: boolean): void;
  /** Ends `vcpu`'s slice and puts it behind its peers (SCHEDOP_yield). */
  yieldVcpu(vcpu: Vcpu): void;
  /** Shuts `domain` down with `reason` (SHUTDOWN_*). */
  shutdown(domain: Domain, reason: number): void;
  /** Runs hypercall `op` with arguments `args` for `vcpu` (multicall); -ENOSYS if unknown. */
  call(domain: Domain, vcpu: Vcpu, op: number, args: Int32Array): number;
  /** Re-evaluates `vcpu`'s timers after one was set (fires one already due). */
  timersChanged(vcpu: Vcpu): void;
  /** Writes a line to the hypervisor log (`xl dmesg`). */
  log(line: string): void;
}
