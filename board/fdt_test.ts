import assert from "node:assert/strict";
import {
  decodeFdt,
  encodeFdt,
  FDT_MAGIC,
  fdtCells,
  fdtEmpty,
  FdtNode,
  fdtString,
  fdtStrings,
  fdtU64,
} from "./fdt.ts";
import { boardDeviceTree, RISCV_ISA } from "./device_tree.ts";

function sample(): FdtNode {
  const root = new FdtNode("").set("#address-cells", fdtCells(2)).set("model", fdtString("m"));
  const soc = root.add(new FdtNode("soc@0")).set("ranges", fdtEmpty());
  soc.add(new FdtNode("uart@10000000"))
    .set("compatible", fdtStrings("ns16550a", "generic"))
    .set("reg", fdtU64(0x1_2345_6789));
  return root;
}

Deno.test("an encoded tree has a valid header and decodes back to the same tree", () => {
  const blob = encodeFdt(sample(), {
    bootCpuId: 3,
    reservations: [{ address: 0x8000_0000, size: 4096 }],
  });
  const view = new DataView(blob.buffer);
  assert.equal(view.getUint32(0), FDT_MAGIC);
  assert.equal(view.getUint32(4), blob.length);
  assert.equal(view.getUint32(20), 17);
  assert.equal(view.getUint32(24), 16);
  assert.equal(view.getUint32(8) % 4, 0, "structure block is 4-byte aligned");
  assert.equal(view.getUint32(16) % 8, 0, "reservation block is 8-byte aligned");
  const decoded = decodeFdt(blob);
  assert.equal(decoded.bootCpuId, 3);
  assert.deepEqual(decoded.reservations, [{ address: 0x8000_0000, size: 4096 }]);
  const uart = decoded.root.find("soc@0/uart@10000000")!;
  assert.deepEqual(uart.strings("compatible"), ["ns16550a", "generic"]);
  assert.deepEqual(uart.cells("reg"), [1, 0x2345_6789]);
  assert.deepEqual(decoded.root.cells("#address-cells"), [2]);
  assert.equal(decoded.root.find("soc@0")!.properties.get("ranges")!.length, 0);
  // Property names are shared in the strings block.
  const again = encodeFdt(decoded.root, { bootCpuId: 3, reservations: decoded.reservations });
  assert.deepEqual(again, blob);
});

Deno.test("bad trees and bad blobs are refused with a RangeError naming the problem", () => {
  assert.throws(() => encodeFdt(new FdtNode("x")), /root node's name must be empty/);
  const root = new FdtNode("");
  root.add(new FdtNode("bad name"));
  assert.throws(() => encodeFdt(root), /Node name "bad name" is not valid/);
  assert.throws(() => new FdtNode("").set("p", fdtCells(2 ** 33)), /not a 32-bit integer/);
  assert.throws(() => fdtString("a\0b"), /contains a NUL/);

  const blob = encodeFdt(sample());
  assert.throws(() => decodeFdt(blob.subarray(0, 20)), /shorter than an FDT header/);
  const badMagic = blob.slice();
  badMagic[0] = 0;
  assert.throws(() => decodeFdt(badMagic), /Bad FDT magic/);
  const truncated = blob.slice(0, blob.length - 16);
  assert.throws(() => decodeFdt(truncated), /exceeds/);
  const badToken = blob.slice();
  const structOffset = new DataView(badToken.buffer).getUint32(8);
  new DataView(badToken.buffer).setUint32(structOffset, 7);
  assert.throws(() => decodeFdt(badToken), /Unknown FDT token 7/);
  const badName = blob.slice();
  const view = new DataView(badName.buffer);
  // The root's first property sits right after the root's begin token and empty name.
  view.setUint32(structOffset + 8 + 8, 0xffff);
  assert.throws(() => decodeFdt(badName), /name offset 65535 lies outside/);
});

Deno.test("the board's tree describes exactly the board", () => {
  const tree = boardDeviceTree({
    ramSize: 128 << 20,
    bootargs: "console=ttyS0",
    initrd: { start: 0x8700_0000, end: 0x8710_0000 },
  });
  const root = decodeFdt(encodeFdt(tree)).root;
  const cpu = root.find("cpus/cpu@0")!;
  assert.deepEqual(cpu.strings("riscv,isa"), [RISCV_ISA]);
  assert.equal(RISCV_ISA, "rv32ima_zicsr_zifencei", "no c, f, d or sstc");
  assert.deepEqual(cpu.strings("mmu-type"), ["riscv,sv32"]);
  assert.deepEqual(root.find("cpus")!.cells("timebase-frequency"), [10_000_000]);
  assert.deepEqual(root.find("memory@80000000")!.cells("reg"), [0, 0x8000_0000, 0, 128 << 20]);
  const chosen = root.find("chosen")!;
  assert.deepEqual(chosen.strings("bootargs"), ["console=ttyS0"]);
  assert.deepEqual(chosen.cells("linux,initrd-start"), [0, 0x8700_0000]);
  assert.deepEqual(chosen.cells("linux,initrd-end"), [0, 0x8710_0000]);
  assert.deepEqual(chosen.strings("stdout-path"), ["/soc/serial@10000000"]);
  const uart = root.find("soc/serial@10000000")!;
  assert.deepEqual(uart.cells("interrupts"), [10]);
  const plic = root.find("soc/plic@c000000")!;
  assert.deepEqual(uart.cells("interrupt-parent"), plic.cells("phandle"));
  assert.deepEqual(plic.cells("interrupts-extended"), [1, 11, 1, 9]);
  assert.deepEqual(root.find("poweroff")!.cells("value"), [0x5555]);
  assert.deepEqual(root.find("soc/test@100000")!.strings("compatible"), [
    "sifive,test1",
    "sifive,test0",
    "syscon",
  ]);
});

async function hasDtc(): Promise<boolean> {
  try {
    return (await new Deno.Command("dtc", { args: ["--version"], stdout: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "dtc reads the board's blob without a warning and agrees on its contents",
  ignore: !(await hasDtc()),
  fn: async () => {
    const blob = encodeFdt(
      boardDeviceTree({
        ramSize: 64 << 20,
        bootargs: "console=ttyS0 earlycon=sbi",
        initrd: { start: 0x8300_0000, end: 0x8300_1000 },
      }),
    );
    const child = new Deno.Command("dtc", {
      args: ["-I", "dtb", "-O", "dts", "-"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(blob);
    await writer.close();
    const { success, stdout, stderr } = await child.output();
    const dts = new TextDecoder().decode(stdout);
    assert.ok(success, new TextDecoder().decode(stderr));
    assert.equal(new TextDecoder().decode(stderr), "", "no dtc warnings");
    assert.match(dts, /riscv,isa = "rv32ima_zicsr_zifencei";/);
    assert.match(dts, /mmu-type = "riscv,sv32";/);
    assert.match(dts, /bootargs = "console=ttyS0 earlycon=sbi";/);
    assert.match(dts, /serial@10000000 \{[^}]*interrupts = <0x0a>;/s);
    assert.match(dts, /reg = <0x00 0x80000000 0x00 0x4000000>;/);
  },
});
