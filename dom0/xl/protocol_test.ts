import assert from "node:assert/strict";
import { fromBase64, LineReader, parseRequest, toBase64 } from "./protocol.ts";

Deno.test("protocol: lines split across chunks and UTF-8 sequences", () => {
  const reader = new LineReader();
  const bytes = new TextEncoder().encode('{"a":"é"}\n{"b":1}\n{"c"');
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i++) lines.push(...reader.push(bytes.subarray(i, i + 1)));
  assert.deepEqual(lines, ['{"a":"é"}', '{"b":1}']);
  assert.deepEqual(reader.push(new TextEncoder().encode(":2}\n\n")), ['{"c":2}', ""]);
});

Deno.test("protocol: an over-long line is refused, however it arrives", () => {
  const reader = new LineReader(10);
  assert.deepEqual(reader.push(new TextEncoder().encode("0123456789\n")), ["0123456789"]);
  assert.throws(() => reader.push(new TextEncoder().encode("0123456789A\n")), /longer than 10/);
  const slow = new LineReader(10);
  slow.push(new TextEncoder().encode("012345"));
  assert.throws(() => slow.push(new TextEncoder().encode("6789AB")), RangeError);
});

Deno.test("protocol: base64 round trips binary of any size; garbage is refused", () => {
  const big = new Uint8Array(300_000).map((_, i) => (i * 7919) & 0xff);
  assert.deepEqual(fromBase64(toBase64(big)), big);
  assert.deepEqual(fromBase64(toBase64(new Uint8Array())), new Uint8Array());
  assert.throws(() => fromBase64("not base64!"), /not valid base64/);
});

Deno.test("protocol: requests are checked field by field", () => {
  assert.deepEqual(parseRequest({ op: "list" }), { op: "list" });
  assert.deepEqual(parseRequest({ op: "destroy", domain: "3" }), { op: "destroy", domain: "3" });
  assert.throws(() => parseRequest(null), /JSON object/);
  assert.throws(() => parseRequest([1]), /JSON object/);
  assert.throws(() => parseRequest("list"), /JSON object/);
  assert.throws(() => parseRequest({ op: "format-disk" }), /Unknown request "format-disk"/);
  assert.throws(() => parseRequest({ op: "__proto__" }), /Unknown request/);
  assert.throws(() => parseRequest({ op: "destroy" }), /needs domain as a string/);
  assert.throws(() => parseRequest({ op: "destroy", domain: 3 }), /needs domain as a string/);
  assert.throws(() => parseRequest({ op: "sched-credit", weight: "9" }), /weight as a number/);
  assert.throws(() => parseRequest({ op: "input", data: [] }), /data as a string/);
  assert.throws(() => parseRequest({ op: "create", kernel: "" }), /config object/);
  const config = {
    file: "/g.cfg",
    name: "g",
    memoryMiB: 4,
    maxMemoryMiB: 4,
    vcpus: 1,
    kernel: "/k",
    cmdline: "",
    weight: 256,
    cap: 0,
    onPoweroff: "destroy",
    onReboot: "restart",
    onCrash: "destroy",
    disk: [],
    vif: [],
  };
  assert.equal(parseRequest({ op: "create", kernel: "", config }).op, "create");
  assert.throws(
    () => parseRequest({ op: "create", kernel: "", config: { ...config, onCrash: "explode" } }),
    /onCrash "explode" is not an action/,
  );
  assert.throws(
    () => parseRequest({ op: "create", kernel: "", config: { ...config, disk: [1] } }),
    /disk as a list of strings/,
  );
  assert.throws(
    () => parseRequest({ op: "create", kernel: "", config: { ...config, memoryMiB: "4" } }),
    /memoryMiB as a number/,
  );
});
