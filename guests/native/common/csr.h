/*
 * csr.h — CSR access macros and the bit and cause numbers the native tests use.
 *
 * Rules of use: name the CSR as a bare assembler token (`csr_read(mstatus)`), never as a
 * string or number, so the assembler checks it. The macros are memory barriers for the
 * compiler (a CSR write can change translation or interrupt state). Only the names of
 * RV32 privileged spec 1.12 that our CPU implements appear here.
 */
#ifndef CSR_H
#define CSR_H

#include <stdint.h>

#define csr_read(csr)                                                 \
  ({                                                                  \
    uint32_t csr_value_;                                              \
    __asm__ volatile("csrr %0, " #csr : "=r"(csr_value_)::"memory"); \
    csr_value_;                                                       \
  })

#define csr_write(csr, value) \
  __asm__ volatile("csrw " #csr ", %0" ::"rK"((uint32_t)(value)) : "memory")

#define csr_set(csr, bits) \
  __asm__ volatile("csrs " #csr ", %0" ::"rK"((uint32_t)(bits)) : "memory")

#define csr_clear(csr, bits) \
  __asm__ volatile("csrc " #csr ", %0" ::"rK"((uint32_t)(bits)) : "memory")

#define csr_swap(csr, value)                                                  \
  ({                                                                          \
    uint32_t csr_old_;                                                        \
    __asm__ volatile("csrrw %0, " #csr ", %1"                                 \
                     : "=r"(csr_old_)                                         \
                     : "rK"((uint32_t)(value))                                \
                     : "memory");                                             \
    csr_old_;                                                                 \
  })

/* Privilege levels as they appear in mstatus.MPP and sstatus.SPP. */
#define PRV_U 0u
#define PRV_S 1u
#define PRV_M 3u

/* mstatus / sstatus bits. */
#define MSTATUS_SIE (1u << 1)
#define MSTATUS_MIE (1u << 3)
#define MSTATUS_SPIE (1u << 5)
#define MSTATUS_MPIE (1u << 7)
#define MSTATUS_SPP (1u << 8)
#define MSTATUS_MPP_SHIFT 11
#define MSTATUS_MPP (3u << MSTATUS_MPP_SHIFT)
#define MSTATUS_MPRV (1u << 17)
#define MSTATUS_SUM (1u << 18)
#define MSTATUS_MXR (1u << 19)
#define MSTATUS_TVM (1u << 20)
#define MSTATUS_TW (1u << 21)
#define MSTATUS_TSR (1u << 22)

/* Interrupt numbers, as bits of mip/mie/mideleg (and sip/sie). */
#define IRQ_S_SOFT 1u
#define IRQ_M_SOFT 3u
#define IRQ_S_TIMER 5u
#define IRQ_M_TIMER 7u
#define IRQ_S_EXT 9u
#define IRQ_M_EXT 11u
#define MIP_SSIP (1u << IRQ_S_SOFT)
#define MIP_MSIP (1u << IRQ_M_SOFT)
#define MIP_STIP (1u << IRQ_S_TIMER)
#define MIP_MTIP (1u << IRQ_M_TIMER)

/* mcause / scause: the interrupt flag and the exception codes. */
#define CAUSE_INTERRUPT 0x80000000u
#define CAUSE_FETCH_MISALIGNED 0u
#define CAUSE_FETCH_ACCESS 1u
#define CAUSE_ILLEGAL_INSTRUCTION 2u
#define CAUSE_BREAKPOINT 3u
#define CAUSE_LOAD_MISALIGNED 4u
#define CAUSE_LOAD_ACCESS 5u
#define CAUSE_STORE_MISALIGNED 6u
#define CAUSE_STORE_ACCESS 7u
#define CAUSE_ECALL_U 8u
#define CAUSE_ECALL_S 9u
#define CAUSE_ECALL_M 11u
#define CAUSE_FETCH_PAGE_FAULT 12u
#define CAUSE_LOAD_PAGE_FAULT 13u
#define CAUSE_STORE_PAGE_FAULT 15u

/* satp (Sv32). */
#define SATP_MODE_SV32 0x80000000u
#define SATP_PPN_MASK 0x003FFFFFu

/* misa: MXL=1 (RV32) in bits 31:30, one bit per extension letter. */
#define MISA_EXT(letter) (1u << ((letter) - 'A'))

/* Reads the 64-bit minstret from RV32's two halves, consistently across a carry. */
static inline uint64_t read_minstret64(void) {
  uint32_t hi, lo, hi2;
  do {
    hi = csr_read(minstreth);
    lo = csr_read(minstret);
    hi2 = csr_read(minstreth);
  } while (hi != hi2);
  return ((uint64_t)hi << 32) | lo;
}

#endif
