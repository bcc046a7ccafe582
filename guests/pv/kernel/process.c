/*
 * process.c — user processes (process.h).
 *
 * Rules of use: see process.h. Image pages are mapped with the permissions of their segment
 * (R, W, X from the ELF flags, always U); a page shared by two segments is refused. The command
 * line is copied to the top of the user stack.
 */
#include "process.h"

#include "apps.h"
#include "blkfront.h"
#include "console.h"
#include "csr.h"
#include "elf.h"
#include "frame.h"
#include "pvk_syscall.h"
#include "pvops.h"
#include "string.h"

_Static_assert(sizeof(struct process) <= PAGE_SIZE, "a process fits one frame");

static uint32_t next_pid = 1;

static void process_start(void *arg);

static int own(struct process *p, pfn_t pfn) {
  if (p->n_owned == PROC_MAX_OWNED) return ERR(E2BIG);
  p->owned[p->n_owned++] = pfn;
  return 0;
}

/* Maps one fresh zeroed frame at va; returns its kernel address or NULL. */
static uint8_t *map_new_page(struct process *p, uint32_t va, pte_t flags, int *rc) {
  if (as_lookup(&p->as, va) != 0) {
    *rc = ERR(EINVAL);
    return NULL;
  }
  pfn_t pfn = frame_alloc_zeroed();
  if (pfn == PFN_NONE) {
    *rc = ERR(ENOMEM);
    return NULL;
  }
  *rc = own(p, pfn);
  if (*rc == 0) *rc = as_map(&p->as, va, pv->pfn_to_mfn(pfn), flags);
  if (*rc != 0) {
    if (p->n_owned > 0 && p->owned[p->n_owned - 1] == pfn) p->n_owned--;
    frame_free(pfn);
    return NULL;
  }
  return pfn_to_va(pfn);
}

static int load_image(struct process *p, const uint8_t *image, uint32_t size) {
  struct elf_image elf;
  int rc = elf_check(image, size, USER_TOP - USER_STACK_PAGES * PAGE_SIZE, &elf);
  if (rc != 0) return rc;
  p->entry = elf.entry;
  for (uint32_t i = 0; i < elf.count; i++) {
    const struct elf_segment *s = &elf.seg[i];
    pte_t flags = PTE_USER;
    if (s->flags & 2) flags |= PTE_W;
    if (s->flags & 1) flags |= PTE_X;
    uint32_t first = s->vaddr & ~(PAGE_SIZE - 1);
    uint32_t end = ALIGN_UP(s->vaddr + s->memsz, PAGE_SIZE);
    for (uint32_t va = first; va < end; va += PAGE_SIZE) {
      uint8_t *page = map_new_page(p, va, flags, &rc);
      if (page == NULL) return rc;
      /* The part of the file that lands in this page. */
      uint32_t lo = va > s->vaddr ? va : s->vaddr;
      uint32_t hi = va + PAGE_SIZE < s->vaddr + s->filesz ? va + PAGE_SIZE : s->vaddr + s->filesz;
      if (lo < hi) memcpy(page + (lo - va), image + s->offset + (lo - s->vaddr), hi - lo);
    }
  }
  return 0;
}

static int setup_stack(struct process *p, const char *cmdline) {
  int rc = 0;
  uint8_t *top_page = NULL;
  for (uint32_t i = 1; i <= USER_STACK_PAGES; i++) {
    uint8_t *page = map_new_page(p, USER_TOP - i * PAGE_SIZE, PTE_USER | PTE_W, &rc);
    if (page == NULL) return rc;
    if (i == 1) top_page = page;
  }
  uint32_t len = (uint32_t)strlen(cmdline) + 1;
  if (len > PAGE_SIZE / 2) return ERR(E2BIG);
  uint32_t at = PAGE_SIZE - ALIGN_UP(len, 16u);
  memcpy(top_page + at, cmdline, len);
  p->cmdline_va = USER_TOP - PAGE_SIZE + at;
  p->user_sp = p->cmdline_va & ~15u;
  return 0;
}

static void free_owned(struct process *p) {
  for (uint32_t i = 0; i < p->n_owned; i++) frame_free(p->owned[i]);
  p->n_owned = 0;
}

