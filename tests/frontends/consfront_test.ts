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
import {
  SHUTDOWN_poweroff,
  XENCONS_IN_SIZE,
  XENCONS_INTERFACE,
  XENCONS_OUT_SIZE,
} from "@paravirt/public";
import { createDoorbell } from "@paravirt/dom0";
import type { Doorbell } from "@paravirt/events";
import { createGuest, newHost, runGuests } from "./_harness.ts";

const IN_SIZE = XENCONS_IN_SIZE;
const OUT_SIZE = XENCONS_OUT_SIZE;
const { in_cons: IN_CONS, in_prod: IN_PROD, out_cons: OUT_CONS, out_prod: OUT_PROD } =
  XENCONS_INTERFACE.offset;

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
    const bytes = new TextEncoder().encode(text);
    if (((prod - this.#get(IN_CONS)) >>> 0) + bytes.length > IN_SIZE) {
      throw new Error("The input ring has no room");
    }
    for (const byte of bytes) {
      this.#bytes[prod & (IN_SIZE - 1)] = byte;
      prod = (prod + 1) >>> 0;
    }
    this.#put(IN_PROD, prod);
    this.#doorbell.kick(0);
  }
}

async function ringConsole(cmdline: string, announce: boolean) {
  const host = newHost();
  const guest = await createGuest(host, "con", cmdline, {
    beforeConnect: (domain, home) => {
      if (!announce) return;
      // What the console device writes (libxl's nodes for a PV console).
      const back = `/local/domain/0/backend/console/${domain.id}/0`;
      host.dom0.write(`${home}/console/backend`, back);
      host.dom0.write(`${home}/console/type`, "xenconsoled");
      host.dom0.mkdir(back);
      host.dom0.setPerms(back, ["n0", `r${domain.id}`]);
      host.dom0.write(`${back}/state`, "4");
    },
  });
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
      const shown = console.output + guest.output();
      if (!typed && shown.includes("echo: ready\n")) {
        if (console.output.includes("echo: ready\n")) console.type("hello ring\rsecond line\n");
        else host.hv.consoleInput(guest.domain, new TextEncoder().encode("hello io\nquit\n"));
        typed = true;
      }
    },
  });
  console.drain();
  await host.close();
  assert.equal(guest.domain.shutdownReason, SHUTDOWN_poweroff, guest.output() + console.output);
  return { early: guest.output(), ring: console.output };
}

for (
  const [cmdline, announce] of [["console=ring", false], ["console=auto", true]] as const
) {
  Deno.test(`consfront: ${cmdline} moves output to the ring; typed input reaches the app through it`, async () => {
    const { early, ring } = await ringConsole(`${cmdline} app=echo lines=2`, announce);
    // Early output went through console_io, everything after the switch through the ring.
    assert.match(early, /pvkernel: console: switching to the console ring \(port \d+\)\n$/);
    assert.match(ring, /^pvkernel: console: on the ring\n/);
    assert.match(ring, /echo: hello ring\necho: second line\n/);
    assert.match(ring, /pvkernel: all 1 app\(s\) done, powering off\n$/);
    assert.doesNotMatch(early, /echo:/);
  });
}

Deno.test("consfront: console=auto stays on console_io when xenstore names no console backend", async () => {
  const { early, ring } = await ringConsole("console=auto app=echo", false);
  assert.equal(ring, "");
  assert.match(
    early,
    /pvkernel: console: no console backend connected in xenstore; console_io stays\n/,
  );
  assert.match(early, /echo: hello io\necho: bye after 1 line\(s\)\n/);
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
