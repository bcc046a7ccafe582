/**
 * A domain's event channel table: Xen's port states and bindings, with 2-level delivery
 * (`evtchn_2l_set_pending`): set the port's pending bit; if it was clear and the port is not
 * masked, set the selector bit of its word; if that was clear too, mark the upcall pending and
 * tell the owner ({@link ChannelTable.onUpcall}) so it can raise the vCPU's interrupt line.
 *
 * Rules of use: ports are small integers; port 0 is reserved and a domain holds at most
 * `maxPorts`. Every operation validates its arguments and returns a port, 0, or a negative Xen
 * errno — guest input never throws. Cross-domain operations (binding a remote port, sending
 * across) find the other table through the {@link ChannelDirectory} interface, so domains can
 * later live on different pCPU threads without this file changing its callers.
 *
 * @module
 */

import {
  EEXIST,
  EINVAL,
  ENOENT,
  ENOSPC,
  EPERM,
  ESRCH,
  EVTCHN_2L_NR_CHANNELS,
  EVTCHNSTAT_closed,
  EVTCHNSTAT_interdomain,
  EVTCHNSTAT_ipi,
  EVTCHNSTAT_unbound,
  EVTCHNSTAT_virq,
  NR_VIRQS,
} from "@paravirt/public";
import type { PendingBits } from "./pending_bits.ts";

const FREE = EVTCHNSTAT_closed;
const UNBOUND = EVTCHNSTAT_unbound;
const INTERDOMAIN = EVTCHNSTAT_interdomain;
const VIRQ = EVTCHNSTAT_virq;
const IPI = EVTCHNSTAT_ipi;
/** Port 0: never allocated, reported as closed. */
const RESERVED = 255;

/** Default number of ports a domain may hold (Xen's default `max_event_channels` is 1023). */
export const DEFAULT_MAX_PORTS = 1024;

/** Finds other domains' tables; the hypervisor implements it. */
export interface ChannelDirectory {
  /** The table of domain `domid`, or undefined if there is no such domain. */
  table(domid: number): ChannelTable | undefined;
}

/** What a port is bound to (the result of {@link ChannelTable.status}). */
export interface PortStatus {
  /** `EVTCHNSTAT_*`. */
  readonly status: number;
  /** vCPU notified. */
  readonly vcpu: number;
  /** Remote domain (allowed binder of an unbound port, or peer of an interdomain one). */
  readonly remoteDomain: number;
  /** Peer port of an interdomain port. */
  readonly remotePort: number;
  /** Virtual IRQ of a virq port. */
  readonly virq: number;
}

/** The event channel table of one domain. */
export class ChannelTable {
  /** The domain owning the table. */
  readonly domid: number;
  /** Most ports this domain may have open (port numbers are below this). */
  readonly maxPorts: number;
  /** Called when an upcall becomes due for a vCPU (raise its interrupt line, wake it). */
  onUpcall: (vcpu: number) => void = () => {};
  /** Called when a port becomes pending, masked or not (wakes vCPUs polling it). */
  onPending: (port: number) => void = () => {};
  /** Events sent from this table (a metric). */
  sent = 0;

  readonly #directory: ChannelDirectory;
  #bits: PendingBits | undefined;
  readonly #state: Uint8Array;
  readonly #vcpu: Uint16Array;
  readonly #remoteDomain: Uint16Array;
  /** Peer port (interdomain) or virq number (virq). */
  readonly #remotePort: Uint32Array;
  readonly #virqPort: Uint32Array = new Uint32Array(NR_VIRQS);

  /** Creates an empty table; events pend into the shared-info bitmaps once {@link attach}ed. */
  constructor(domid: number, directory: ChannelDirectory, maxPorts: number = DEFAULT_MAX_PORTS) {
    if (!Number.isInteger(maxPorts) || maxPorts < 2 || maxPorts > EVTCHN_2L_NR_CHANNELS) {
      throw new RangeError(
        `Port limit ${maxPorts} is outside 2..${EVTCHN_2L_NR_CHANNELS} (the 2-level ABI)`,
      );
    }
    this.domid = domid;
    this.maxPorts = maxPorts;
    this.#directory = directory;
    this.#state = new Uint8Array(maxPorts);
    this.#vcpu = new Uint16Array(maxPorts);
    this.#remoteDomain = new Uint16Array(maxPorts);
    this.#remotePort = new Uint32Array(maxPorts);
    this.#state[0] = RESERVED;
  }

