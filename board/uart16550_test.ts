import assert from "node:assert/strict";
import { Uart16550 } from "./uart16550.ts";

function uart() {
  const device = new Uart16550();
  const out: number[] = [];
  const irq: boolean[] = [];
  device.onTransmit = (bytes) => out.push(...bytes);
  device.onInterrupt = (level) => irq.push(level);
  return { device, out, irq, level: () => irq[irq.length - 1] ?? false };
}

Deno.test("UART transmits buffered bytes and always reports THR empty", () => {
  const { device, out } = uart();
  for (const c of "hi") device.write(0, 1, c.charCodeAt(0));
  assert.deepEqual(out, [], "buffered until flush");
  device.flush();
  assert.equal(String.fromCharCode(...out), "hi");
  assert.equal(device.read(5, 1) & 0x60, 0x60);
});

Deno.test("UART receive: data ready, RX interrupt, IIR priority and clearing", () => {
  const { device, level } = uart();
  device.write(1, 1, 0x01); // IER: RX
  assert.equal(level(), false);
  device.receive(new Uint8Array([0x41, 0x42]));
  assert.equal(level(), true);
  assert.equal(device.read(5, 1) & 1, 1);
  assert.equal(device.read(2, 1) & 0x0f, 0x04, "RX data available");
  assert.equal(device.read(0, 1), 0x41);
  assert.equal(device.read(0, 1), 0x42);
  assert.equal(level(), false);
  assert.equal(device.read(2, 1) & 0x0f, 0x01, "no interrupt");
});

Deno.test("UART THR-empty interrupt fires on enable and clears on IIR read", () => {
  const { device, level } = uart();
  device.write(1, 1, 0x02);
  assert.equal(level(), true);
  assert.equal(device.read(2, 1) & 0x0f, 0x02);
  assert.equal(level(), false, "reading IIR clears THRE");
  device.write(0, 1, 0x30);
  assert.equal(level(), true, "writing THR re-arms it");
});

Deno.test("UART divisor latch, scratch and loopback", () => {
  const { device, out } = uart();
  device.write(3, 1, 0x83); // DLAB
  device.write(0, 1, 0x12);
  device.write(1, 1, 0x34);
  assert.equal(device.read(0, 1), 0x12);
  assert.equal(device.read(1, 1), 0x34);
  device.write(3, 1, 0x03);
  device.write(7, 1, 0x5a);
  assert.equal(device.read(7, 1), 0x5a);
  device.write(4, 1, 0x10 | 0x0a); // loopback, RTS, OUT2
  assert.equal(device.read(6, 1) & 0xf0, 0x90, "CTS and DCD follow RTS and OUT2");
  device.write(0, 1, 0x77);
  device.flush();
  assert.deepEqual(out, [], "looped back, not sent");
  assert.equal(device.read(0, 1), 0x77);
  const state = device.saveState();
  const copy = new Uart16550();
  copy.restoreState(state);
  assert.deepEqual(copy.saveState(), state);
});
