/*
 * pvops_native.c — the pv-ops of bare hardware: CSRs, plain page-table stores, `csrw satp` +
 * `sfence.vma`, and the SBI firmware's timer, console and system reset.
 *
 * Rules of use: only reached through `pv` when the SBI probe said "no hypervisor". Machine
 * frame = boot.base_mfn + pfn. Page-table frames are ordinary writable kernel pages here
 * (boot_native.c), so an mmu_update request is a store through the linear map after the same
 * range checks the hypervisor would make on the machine address.
 */
#include "boot.h"
#include "console.h"
#include "csr.h"
#include "frame.h"
#include "pvops.h"
#include "sbi.h"

static mfn_t native_pfn_to_mfn(pfn_t pfn) { return boot.base_mfn + pfn; }

/* The kernel virtual address of machine address `ma`, or NULL outside our RAM. */
static void *ma_to_va(uint32_t ma) {
  uint32_t mfn = ma >> PAGE_SHIFT;
  if (mfn < boot.base_mfn || mfn - boot.base_mfn >= boot.nr_pages) return NULL;
  return (uint8_t *)pfn_to_va(mfn - boot.base_mfn) + (ma & (PAGE_SIZE - 1));
}

static void native_console_write(const char *buf, size_t len) {
  for (size_t i = 0; i < len; i++) sbi_putchar(buf[i]);
}

static int native_mmu_update(const struct mmu_update *req, uint32_t count, uint32_t *done) {
  uint32_t i;
  int rc = 0;
  for (i = 0; i < count; i++) {
    if ((req[i].ptr >> 32) != 0 || (req[i].val >> 32) != 0) {
      rc = ERR(EINVAL);
      break;
    }
    if ((req[i].ptr & 3) != MMU_NORMAL_PT_UPDATE) {
      rc = ERR(ENOSYS);
      break;
    }
    pte_t *pte = ma_to_va((uint32_t)req[i].ptr & ~3u);
    if (pte == NULL) {
      rc = ERR(EINVAL);
      break;
    }
    *pte = (pte_t)req[i].val;
  }
  if (done != NULL) *done = i;
  return rc;
}

static void native_flush_tlb(void) { __asm__ volatile("sfence.vma" ::: "memory"); }

static void native_invlpg(uint32_t va) {
  __asm__ volatile("sfence.vma %0, zero" ::"r"(va) : "memory");
}

static int native_update_va_mapping(uint32_t va, pte_t pte, uint32_t flags) {
  uint32_t root_ma = (csr_read(satp) & 0x3FFFFFu) << PAGE_SHIFT;
  pte_t *root = ma_to_va(root_ma);
  if (root == NULL) return ERR(EINVAL);
  pte_t entry = root[va >> ROOT_SHIFT];
  if ((entry & PTE_V) == 0 || (entry & (PTE_R | PTE_W | PTE_X)) != 0) return ERR(EINVAL);
  pte_t *leaf = ma_to_va((entry >> PTE_PPN_SHIFT) << PAGE_SHIFT);
  if (leaf == NULL) return ERR(EINVAL);
  leaf[(va >> PAGE_SHIFT) & (PT_ENTRIES - 1)] = pte;
  if (flags & UVMF_TLB_FLUSH) {
    native_flush_tlb();
  } else if (flags & UVMF_INVLPG) {
    native_invlpg(va);
  }
  return 0;
}

static int native_pin_table(mfn_t mfn, uint32_t level) {
  (void)mfn;
  (void)level;
  return 0;
}

static int native_unpin_table(mfn_t mfn) {
  (void)mfn;
  return 0;
}

static int native_new_baseptr(mfn_t root) {
  csr_write(satp, SATP_SV32 | root);
  native_flush_tlb();
  return 0;
}

static uint32_t ns_per_tick(void) { return 1000000000u / boot.timebase_hz; }

static uint64_t native_system_time(void) { return rdtime64() * ns_per_tick(); }

static void native_set_timer(uint64_t deadline_ns) {
  if (deadline_ns == 0) {
    sbi_set_timer(~(uint64_t)0);
    return;
  }
  uint32_t per = ns_per_tick();
  sbi_set_timer((deadline_ns + per - 1) / per);
}

static void native_block(void) { __asm__ volatile("wfi" ::: "memory"); }

static void native_yield_cpu(void) {}

__attribute__((noreturn)) static void native_shutdown(uint32_t reason) {
  sbi_system_reset(SBI_SRST_SHUTDOWN,
                   reason == SHUTDOWN_poweroff ? SBI_SRST_REASON_NONE : SBI_SRST_REASON_FAILURE);
  /* The firmware did not stop us: there is nothing else to do. */
  for (;;) __asm__ volatile("wfi");
}

/* Frames lent to applications by alloc_frames and not yet given back. */
static uint32_t lent;

static int native_alloc_frames(mfn_t *mfns, uint32_t count) {
  uint32_t i;
  for (i = 0; i < count; i++) {
    pfn_t pfn = frame_alloc_zeroed();
    if (pfn == PFN_NONE) break;
    mfns[i] = native_pfn_to_mfn(pfn);
  }
  lent += i;
  return i == 0 && count > 0 ? ERR(ENOMEM) : (int)i;
}

static int native_free_frames(const mfn_t *mfns, uint32_t count) {
  for (uint32_t i = 0; i < count; i++) {
    if (mfns[i] < boot.base_mfn || mfns[i] - boot.base_mfn >= boot.nr_pages) return ERR(EINVAL);
    frame_free(mfns[i] - boot.base_mfn);
    lent--;
  }
  return (int)count;
}

static long native_frames_held(void) { return (long)lent; }

static int native_evtchn_send(uint32_t port) {
  (void)port;
  return ERR(ENOSYS);
}

const struct pv_ops pv_ops_native = {
    .name = "native",
    .paravirtualized = false,
    .pfn_to_mfn = native_pfn_to_mfn,
    .console_write = native_console_write,
    .mmu_update = native_mmu_update,
    .update_va_mapping = native_update_va_mapping,
    .pin_table = native_pin_table,
    .unpin_table = native_unpin_table,
    .new_baseptr = native_new_baseptr,
    .flush_tlb = native_flush_tlb,
    .invlpg = native_invlpg,
    .system_time = native_system_time,
    .set_timer = native_set_timer,
    .block = native_block,
    .yield_cpu = native_yield_cpu,
    .shutdown = native_shutdown,
    .alloc_frames = native_alloc_frames,
    .free_frames = native_free_frames,
    .frames_held = native_frames_held,
    .evtchn_send = native_evtchn_send,
};
