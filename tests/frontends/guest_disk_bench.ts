/**
 * The block path measured from inside a PV guest, against raw Deno file I/O on the same file in
 * the same run: `deno run -A tests/frontends/guest_disk_bench.ts [--quick]`.
 *
 * The path: the PV kernel's disktest (U-mode) → SYS_blk_submit/SYS_blk_reap → blkfront's ring
 * and grants → the blkback worker the device supervisor started (file backend) → the image →
 * back; timed by the guest with the time CSR (10 MHz, the host's clock). The reference: the same
 * requests as synchronous positioned reads and writes (`node:fs`) on the same file from one
 * thread (random reads: one at a time, the same offsets' distribution). The page cache holds the
 * image, so both sides measure the software path. The hypervisor runs on this thread.
 *
 * @module
 */

import * as fs from "node:fs";
import { DeviceSupervisor } from "@paravirt/dom0";
import { createGuest, newHost, runGuests } from "./_harness.ts";

const quick = Deno.args.includes("--quick");
const MB = quick ? 8 : 32;
const OPS = quick ? 2048 : 8192;
const QD = 32;
const FILE_BYTES = 2 * MB << 20;

const image = await Deno.makeTempFile({ suffix: ".img" });
await Deno.writeFile(image, new Uint8Array(FILE_BYTES));

function raw(): Record<string, number> {
  const fd = fs.openSync(image, "r+");
  const result: Record<string, number> = {};
  try {
    for (const op of ["write", "read"] as const) {
      for (const size of [4096, 65536]) {
        const buffer = new Uint8Array(size);
        const total = MB << 20;
        const t0 = performance.now();
        for (let at = 0; at < total; at += size) {
          if (op === "write") fs.writeSync(fd, buffer, 0, size, at);
          else fs.readSync(fd, buffer, 0, size, at);
        }
        result[`seq_${op}_${size}`] = total / 1e6 / ((performance.now() - t0) / 1000);
      }
    }
    const buffer = new Uint8Array(4096);
    const blocks = FILE_BYTES / 4096;
    let x = 0x12345678;
    const t0 = performance.now();
    for (let i = 0; i < OPS; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      fs.readSync(fd, buffer, 0, 4096, ((x >>> 0) % blocks) * 4096);
    }
    result.rand_read_iops = OPS / ((performance.now() - t0) / 1000);
  } finally {
    fs.closeSync(fd);
  }
  return result;
}

async function guest(): Promise<Record<string, number>> {
  const host = newHost();
  const supervisor = new DeviceSupervisor({ control: host.control, xenstored: host.xenstored });
  try {
    const g = await createGuest(
      host,
      "bench",
      `app=disktest mode=bench bench_mb=${MB} bench_ops=${OPS} qd=${QD}`,
      { maxMemoryMiB: 16 },
    );
    await supervisor.attachDisk(g.domain.id, `format=raw, vdev=xvda, access=rw, target=${image}`);
    host.hv.unpause(g.domain);
    await runGuests(host, [g], { timeoutMs: 600_000 });
    const out = g.output();
    const result: Record<string, number> = {};
    for (const m of out.matchAll(/disktest: bench seq_(write|read) req=(\d+) .* mbps=([0-9.]+)/g)) {
      result[`seq_${m[1]}_${m[2]}`] = Number(m[3]);
    }
    const rand = out.match(/disktest: bench rand_read .* iops=(\d+)/);
    if (!rand || Object.keys(result).length !== 4) throw new Error(`disktest failed:\n${out}`);
    result.rand_read_iops = Number(rand[1]);
    return result;
  } finally {
    await supervisor.close();
    await host.close();
  }
}

try {
  const reference = raw();
  const measured = await guest();
  console.log(`guest disktest (qd ${QD}) vs raw node:fs on the same ${FILE_BYTES >> 20} MiB file`);
  console.log("test                 guest        raw          ratio");
  for (const key of Object.keys(reference)) {
    const unit = key.endsWith("iops") ? "IOPS" : "MB/s";
    console.log(
      `${key.padEnd(20)} ${measured[key].toFixed(1).padStart(8)} ${unit}  ` +
        `${reference[key].toFixed(1).padStart(8)} ${unit}  ${
          (measured[key] / reference[key]).toFixed(2)
        }`,
    );
  }
} finally {
  await Deno.remove(image);
}
