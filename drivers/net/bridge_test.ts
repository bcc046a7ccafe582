import assert from "node:assert/strict";
import { Doorbell, WakeWord } from "@paravirt/events";
import { Bridge, type BridgeOptions } from "./bridge.ts";
import { buildFrame, IPPROTO_UDP, MAC_BROADCAST, parseIpv4 } from "./ethernet.ts";
import { FilterChain } from "./filter.ts";
import { FRAME_QUEUE_HEADER } from "./frame_queue.ts";
import { IntrusionDetector } from "./intrusion_detector.ts";
import { PacketFilter } from "./packet_filter.ts";
import { NET_QUEUE_MIN_BYTES } from "./params.ts";
import {
  BRIDGE_BELL_SLOT,
  createPortLink,
  type LinkSide,
  NETBACK_BRIDGE_SLOT,
  type PortLinkHandle,
  portSide,
} from "./port_link.ts";

const MAC = [0, 0x00163e000001, 0x00163e000002, 0x00163e000003];

interface TestPort {
  link: PortLinkHandle;
  side: LinkSide;
  bell: Doorbell;
}

/** A bridge with `n` ports whose far ends this thread plays. */
function setup(n: number, options: Partial<BridgeOptions> = {}) {
  const bridgeBell = new Doorbell(new WakeWord());
  const ports: TestPort[] = [];
  let now = 0;
  const errors: string[] = [];
  const bridge = new Bridge({
    bell: { buffer: bridgeBell.buffer, slot: BRIDGE_BELL_SLOT },
    clock: () => now,
    onPortError: (port, reason) => errors.push(`${port}: ${reason}`),
    ...options,
  });
  for (let i = 1; i <= n; i++) {
    const bell = new Doorbell(new WakeWord());
    const link = createPortLink(
      { buffer: bridgeBell.buffer, slot: BRIDGE_BELL_SLOT },
      { buffer: bell.buffer, slot: NETBACK_BRIDGE_SLOT },
      { queueBytes: NET_QUEUE_MIN_BYTES },
    );
    bridge.attach(`vif${i}.0`, link);
    ports.push({ link, side: portSide(link), bell });
  }
  const send = (from: number, frame: Uint8Array) => {
    const side = ports[from - 1].side;
    assert.ok(side.outbound.write(frame));
    side.outbound.publish();
  };
  const out = new Uint8Array(65535);
  const take = (at: number) => {
    const frames: Uint8Array[] = [];
    const side = ports[at - 1].side;
    for (let len = side.inbound.read(out); len >= 0; len = side.inbound.read(out)) {
      frames.push(out.slice(0, len));
    }
    side.inbound.release();
    return frames;
  };
  return {
    bridge,
    ports,
    send,
    take,
    errors,
    bridgeBell,
    setNow: (t: number) => now = t,
  };
}

const eth = (dst: number, src: number, tag = 0) =>
  buildFrame({ dst, src, payload: new Uint8Array([tag, 1, 2, 3]) });

Deno.test("bridge: floods unknown and broadcast, then forwards to the learned port", () => {
  const { bridge, send, take } = setup(3);
  send(1, eth(MAC[2], MAC[1], 1)); // 2 unknown: flooded
  assert.equal(bridge.pump(), 1);
  assert.equal(take(2).length, 1);
  assert.equal(take(3).length, 1);
  send(2, eth(MAC[1], MAC[2], 2)); // 1 learned: unicast
  bridge.pump();
  assert.deepEqual(take(1).map((f) => f[14]), [2]);
  assert.equal(take(3).length, 0, "port 3 does not see unicast to a learned port");
  send(1, eth(MAC[2], MAC[1], 3)); // 2 now learned too
  bridge.pump();
  assert.equal(take(2).length, 1);
  assert.equal(take(3).length, 0);
  send(3, eth(MAC_BROADCAST, MAC[3], 4)); // broadcast: everyone else
  bridge.pump();
  assert.equal(take(1).length, 1);
  assert.equal(take(2).length, 1);
  assert.equal(take(3).length, 0, "never back to the ingress port");
  const m = bridge.metrics();
  assert.equal(m.flooded, 2);
  assert.equal(m.forwarded, 2);
  assert.equal(m.macs, 3);
  assert.deepEqual(m.ports.map((p) => p.framesIn), [2, 1, 1]);
});

Deno.test("bridge: learned addresses age out; a moved address follows its port", () => {
  const { bridge, send, take, setNow } = setup(3, { macTable: { ageMs: 1000 } });
  send(2, eth(MAC_BROADCAST, MAC[2]));
  bridge.pump();
  take(1), take(3);
  send(1, eth(MAC[2], MAC[1]));
  bridge.pump();
  assert.equal(take(2).length, 1);
  assert.equal(take(3).length, 0);
  setNow(5000); // MAC[2] aged out: flood again
  send(1, eth(MAC[2], MAC[1]));
  bridge.pump();
  assert.equal(take(2).length, 1);
  assert.equal(take(3).length, 1);
  send(2, eth(MAC_BROADCAST, MAC[2])); // learned again on port 2
  bridge.pump();
  take(1), take(3);
  send(3, eth(MAC_BROADCAST, MAC[2])); // then MAC[2] moves to port 3
  bridge.pump();
  take(1), take(2);
  send(1, eth(MAC[2], MAC[1]));
  bridge.pump();
  assert.equal(take(3).length, 1);
  assert.equal(take(2).length, 0);
  assert.equal(bridge.metrics().macMoves, 1);
});

