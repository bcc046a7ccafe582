/*
 * syscall.c — the system calls (pvk_syscall.h).
 *
 * Rules of use: see pvk_syscall.h. Every user pointer is checked with user_range_ok before the
 * kernel touches it, and user data is copied into a kernel buffer before it goes to the
 * hypervisor, so a hypercall never carries a user address.
 */
#include "syscall.h"

#include "blkfront.h"
#include "console.h"
#include "events.h"
#include "netfront.h"
#include "process.h"
#include "pvk_syscall.h"
#include "pvops.h"
#include "string.h"
#include "timer.h"

static int sys_write(struct process *p, uint32_t buf, uint32_t len) {
  if (!user_range_ok(p, buf, len, false)) return ERR(EFAULT);
  char chunk[256];
  for (uint32_t done = 0; done < len;) {
    uint32_t n = len - done > sizeof(chunk) ? sizeof(chunk) : len - done;
    const char *src = (const char *)(uintptr_t)(buf + done);
    for (uint32_t i = 0; i < n; i++) chunk[i] = src[i];
    console_write(chunk, n);
    done += n;
  }
  return (int)len;
}

/* Checks a heap range [va, va + n pages) for SYS_mem_map / SYS_mem_unmap. */
static bool heap_range_ok(uint32_t va, uint32_t n) {
  if ((va & (PAGE_SIZE - 1)) != 0 || n == 0 || n > USER_MAP_MAX) return false;
  return va >= USER_HEAP_BASE && va < USER_HEAP_END &&
         n <= (USER_HEAP_END - va) / PAGE_SIZE;
}

static int sys_mem_map(struct process *p, uint32_t va, uint32_t n) {
  if (!heap_range_ok(va, n)) return ERR(EINVAL);
  for (uint32_t i = 0; i < n; i++) {
    if (as_lookup(&p->as, va + i * PAGE_SIZE) != 0) return ERR(EEXIST);
  }
  mfn_t mfns[USER_MAP_MAX];
  int got = pv->alloc_frames(mfns, n);
  if (got < 0) return got;
  if ((uint32_t)got < n) {
    pv->free_frames(mfns, (uint32_t)got);
    return ERR(ENOMEM);
  }
  for (uint32_t i = 0; i < n; i++) {
    int rc = as_map(&p->as, va + i * PAGE_SIZE, mfns[i], PTE_USER | PTE_W);
    if (rc != 0) {
      /* Only leaf-table allocation can fail here: undo what was mapped. */
      for (uint32_t j = 0; j < i; j++) as_unmap(&p->as, va + j * PAGE_SIZE);
      pt_commit();
      pv->flush_tlb();
      pv->free_frames(mfns, n);
      return rc;
    }
  }
  pt_commit();
  return (int)n;
}

static int sys_mem_unmap(struct process *p, uint32_t va, uint32_t n) {
  if (!heap_range_ok(va, n)) return ERR(EINVAL);
  for (uint32_t i = 0; i < n; i++) {
    pte_t pte = as_lookup(&p->as, va + i * PAGE_SIZE);
    if ((pte & PTE_V) == 0) return ERR(EINVAL);
    /* A page a block request still reads or writes stays until the request completes. */
    if (blkfront_frame_busy(pte >> PTE_PPN_SHIFT)) return ERR(EBUSY);
  }
  mfn_t mfns[USER_MAP_MAX];
  for (uint32_t i = 0; i < n; i++) mfns[i] = as_unmap(&p->as, va + i * PAGE_SIZE) >> PTE_PPN_SHIFT;
  pt_commit();
  pv->flush_tlb();
  int rc = pv->free_frames(mfns, n);
  if (rc != (int)n) printk("pvkernel: giving back %u frames returned %d\n", n, rc);
  return rc;
}

static int sys_evtchn_wait(uint32_t port) {
  if (!pv->paravirtualized) return ERR(ENOSYS);
  return evtchn_wait(port);
}

static int sys_blk_info(struct process *p, uint32_t dev, uint32_t out) {
  if (!user_range_ok(p, out, sizeof(struct pvk_blk_info), true)) return ERR(EFAULT);
  int rc;
  struct blkfront *d = blkfront_get(dev, &rc);
  if (d == NULL) return rc;
  struct pvk_blk_info info;
  blkfront_info(d, &info);
  memcpy((void *)(uintptr_t)out, &info, sizeof(info));
  return 0;
}

static int sys_blk_submit(struct process *p, uint32_t dev, uint32_t req_va) {
  if (!user_range_ok(p, req_va, sizeof(struct pvk_blk_req), false)) return ERR(EFAULT);
  int rc;
  struct blkfront *d = blkfront_get(dev, &rc);
  if (d == NULL) return rc;
  struct pvk_blk_req req;
  memcpy(&req, (const void *)(uintptr_t)req_va, sizeof(req));
  return blkfront_submit(d, p, &req);
}

