/**
 * A stand-in network backend for the frontend's tests, on the main thread: the backend half of
 * the vif xenbus handshake (as Linux's netback: the frontend publishes its rings and goes
 * Connected) for several guests, and a two-line "bridge" between them that forwards every frame
 * to every other vif (no learning) after one fixed filter rule: IPv4/UDP to port 9 is dropped.
 *
 * Rules of use: {@link StandInBridge.attach} a vif per guest before it looks for devices, and
 * call {@link StandInBridge.step} between hypervisor slices. Rings are served with `BackRing` and
 * frames copied with `GrantMapper.copyFrom`/`copyTo`; a packet's slots are read before any is
 * consumed, so a packet whose fragments are not all published yet waits.
 *
 * @module
 */

import {
  GNTST_okay,
  NETIF_RSP_ERROR,
  NETIF_RSP_OKAY,
  NETIF_RX_SLOT_SIZE as RX_SLOT,
  NETIF_TX_SLOT_SIZE as TX_SLOT,
  NETRXF_more_data,
  NETTXF_more_data,
  XenbusStateConnected,
  XenbusStateInitialised,
  XenbusStateInitialising,
  XenbusStateInitWait,
  XenbusStateUnknown,
} from "@paravirt/public";
import { BackRing, GrantMapper } from "@paravirt/drivers";
import { createDoorbell } from "@paravirt/dom0";
import type { Doorbell } from "@paravirt/events";
import type { Domain } from "@paravirt/hypervisor";
import type { FrontendHost } from "./_harness.ts";

const PAGE = 4096;

interface Vif {
  domain: Domain;
  mac: string;
  frontendPath: string;
  backendPath: string;
  state: number;
  mapper?: GrantMapper;
  tx?: BackRing;
  rx?: BackRing;
  doorbell?: Doorbell;
  port: number;
  queue: Uint8Array[];
  received: number;
  sent: number;
}

/** Several vifs joined by a forwarding loop with one filter rule. */
export class StandInBridge {
  /** Frames the filter dropped (UDP to port 9). */
  filtered = 0;
  /** Frames forwarded. */
  forwarded = 0;
  readonly #host: FrontendHost;
  readonly #vifs: Vif[] = [];
  #busy = false;

  /** A bridge over `host`'s hypervisor and xenstore. */
  constructor(host: FrontendHost) {
    this.#host = host;
  }

