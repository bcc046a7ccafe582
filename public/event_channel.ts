/**
 * Event channel operations (`xen/event_channel.h`): `event_channel_op(cmd, arg)` where `arg`
 * points at the operation's structure, which the hypervisor reads and, for output fields, writes
 * back. Virtual IRQ numbers are from `xen/xen.h`.
 *
 * @module
 */

import { type Struct, struct } from "./struct.ts";

/** Connect a local port to a remote domain's unbound port. */
export const EVTCHNOP_bind_interdomain = 0;
/** Bind a virtual IRQ to a new port. */
export const EVTCHNOP_bind_virq = 1;
/** Close a port. */
export const EVTCHNOP_close = 3;
/** Send an event on a port. */
export const EVTCHNOP_send = 4;
/** Query a port's state. */
export const EVTCHNOP_status = 5;
/** Allocate a port that a given remote domain may bind. */
export const EVTCHNOP_alloc_unbound = 6;
/** Bind an inter-processor event to a new port. */
export const EVTCHNOP_bind_ipi = 7;
/** Move a port's notifications to another vCPU. */
export const EVTCHNOP_bind_vcpu = 8;
/** Unmask a port (and deliver it if pending). */
export const EVTCHNOP_unmask = 9;

/** Port status: closed. */
export const EVTCHNSTAT_closed = 0;
/** Port status: unbound (waiting for a remote domain). */
export const EVTCHNSTAT_unbound = 1;
/** Port status: connected to another domain. */
export const EVTCHNSTAT_interdomain = 2;
/** Port status: physical IRQ (unused here). */
export const EVTCHNSTAT_pirq = 3;
/** Port status: virtual IRQ. */
export const EVTCHNSTAT_virq = 4;
/** Port status: IPI. */
export const EVTCHNSTAT_ipi = 5;

/** Timer (per vCPU). */
export const VIRQ_TIMER = 0;
/** Debug request. */
export const VIRQ_DEBUG = 1;
/** Hypervisor console input (control domain). */
export const VIRQ_CONSOLE = 2;
/** A domain exited (control domain). */
export const VIRQ_DOM_EXC = 3;
/** Number of virtual IRQs. */
export const NR_VIRQS = 24;

/** `struct evtchn_alloc_unbound`: IN dom, remote_dom; OUT port. */
export const EVTCHN_ALLOC_UNBOUND: Struct<"dom" | "remote_dom" | "port"> = struct(
  "evtchn_alloc_unbound",
  "allocate an unbound port",
  [
    ["dom", "u16", 1, "DOMID_SELF or (privileged) another domain"],
    ["remote_dom", "u16", 1, "domain allowed to bind it"],
    ["port", "u32", 1, "OUT: the new port"],
  ],
);

/** `struct evtchn_bind_interdomain`: IN remote_dom, remote_port; OUT local_port. */
export const EVTCHN_BIND_INTERDOMAIN: Struct<"remote_dom" | "remote_port" | "local_port"> = struct(
  "evtchn_bind_interdomain",
  "connect to a remote port",
  [
    ["remote_dom", "u16"],
    ["remote_port", "u32"],
    ["local_port", "u32", 1, "OUT"],
  ],
);

/** `struct evtchn_bind_virq`: IN virq, vcpu; OUT port. */
export const EVTCHN_BIND_VIRQ: Struct<"virq" | "vcpu" | "port"> = struct(
  "evtchn_bind_virq",
  "bind a virtual IRQ",
  [
    ["virq", "u32"],
    ["vcpu", "u32"],
    ["port", "u32", 1, "OUT"],
  ],
);

/** `struct evtchn_bind_ipi`: IN vcpu; OUT port. */
export const EVTCHN_BIND_IPI: Struct<"vcpu" | "port"> = struct("evtchn_bind_ipi", "bind an IPI", [
  ["vcpu", "u32"],
  ["port", "u32", 1, "OUT"],
]);

/** `struct evtchn_close`, `evtchn_send`, `evtchn_unmask`: one port. */
export const EVTCHN_PORT: Struct<"port"> = struct(
  "evtchn_port_op",
  "close, send or unmask a port",
  [
    ["port", "u32"],
  ],
);

/** `struct evtchn_status`: IN dom, port; OUT status, vcpu, and the union (see fields). */
export const EVTCHN_STATUS: Struct<"dom" | "port" | "status" | "vcpu" | "u_dom" | "u_port"> =
  struct("evtchn_status", "query a port", [
    ["dom", "u16"],
    ["port", "u32"],
    ["status", "u32", 1, "OUT: EVTCHNSTAT_*"],
    ["vcpu", "u32", 1, "OUT: vCPU notified"],
    ["u_dom", "u16", 1, "OUT: unbound.dom / interdomain.dom"],
    ["u_port", "u32", 1, "OUT: interdomain.port; virq for EVTCHNSTAT_virq is at u_dom's offset"],
  ]);

/** `struct evtchn_bind_vcpu`: IN port, vcpu. */
export const EVTCHN_BIND_VCPU: Struct<"port" | "vcpu"> = struct(
  "evtchn_bind_vcpu",
  "notify another vCPU",
  [
    ["port", "u32"],
    ["vcpu", "u32"],
  ],
);
