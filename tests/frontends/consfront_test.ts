/**
 * The guest's console frontend: with `console=ring` the kernel's output moves from console_io to
 * the console ring page named in start-info, read here by a stand-in console backend (the
 * xenconsoled side: drain `out`, feed `in`, kick the event channel); typed input reaches the
 * `echo` application through the ring. Without the switch, input comes through console_io and
 * VIRQ_CONSOLE; and a ring nobody drains makes the kernel fall back to console_io.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SHUTDOWN_poweroff } from "@paravirt/public";
import { createDoorbell } from "@paravirt/dom0";
import type { Doorbell } from "@paravirt/events";
import { createGuest, newHost, runGuests } from "./_harness.ts";

// io/console.h layout (Xen's), until @paravirt/public carries it on this branch.
const IN_SIZE = 1024;
const OUT_SIZE = 2048;
const IN_CONS = 3072;
const IN_PROD = 3076;
const OUT_CONS = 3080;
const OUT_PROD = 3084;

/** The backend half of a console ring, on the main thread. */
class StandInConsole {
  output = "";
  #words: DataView;
  #bytes: Uint8Array;
  #doorbell: Doorbell;
  #decoder = new TextDecoder();
  constructor(page: Uint8Array, doorbell: Doorbell) {
    this.#bytes = page;
    this.#words = new DataView(page.buffer, page.byteOffset, 4096);
    this.#doorbell = doorbell;
  }
  #get(at: number): number {
    return this.#words.getUint32(at, true);
  }
  #put(at: number, value: number): void {
    this.#words.setUint32(at, value >>> 0, true);
  }
  /** Drains the output ring. */
  drain(): void {
    let cons = this.#get(OUT_CONS);
    const prod = this.#get(OUT_PROD);
    if (((prod - cons) >>> 0) > OUT_SIZE) throw new Error("The guest's out_prod is corrupt");
    const bytes: number[] = [];
    while (cons !== prod) {
      bytes.push(this.#bytes[IN_SIZE + (cons & (OUT_SIZE - 1))]);
      cons = (cons + 1) >>> 0;
    }
    if (bytes.length === 0) return;
    this.#put(OUT_CONS, cons);
    this.output += this.#decoder.decode(new Uint8Array(bytes), { stream: true });
    this.#doorbell.kick(0);
  }
  /** Types `text` into the input ring. */
  type(text: string): void {
    let prod = this.#get(IN_PROD);
    for (const byte of new TextEncoder().encode(text)) {
      this.#bytes[prod & (IN_SIZE - 1)] = byte;
      prod = (prod + 1) >>> 0;
    }
    this.#put(IN_PROD, prod);
    this.#doorbell.kick(0);
  }
}

Deno.test("consfront: console=ring moves output to the ring; typed input reaches the app through it", async () => {
  const host = newHost();
  const guest = await createGuest(host, "con", "console=ring app=echo lines=2");
  const view = host.hv.foreignView(guest.domain);
  const page = new Uint8Array(view.buffer, (view.console!.mfn - view.firstFrame) * 4096, 4096);
  const doorbell = await createDoorbell(host.control);
  const port = await host.control.bindBackend(guest.domain.id, view.console!.port, doorbell, 0);
  assert.ok(port > 0);
  const console = new StandInConsole(page, doorbell);
  let typed = false;
  host.hv.unpause(guest.domain);
  await runGuests(host, [guest], {
    step: () => {
      console.drain();
      if (!typed && console.output.includes("echo: ready\n")) {
        console.type("hello ring\rsecond line\n");
        typed = true;
      }
    },
  });
  console.drain();
  await host.close();
  assert.equal(guest.domain.shutdownReason, SHUTDOWN_poweroff, guest.output() + console.output);
  // Early output went through console_io, everything after the switch through the ring.
  assert.match(guest.output(), /pvkernel: console: switching to the console ring \(port \d+\)\n$/);
  assert.match(console.output, /^pvkernel: console: on the ring\n/);
  assert.match(console.output, /echo: hello ring\necho: second line\n/);
  assert.match(console.output, /pvkernel: all 1 app\(s\) done, powering off\n$/);
  assert.doesNotMatch(guest.output(), /echo:/);
});

Deno.test("consfront: without console=ring input arrives through console_io and VIRQ_CONSOLE", async () => {
  const host = newHost();
  const guest = await createGuest(host, "con-io", "app=echo");
  let typed = false;
  host.hv.unpause(guest.domain);
  await runGuests(host, [guest], {
    step: () => {
      if (!typed && guest.output().includes("echo: ready\n")) {
        host.hv.consoleInput(guest.domain, new TextEncoder().encode("typed at xl console\nquit\n"));
        typed = true;
      }
    },
  });
  await host.close();
  assert.equal(guest.domain.shutdownReason, SHUTDOWN_poweroff, guest.output());
  assert.match(guest.output(), /echo: typed at xl console\necho: bye after 1 line\(s\)\n/);
});

Deno.test("consfront: a ring nobody drains falls back to console_io", async () => {
  const host = newHost();
  // More than the ring's 2 KiB of output: memtest prints a line per round.
  const guest = await createGuest(host, "con-stuck", "console=ring app=memtest pages=1 rounds=80");
  host.hv.unpause(guest.domain);
  await runGuests(host, [guest]);
  await host.close();
  const out = guest.output();
  assert.equal(guest.domain.shutdownReason, SHUTDOWN_poweroff, out);
  assert.match(out, /pvkernel: console ring: nobody drains the ring; back to console_io\n/);
  assert.match(out, /pvkernel: all 1 app\(s\) done, powering off\n$/);
});