  /** Connects the table to the domain's shared-info bitmaps. */
  attach(bits: PendingBits): void {
    this.#bits = bits;
  }

  /** The bitmaps this table delivers into, if attached. */
  get bits(): PendingBits | undefined {
    return this.#bits;
  }

  #valid(port: number): boolean {
    return Number.isInteger(port) && port > 0 && port < this.maxPorts;
  }

  #allocate(): number {
    for (let port = 1; port < this.maxPorts; port++) {
      if (this.#state[port] === FREE) return port;
    }
    return -ENOSPC;
  }

  /** Allocates a port that `remoteDomain` may bind (EVTCHNOP_alloc_unbound). Port or -errno. */
  allocUnbound(remoteDomain: number): number {
    if (!Number.isInteger(remoteDomain) || remoteDomain < 0 || remoteDomain > 0xffff) {
      return -EINVAL;
    }
    const port = this.#allocate();
    if (port < 0) return port;
    this.#state[port] = UNBOUND;
    this.#remoteDomain[port] = remoteDomain;
    this.#vcpu[port] = 0;
    return port;
  }

  /**
   * Binds a new local port to `remotePort` of `remoteDomain`, which must be unbound and name this
   * domain as its allowed binder (EVTCHNOP_bind_interdomain). Returns the local port or -errno.
   */
  bindInterdomain(remoteDomain: number, remotePort: number): number {
    const remote = this.#directory.table(remoteDomain);
    if (!remote) return -ESRCH;
    if (!remote.#valid(remotePort) || remote.#state[remotePort] !== UNBOUND) return -EINVAL;
    if (remote.#remoteDomain[remotePort] !== this.domid) return -EPERM;
    const port = this.#allocate();
    if (port < 0) return port;
    this.#state[port] = INTERDOMAIN;
    this.#remoteDomain[port] = remoteDomain;
    this.#remotePort[port] = remotePort;
    this.#vcpu[port] = 0;
    remote.#state[remotePort] = INTERDOMAIN;
    remote.#remoteDomain[remotePort] = this.domid;
    remote.#remotePort[remotePort] = port;
    // As Xen does: the new local port starts pending, so a binder waiting on it notices the bind.
    this.raise(port);
    return port;
  }

  /** Binds virtual IRQ `virq` of vCPU `vcpu` to a new port (EVTCHNOP_bind_virq). Port or -errno. */
  bindVirq(virq: number, vcpu: number): number {
    if (!Number.isInteger(virq) || virq < 0 || virq >= NR_VIRQS) return -EINVAL;
    if (vcpu !== 0) return -ENOENT; // one vcpu_info slot in shared-info: only vCPU 0 takes events
    if (this.#virqPort[virq] !== 0) return -EEXIST;
    const port = this.#allocate();
    if (port < 0) return port;
    this.#state[port] = VIRQ;
    this.#vcpu[port] = vcpu;
    this.#remotePort[port] = virq;
    this.#virqPort[virq] = port;
    return port;
  }

  /** Binds an inter-processor interrupt to vCPU `vcpu` (EVTCHNOP_bind_ipi). Port or -errno. */
  bindIpi(vcpu: number): number {
    if (vcpu !== 0) return -ENOENT;
    const port = this.#allocate();
    if (port < 0) return port;
    this.#state[port] = IPI;
    this.#vcpu[port] = vcpu;
    return port;
  }

  /**
   * Closes a port (EVTCHNOP_close). An interdomain peer goes back to unbound, still allowing this
   * domain, as in Xen. Returns 0 or -errno.
   */
  close(port: number): number {
    if (!this.#valid(port)) return -EINVAL;
    const state = this.#state[port];
    if (state === FREE) return -EINVAL;
    if (state === INTERDOMAIN) {
      const remote = this.#directory.table(this.#remoteDomain[port]);
      const remotePort = this.#remotePort[port];
      if (
        remote && remote.#valid(remotePort) && remote.#state[remotePort] === INTERDOMAIN &&
        remote.#remoteDomain[remotePort] === this.domid && remote.#remotePort[remotePort] === port
      ) {
        remote.#state[remotePort] = UNBOUND;
      }
    } else if (state === VIRQ) {
      this.#virqPort[this.#remotePort[port]] = 0;
    }
    this.#state[port] = FREE;
    this.#remoteDomain[port] = 0;
    this.#remotePort[port] = 0;
    this.#bits?.testAndClearPending(port);
    return 0;
  }

  /**
   * Sends an event on a port (EVTCHNOP_send): to the peer of an interdomain port, to this domain
   * for an IPI. Events on unbound ports are dropped silently, as Xen does. Returns 0 or -errno.
   */
  send(port: number): number {
    if (!this.#valid(port)) return -EINVAL;
    switch (this.#state[port]) {
      case INTERDOMAIN: {
        const remote = this.#directory.table(this.#remoteDomain[port]);
        if (!remote) return -EINVAL;
        this.sent++;
        remote.raise(this.#remotePort[port]);
        return 0;
      }
      case IPI:
        this.sent++;
        this.raise(port);
        return 0;
      case UNBOUND:
        return 0;
      default:
        return -EINVAL;
    }
  }

  /** Raises virtual IRQ `virq` if a port is bound to it. Returns whether one was. */
  raiseVirq(virq: number): boolean {
    const port = this.#virqPort[virq] ?? 0;
    if (port === 0) return false;
    this.raise(port);
    return true;
  }

  /** The port bound to virtual IRQ `virq`, or 0. */
  virqPort(virq: number): number {
    return this.#virqPort[virq] ?? 0;
  }

  /** Marks a local port pending and delivers the upcall the 2-level way. */
  raise(port: number): void {
    const bits = this.#bits;
    if (!bits || !this.#valid(port) || this.#state[port] === FREE) return;
    if (bits.testAndSetPending(port)) return;
    this.onPending(port);
    if (!bits.isMasked(port) && !bits.testAndSetSelector(port)) this.#markUpcall(this.#vcpu[port]);
  }

  /**
   * Unmasks a port (EVTCHNOP_unmask); an event pending on it is then delivered. Returns 0 or
   * -errno.
   */
  unmask(port: number): number {
    if (!this.#valid(port)) return -EINVAL;
    const bits = this.#bits;
    if (!bits) return -EINVAL;
    if (bits.testAndClearMask(port) && bits.isPending(port) && !bits.testAndSetSelector(port)) {
      this.#markUpcall(this.#vcpu[port]);
    }
    return 0;
  }

  /** Whether `port` is pending (SCHEDOP_poll). */
  isPending(port: number): boolean {
    return this.#valid(port) && (this.#bits?.isPending(port) ?? false);
  }

  #markUpcall(vcpu: number): void {
    this.#bits?.testAndSetUpcallPending();
    this.onUpcall(vcpu);
  }

  /** Describes a port (EVTCHNOP_status). Returns the status or -errno. */
  status(port: number): PortStatus | number {
    if (!Number.isInteger(port) || port < 0 || port >= this.maxPorts) return -EINVAL;
    const state = this.#state[port];
    return {
      status: state === RESERVED ? EVTCHNSTAT_closed : state,
      vcpu: this.#vcpu[port],
      remoteDomain: state === UNBOUND || state === INTERDOMAIN ? this.#remoteDomain[port] : 0,
      remotePort: state === INTERDOMAIN ? this.#remotePort[port] : 0,
      virq: state === VIRQ ? this.#remotePort[port] : 0,
    };
  }

  /** Moves a port's notifications to another vCPU (EVTCHNOP_bind_vcpu). Returns 0 or -errno. */
  bindVcpu(port: number, vcpu: number): number {
    if (!this.#valid(port) || this.#state[port] === FREE) return -EINVAL;
    if (vcpu !== 0) return -ENOENT;
    this.#vcpu[port] = vcpu;
    return 0;
  }

  /** Closes every port (domain destruction), turning interdomain peers back to unbound. */
  closeAll(): void {
    for (let port = 1; port < this.maxPorts; port++) {
      if (this.#state[port] !== FREE) this.close(port);
    }
  }

  /** Number of open ports. */
  get openPorts(): number {
    let n = 0;
    for (let port = 1; port < this.maxPorts; port++) if (this.#state[port] !== FREE) n++;
    return n;
  }
}
