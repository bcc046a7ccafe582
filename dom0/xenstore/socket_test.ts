import assert from "node:assert/strict";
import { join } from "node:path";
import {
  XENSTORE_PAYLOAD_MAX,
  XS_ERROR,
  XS_READ,
  XS_WATCH,
  XS_WATCH_EVENT,
  XS_WRITE,
} from "@paravirt/public";
import { mulberry32, randomPayload } from "./_random.ts";
import { LocalClient } from "./client.ts";
import { Xenstored } from "./daemon.ts";
import { serveUnixSocket, type UnixSocketOptions } from "./socket.ts";
import { encodeMessage, joinStrings, type Message, MessageAssembler } from "./wire.ts";

const text = new TextDecoder();

/** A raw protocol client on a Unix socket. */
class RawClient {
  readonly received: Message[] = [];
  closed = false;
  #socket: Deno.UnixConn;
  #reading: Promise<void>;
  #waiters: (() => void)[] = [];

  private constructor(socket: Deno.UnixConn) {
    this.#socket = socket;
    this.#reading = this.#read();
  }

  static async connect(path: string): Promise<RawClient> {
    return new RawClient(await Deno.connect({ transport: "unix", path }));
  }

  async send(bytes: Uint8Array): Promise<void> {
    for (let at = 0; at < bytes.length;) at += await this.#socket.write(bytes.subarray(at));
  }

  /** Waits until `predicate` holds on what was received, or the socket closes. */
  async until(predicate: (received: Message[]) => boolean, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!predicate(this.received) && !this.closed) {
      if (Date.now() > deadline) throw new Error("timed out");
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async close(): Promise<void> {
    try {
      this.#socket.close();
    } catch { /* closed by the server */ }
    await this.#reading;
  }

  async #read(): Promise<void> {
    const assembler = new MessageAssembler();
    const buffer = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await this.#socket.read(buffer);
        if (n === null) break;
        assembler.push(buffer.subarray(0, n), (m) => this.received.push(m));
        for (const wake of this.#waiters.splice(0)) wake();
      }
    } catch { /* closed */ }
    this.closed = true;
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

async function withServer(
  body: (daemon: Xenstored, path: string) => Promise<void>,
  options?: UnixSocketOptions,
) {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "socket");
  const daemon = new Xenstored();
  const server = serveUnixSocket(daemon, path, options);
  try {
    await body(daemon, path);
  } finally {
    await server.close();
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound, "close removes the socket");
    await Deno.remove(dir, { recursive: true });
  }
}

const writeRequest = (reqId: number, path: string, value: string) =>
  encodeMessage(
    XS_WRITE,
    reqId,
    0,
    new Uint8Array([...joinStrings([path]), ...value].map(
      (c) => typeof c === "number" ? c : c.charCodeAt(0),
    )),
  );

Deno.test("socket clients are dom0: pipelined and byte-by-byte requests, in order", async () => {
  await withServer(async (daemon, path) => {
    const client = await RawClient.connect(path);
    const batch = [
      writeRequest(1, "/local/domain/3/name", "three"),
      encodeMessage(XS_READ, 2, 0, joinStrings(["/local/domain/3/name"])),
      encodeMessage(XS_READ, 3, 0, joinStrings(["/nope"])),
      encodeMessage(XS_READ, 4, 0, joinStrings(["name"])),
    ];
    await client.send(new Uint8Array(batch.flatMap((m) => [...m])));
    await client.until((r) => r.length >= 4);
    assert.deepEqual(client.received.map((m) => [m.reqId, m.type]), [
      [1, XS_WRITE],
      [2, XS_READ],
      [3, XS_ERROR],
      [4, XS_ERROR], // "name" is /local/domain/0/name for dom0: missing
    ]);
    assert.equal(text.decode(client.received[1].payload), "three");
    const slow = encodeMessage(XS_READ, 5, 0, joinStrings(["/local/domain/3/name"]));
    for (const byte of slow) await client.send(new Uint8Array([byte]));
    await client.until((r) => r.length >= 5);
    assert.equal(text.decode(client.received[4].payload), "three");
    assert.equal(daemon.connectionCount, 1);
    await client.close();
  });
});

