/**
 * Backend drivers and what they stand on: the backend end of Xen's shared rings
 * ({@link BackRing}) and grant access with Xen's checks ({@link GrantMapper}) — backends run in
 * workers and reach a frontend's memory only through these — and the network backend (`net/`):
 * {@link Netback}, the learning {@link Bridge} with its {@link FilterChain}, their workers and
 * the vif's xenbus handshake ({@link VifBackend}).
 *
 * @module
 */

export * from "./ring.ts";
export * from "./grant_mapper.ts";
export * from "./net/mod.ts";