Deno.test("bridge: a frame for its own port is dropped; runts are counted", () => {
  const { bridge, send, take } = setup(2);
  send(1, eth(MAC_BROADCAST, MAC[3]));
  bridge.pump();
  take(2);
  send(1, eth(MAC[3], MAC[1])); // MAC[3] lives behind port 1 itself
  send(1, new Uint8Array(10));
  bridge.pump();
  assert.equal(take(2).length, 0);
  const [p1] = bridge.metrics().ports;
  assert.equal(p1.local, 1);
  assert.equal(p1.runts, 1);
});

Deno.test("bridge: the filter chain drops, the detector counts, in the I/O path", () => {
  const filters = new FilterChain([
    new PacketFilter({ rules: ["deny proto=udp dport=9"] }),
    new IntrusionDetector({ signatures: [{ name: "magic", pattern: "MAGIC" }] }),
  ]);
  const alerts: string[] = [];
  const { bridge, send, take } = setup(2, {
    filters,
    onAlert: (list) => alerts.push(...list.map((a) => `${a.rule}@${a.inPort}`)),
  });
  const udp = (port: number, payload: string) =>
    buildFrame({
      dst: MAC[2],
      src: MAC[1],
      ipSrc: parseIpv4("10.0.0.1"),
      ipDst: parseIpv4("10.0.0.2"),
      proto: IPPROTO_UDP,
      dstPort: port,
      payload: new TextEncoder().encode(payload),
    });
  send(1, udp(9, "discard me"));
  send(1, udp(7, "echo MAGIC"));
  send(1, udp(7, "plain"));
  bridge.pump();
  assert.equal(take(2).length, 2);
  const m = bridge.metrics();
  assert.equal(m.ports[0].filtered, 1);
  assert.equal(m.filters.dropped, 1);
  assert.equal(m.filters.filters["intrusion-detector"]["sig.magic"], 1);
  assert.deepEqual(alerts, ["magic@vif1.0"]);
});

Deno.test("bridge: a port with corrupt queues is cut off; the others go on", () => {
  const { bridge, ports, send, take, errors } = setup(3);
  // Port 1's worker writes garbage into its queue header.
  const words = new Int32Array(ports[0].link.toBridge, 0, FRAME_QUEUE_HEADER / 4);
  words[0] = 0x7fff_fff0;
  send(2, eth(MAC_BROADCAST, MAC[2]));
  bridge.pump();
  assert.equal(errors.length, 1);
  assert.match(errors[0], /^vif1\.0: Producer head/);
  assert.equal(take(3).length, 1, "port 3 still gets port 2's broadcast");
  assert.equal(take(1).length, 0, "the broken port gets nothing");
  // A consumer lying about its tail breaks that port when the bridge writes to it.
  new Int32Array(ports[2].link.toPort, 0, 2)[1] = 0x1000;
  send(2, eth(MAC_BROADCAST, MAC[2]));
  bridge.pump();
  assert.equal(errors.length, 2);
  assert.match(errors[1], /^vif3\.0: Consumer tail/);
  const info = bridge.metrics().ports;
  assert.ok(info[0].broken && info[2].broken && !info[1].broken);
  // The bridge still pumps without throwing.
  send(2, eth(MAC_BROADCAST, MAC[2]));
  assert.equal(bridge.pump(), 1);
});

Deno.test("bridge: a full port queue drops (counted) instead of waiting", () => {
  const { bridge, send, take } = setup(2);
  const big = buildFrame({ dst: MAC[2], src: MAC[1], payload: new Uint8Array(60000) });
  for (let i = 0; i < 4; i++) {
    send(1, big);
    bridge.pump();
  }
  const m = bridge.metrics().ports[1];
  assert.equal(m.framesOut, 2, "two 60 kB frames fit a 128 KiB queue");
  assert.equal(m.dropsOut, 2);
  assert.equal(take(2).length, 2);
});

Deno.test("bridge: a restarted bridge keeps the queues and restores learned addresses", () => {
  const first = setup(2);
  first.send(2, eth(MAC_BROADCAST, MAC[2]));
  first.bridge.pump();
  first.take(1);
  first.send(1, eth(MAC[2], MAC[1], 7)); // waiting in the queue when the bridge "dies"
  const state = first.bridge.save();
  const bridge = new Bridge({ bell: { buffer: first.bridgeBell.buffer, slot: 0 } });
  bridge.attach("vif1.0", first.ports[0].link);
  bridge.attach("vif2.0", first.ports[1].link);
  bridge.restore(state);
  assert.equal(bridge.pump(), 1);
  assert.deepEqual(first.take(2).map((f) => f[14]), [7]);
  assert.equal(bridge.metrics().forwarded, 1, "unicast at once: the address was restored");
  assert.throws(() => bridge.attach("vif1.0", first.ports[0].link), RangeError);
  assert.throws(() => bridge.attach("bad name", first.ports[0].link), RangeError);
  assert.ok(bridge.detach("vif1.0"));
  assert.ok(!bridge.detach("vif1.0"));
});

Deno.test("bridge: wait() returns when a port rings, and at once if frames wait", async () => {
  const { bridge, send, ports } = setup(1);
  send(1, eth(MAC[2], MAC[1]));
  const t0 = performance.now();
  await bridge.wait(5000);
  assert.ok(performance.now() - t0 < 1000, "frames were waiting");
  bridge.pump();
  const waiting = bridge.wait(5000);
  // The port publishes while the bridge sleeps: its publish says to ring.
  const side = ports[0].side;
  side.outbound.write(eth(MAC[2], MAC[1]));
  assert.equal(side.outbound.publish(), true);
  side.peer.ring();
  await waiting;
  assert.ok(performance.now() - t0 < 2000);
  assert.equal(bridge.pump(), 1);
});
