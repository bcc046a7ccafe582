import assert from "node:assert/strict";
import { Doorbell, WakeWord } from "./doorbell.ts";

Deno.test("doorbell: rings and kicks carry slots both ways, each once", async () => {
  const wake = new WakeWord();
  const hvSide = new Doorbell(wake);
  const backend = Doorbell.from(hvSide.buffer, wake.buffer);
  hvSide.ring(3);
  hvSide.ring(5);
  await backend.wait(1000);
  assert.equal(backend.takeRings(), (1 << 3) | (1 << 5));
  assert.equal(backend.takeRings(), 0);
  const before = wake.value;
  backend.kick(0);
  backend.kick(31);
  assert.equal(wake.value, before + 2);
  assert.equal(hvSide.takeKicks() >>> 0, (1 | (1 << 31)) >>> 0);
  assert.equal(hvSide.takeKicks(), 0);
  assert.throws(() => backend.kick(32), RangeError);
  assert.throws(() => hvSide.ring(-1), RangeError);
});

Deno.test("doorbell: a worker thread wakes on a ring and kicks back", async () => {
  const wake = new WakeWord();
  const bell = new Doorbell(wake);
  const module = JSON.stringify(new URL("./doorbell.ts", import.meta.url).href);
  const source = `const { Doorbell } = await import(${module});
    self.onmessage = async (e) => {
      const bell = Doorbell.from(e.data.buffer, e.data.wake);
      self.postMessage("ready");
      await bell.wait(5000);
      const rung = bell.takeRings();
      bell.kick(rung === (1 << 7) ? 1 : 2);
    };
  `;
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  const ready = new Promise((r) => worker.onmessage = r);
  worker.postMessage({ buffer: bell.buffer, wake: wake.buffer });
  await ready;
  const seen = wake.value;
  bell.ring(7);
  await wake.wait(seen, 5000);
  assert.equal(bell.takeKicks(), 1 << 1);
  worker.terminate();
  URL.revokeObjectURL(url);
});

Deno.test("doorbell: waitSync returns at once after a ring, else after its timeout", async () => {
  const wake = new WakeWord();
  const bell = new Doorbell(wake);
  const module = JSON.stringify(new URL("./doorbell.ts", import.meta.url).href);
  const source = `const { Doorbell } = await import(${module});
    self.onmessage = (e) => {
      const bell = Doorbell.from(e.data.buffer, e.data.wake);
      let t = performance.now();
      bell.waitSync(50); // nothing rang: times out
      const idle = performance.now() - t;
      self.postMessage("waiting");
      t = performance.now();
      bell.waitSync(5000); // woken by the ring
      const woken = performance.now() - t;
      self.postMessage({ idle, woken, rung: bell.takeRings() });
    };
  `;
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  const messages: unknown[] = [];
  const done = new Promise<void>((resolve) => {
    worker.onmessage = (e) => {
      messages.push(e.data);
      if (e.data === "waiting") setTimeout(() => bell.ring(4), 20);
      else resolve();
    };
  });
  worker.postMessage({ buffer: bell.buffer, wake: wake.buffer });
  await done;
  const result = messages[1] as { idle: number; woken: number; rung: number };
  assert.ok(result.idle >= 45, `timed out after ${result.idle} ms`);
  assert.ok(result.woken < 4000, `woken after ${result.woken} ms`);
  assert.equal(result.rung, 1 << 4);
  worker.terminate();
  URL.revokeObjectURL(url);
});
