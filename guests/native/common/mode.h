/*
 * mode.h — running a function in a less privileged mode and coming back.
 *
 * Rules of use: m_call_lower (from M) and s_call_lower (from S) save the caller's
 * callee-saved registers, then mret/sret into `fn(arg)` in the requested mode, on the
 * caller's stack (so the lower mode needs that memory accessible). When fn returns, a
 * trampoline does `ecall` with a7 = ECALL_MODE_RETURN and a0 = fn's result; the trap
 * handler of the calling mode must answer it with m_return / s_return(a0), which resumes
 * the caller as if the call had returned. For s_call_lower(PRV_U, ...), ecall from U must
 * be delegated to S (medeleg bit 8). The caller's mode comes back with its interrupt
 * enable (mstatus.MIE or sstatus.SIE) cleared, as any trap leaves it. Not reentrant: one
 * outstanding call per calling mode.
 */
#ifndef MODE_H
#define MODE_H

#include <stdint.h>

/* a7 value of the trampoline's ecall. */
#define ECALL_MODE_RETURN 0x4D4F4445u

typedef uint32_t (*lower_fn)(uint32_t arg);

/* From M-mode: runs fn(arg) in mode `mpp` (PRV_S or PRV_U) and returns its result. */
uint32_t m_call_lower(uint32_t mpp, lower_fn fn, uint32_t arg);

/* From S-mode: runs fn(arg) in mode `spp` (PRV_U or PRV_S) and returns its result. */
uint32_t s_call_lower(uint32_t spp, lower_fn fn, uint32_t arg);

/* From the M trap handler: resumes the pending m_call_lower, which returns `value`. */
void m_return(uint32_t value) __attribute__((noreturn));

/* From the S trap handler: resumes the pending s_call_lower, which returns `value`. */
void s_return(uint32_t value) __attribute__((noreturn));

#endif
