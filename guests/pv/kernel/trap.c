/*
 * trap.c — what happens on each trap (trap.h): interrupts go to the timer or the event upcall,
 * U-mode ecalls are system calls, other U-mode exceptions kill the process with a clear report,
 * S-mode exceptions are fatal unless the faulting instruction is a fixup site.
 *
 * Rules of use: see trap.h. After a trap from U-mode the thread yields if need_resched is set
 * (a woken thread or an expired slice), so user code is preemptible while the kernel is not.
 */
#include "trap.h"

#include "console.h"
#include "csr.h"
#include "events.h"
#include "fixup.h"
#include "process.h"
#include "pvops.h"
#include "syscall.h"
#include "thread.h"
#include "timer.h"

extern void trap_entry(void);
extern const struct fixup __fixup_start[];
extern const struct fixup __fixup_end[];

void trap_init(void) {
  csr_write(sscratch, 0);
  csr_write(stvec, (uint32_t)(uintptr_t)trap_entry);
}

const char *trap_cause_name(uint32_t cause) {
  switch (cause) {
    case CAUSE_MISALIGNED_FETCH: return "misaligned fetch";
    case CAUSE_FETCH_ACCESS: return "fetch access fault";
    case CAUSE_ILLEGAL_INSTRUCTION: return "illegal instruction";
    case CAUSE_BREAKPOINT: return "breakpoint";
    case CAUSE_MISALIGNED_LOAD: return "misaligned load";
    case CAUSE_LOAD_ACCESS: return "load access fault";
    case CAUSE_MISALIGNED_STORE: return "misaligned store";
    case CAUSE_STORE_ACCESS: return "store access fault";
    case CAUSE_USER_ECALL: return "ecall from U-mode";
    case CAUSE_SUPERVISOR_ECALL: return "ecall from S-mode";
    case CAUSE_FETCH_PAGE_FAULT: return "fetch page fault";
    case CAUSE_LOAD_PAGE_FAULT: return "load page fault";
    case CAUSE_STORE_PAGE_FAULT: return "store page fault";
    default: return "unknown exception";
  }
}

uint32_t fixup_find(uint32_t pc) {
  for (const struct fixup *f = __fixup_start; f < __fixup_end; f++) {
    if (f->insn == pc) return f->resume;
  }
  return 0;
}

static void interrupt(uint32_t irq) {
  switch (irq) {
    case IRQ_S_TIMER:
      timer_interrupt();
      break;
    case IRQ_S_EXT:
      if (!pv->paravirtualized) panic("external interrupt on the board: no device is enabled");
      events_upcall();
      break;
    case IRQ_S_SOFT:
      csr_clear(sip, 1u << IRQ_S_SOFT);
      break;
    default:
      panic("unexpected interrupt %u", irq);
  }
}

void trap_handler(struct trap_frame *tf) {
  uint32_t cause = tf->scause;
  bool from_user = (tf->sstatus & SSTATUS_SPP) == 0;
  if (cause & SCAUSE_INTERRUPT) {
    interrupt(cause & ~SCAUSE_INTERRUPT);
  } else if (from_user && cause == CAUSE_USER_ECALL) {
    tf->sepc += 4;
    syscall_dispatch(tf);
  } else if (from_user) {
    process_fault(tf);
  } else {
    uint32_t resume = fixup_find(tf->sepc);
    if (resume == 0) {
      panic("%s in the kernel: pc 0x%08x, stval 0x%08x, ra 0x%08x, sp 0x%08x (thread %s)",
            trap_cause_name(cause), tf->sepc, tf->stval, tf->regs[REG_RA], tf->regs[REG_SP],
            current != NULL ? current->name : "?");
    }
    tf->sepc = resume;
    tf->regs[REG_A0] = cause;
  }
  if (from_user && need_resched) thread_yield();
}
