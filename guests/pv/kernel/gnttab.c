/*
 * gnttab.c — the grant table of gnttab.h.
 *
 * Rules of use: see gnttab.h. The free list is an array of next indices (GNTTAB_LIST_END ends
 * it); deferred revocations are a second list, retried before every grant. The flags and domid
 * of an entry share one 32-bit word (flags in the low half), which is what the compare-exchange
 * acts on: RV32's atomics are 32-bit, and the hypervisor's mapper exchanges the same word.
 */
#include "gnttab.h"

#include "console.h"
#include "hypercall.h"
#include "paging.h"
#include "pvops.h"

#define GNTTAB_LIST_END 0xFFFFu
#define IN_USE (GTF_reading | GTF_writing)

static volatile struct grant_entry_v1 *table;
static uint16_t next_of[GNTTAB_ENTRIES];
static uint32_t free_head = GNTTAB_LIST_END;
static uint32_t free_count;
static uint32_t deferred_head = GNTTAB_LIST_END;
static uint32_t deferred_count;

static inline long hyp_grant_table_op(uint32_t cmd, void *arg, uint32_t count) {
  return hypercall5(__HYPERVISOR_grant_table_op, cmd, HYPERCALL_PTR(arg), count, 0, 0);
}

int gnttab_init(void) {
  if (table != NULL) return 0;
  if (!pv->paravirtualized) return ERR(ENOSYS);
  uint64_t frames[GRANT_TABLE_MAX_FRAMES];
  struct gnttab_setup_table setup = {
      .dom = DOMID_SELF,
      .nr_frames = GRANT_TABLE_MAX_FRAMES,
      .status = 0,
      .frame_list = (uint32_t)(uintptr_t)frames,
  };
  long rc = hyp_grant_table_op(GNTTABOP_setup_table, &setup, 1);
  if (rc < 0) return (int)rc;
  if (setup.status != GNTST_okay) {
    printk("pvkernel: grant table setup refused: status %d\n", setup.status);
    return ERR(EIO);
  }
  for (uint32_t i = 0; i < GRANT_TABLE_MAX_FRAMES; i++) {
    rc = fixmap_set(FIXMAP_GNTTAB + i * PAGE_SIZE, (mfn_t)frames[i],
                    PTE_R | PTE_W | PTE_A | PTE_D | PTE_G | PTE_V);
    if (rc != 0) {
      printk("pvkernel: mapping grant frame %u (mfn 0x%x) failed: rc=%ld\n", i,
             (uint32_t)frames[i], rc);
      return (int)rc;
    }
  }
  table = (volatile struct grant_entry_v1 *)(uintptr_t)FIXMAP_GNTTAB;
  /* Entries we hand out start revoked; link them low to high. */
  free_head = GNTTAB_LIST_END;
  free_count = 0;
  for (uint32_t ref = GNTTAB_ENTRIES; ref-- > GNTTAB_RESERVED;) {
    table[ref].flags = 0;
    next_of[ref] = (uint16_t)free_head;
    free_head = ref;
    free_count++;
  }
  return 0;
}

static volatile uint32_t *entry_word(uint32_t gref) {
  return (volatile uint32_t *)(uintptr_t)&table[gref];
}

static void put_free(uint32_t gref) {
  next_of[gref] = (uint16_t)free_head;
  free_head = gref;
  free_count++;
}

int gnttab_try_end(uint32_t gref) {
  volatile uint32_t *word = entry_word(gref);
  uint32_t old = *word;
  for (;;) {
    if (old & IN_USE) return ERR(EBUSY);
    /* Clear the flags half, keep the domid half; fails if the mapper changed the word. */
    if (__atomic_compare_exchange_n(word, &old, old & 0xFFFF0000u, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST)) {
      break;
    }
  }
  put_free(gref);
  return 0;
}

static void retry_deferred(void) {
  uint32_t ref = deferred_head;
  deferred_head = GNTTAB_LIST_END;
  deferred_count = 0;
  while (ref != GNTTAB_LIST_END) {
    uint32_t next = next_of[ref];
    if (gnttab_try_end(ref) != 0) {
      next_of[ref] = (uint16_t)deferred_head;
      deferred_head = ref;
      deferred_count++;
    }
    ref = next;
  }
}

void gnttab_end(uint32_t gref) {
  if (table == NULL || gref < GNTTAB_RESERVED || gref >= GNTTAB_ENTRIES) {
    panic("gnttab_end of reference %u, which was never granted", gref);
  }
  if (gnttab_try_end(gref) == 0) return;
  next_of[gref] = (uint16_t)deferred_head;
  deferred_head = gref;
  deferred_count++;
}

int gnttab_grant(uint32_t domid, mfn_t mfn, bool readonly) {
  int rc = gnttab_init();
  if (rc != 0) return rc;
  if (deferred_head != GNTTAB_LIST_END) retry_deferred();
  if (free_head == GNTTAB_LIST_END) return ERR(ENOSPC);
  uint32_t gref = free_head;
  free_head = next_of[gref];
  free_count--;
  table[gref].frame = mfn;
  table[gref].domid = (uint16_t)domid;
  /* Publish point: the frame and domid must be visible before the flags that permit access. */
  __asm__ volatile("fence w, w" ::: "memory");
  table[gref].flags = (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0));
  return (int)gref;
}

uint32_t gnttab_free_count(void) { return free_count; }

uint32_t gnttab_deferred_count(void) { return deferred_count; }

uint32_t gnttab_flags(uint32_t gref) {
  if (table == NULL || gref >= GNTTAB_ENTRIES) return 0;
  return table[gref].flags;
}
