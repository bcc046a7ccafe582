import assert from "node:assert/strict";
import {
  generateCHeader,
  XENBUS_STATE_NAMES,
  XenbusStateClosed,
  XENSTORE_DOMAIN_INTERFACE,
  XENSTORE_RING_SIZE,
  XS_DIRECTORY_PART,
  XS_RESET_WATCHES,
  XS_TYPE_COUNT,
  XSD_ERRORS,
  XSD_SOCKMSG,
} from "./mod.ts";

Deno.test("xenstore ring page and header follow io/xs_wire.h", () => {
  assert.equal(XSD_SOCKMSG.size, 16);
  assert.deepEqual(XSD_SOCKMSG.offset, { type: 0, req_id: 4, tx_id: 8, len: 12 });
  assert.equal(XENSTORE_DOMAIN_INTERFACE.offset.rsp, XENSTORE_RING_SIZE);
  assert.equal(XENSTORE_DOMAIN_INTERFACE.offset.req_cons, 2048);
  assert.equal(XENSTORE_DOMAIN_INTERFACE.offset.req_prod, 2052);
  assert.equal(XENSTORE_DOMAIN_INTERFACE.offset.rsp_cons, 2056);
  assert.equal(XENSTORE_DOMAIN_INTERFACE.offset.rsp_prod, 2060);
  assert.equal(XENSTORE_DOMAIN_INTERFACE.offset.server_features, 2064);
  assert.equal(XENSTORE_DOMAIN_INTERFACE.offset.connection, 2068);
  assert.equal(XENSTORE_DOMAIN_INTERFACE.offset.error, 2072);
  assert.equal(XENSTORE_DOMAIN_INTERFACE.size, 2076);
});

Deno.test("message types skip the removed XS_RESTRICT and errors keep the table order", () => {
  assert.equal(XS_RESET_WATCHES, 21);
  assert.equal(XS_DIRECTORY_PART, 22);
  assert.equal(XS_TYPE_COUNT, 23);
  assert.equal(XSD_ERRORS[0], "EINVAL");
  assert.equal(XSD_ERRORS.indexOf("EAGAIN"), 12);
  assert.equal(XSD_ERRORS.at(-1), "EPERM");
  assert.equal(XENBUS_STATE_NAMES[XenbusStateClosed], "Closed");
});

Deno.test("the C header carries the xenstore definitions", () => {
  const text = generateCHeader();
  assert.match(text, /#define XS_WATCH_EVENT 0xfu/);
  assert.match(text, /#define XS_WRITE_CREATE_EXCL "CREATE\|EXCL"/);
  assert.match(text, /_Static_assert\(sizeof\(struct xenstore_domain_interface\) == 2076/);
  assert.match(text, /#define XenbusStateConnected 0x4u/);
});