Deno.test("socket clients get watch events from changes anyone makes", async () => {
  await withServer(async (daemon, path) => {
    const watcher = await RawClient.connect(path);
    await watcher.send(encodeMessage(XS_WATCH, 1, 0, joinStrings(["/vm", "tok"])));
    await watcher.until((r) => r.length >= 2);
    new LocalClient(daemon).write("/vm/1/name", "x");
    await watcher.until((r) => r.length >= 3);
    const events = watcher.received.filter((m) => m.type === XS_WATCH_EVENT);
    assert.deepEqual(events.map((m) => text.decode(m.payload)), [
      "/vm\0tok\0",
      "/vm/1/name\0tok\0",
    ]);
    await watcher.close();
  });
});

Deno.test("an oversized message drops that client only", async () => {
  await withServer(async (daemon, path) => {
    const bad = await RawClient.connect(path);
    const good = await RawClient.connect(path);
    const header = encodeMessage(XS_READ, 1, 0, new Uint8Array(0));
    new DataView(header.buffer).setUint32(12, XENSTORE_PAYLOAD_MAX + 1, true);
    await bad.send(header);
    await bad.until(() => false).catch(() => {});
    assert.ok(bad.closed, "the server hung up");
    await good.send(encodeMessage(XS_READ, 7, 0, joinStrings(["/"])));
    await good.until((r) => r.length >= 1);
    assert.equal(good.received[0].reqId, 7);
    await good.close();
    await bad.close();
    for (let i = 0; i < 50 && daemon.connectionCount > 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(daemon.connectionCount, 0, "both connections forgotten");
  });
});

Deno.test("a client that does not read is not read from; others go on", async () => {
  await withServer(async (daemon, path) => {
    const dom0 = new LocalClient(daemon);
    dom0.write("/big", "b".repeat(4000));
    // A bare socket that sends a lot and reads nothing until later.
    const socket = await Deno.connect({ transport: "unix", path });
    const request = encodeMessage(XS_READ, 9, 0, joinStrings(["/big"]));
    const many = new Uint8Array(request.length * 500);
    for (let i = 0; i < 500; i++) many.set(request, i * request.length);
    const writing = (async () => {
      for (let at = 0; at < many.length;) at += await socket.write(many.subarray(at));
    })();
    await new Promise((r) => setTimeout(r, 200));
    const other = await RawClient.connect(path);
    await other.send(encodeMessage(XS_READ, 1, 0, joinStrings(["/big"])));
    await other.until((r) => r.length >= 1);
    assert.equal(other.received[0].payload.length, 4000);
    // Now read everything: all 500 answers arrive.
    const assembler = new MessageAssembler();
    let answers = 0;
    const buffer = new Uint8Array(65536);
    while (answers < 500) {
      const n = await socket.read(buffer);
      if (n === null) break;
      assembler.push(buffer.subarray(0, n), () => answers++);
    }
    await writing;
    assert.equal(answers, 500);
    socket.close();
    await other.close();
  }, { maxQueuedBytes: 16384 });
});

Deno.test("fuzz: random requests then garbage: all answered, then a hang-up, no crash", async () => {
  await withServer(async (daemon, path) => {
    let hangups = 0;
    for (let seed = 1; seed <= 16; seed++) {
      const rand = mulberry32(seed);
      const client = await RawClient.connect(path);
      const sent: number[] = [];
      const stream: number[] = [];
      for (let i = 1; i <= 40; i++) {
        const type = Math.floor(rand() * 25);
        stream.push(...encodeMessage(type, i, rand() < 0.8 ? 0 : 1, randomPayload(rand)));
        sent.push(i);
      }
      // Half the clients finish with garbage (a header announcing a huge payload, eventually).
      const garbage = seed % 2 === 0;
      if (garbage) {
        const junk = Uint8Array.from({ length: 16 + Math.floor(rand() * 64) }, () => rand() * 256);
        junk[15] = 0xff;
        stream.push(...junk);
      }
      await client.send(new Uint8Array(stream));
      const answers = () => client.received.filter((m) => m.type !== XS_WATCH_EVENT);
      await client.until(() => answers().length >= sent.length);
      assert.deepEqual(answers().map((m) => m.reqId), sent, `seed ${seed}`);
      if (garbage) {
        await client.until(() => false, 2000).catch(() => {});
        assert.ok(client.closed, `seed ${seed}: hung up after garbage`);
        hangups++;
      }
      await client.close();
    }
    assert.equal(hangups, 8);
    assert.equal(daemon.metrics.internalErrors, 0);
    assert.deepEqual(daemon.store.check(), []);
    const fresh = await RawClient.connect(path);
    await fresh.send(encodeMessage(XS_READ, 1, 0, joinStrings(["/"])));
    await fresh.until((r) => r.length >= 1);
    assert.equal(fresh.received[0].type, XS_READ);
    await fresh.close();
  });
});
