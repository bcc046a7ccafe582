import assert from "node:assert/strict";
import { BackendWorker } from "./backend_worker.ts";

const url = new URL("./_probe_worker.ts", import.meta.url).href;

function start(read: string[], failures: string[] = []) {
  return new BackendWorker({
    url,
    name: "probe",
    permissions: { read },
    watchdog: { intervalMs: 20, timeoutMs: 300 },
    onFailure: (reason) => failures.push(reason),
  });
}

Deno.test("backend worker: only the listed permissions, and no prompts", async () => {
  const allowed = await Deno.makeTempFile();
  const denied = await Deno.makeTempFile();
  const worker = start([allowed]);
  try {
    await worker.call("start", worker.heartbeat);
    const result = await worker.call<Record<string, string>>("probe", { allowed, denied });
    assert.deepEqual(result, {
      readAllowed: "allowed",
      readDenied: "NotCapable",
      write: "NotCapable",
      env: "NotCapable",
      net: "NotCapable",
      run: "NotCapable",
    });
    await assert.rejects(worker.call("fail"), /RangeError: a handled failure/);
    await assert.rejects(worker.call("nonsense"), /Unknown worker request "nonsense"/);
    assert.ok(worker.alive, "handled errors do not kill the worker");
  } finally {
    worker.terminate();
    await Deno.remove(allowed);
    await Deno.remove(denied);
  }
});

Deno.test("backend worker: a stopped heartbeat is a hang; an uncaught error a crash", async () => {
  const failures: string[] = [];
  const hung = start([], failures);
  await hung.call("start", hung.heartbeat);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(failures, [], "beating: fine");
  await hung.call("stopBeating");
  const deadline = performance.now() + 5000;
  while (failures.length === 0 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.match(failures[0], /^hung: no heartbeat for \d+ ms$/);
  assert.equal(hung.alive, false);
  await assert.rejects(hung.call("probe"), /not running/);

  const crashing = start([], failures);
  await crashing.call("start", crashing.heartbeat);
  await crashing.call("crash");
  while (failures.length === 1 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.match(failures[1], /^crashed: .*boom/);
  assert.equal(failures.length, 2);
});

Deno.test("backend worker: terminate ends pending calls and reports no failure", async () => {
  const failures: string[] = [];
  const worker = start([], failures);
  const pending = worker.call("probe", { allowed: "/nonexistent", denied: "/nonexistent" });
  worker.terminate();
  await assert.rejects(pending, /terminated/);
  assert.deepEqual(failures, []);
});
