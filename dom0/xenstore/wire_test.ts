import assert from "node:assert/strict";
import { XENSTORE_PAYLOAD_MAX, XS_READ } from "@paravirt/public";
import { XenstoreError } from "./errors.ts";
import {
  bytesToString,
  decodeHeader,
  decodeMessage,
  encodeMessage,
  joinStrings,
  type Message,
  MessageAssembler,
  splitStrings,
  stringToBytes,
} from "./wire.ts";

Deno.test("messages encode little-endian and decode back", () => {
  const bytes = encodeMessage(XS_READ, 0x01020304, 7, joinStrings(["/a"]));
  assert.deepEqual([...bytes.subarray(0, 16)], [2, 0, 0, 0, 4, 3, 2, 1, 7, 0, 0, 0, 3, 0, 0, 0]);
  assert.deepEqual(decodeHeader(bytes), { type: XS_READ, reqId: 0x01020304, txId: 7, len: 3 });
  const message = decodeMessage(bytes);
  assert.deepEqual([...message.payload], [0x2f, 0x61, 0]);
  assert.throws(() => decodeMessage(bytes.subarray(0, 17)), RangeError);
  assert.throws(() => encodeMessage(0, 0, 0, new Uint8Array(XENSTORE_PAYLOAD_MAX + 1)), RangeError);
});

Deno.test("binary strings keep every byte", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual(stringToBytes(bytesToString(all)), all);
  assert.throws(() => stringToBytes("\u0100"), RangeError);
});

Deno.test("payload strings split strictly or with extra fields", () => {
  const two = joinStrings(["/path", "token"]);
  assert.deepEqual(splitStrings(two, 2), ["/path", "token"]);
  assert.deepEqual(splitStrings(joinStrings(["/p", "t", "x"]), 2, true), ["/p", "t", "x"]);
  const bad = (payload: Uint8Array, n: number, atLeast = false) =>
    assert.throws(
      () => splitStrings(payload, n, atLeast),
      (e) => e instanceof XenstoreError && e.code === "EINVAL",
    );
  bad(new Uint8Array(0), 1);
  bad(stringToBytes("/no-nul"), 1);
  bad(joinStrings(["/a", "b"]), 1); // one expected, two sent
  bad(joinStrings(["/a"]), 2, true);
});

Deno.test("the assembler cuts a byte stream into messages however it arrives", () => {
  const messages = [0, 1, 100, 4096].map((n, i) =>
    encodeMessage(i, i + 10, 0, new Uint8Array(n).fill(i))
  );
  const stream = new Uint8Array(messages.reduce((n, m) => n + m.length, 0));
  let at = 0;
  for (const m of messages) {
    stream.set(m, at);
    at += m.length;
  }
  for (const chunk of [1, 7, 16, 1000, stream.length]) {
    const got: Message[] = [];
    const assembler = new MessageAssembler();
    for (let i = 0; i < stream.length; i += chunk) {
      assembler.push(stream.subarray(i, i + chunk), (m) => got.push(m));
    }
    assert.deepEqual(got.map((m) => [m.type, m.reqId, m.payload.length]), [
      [0, 10, 0],
      [1, 11, 1],
      [2, 12, 100],
      [3, 13, 4096],
    ]);
    assert.equal(assembler.buffered, 0);
  }
  const huge = encodeMessage(0, 0, 0, new Uint8Array(0));
  new DataView(huge.buffer).setUint32(12, XENSTORE_PAYLOAD_MAX + 1, true);
  assert.throws(() => new MessageAssembler().push(huge, () => {}), RangeError);
});
