import assert from "node:assert/strict";
import { buildFrame, FrameInfo } from "./ethernet.ts";
import { FILTER_DROP, FILTER_PASS, FilterChain, type NetFilter } from "./filter.ts";
import { runFrames } from "./filter_conformance.ts";
import { loadFilter, loadFilterChain } from "./filter_loader.ts";

function moduleUrl(source: string): string {
  return `data:application/javascript,${encodeURIComponent(source)}`;
}

const frame = buildFrame({ dst: 2, src: 1 });

Deno.test("filter loader: built-ins by name, other modules by specifier", async () => {
  const chain = await loadFilterChain([
    { module: "packet-filter", options: { rules: ["deny type=0x88b6"] } },
    { module: "intrusion-detector", options: { signatures: [{ name: "s", pattern: "x" }] } },
    {
      module: moduleUrl(`export function createFilter(options) {
        return { name: "custom", inspect: () => options.verdict, metrics: () => ({}) };
      }`),
      options: { verdict: 1 },
    },
  ]);
  assert.deepEqual(chain.filters.map((f) => f.name), [
    "packet-filter",
    "intrusion-detector",
    "custom",
  ]);
  const info = new FrameInfo();
  info.parse(frame);
  assert.equal(chain.run({ bytes: frame, info, inPort: "p", now: 0 }), FILTER_DROP);
  const m = chain.metrics();
  assert.equal(m.inspected, 1);
  assert.equal(m.dropped, 1);
  assert.equal(m.filters["intrusion-detector"].inspected, 1, "earlier filters saw it");
});

Deno.test("filter loader: configuration mistakes are refused", async () => {
  await assert.rejects(() => loadFilter({ module: "" }), TypeError);
  await assert.rejects(
    () => loadFilter({ module: moduleUrl("export const x = 1;") }),
    /no createFilter/,
  );
  await assert.rejects(
    () => loadFilter({ module: moduleUrl("export const createFilter = () => ({});") }),
    /made no filter/,
  );
  await assert.rejects(
    () => loadFilter({ module: "packet-filter", options: { rules: ["nope"] } }),
    RangeError,
  );
  await assert.rejects(
    () => loadFilterChain([{ module: "packet-filter" }, { module: "packet-filter" }]),
    /Two filters are named "packet-filter"/,
  );
  const two = await loadFilterChain([
    { module: "packet-filter", options: { name: "inner" } },
    { module: "packet-filter", options: { name: "outer" } },
  ]);
  assert.equal(two.filters.length, 2);
});

Deno.test("filter chain: a throwing filter fails closed; the first drop ends the chain", () => {
  let seen = 0;
  const counting: NetFilter = {
    name: "counting",
    inspect: () => (seen++, FILTER_PASS),
    metrics: () => ({ seen }),
  };
  const throwing: NetFilter = {
    name: "throwing",
    inspect: () => {
      throw new Error("boom");
    },
    metrics: () => ({}),
  };
  const chain = new FilterChain([throwing, counting]);
  const info = new FrameInfo();
  info.parse(frame);
  assert.equal(chain.run({ bytes: frame, info, inPort: "p", now: 0 }), FILTER_DROP);
  assert.equal(seen, 0);
  assert.equal(chain.metrics().errors, 1);
  assert.match(chain.lastError!, /throwing: Error: boom/);
  assert.equal(new FilterChain().run({ bytes: frame, info, inPort: "p", now: 0 }), FILTER_PASS);
});

Deno.test("filter conformance: the suite's traffic trips a filter that trusts headers", () => {
  // A filter that indexes the frame by its IP header length without checking: what the
  // conformance suite exists to catch.
  const naive: NetFilter = {
    name: "naive",
    inspect: (packet) => {
      const ihl = (packet.bytes[14] & 0x0f) * 4;
      const port = packet.bytes[14 + ihl + 2];
      if (port === undefined) throw new RangeError("read past the frame");
      return FILTER_PASS;
    },
    metrics: () => ({}),
  };
  assert.throws(() => {
    runFrames(naive, [new Uint8Array(14), buildFrame({ dst: 2, src: 1, ipSrc: 1, ipDst: 2 })]);
  }, RangeError);
});