  /** Adds a vif (device 0) for `domain` with `mac`: both ends' nodes, backend InitWait. */
  attach(domain: Domain, mac: string): void {
    const xs = this.#host.dom0;
    const frontendPath = `/local/domain/${domain.id}/device/vif/0`;
    const backendPath = `/local/domain/0/backend/vif/${domain.id}/0`;
    xs.mkdir(frontendPath);
    xs.setPerms(frontendPath, [`n${domain.id}`, "r0"]);
    for (
      const [key, value] of Object.entries({
        backend: backendPath,
        "backend-id": "0",
        mac,
        handle: "0",
        state: String(XenbusStateInitialising),
      })
    ) xs.write(`${frontendPath}/${key}`, value);
    xs.mkdir(backendPath);
    xs.setPerms(backendPath, ["n0", `r${domain.id}`]);
    for (
      const [key, value] of Object.entries({
        frontend: frontendPath,
        "frontend-id": String(domain.id),
        mac,
        handle: "0",
        "feature-sg": "1",
        "feature-rx-copy": "1",
        state: String(XenbusStateInitWait),
      })
    ) xs.write(`${backendPath}/${key}`, value);
    this.#vifs.push({
      domain,
      mac,
      frontendPath,
      backendPath,
      state: XenbusStateInitWait,
      port: -1,
      queue: [],
      received: 0,
      sent: 0,
    });
  }

  /** Frames each vif's guest sent and received, by MAC. */
  counts(): Record<string, { sent: number; received: number }> {
    return Object.fromEntries(
      this.#vifs.map((v) => [v.mac, { sent: v.sent, received: v.received }]),
    );
  }

  /** One step: handshakes, then every vif's rings. */
  async step(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (const vif of this.#vifs) await this.#reconcile(vif);
      for (const vif of this.#vifs) if (vif.tx) this.#transmit(vif);
      for (const vif of this.#vifs) if (vif.rx) this.#receive(vif);
    } finally {
      this.#busy = false;
    }
  }

  #front(vif: Vif, key: string): string | undefined {
    try {
      return this.#host.dom0.read(`${vif.frontendPath}/${key}`);
    } catch {
      return undefined;
    }
  }

  async #reconcile(vif: Vif): Promise<void> {
    const front = Number(this.#front(vif, "state") ?? XenbusStateUnknown);
    if (
      (front === XenbusStateConnected || front === XenbusStateInitialised) &&
      vif.state === XenbusStateInitWait
    ) {
      const { control, dom0 } = this.#host;
      const view = await control.foreignView(vif.domain.id);
      vif.mapper = new GrantMapper(view);
      const tx = vif.mapper.map(Number(this.#front(vif, "tx-ring-ref")), true);
      const rx = vif.mapper.map(Number(this.#front(vif, "rx-ring-ref")), true);
      if (typeof tx === "number" || typeof rx === "number") throw new Error("Cannot map rings");
      if (this.#front(vif, "request-rx-copy") !== "1") throw new Error("No request-rx-copy");
      vif.tx = new BackRing(view.buffer, tx.offset, TX_SLOT);
      vif.rx = new BackRing(view.buffer, rx.offset, RX_SLOT);
      vif.doorbell = await createDoorbell(control);
      vif.port = await control.bindBackend(
        vif.domain.id,
        Number(this.#front(vif, "event-channel")),
        vif.doorbell,
        0,
      );
      if (vif.port < 0) throw new Error(`Cannot bind the vif's event channel: ${vif.port}`);
      vif.state = XenbusStateConnected;
      dom0.write(`${vif.backendPath}/state`, String(XenbusStateConnected));
    }
  }

  /** Drains vif's tx ring into the other vifs' queues. */
  #transmit(vif: Vif): void {
    const ring = vif.tx!;
    const slot = new Uint8Array(TX_SLOT);
    const view = new DataView(slot.buffer);
    let answered = false;
    for (;;) {
      if (ring.unconsumed() === 0 && !ring.finalCheckForRequests()) break;
      // Read the packet's slots before consuming any: all of them must be published.
      const parts: { gref: number; offset: number; flags: number; id: number; size: number }[] = [];
      let index = ring.reqCons;
      for (;;) {
        if (((ring.requestProducer - index) >>> 0) === 0) return; // the rest is not published
        ring.copyRequest(index, slot);
        index = (index + 1) >>> 0;
        parts.push({
          gref: view.getUint32(0, true),
          offset: view.getUint16(4, true),
          flags: view.getUint16(6, true),
          id: view.getUint16(8, true),
          size: view.getUint16(10, true),
        });
        if ((parts.at(-1)!.flags & NETTXF_more_data) === 0) break;
      }
      const total = parts[0].size;
      const rest = parts.slice(1).reduce((n, p) => n + p.size, 0);
      let status = total >= 14 && rest < total ? NETIF_RSP_OKAY : NETIF_RSP_ERROR;
      const frame = new Uint8Array(Math.max(0, total));
      let at = 0;
      for (let i = 0; i < parts.length && status === NETIF_RSP_OKAY; i++) {
        const length = i === 0 ? total - rest : parts[i].size;
        if (parts[i].offset + length > PAGE) status = NETIF_RSP_ERROR;
        else if (
          vif.mapper!.copyFrom(parts[i].gref, parts[i].offset, length, frame.subarray(at)) !==
            GNTST_okay
        ) status = NETIF_RSP_ERROR;
        at += length;
      }
      for (const part of parts) {
        ring.reqCons = (ring.reqCons + 1) >>> 0;
        const rsp = new Uint8Array(TX_SLOT);
        const rv = new DataView(rsp.buffer);
        rv.setUint16(0, part.id, true);
        rv.setInt16(2, status, true);
        ring.putResponse(rsp);
      }
      answered = true;
      if (status !== NETIF_RSP_OKAY) continue;
      vif.sent++;
      if (this.#blocked(frame)) {
        this.filtered++;
        continue;
      }
      for (const other of this.#vifs) {
        if (other !== vif) other.queue.push(frame);
      }
      this.forwarded++;
    }
    if (answered && ring.pushResponses()) vif.doorbell!.kick(0);
  }

  /** The filter rule: IPv4, UDP, destination port 9. */
  #blocked(frame: Uint8Array): boolean {
    return frame.length >= 38 && frame[12] === 0x08 && frame[13] === 0x00 && frame[23] === 17 &&
      ((frame[36] << 8) | frame[37]) === 9;
  }

  /** Copies queued frames into vif's posted rx buffers. */
  #receive(vif: Vif): void {
    const ring = vif.rx!;
    const slot = new Uint8Array(RX_SLOT);
    const view = new DataView(slot.buffer);
    let answered = false;
    while (vif.queue.length > 0) {
      const frame = vif.queue[0];
      const pages = Math.max(1, Math.ceil(frame.length / PAGE));
      if (ring.unconsumed() < pages) {
        ring.finalCheckForRequests();
        if (ring.unconsumed() < pages) break;
      }
      vif.queue.shift();
      for (let i = 0; i < pages; i++) {
        ring.takeRequest(slot);
        const id = view.getUint16(0, true);
        const gref = view.getUint32(4, true);
        const chunk = frame.subarray(i * PAGE, Math.min(frame.length, (i + 1) * PAGE));
        const ok = vif.mapper!.copyTo(gref, 0, chunk) === GNTST_okay;
        const rsp = new Uint8Array(RX_SLOT);
        const rv = new DataView(rsp.buffer);
        rv.setUint16(0, id, true);
        rv.setUint16(2, 0, true);
        rv.setUint16(4, i + 1 < pages ? NETRXF_more_data : 0, true);
        rv.setInt16(6, ok ? chunk.length : NETIF_RSP_ERROR, true);
        ring.putResponse(rsp);
      }
      vif.received++;
      answered = true;
    }
    if (answered && ring.pushResponses()) vif.doorbell!.kick(0);
  }
}
