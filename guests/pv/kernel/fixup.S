/*
 * fixup.S — the probing instructions of fixup.h and their table entries (section __fixup,
 * collected between __fixup_start and __fixup_end by link.ld).
 *
 * Rules of use: a probe sets a0 = PROBE_NO_TRAP after the instruction; if the instruction traps
 * instead, trap_handler resumes at the `2:` label with a0 = scause.
 */
  .file "fixup.S"
  .section .text
  .globl probe_csrw_satp
probe_csrw_satp:
1:csrw satp, a0
  li a0, -1
2:ret
  .pushsection __fixup, "a"
  .word 1b, 2b
  .popsection

  .globl probe_store32
probe_store32:
1:sw a1, 0(a0)
  li a0, -1
2:ret
  .pushsection __fixup, "a"
  .word 1b, 2b
  .popsection
