/**
 * The paravirtualizing hypervisor: domains and vCPUs on the emulated RISC-V CPU, the hypercall
 * table, validated direct paging, event channels and time, the credit scheduler, and the PV
 * domain builder.
 *
 * - {@link Hypervisor}: create, pause, unpause, shut down and destroy domains; `run()` drives the
 *   loop for a time budget.
 * - {@link Domain}, {@link Vcpu}: what the toolstack reads (state, memory, CPU time, console).
 * - {@link buildPvDomain}, {@link checkKernel}, {@link BuildError}: the domain builder.
 * - {@link CreditScheduler}, the {@link Scheduler} interface and its conformance suite.
 * - {@link Pcpu}: the hypervisor hosted in a worker (a physical CPU) off the main thread, driven
 *   through async domctl/sysctl-style calls (`pcpu_protocol.ts` lists them).
 *
 * ```ts ignore
 * import { Hypervisor } from "@paravirt/hypervisor";
 * const hv = new Hypervisor();
 * const dom = hv.createDomain({ name: "hello", memoryMiB: 4 }, await Deno.readFile("kernel.elf"));
 * dom.console.listen((bytes) => Deno.stdout.writeSync(bytes));
 * hv.unpause(dom);
 * while (dom.state === "running") hv.run(10e6);
 * ```
 *
 * @module
 */

export * from "./hypervisor.ts";
export * from "./domain.ts";
export * from "./vcpu.ts";
export * from "./console.ts";
export * from "./builder.ts";
export * from "./clock.ts";
export * from "./machine_memory.ts";
export * from "./paging.ts";
export * from "./guest_memory.ts";
export * from "./layout.ts";
export * from "./params.ts";
export * from "./scheduler/scheduler.ts";
export * from "./scheduler/credit.ts";
export * from "./scheduler/conformance.ts";
export type { Hypercall, HypercallHost } from "./hypercalls/host.ts";
export { probeGuest } from "./probe_guest.ts";
export * from "./pcpu.ts";
export * from "./pcpu_protocol.ts";
