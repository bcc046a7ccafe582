/*
 * pvk_syscall.h — the system-call ABI between the PV kernel and its U-mode applications.
 *
 * Rules of use: an application calls `ecall` from U-mode with a7 = SYS_*, arguments in a0-a3;
 * the result comes back in a0 (and a1 for 64-bit results): zero or a positive value on success,
 * a negated Xen errno (paravirt_abi.h) on failure. Pointers are user virtual addresses; the
 * kernel checks that every byte is mapped for the user before it touches it (-EFAULT if not).
 * An application starts at its ELF entry with a0 = the kernel command line (a NUL-terminated
 * copy on its stack) and sp 16-byte aligned below it.
 */
#ifndef PVK_SYSCALL_H
#define PVK_SYSCALL_H
#include <stdint.h>

/* Write a0 = buffer, a1 = length bytes to the console; returns the length. */
#define SYS_write 1
/* End the process with status a0 (0 = success); does not return. */
#define SYS_exit 2
/* Let other threads run (or, if none wants to, other domains); returns 0. */
#define SYS_yield 3
/* Sleep for a0 (low) / a1 (high) nanoseconds; returns 0. */
#define SYS_sleep 4
/* System time in ns since boot: a0 = low word, a1 = high word. */
#define SYS_time 5
/* The process id (1, 2, ... in start order). */
#define SYS_getpid 6
/* Map a1 fresh, writable pages at a0 (page aligned, inside the heap window); returns a1. */
#define SYS_mem_map 7
/* Unmap a1 pages at a0 mapped by SYS_mem_map and give their frames back; returns a1. */
#define SYS_mem_unmap 8
/* A frame count that SYS_mem_map / SYS_mem_unmap of n pages move by exactly n (PV: the domain's
 * current reservation; native: frames lent to applications). Another process mapping at the
 * same time moves it too. */
#define SYS_mem_held 9
/* Send an event on port a0 (PV only; -ENOSYS natively). */
#define SYS_evtchn_send 10
/* Block until an event arrives on port a0, then consume it; returns 1 (PV only). */
#define SYS_evtchn_wait 11
/* Whether the kernel runs under the hypervisor: 1 (PV) or 0 (native). */
#define SYS_pv_mode 12

/* Block devices (PV only: natively -ENOSYS; -ENODEV for a device that does not exist). The
 * first call finds the vbd devices in xenstore and waits for them to connect. */
/* a0 = device index (0..), a1 = struct pvk_blk_info * to fill. */
#define SYS_blk_info 13
/* a0 = device, a1 = const struct pvk_blk_req *: queues one request and returns 0 at once; waits
 * only while all PVK_BLK_QUEUE_MAX requests of the device are in use (submitted or completed
 * and not yet reaped). The buffer's pages stay the I/O's until it is reaped: SYS_mem_unmap of
 * them answers -EBUSY meanwhile. */
#define SYS_blk_submit 14
/* a0 = device, a1 = struct pvk_blk_done *, a2 = max entries, a3 = min: waits until at least
 * min of this process's requests have completed, fills up to max; returns how many. */
#define SYS_blk_reap 15
/* Network interfaces (PV only, like the block calls). */
/* a0 = interface index, a1 = struct pvk_net_info * to fill. */
#define SYS_net_info 16
/* a0 = interface, a1 = frame, a2 = length (14..PVK_NET_FRAME_MAX): queues the frame; returns
 * the length. Waits while the transmit buffers are all in flight. */
#define SYS_net_send 17
/* a0 = interface, a1 = buffer, a2 = size, a3 = timeout in ms (0: do not wait; 0xFFFFFFFF: no
 * limit): the next received frame, truncated to size; returns its full length, -ETIMEDOUT. */
#define SYS_net_recv 18

/* a0 = buffer, a1 = size, a2 = timeout in ms (0: do not wait; 0xFFFFFFFF: no limit): typed
 * console input (the console ring with console=ring, else console_io; natively the SBI
 * console); returns the bytes read (at least 1) or -ETIMEDOUT. */
#define SYS_console_read 19

/* Block request operations (struct pvk_blk_req.op). */
#define PVK_BLK_READ 0
#define PVK_BLK_WRITE 1
#define PVK_BLK_FLUSH 2   /* no data; needs PVK_BLK_F_FLUSH */
#define PVK_BLK_BARRIER 3 /* an ordered write of at most 11 pages; needs PVK_BLK_F_BARRIER */
#define PVK_BLK_DISCARD 4 /* no buffer; needs PVK_BLK_F_DISCARD */
/* Feature bits (struct pvk_blk_info.features). */
#define PVK_BLK_F_FLUSH 1u
#define PVK_BLK_F_BARRIER 2u
#define PVK_BLK_F_DISCARD 4u
#define PVK_BLK_F_INDIRECT 8u
#define PVK_BLK_F_READONLY 16u
/* Requests a device holds at once (the ring's slots). */
#define PVK_BLK_QUEUE_MAX 32u

struct pvk_blk_info {
  uint64_t sectors;     /* disk size in 512-byte sectors */
  uint32_t sector_size; /* the backend's logical block size */
  uint32_t max_bytes;   /* largest request (11 pages, or more with indirect segments) */
  uint32_t queue_depth; /* PVK_BLK_QUEUE_MAX */
  uint32_t features;    /* PVK_BLK_F_* */
  uint32_t devid;       /* the virtual device number (xenstore device/vbd/<devid>) */
  uint32_t reconnects;  /* times the backend went away and the ring was set up again */
  uint32_t bad_responses; /* responses ignored: an id not in flight, or the wrong operation */
};

/* Data buffers are 512-byte aligned, count * 512 bytes long, and mapped for the process
 * (writable for reads). */
struct pvk_blk_req {
  uint32_t op;     /* PVK_BLK_* */
  uint32_t tag;    /* echoed in struct pvk_blk_done */
  uint64_t sector; /* first 512-byte sector */
  uint32_t count;  /* sectors (0 for a flush) */
  uint32_t buf;    /* user address of the data (0 for flush and discard) */
};

struct pvk_blk_done {
  uint32_t tag;
  int32_t status; /* 0, or -EIO (the backend failed it), -EOPNOTSUPP */
};

/* Largest frame SYS_net_send takes (more than one page travels as fragments). */
#define PVK_NET_FRAME_MAX 65535u

struct pvk_net_info {
  uint8_t mac[6];
  uint16_t pad;
  uint32_t devid;
  uint32_t features; /* 1: the backend takes multi-slot frames (feature-sg) */
  uint32_t rx_frames, tx_frames, rx_dropped, tx_errors;
};

/* User address space: everything below USER_TOP; the kernel's half starts at PV_VIRT_BASE. */
#define USER_TOP 0x80000000u
/* The window SYS_mem_map may map into. */
#define USER_HEAP_BASE 0x40000000u
#define USER_HEAP_END 0x70000000u
/* Most pages one SYS_mem_map or SYS_mem_unmap call handles. */
#define USER_MAP_MAX 256u

#endif
