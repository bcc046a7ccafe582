/*
 * echo.c — the interactive console check: reads typed lines and answers each, so a test (or a
 * person at `xl console`) can see input reach the guest and output come back.
 *
 *   app=echo [lines=N] [timeout_ms=30000]
 *
 * Rules of use: input comes through SYS_console_read (the console ring with console=ring, else
 * console_io; natively the SBI console). Each line (ended by CR or LF; empty lines skipped) is
 * answered "echo: <line>"; the app ends after the line "quit", after `lines` lines (if given), or
 * when nothing is typed for timeout_ms (a failure). The checksum is the FNV-1a hash of the lines'
 * bytes (without their ends).
 */
#include "ulib.h"

int main(const char *cmdline) {
  int ok_lines, ok_timeout;
  uint32_t max_lines = arg_u32(cmdline, "lines", 0, &ok_lines);
  uint32_t timeout_ms = arg_u32(cmdline, "timeout_ms", 30000, &ok_timeout);
  if (!ok_lines || !ok_timeout) return app_fail("echo", "a number on the command line is malformed");
  printf("echo: ready\n");
  char line[128];
  uint32_t len = 0, lines = 0;
  uint32_t hash = 2166136261u;
  for (;;) {
    char buf[64];
    long n = sys_console_read(buf, sizeof(buf), timeout_ms);
    if (n == -(long)ETIMEDOUT) return app_fail("echo", "nothing typed for %u ms", timeout_ms);
    if (n < 0) return app_fail("echo", "reading the console: error %ld", n);
    for (long i = 0; i < n; i++) {
      char c = buf[i];
      if (c != '\r' && c != '\n') {
        if (len < sizeof(line) - 1) line[len++] = c;
        continue;
      }
      if (len == 0) continue;
      line[len] = '\0';
      if (strcmp(line, "quit") == 0) {
        printf("echo: bye after %u line(s)\n", lines);
        return app_done("echo", hash);
      }
      for (uint32_t j = 0; j < len; j++) hash = (hash ^ (uint8_t)line[j]) * 16777619u;
      printf("echo: %s\n", line);
      lines++;
      len = 0;
      if (max_lines != 0 && lines == max_lines) return app_done("echo", hash);
    }
  }
}
