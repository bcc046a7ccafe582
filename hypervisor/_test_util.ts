/**
 * Helpers for the hypervisor's tests: boot the probe guest with a command line, run the
 * hypervisor until a condition holds (with a wall-clock guard), and collect console output.
 *
 * @module
 */

import { Hypervisor } from "./hypervisor.ts";
import type { Domain } from "./domain.ts";
import { probeGuest } from "./probe_guest.ts";

/** A booted test domain and its console output so far. */
export interface TestDomain {
  /** The domain. */
  domain: Domain;
  /** Console output decoded so far. */
  output(): string;
}

/** Creates (paused) a probe guest running `cmdline`. */
export async function createProbe(
  hv: Hypervisor,
  name: string,
  cmdline: string,
  memoryMiB = 4,
  extra: { maxMemoryMiB?: number; weight?: number; cap?: number; vcpus?: number } = {},
): Promise<TestDomain> {
  const domain = hv.createDomain(
    { name, memoryMiB, cmdline, ...extra },
    await probeGuest(),
  );
  const decoder = new TextDecoder();
  let text = "";
  domain.console.listen((bytes) => text += decoder.decode(bytes, { stream: true }));
  return { domain, output: () => text };
}

/** Runs `hv` until `done()` holds; throws after `timeoutMs` of wall time. */
export async function runUntil(
  hv: Hypervisor,
  done: () => boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let lastYield = performance.now();
  while (!done()) {
    if (performance.now() > deadline) throw new Error("Timed out waiting for the guests");
    const seen = hv.wake.value;
    const result = hv.run(5e6);
    if (result.kind === "idle") {
      if (done()) return;
      // Sleep until the next deadline, a backend's kick, or 5 ms (outside input may come).
      const waitMs = Math.min(5, Math.max(0, (result.until - hv.clock.now()) / 1e6));
      await hv.wake.wait(seen, waitMs);
    } else if (performance.now() - lastYield > 20) {
      // Let other tasks of this thread (services on the main thread) run now and then: a
      // zero timeout costs a millisecond or two, so not after every slice.
      await new Promise((r) => setTimeout(r, 0));
      lastYield = performance.now();
    }
  }
}

/** Boots a probe guest to completion and returns its output and shutdown reason. */
export async function runProbe(
  cmdline: string,
  memoryMiB = 4,
  vcpus = 1,
): Promise<{ output: string; reason: number | undefined; hv: Hypervisor; domain: Domain }> {
  const hv = new Hypervisor();
  const probe = await createProbe(hv, "probe", cmdline, memoryMiB, { vcpus });
  hv.unpause(probe.domain);
  await runUntil(hv, () => probe.domain.shutdownReason !== undefined);
  return { output: probe.output(), reason: probe.domain.shutdownReason, hv, domain: probe.domain };
}
