/*
 * test.h — ending a native test and reporting its checks.
 *
 * Rules of use: every check has its own failure code, 1..249, unique within a program, so
 * the exit status names the check that failed (QEMU's exit status is the code; shells keep
 * only its low 8 bits). A failed check prints one line and ends the program at once.
 * 250/251 are reserved for unexpected traps (trap_default.c), 252+ for program-specific
 * fatal errors. The test device must be reachable at its physical address from the mode
 * that calls these (M, bare S/U, or identity-mapped).
 */
#ifndef TEST_H
#define TEST_H

#include <stdint.h>

#define EXIT_UNEXPECTED_M_TRAP 250u
#define EXIT_UNEXPECTED_S_TRAP 251u

/* Ends the machine: code 0 is a pass, otherwise a failure with that code (1..65535). */
void test_exit(uint32_t code) __attribute__((noreturn));

/* Prints "ok   what", or "FAIL what" and exits with `code` when `ok` is false. */
void check(uint32_t code, const char *what, int ok);

/* Like check(), comparing two 32-bit values and printing both on a mismatch. */
void check_eq(uint32_t code, const char *what, uint32_t got, uint32_t want);

#endif
