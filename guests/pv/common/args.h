/*
 * args.h — reading `key=value` words from a command line such as
 * "app=pingpong role=ping port=5 rounds=100".
 *
 * Rules of use: words are separated by spaces; a key matches a whole word's part before `=`.
 * The first occurrence wins. Numbers are decimal, or hex with 0x; a malformed number reads as
 * the default and arg_u32 reports it through *ok (when ok is not NULL).
 */
#ifndef PV_ARGS_H
#define PV_ARGS_H
#include <stddef.h>
#include <stdint.h>

/* Copies the value of `key` into buf (NUL-terminated); returns 1 if present, 0 if not. */
int arg_str(const char *cmdline, const char *key, char *buf, size_t size);
/* The numeric value of `key`, or `fallback` if absent; *ok = 0 if present but malformed. */
uint32_t arg_u32(const char *cmdline, const char *key, uint32_t fallback, int *ok);

#endif
