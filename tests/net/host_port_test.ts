/**
 * End to end: a bridge port to a UDP socket on the host's loopback. A host program exchanges
 * Ethernet frames (one per datagram) with a guest through the bridge.
 */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { buildFrame, HostPortWorker, IPPROTO_UDP, MAC_BROADCAST } from "@paravirt/drivers";
import { NetTestbed } from "./net_testbed.ts";

const HOST_MAC = 0x02000000beef;

Deno.test("net: a guest and a host socket exchange frames through a host port", async () => {
  const bed = await NetTestbed.create({ guests: 1 });
  const host = createSocket("udp4");
  const heard: Uint8Array[] = [];
  host.on("message", (datagram: Uint8Array) => heard.push(new Uint8Array(datagram)));
  await new Promise<void>((resolve) => host.bind(0, "127.0.0.1", resolve));
  const hostPort = host.address().port;
  // The worker's own port: one the kernel just handed out, released for it.
  const probe = createSocket("udp4");
  await new Promise<void>((resolve) => probe.bind(0, "127.0.0.1", resolve));
  const workerPort = probe.address().port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const doorbell = new SharedArrayBuffer(16);
  const link = bed.bridge.createLink({ buffer: doorbell, slot: 0 });
  const port = await HostPortWorker.start({
    link,
    doorbell,
    bind: { hostname: "127.0.0.1", port: workerPort },
    peer: { hostname: "127.0.0.1", port: hostPort },
  });
  try {
    await bed.bridge.attach("host0", link);
    const [g] = bed.guests;
    // Host → guest: a broadcast, then unicast to the guest.
    const hello = buildFrame({
      dst: MAC_BROADCAST,
      src: HOST_MAC,
      payload: new TextEncoder().encode("hello from the host"),
    });
    host.send(hello, workerPort, "127.0.0.1");
    await bed.until(() => g.front.received.length > 0, 5000, "the host's frame");
    assert.deepEqual(g.front.received.shift(), hello);
    // Guest → host: unicast to the host's (now learned) address.
    const reply = buildFrame({
      dst: HOST_MAC,
      src: g.mac,
      ipSrc: g.ip,
      ipDst: 0x0a0000fe,
      proto: IPPROTO_UDP,
      dstPort: 9000,
      payload: new TextEncoder().encode("hello from the guest"),
    });
    assert.ok(g.front.send(reply));
    await bed.until(() => heard.length > 0, 5000, "the guest's datagram");
    assert.deepEqual(heard[0], reply);
    // Datagrams that are not frames, or not from the peer, are dropped and counted.
    host.send(new Uint8Array(5), workerPort, "127.0.0.1");
    const stranger = createSocket("udp4");
    await new Promise<void>((resolve) => stranger.bind(0, "127.0.0.1", resolve));
    stranger.send(hello, workerPort, "127.0.0.1");
    let m: Record<string, number> = {};
    for (let i = 0; i < 250 && !(m.foreign > 0 && m.dropsFromHost > 0); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      m = await port.metrics();
    }
    stranger.close();
    assert.equal(m.framesFromHost, 1);
    assert.equal(m.framesToHost, 1);
    assert.equal(m.dropsFromHost, 1);
    assert.equal(m.foreign, 1);
  } finally {
    await port.stop();
    host.close();
    await bed.close();
  }
});
