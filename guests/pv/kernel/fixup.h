/*
 * fixup.h — instructions that may trap on purpose in S-mode, and where to resume if they do
 * (the exception-table idea of other kernels).
 *
 * Rules of use: only for probing privileged operations the hypervisor may refuse (the hostile
 * tests). Each probe returns the scause of the trap, or PROBE_NO_TRAP if the instruction ran.
 */
#ifndef PVK_FIXUP_H
#define PVK_FIXUP_H
#include <stdint.h>

#define PROBE_NO_TRAP 0xFFFFFFFFu

struct fixup {
  uint32_t insn;
  uint32_t resume;
};

/* csrw satp, value */
uint32_t probe_csrw_satp(uint32_t value);
/* sw value, 0(addr) */
uint32_t probe_store32(uint32_t addr, uint32_t value);

/* The resume address for a trap at `pc`, or 0 if it is not a fixup site. */
uint32_t fixup_find(uint32_t pc);

#endif
