/**
 * `deno bench dom0/xenstore/xenstore_bench.ts`: a write and a read-back of a small node, through
 * each way into xenstored. The in-process client is the baseline (the daemon's own cost); the
 * ring (a SharedArrayBuffer page, same thread) and the Unix socket (a real kernel socket) are
 * reported relative to it.
 *
 * @module
 */

import { join } from "node:path";
import { XS_READ, XS_WRITE } from "@paravirt/public";
import { GuestRing } from "./_guest_ring.ts";
import { LocalClient } from "./client.ts";
import { Xenstored } from "./daemon.ts";
import { serveUnixSocket } from "./socket.ts";
import { encodeMessage, joinStrings, type Message, MessageAssembler } from "./wire.ts";

const VALUE = new TextEncoder().encode("4");
const writePayload = new Uint8Array([...joinStrings(["device/vbd/51712/state"]), ...VALUE]);
const readPayload = joinStrings(["device/vbd/51712/state"]);

function guestDaemon(): Xenstored {
  const daemon = new Xenstored();
  const dom0 = new LocalClient(daemon);
  dom0.mkdir("/local/domain/5");
  dom0.setPerms("/local/domain/5", ["n5"]);
  return daemon;
}

// In-process: the daemon's cost alone.
const local = new LocalClient(guestDaemon(), { domid: 5 });
Deno.bench("in-process client", { group: "write+read", baseline: true }, () => {
  local.request(XS_WRITE, writePayload);
  local.request(XS_READ, readPayload);
});

// Ring: encode, copy into the page, server pump, copy out, decode.
const ringDaemon = guestDaemon();
const page = new Uint8Array(new SharedArrayBuffer(4096));
const ring = new GuestRing(page);
const server = ringDaemon.introduceDomain(5, { page, notify() {} });
let ringId = 0;
function ringCall(type: number, payload: Uint8Array): Message {
  const id = ++ringId;
  ring.write(encodeMessage(type, id, 0, payload));
  server.onEvent();
  return ring.read()[0];
}
Deno.bench("guest ring page", { group: "write+read" }, () => {
  ringCall(XS_WRITE, writePayload);
  ringCall(XS_READ, readPayload);
});

// Unix socket: a real round trip through the kernel and the event loop.
const dir = await Deno.makeTempDir();
const socketDaemon = guestDaemon();
const socketServer = serveUnixSocket(socketDaemon, join(dir, "socket"));
const socket = await Deno.connect({ transport: "unix", path: join(dir, "socket") });
const assembler = new MessageAssembler();
const buffer = new Uint8Array(65536);
const inbox: Message[] = [];
const absolute = (p: Uint8Array) =>
  new Uint8Array([...new TextEncoder().encode("/local/domain/5/"), ...p]);
const socketWrite = absolute(writePayload);
const socketRead = absolute(readPayload);
async function socketCall(type: number, payload: Uint8Array): Promise<Message> {
  await socket.write(encodeMessage(type, 1, 0, payload));
  while (inbox.length === 0) {
    const n = await socket.read(buffer);
    if (n === null) throw new Error("closed");
    assembler.push(buffer.subarray(0, n), (m) => inbox.push(m));
  }
  return inbox.shift()!;
}
Deno.bench("unix socket", { group: "write+read" }, async () => {
  await socketCall(XS_WRITE, socketWrite);
  await socketCall(XS_READ, socketRead);
});

globalThis.addEventListener("unload", () => {
  socket.close();
  void socketServer.close();
  Deno.removeSync(dir, { recursive: true });
});
