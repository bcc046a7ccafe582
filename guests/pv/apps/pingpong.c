/*
 * pingpong.c — an event-channel ping-pong between two guests (PV only). The toolstack binds an
 * interdomain channel for both guests before they boot and gives each its local port:
 *   app=pingpong role=ping port=N rounds=R     (sends first, measures)
 *   app=pingpong role=pong port=M rounds=R     (answers each event)
 *
 * Rules of use: rounds default 100. An event sent before the peer waits is counted by its
 * kernel, not lost, so the two guests may start in any order. ping measures each round trip
 * with the time CSR (10 MHz, public/README.md) and prints
 *   "pingpong: role=ping rounds=R rtt_avg_ns=A rtt_min_ns=B rtt_max_ns=C"
 * Both sides end with the protocol line; the checksum is the FNV-1a hash of the round numbers,
 * the same on both sides.
 */
#include "ulib.h"

#define NS_PER_TICK 100u

int main(const char *cmdline) {
  char role[8];
  int ok_port, ok_rounds;
  uint32_t port = arg_u32(cmdline, "port", 0xFFFFFFFFu, &ok_port);
  uint32_t rounds = arg_u32(cmdline, "rounds", 100, &ok_rounds);
  if (sys_pv_mode() != 1) return app_fail("pingpong", "needs the hypervisor (event channels)");
  if (!arg_str(cmdline, "role", role, sizeof(role)) ||
      (strcmp(role, "ping") != 0 && strcmp(role, "pong") != 0)) {
    return app_fail("pingpong", "role= must be ping or pong");
  }
  if (!ok_port || port == 0xFFFFFFFFu) return app_fail("pingpong", "port= is missing or bad");
  if (!ok_rounds || rounds == 0) return app_fail("pingpong", "rounds= must be a positive number");
  int ping = strcmp(role, "ping") == 0;
  uint32_t hash = 2166136261u;
  uint64_t total = 0, min = ~0ull, max = 0;
  for (uint32_t i = 0; i < rounds; i++) {
    long rc;
    if (ping) {
      uint64_t t0 = rdtime();
      rc = sys_evtchn_send(port);
      if (rc < 0) return app_fail("pingpong", "send on port %u: error %ld", port, rc);
      rc = sys_evtchn_wait(port);
      if (rc < 0) return app_fail("pingpong", "wait on port %u: error %ld", port, rc);
      uint64_t dt = rdtime() - t0;
      total += dt;
      if (dt < min) min = dt;
      if (dt > max) max = dt;
    } else {
      rc = sys_evtchn_wait(port);
      if (rc < 0) return app_fail("pingpong", "wait on port %u: error %ld", port, rc);
      rc = sys_evtchn_send(port);
      if (rc < 0) return app_fail("pingpong", "send on port %u: error %ld", port, rc);
    }
    hash = (hash ^ i) * 16777619u;
  }
  if (ping) {
    printf("pingpong: role=ping rounds=%u rtt_avg_ns=%llu rtt_min_ns=%llu rtt_max_ns=%llu\n",
           rounds, total * NS_PER_TICK / rounds, min * NS_PER_TICK, max * NS_PER_TICK);
  } else {
    printf("pingpong: role=pong rounds=%u\n", rounds);
  }
  return app_done("pingpong", hash);
}
