import assert from "node:assert/strict";
import { join } from "node:path";
import { probeGuest } from "@paravirt/hypervisor";
import { parseConfig } from "./config.ts";
import { Toolstack } from "./toolstack.ts";
import { ToolstackServer } from "./server.ts";
import { DaemonNotRunningError, XlClient, XlRequestError } from "./client.ts";
import { fromBase64, LineReader, toBase64 } from "./protocol.ts";

async function withServer(
  body: (socket: string, server: ToolstackServer) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "xl-server-" });
  const socket = join(dir, "xl.sock");
  const listener = Deno.listen({ transport: "unix", path: socket });
  const server = new ToolstackServer(new Toolstack(), listener, { socket });
  try {
    await body(socket, server);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A raw client: write bytes, read lines. */
async function raw(socket: string) {
  const conn = await Deno.connect({ transport: "unix", path: socket });
  const reader = new LineReader();
  const lines: string[] = [];
  const pump = (async () => {
    try {
      for await (const chunk of conn.readable) lines.push(...reader.push(chunk));
    } catch {
      // Closed.
    }
  })();
  return {
    async send(text: string) {
      const bytes = new TextEncoder().encode(text);
      for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
    },
    async line(): Promise<string> {
      const deadline = Date.now() + 10_000;
      while (lines.length === 0) {
        if (Date.now() > deadline) throw new Error("No line");
        await new Promise((r) => setTimeout(r, 5));
      }
      return lines.shift()!;
    },
    closed: pump,
    close: () => conn.close(),
  };
}

const CONFIG = (name: string, cmdline: string) =>
  parseConfig(
    `name = "${name}"\nmemory = 4\nkernel = "p.elf"\ncmdline = "${cmdline}"\non_poweroff = "preserve"\n`,
    "/t/g.cfg",
  ).config;

Deno.test("server: requests and responses through the client", async () => {
  await withServer(async (socket) => {
    const client = await XlClient.connect(socket);
    try {
      const created = await client.request({
        op: "create",
        config: CONFIG("hello", "test=hello"),
        kernel: toBase64(await probeGuest()),
      });
      assert.equal(created.name, "hello");
      const session = await (await XlClient.connect(socket)).console("hello");
      let text = "";
      let end = "";
      for await (const event of session.events) {
        if (event.event === "output") text += new TextDecoder().decode(fromBase64(event.data));
        else end = event.why;
      }
      assert.equal(end, "shutdown");
      assert.match(text, /hello from a PV test guest[\s\S]*result: 0 failed/);
      const { domains, dom0 } = await client.request({ op: "list" });
      assert.equal(domains.length, 1);
      assert.equal(dom0.pid, Deno.pid);
      await assert.rejects(
        client.request({ op: "destroy", domain: "nobody" }),
        (e: Error) => e instanceof XlRequestError && e.message === 'Domain "nobody" does not exist',
      );
      await assert.rejects(
        client.request({
          op: "create",
          config: CONFIG("bad", ""),
          kernel: toBase64(new Uint8Array(64)),
        }),
        /Kernel image/,
      );
      await assert.rejects(
        client.request({ op: "sched-credit", weight: 5 }),
        /needs a domain/,
      );
      await client.request({ op: "destroy", domain: "hello" });
      assert.deepEqual((await client.request({ op: "list" })).domains, []);
    } finally {
      client.close();
    }
  });
});

Deno.test("server: hostile clients get errors or are cut off; others are served", async () => {
  await withServer(async (socket) => {
    const bad = await raw(socket);
    await bad.send("this is not json\n");
    assert.match(JSON.parse(await bad.line()).error, /Malformed request/);
    await bad.send('{"op":"destroy","domain":7}\n');
    assert.match(JSON.parse(await bad.line()).error, /needs domain as a string/);
    await bad.send('{"op":"input","data":"aGk="}\n');
    assert.match(JSON.parse(await bad.line()).error, /only valid on a console stream/);
    await bad.send('[1,2,3]\n{"op":"list"}\n');
    assert.match(JSON.parse(await bad.line()).error, /JSON object/);
    assert.equal(JSON.parse(await bad.line()).ok, true, "the connection still works");
    await bad.send('{"op":"console","domain":"nobody"}\n');
    assert.match(JSON.parse(await bad.line()).error, /does not exist/);

    // A line without an end, beyond the limit, gets the connection closed.
    const flood = await raw(socket);
    const chunk = "x".repeat(1 << 20);
    try {
      for (let i = 0; i < 60; i++) await flood.send(chunk);
    } catch {
      // The daemon hung up mid-flood.
    }
    await flood.closed;

    const good = await XlClient.connect(socket);
    assert.deepEqual((await good.request({ op: "list" })).domains, []);
    good.close();
    bad.close();
  });
});

Deno.test("server: stop ends console streams and closes the socket", async () => {
  const dir = await Deno.makeTempDir({ prefix: "xl-server-" });
  const socket = join(dir, "xl.sock");
  try {
    const server = new ToolstackServer(
      new Toolstack(),
      Deno.listen({ transport: "unix", path: socket }),
      { socket },
    );
    const client = await XlClient.connect(socket);
    await client.request({
      op: "create",
      config: CONFIG("spin", "test=spin n=2000000000"),
      kernel: toBase64(await probeGuest()),
    });
    const session = await (await XlClient.connect(socket)).console("spin");
    const ends: string[] = [];
    const watching = (async () => {
      for await (const event of session.events) if (event.event === "end") ends.push(event.why);
    })();
    await client.request({ op: "stop" });
    await server.stopped;
    await watching;
    assert.deepEqual(ends, ["stopped"]);
    await assert.rejects(XlClient.connect(socket), DaemonNotRunningError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
