/*
 * csr.h — S-mode CSR access and the bits the kernel uses (privileged spec 1.12).
 *
 * Rules of use: csr_read/csr_write/csr_set/csr_clear take the CSR's assembler name. Writes to
 * satp go through the pv-ops table, never through these macros (under the hypervisor a satp
 * write traps and is emulated; the fast path is MMUEXT_NEW_BASEPTR).
 */
#ifndef PVK_CSR_H
#define PVK_CSR_H
#include <stdint.h>

#define csr_read(name)                                   \
  ({                                                     \
    uint32_t v_;                                         \
    __asm__ volatile("csrr %0, " #name : "=r"(v_));      \
    v_;                                                  \
  })
#define csr_write(name, value) __asm__ volatile("csrw " #name ", %0" ::"r"(value) : "memory")
#define csr_set(name, bits) __asm__ volatile("csrs " #name ", %0" ::"r"(bits) : "memory")
#define csr_clear(name, bits) __asm__ volatile("csrc " #name ", %0" ::"r"(bits) : "memory")

#define SSTATUS_SIE (1u << 1)
#define SSTATUS_SPIE (1u << 5)
#define SSTATUS_SPP (1u << 8)
#define SSTATUS_SUM (1u << 18)

#define SIE_SSIE (1u << 1)
#define SIE_STIE (1u << 5)
#define SIE_SEIE (1u << 9)

#define SATP_SV32 (1u << 31)

#define SCAUSE_INTERRUPT (1u << 31)
#define IRQ_S_SOFT 1
#define IRQ_S_TIMER 5
#define IRQ_S_EXT 9
#define CAUSE_MISALIGNED_FETCH 0
#define CAUSE_FETCH_ACCESS 1
#define CAUSE_ILLEGAL_INSTRUCTION 2
#define CAUSE_BREAKPOINT 3
#define CAUSE_MISALIGNED_LOAD 4
#define CAUSE_LOAD_ACCESS 5
#define CAUSE_MISALIGNED_STORE 6
#define CAUSE_STORE_ACCESS 7
#define CAUSE_USER_ECALL 8
#define CAUSE_SUPERVISOR_ECALL 9
#define CAUSE_FETCH_PAGE_FAULT 12
#define CAUSE_LOAD_PAGE_FAULT 13
#define CAUSE_STORE_PAGE_FAULT 15

/* Sv32 PTE bits. */
#define PTE_V (1u << 0)
#define PTE_R (1u << 1)
#define PTE_W (1u << 2)
#define PTE_X (1u << 3)
#define PTE_U (1u << 4)
#define PTE_G (1u << 5)
#define PTE_A (1u << 6)
#define PTE_D (1u << 7)
#define PTE_PPN_SHIFT 10

static inline uint64_t rdtime64(void) {
  uint32_t hi, lo, again;
  do {
    __asm__ volatile("rdtimeh %0" : "=r"(hi));
    __asm__ volatile("rdtime %0" : "=r"(lo));
    __asm__ volatile("rdtimeh %0" : "=r"(again));
  } while (hi != again);
  return ((uint64_t)hi << 32) | lo;
}

/* Interrupts are off in the kernel except in the idle loop (see thread.c). */
static inline void irq_disable(void) { csr_clear(sstatus, SSTATUS_SIE); }
static inline void irq_enable(void) { csr_set(sstatus, SSTATUS_SIE); }

#endif
