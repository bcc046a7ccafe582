import assert from "node:assert/strict";
import { XENCONS_INTERFACE } from "@paravirt/public";
import { ConsoleBack } from "./console_back.ts";

const o = XENCONS_INTERFACE.offset;

/** A guest's side of a console page at page 1 of a buffer. */
function rig(maxQueuedInput?: number) {
  const buffer = new SharedArrayBuffer(3 * 4096);
  const page = new Uint8Array(buffer, 4096, 4096);
  const words = new Int32Array(buffer, 4096, 1024);
  const output: number[] = [];
  let notified = 0;
  const back = new ConsoleBack(buffer, 4096, {
    notify: () => notified++,
    onOutput: (b) => output.push(...b),
    maxQueuedInput,
  });
  let outProd = 0;
  let inCons = 0;
  const guest = {
    write(text: string) {
      for (const byte of new TextEncoder().encode(text)) {
        page[o.out + (outProd & 2047)] = byte;
        outProd = (outProd + 1) >>> 0;
      }
      Atomics.store(words, o.out_prod / 4, outProd | 0);
    },
    read(max = Infinity): string {
      const prod = Atomics.load(words, o.in_prod / 4) >>> 0;
      const bytes = [];
      while (inCons !== prod && bytes.length < max) {
        bytes.push(page[o.in + (inCons & 1023)]);
        inCons = (inCons + 1) >>> 0;
      }
      Atomics.store(words, o.in_cons / 4, inCons | 0);
      return new TextDecoder().decode(new Uint8Array(bytes));
    },
    set(field: "out_prod" | "in_cons" | "out_cons", value: number) {
      Atomics.store(words, XENCONS_INTERFACE.offset[field] / 4, value | 0);
      if (field === "out_prod") outProd = value >>> 0;
      if (field === "in_cons") inCons = value >>> 0;
    },
    outCons: () => Atomics.load(words, o.out_cons / 4) >>> 0,
  };
  const text = () => new TextDecoder().decode(new Uint8Array(output.splice(0)));
  return { back, guest, text, notified: () => notified };
}

Deno.test("console: output is drained across the ring's wrap, and out_cons published", () => {
  const r = rig();
  r.guest.write("hello\n");
  r.back.onEvent();
  assert.equal(r.text(), "hello\n");
  assert.equal(r.guest.outCons(), 6);
  for (let i = 0; i < 10; i++) {
    const line = `line ${i} `.repeat(40); // 280+ bytes, so the ring wraps
    r.guest.write(line);
    r.back.onEvent();
    assert.equal(r.text(), line);
  }
  assert.equal(r.back.metrics.corruptOutput, 0);
});

Deno.test("console: a corrupt out_prod is skipped, and later output still flows", () => {
  const r = rig();
  r.guest.set("out_prod", 5000);
  r.back.onEvent();
  assert.equal(r.text(), "", "nothing trusted from a ring claiming 5000 bytes");
  assert.equal(r.back.metrics.corruptOutput, 1);
  r.guest.set("out_cons", 12345); // the guest scribbles on our index: ignored
  r.guest.write("ok");
  r.back.onEvent();
  assert.equal(r.text(), "ok");
});

Deno.test("console: input waits for room, and a bogus in_cons stops it harmlessly", () => {
  const r = rig(1500);
  r.back.input(new TextEncoder().encode("x".repeat(1400)));
  assert.equal(r.back.queuedInput, 1400 - 1024, "the ring holds 1024");
  assert.equal(r.back.metrics.droppedInput, 0);
  r.back.input(new TextEncoder().encode("y".repeat(1200)));
  assert.equal(r.back.metrics.droppedInput, 76, "the queue holds 1500: 376 + 1124 taken");
  assert.equal(r.guest.read(), "x".repeat(1024));
  const before = r.notified();
  r.back.onEvent(); // the guest made room and said so
  assert.ok(r.notified() > before);
  assert.equal(r.guest.read(), "x".repeat(376) + "y".repeat(648));
  r.guest.set("in_cons", 999999);
  r.back.input(new TextEncoder().encode("z"));
  assert.equal(r.back.metrics.corruptInput, 1);
});
