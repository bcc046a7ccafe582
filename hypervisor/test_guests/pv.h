/* The little runtime of the hypervisor's test guests: hypercalls, console output, start-info. */
#ifndef PV_H
#define PV_H

#include <stdint.h>
#include <stddef.h>
#include "paravirt_abi.h"

static inline long hypercall(unsigned long nr, unsigned long a0, unsigned long a1,
                             unsigned long a2, unsigned long a3, unsigned long a4) {
  register unsigned long r0 asm("a0") = a0;
  register unsigned long r1 asm("a1") = a1;
  register unsigned long r2 asm("a2") = a2;
  register unsigned long r3 asm("a3") = a3;
  register unsigned long r4 asm("a4") = a4;
  register unsigned long r6 asm("a6") = nr;
  register unsigned long r7 asm("a7") = HYPERCALL_EXTENSION;
  asm volatile("ecall"
               : "+r"(r0), "+r"(r1)
               : "r"(r2), "r"(r3), "r"(r4), "r"(r6), "r"(r7)
               : "memory");
  return (long)r0;
}

struct sbiret { long error; long value; };

static inline struct sbiret sbi_call(unsigned long ext, unsigned long fid, unsigned long a0,
                                     unsigned long a1) {
  register unsigned long r0 asm("a0") = a0;
  register unsigned long r1 asm("a1") = a1;
  register unsigned long r6 asm("a6") = fid;
  register unsigned long r7 asm("a7") = ext;
  asm volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r6), "r"(r7) : "memory");
  struct sbiret ret = {(long)r0, (long)r1};
  return ret;
}

#define csr_read(name) ({ unsigned long v_; asm volatile("csrr %0, " #name : "=r"(v_)); v_; })
#define csr_write(name, v) asm volatile("csrw " #name ", %0" ::"r"(v) : "memory")
#define csr_set(name, v) asm volatile("csrs " #name ", %0" ::"r"(v) : "memory")
#define csr_clear(name, v) asm volatile("csrc " #name ", %0" ::"r"(v) : "memory")

extern struct start_info *start;
extern volatile struct shared_info *shared;
extern uint64_t main_time_ns;

void print(const char *s);
void print_dec(long v);
void print_hex(unsigned long v);
void printf_lite(const char *fmt, ...);
void shutdown(unsigned reason);
long arg_value(const char *key, long fallback);
int arg_is(const char *key, const char *value);
uint64_t system_time_ns(void);
void memset_words(void *p, uint32_t v, size_t words);

/* Traps the runtime saw: the handler counts them by cause and can skip faulting instructions. */
extern volatile unsigned long trap_count[32];
extern volatile unsigned long irq_count[16];
extern volatile unsigned long last_scause, last_stval;
extern volatile int skip_faults;
extern void (*volatile event_handler)(unsigned port);

#endif
