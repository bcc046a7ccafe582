/**
 * Xenbus device states (`io/xenbus.h`): each end of a split device publishes its state in its
 * xenstore `state` node (`device/<type>/<id>/state` for the frontend,
 * `backend/<type>/<domid>/<id>/state` for the backend) as a decimal number, and watches the
 * other end's. The normal handshake is Initialising → InitWait (backend) → Initialised
 * (frontend) → Connected (both), and Closing → Closed on teardown.
 *
 * @module
 */

/** Unknown (the node does not exist yet). */
export const XenbusStateUnknown = 0;
/** Setting up. */
export const XenbusStateInitialising = 1;
/** Early setup done; waiting for the peer or hotplug scripts. */
export const XenbusStateInitWait = 2;
/** Waiting for the peer to connect (the frontend published its rings). */
export const XenbusStateInitialised = 3;
/** Connected: I/O may flow. */
export const XenbusStateConnected = 4;
/** Closing because of an error or an unplug. */
export const XenbusStateClosing = 5;
/** Closed. */
export const XenbusStateClosed = 6;
/** Being reconfigured. */
export const XenbusStateReconfiguring = 7;
/** Reconfiguration done. */
export const XenbusStateReconfigured = 8;

/** Names of the states, for messages. */
export const XENBUS_STATE_NAMES: readonly string[] = [
  "Unknown",
  "Initialising",
  "InitWait",
  "Initialised",
  "Connected",
  "Closing",
  "Closed",
  "Reconfiguring",
  "Reconfigured",
];
