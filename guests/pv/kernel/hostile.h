/*
 * hostile.h — the hostile guest (app=hostile): a kernel-level job that breaks the PV contract
 * on purpose, one attempt at a time, and reports how the hypervisor answered.
 *
 * Rules of use: PV only (natively it prints why it cannot run and fails). Output format, one
 * line per attempt, stable for the hypervisor's tests:
 *   "hostile: <name>: rc=<n> expected=<ERRNO> ok"      the call failed with the expected error
 *   "hostile: <name>: rc=<n> expected=<ERRNO> denied"  it failed, but with another error
 *   "hostile: <name>: rc=<n> expected=<ERRNO> FAIL"    it succeeded: a hole in the hypervisor
 * For instructions that must trap (csrw satp) rc is the scause of the exception the kernel
 * caught (2 = illegal instruction) and the expected name is "trap:illegal-instruction". Then
 *   "hostile: summary attempts=N ok=A denied=D failed=F"
 *   "app hostile: done checksum=0x........"
 * Returns 0 if nothing succeeded that should have failed (F = 0), 1 otherwise.
 */
#ifndef PVK_HOSTILE_H
#define PVK_HOSTILE_H

int hostile_run(const char *name);

#endif