int process_create(const char *name, const uint8_t *image, uint32_t size, const char *cmdline,
                   struct job *job) {
  pfn_t pfn = frame_alloc_zeroed();
  if (pfn == PFN_NONE) return ERR(ENOMEM);
  struct process *p = pfn_to_va(pfn);
  p->pid = next_pid++;
  strlcpy(p->name, name, sizeof(p->name));
  p->job = job;
  int rc = as_create(&p->as);
  if (rc == 0) rc = load_image(p, image, size);
  if (rc == 0) rc = setup_stack(p, cmdline);
  pt_commit();
  if (rc == 0) {
    p->thread = thread_create(name, process_start, p, p);
    if (p->thread == NULL) rc = ERR(ENOMEM);
  }
  if (rc != 0) {
    if (p->as.root_pfn != PFN_NONE && p->as.root_mfn != 0) as_destroy(&p->as);
    free_owned(p);
    frame_free(pfn);
    return rc;
  }
  return (int)p->pid;
}

/* The process's thread starts here, in the kernel, on its own stack; it enters U-mode. */
static void process_start(void *arg) {
  struct process *p = arg;
  struct trap_frame *tf =
      (struct trap_frame *)(uintptr_t)(thread_stack_top(p->thread) - TRAP_FRAME_SIZE);
  memset(tf, 0, sizeof(*tf));
  tf->sepc = p->entry;
  tf->regs[REG_SP] = p->user_sp;
  tf->regs[REG_A0] = p->cmdline_va;
  tf->sstatus = (csr_read(sstatus) & ~(SSTATUS_SPP | SSTATUS_SIE)) | SSTATUS_SPIE;
  trap_return_to(tf);
}

bool user_range_ok(const struct process *p, uint32_t va, uint32_t len, bool write) {
  if (len == 0) return true;
  uint32_t last = va + len - 1;
  if (last < va || last >= USER_TOP) return false;
  for (uint32_t page = va & ~(PAGE_SIZE - 1); page <= last; page += PAGE_SIZE) {
    pte_t pte = as_lookup(&p->as, page);
    if ((pte & (PTE_V | PTE_U | PTE_R)) != (PTE_V | PTE_U | PTE_R)) return false;
    if (write && (pte & PTE_W) == 0) return false;
    if (page + PAGE_SIZE == 0) break;
  }
  return true;
}

/* Unmaps whatever SYS_mem_map left in the heap window and gives the frames back. */
static void release_heap(struct process *p) {
  mfn_t mfns[64];
  uint32_t n = 0;
  for (uint32_t va = USER_HEAP_BASE; va < USER_HEAP_END; va += PAGE_SIZE) {
    if (p->as.leaf_pfn[va >> ROOT_SHIFT] == PFN_NONE) {
      va = ((va >> ROOT_SHIFT) + 1) << ROOT_SHIFT;
      va -= PAGE_SIZE;
      continue;
    }
    pte_t pte = as_unmap(&p->as, va);
    if (pte & PTE_V) mfns[n++] = pte >> PTE_PPN_SHIFT;
    if (n == ARRAY_SIZE(mfns)) {
      pt_commit();
      pv->flush_tlb();
      int rc = pv->free_frames(mfns, n);
      if (rc != (int)n) printk("pvkernel: giving back %u heap frames returned %d\n", n, rc);
      n = 0;
    }
  }
  if (n > 0) {
    pt_commit();
    pv->flush_tlb();
    int rc = pv->free_frames(mfns, n);
    if (rc != (int)n) printk("pvkernel: giving back %u heap frames returned %d\n", n, rc);
  }
}

void process_exit(struct process *p, int status) {
  /* Block requests still read or write its pages: they finish first. */
  blkfront_process_exit(p);
  as_switch(NULL);
  release_heap(p);
  as_destroy(&p->as);
  free_owned(p);
  current->proc = NULL;
  struct job *job = p->job;
  uint32_t pid = p->pid;
  frame_free(va_to_pfn(p));
  job_finished(job, pid, status);
  thread_exit();
}

void process_fault(struct trap_frame *tf) {
  struct process *p = current->proc;
  if (p == NULL) panic("U-mode trap without a process");
  uint32_t cause = tf->scause;
  printk("pvkernel: pid %u (%s): %s at 0x%08x, pc 0x%08x - killed\n", p->pid, p->name,
         trap_cause_name(cause), tf->stval, tf->sepc);
  process_exit(p, (int)(0x100 | cause));
}