static int sys_blk_reap(struct process *p, uint32_t dev, uint32_t out, uint32_t max,
                        uint32_t min) {
  if (max > PVK_BLK_QUEUE_MAX) max = PVK_BLK_QUEUE_MAX;
  if (!user_range_ok(p, out, max * sizeof(struct pvk_blk_done), true)) return ERR(EFAULT);
  int rc;
  struct blkfront *d = blkfront_get(dev, &rc);
  if (d == NULL) return rc;
  struct pvk_blk_done done[PVK_BLK_QUEUE_MAX];
  int n = blkfront_reap(d, p, done, max, min);
  if (n > 0) memcpy((void *)(uintptr_t)out, done, (uint32_t)n * sizeof(done[0]));
  return n;
}

static int sys_net_info(struct process *p, uint32_t dev, uint32_t out) {
  if (!user_range_ok(p, out, sizeof(struct pvk_net_info), true)) return ERR(EFAULT);
  int rc;
  struct netfront *d = netfront_get(dev, &rc);
  if (d == NULL) return rc;
  struct pvk_net_info info;
  netfront_info(d, &info);
  memcpy((void *)(uintptr_t)out, &info, sizeof(info));
  return 0;
}

static int sys_net_send(struct process *p, uint32_t dev, uint32_t buf, uint32_t len) {
  int rc;
  struct netfront *d = netfront_get(dev, &rc);
  if (d == NULL) return rc;
  return netfront_send(d, p, buf, len);
}

static int sys_net_recv(struct process *p, uint32_t dev, uint32_t buf, uint32_t size,
                        uint32_t timeout_ms) {
  int rc;
  struct netfront *d = netfront_get(dev, &rc);
  if (d == NULL) return rc;
  return netfront_recv(d, p, buf, size, timeout_ms);
}

static int sys_console_read(struct process *p, uint32_t buf, uint32_t size, uint32_t timeout_ms) {
  if (size == 0) return 0;
  if (!user_range_ok(p, buf, size, true)) return ERR(EFAULT);
  uint64_t deadline = timeout_ms == 0xFFFFFFFFu ? 0 : now_ns() + (uint64_t)timeout_ms * 1000000u;
  char chunk[256];
  for (;;) {
    uint32_t n = console_read(chunk, size < sizeof(chunk) ? size : (uint32_t)sizeof(chunk));
    if (n > 0) {
      memcpy((void *)(uintptr_t)buf, chunk, n);
      return (int)n;
    }
    if (timeout_ms == 0 || (deadline != 0 && now_ns() >= deadline)) return ERR(ETIMEDOUT);
    console_wait_input(deadline);
  }
}

void syscall_dispatch(struct trap_frame *tf) {
  struct process *p = current->proc;
  uint32_t a0 = tf->regs[REG_A0];
  uint32_t a1 = tf->regs[REG_A1];
  uint32_t a2 = tf->regs[REG_A2];
  uint32_t a3 = tf->regs[REG_A3];
  int32_t rc;
  switch (tf->regs[REG_A7]) {
    case SYS_write:
      rc = sys_write(p, a0, a1);
      break;
    case SYS_exit:
      process_exit(p, (int)a0);
    case SYS_yield:
      /* Nobody else here wants the CPU: offer it to the other domains. */
      if (thread_others_runnable()) {
        thread_yield();
      } else {
        pv->yield_cpu();
      }
      rc = 0;
      break;
    case SYS_sleep: {
      uint64_t now = now_ns();
      uint64_t until = now + (((uint64_t)a1 << 32) | a0);
      thread_sleep_until(until < now ? ~0ull : until);
      rc = 0;
      break;
    }
    case SYS_time: {
      uint64_t now = now_ns();
      tf->regs[REG_A1] = (uint32_t)(now >> 32);
      rc = (int32_t)(uint32_t)now;
      break;
    }
    case SYS_getpid:
      rc = (int32_t)p->pid;
      break;
    case SYS_mem_map:
      rc = sys_mem_map(p, a0, a1);
      break;
    case SYS_mem_unmap:
      rc = sys_mem_unmap(p, a0, a1);
      break;
    case SYS_mem_held:
      rc = (int32_t)pv->frames_held();
      break;
    case SYS_evtchn_send:
      rc = pv->evtchn_send(a0);
      break;
    case SYS_evtchn_wait:
      rc = sys_evtchn_wait(a0);
      break;
    case SYS_blk_info:
      rc = sys_blk_info(p, a0, a1);
      break;
    case SYS_blk_submit:
      rc = sys_blk_submit(p, a0, a1);
      break;
    case SYS_blk_reap:
      rc = sys_blk_reap(p, a0, a1, a2, a3);
      break;
    case SYS_net_info:
      rc = sys_net_info(p, a0, a1);
      break;
    case SYS_net_send:
      rc = sys_net_send(p, a0, a1, a2);
      break;
    case SYS_net_recv:
      rc = sys_net_recv(p, a0, a1, a2, a3);
      break;
    case SYS_console_read:
      rc = sys_console_read(p, a0, a1, a2);
      break;
    case SYS_pv_mode:
      rc = pv->paravirtualized ? 1 : 0;
      break;
    default:
      rc = ERR(ENOSYS);
      break;
  }
  tf->regs[REG_A0] = (uint32_t)rc;
}
