/**
 * The guest images of paravirt: real RV32 machine code built from the C and assembly under
 * `native/` and `pv/` with Debian's `riscv64-unknown-elf-gcc` (see `build.ts`,
 * `deno task guests`).
 *
 * The native images run bare on the board (or on QEMU `virt` as the reference machine),
 * start in M-mode at 0x8000_0000 and end by writing to the SiFive test device (0x5555 = pass,
 * `(code << 16) | 0x3333` = failure `code`), except `htif`, which ends through the HTIF
 * `tohost` word instead.
 *
 * `pvkernel` is the paravirtualized kernel (`pv/README.md`): the same ELF boots as a PV guest
 * under the hypervisor and natively in S-mode under the board's SBI firmware, and runs the
 * applications named on its command line ({@linkcode PV_APP_NAMES}, plus the kernel jobs `hostile`,
 * `xstest` and `ringgarbage`); under the hypervisor it has the split-driver frontends. It ends
 * with SHUTDOWN_poweroff (success) or SHUTDOWN_crash (failure), natively through SBI SRST.
 *
 * ```ts
 * import { GUEST_IMAGES, guestImagePath } from "@paravirt/guests";
 * const image = await Deno.readFile(guestImagePath("hello"));
 * console.log(GUEST_IMAGES.hello.description, image.length);
 * ```
 *
 * @module
 */

/** Names of the built images, in build order; each is `bin/<name>.elf`. */
export const GUEST_IMAGE_NAMES: readonly GuestImageName[] = [
  "hello",
  "traps",
  "sv32",
  "timer",
  "htif",
  "demo",
  "cpubench",
  "pvkernel",
];

/** The U-mode applications embedded in `pvkernel`, in the order of its `kernel/apps.S`. */
export const PV_APP_NAMES: readonly string[] = [
  "hello",
  "primes",
  "pingpong",
  "memtest",
  "disktest",
  "nettest",
  "echo",
];

/** Name of one built guest image. */
export type GuestImageName =
  | "hello"
  | "traps"
  | "sv32"
  | "timer"
  | "htif"
  | "demo"
  | "cpubench"
  | "pvkernel";

/**
 * How a guest image tells the machine that it has finished, and whether it passed: the test
 * device, HTIF, or a shutdown request (SBI SRST natively, SCHEDOP_shutdown as a PV guest).
 */
export type GuestImageExit = "test-device" | "htif" | "shutdown";

/** What one image is and how it ends. */
export interface GuestImageInfo {
  /** One line on what the program shows or checks. */
  readonly description: string;
  /** The device the program ends through. */
  readonly exit: GuestImageExit;
  /** Whether QEMU `virt` can run it to the end (it has no HTIF). */
  readonly runsOnQemu: boolean;
}

/** Every image with its description; the keys are exactly {@linkcode GUEST_IMAGE_NAMES}. */
export const GUEST_IMAGES: Readonly<Record<GuestImageName, GuestImageInfo>> = {
  hello: {
    description: "Prints a greeting, misa and mhartid",
    exit: "test-device",
    runsOnQemu: true,
  },
  traps: {
    description: "Exceptions, delegation, mret/sret, TSR and TW across M, S and U",
    exit: "test-device",
    runsOnQemu: true,
  },
  sv32: {
    description: "Sv32 translation, page faults, A/D bits, SUM, MXR and sfence.vma",
    exit: "test-device",
    runsOnQemu: true,
  },
  timer: {
    description: "CLINT timer and software interrupts, and a delegated supervisor timer",
    exit: "test-device",
    runsOnQemu: true,
  },
  htif: {
    description: "Ends through HTIF tohost instead of the test device",
    exit: "htif",
    runsOnQemu: false,
  },
  demo: {
    description: "Banner, ASCII Mandelbrot, primes and its own instruction count",
    exit: "test-device",
    runsOnQemu: true,
  },
  cpubench: {
    description: "CPU benchmark (~1.5 G instructions): loop, CRC32, matrix multiply, sort",
    exit: "test-device",
    runsOnQemu: true,
  },
  pvkernel: {
    description: "The PV kernel with its applications; boots as a PV guest and natively in S-mode",
    exit: "shutdown",
    // It needs an SBI firmware natively, and Debian ships no 32-bit OpenSBI for QEMU.
    runsOnQemu: false,
  },
};

function checkName(name: string): GuestImageName {
  if (!Object.hasOwn(GUEST_IMAGES, name)) {
    throw new RangeError(
      `Unknown guest image "${name}": expected one of ${GUEST_IMAGE_NAMES.join(", ")}`,
    );
  }
  return name as GuestImageName;
}

/**
 * The URL of a built image, `bin/<name>.elf` in this package.
 *
 * @param name One of {@linkcode GUEST_IMAGE_NAMES}.
 * @returns A `file:` URL when the package is on disk.
 * @throws {RangeError} If `name` is not an image name.
 */
export function guestImageUrl(name: GuestImageName): URL {
  return new URL(`./bin/${checkName(name)}.elf`, import.meta.url);
}

/**
 * The file-system path of a built image, `bin/<name>.elf` in this package.
 *
 * @param name One of {@linkcode GUEST_IMAGE_NAMES}.
 * @returns An absolute path.
 * @throws {RangeError} If `name` is not an image name.
 * @throws {TypeError} If the package is not loaded from the file system.
 */
export function guestImagePath(name: GuestImageName): string {
  const url = guestImageUrl(name);
  if (url.protocol !== "file:") {
    throw new TypeError(`Guest image "${name}" is not on the file system: ${url.href}`);
  }
  return decodeURIComponent(url.pathname);
}

/**
 * The C sources of the benchmark's host build: the same `cpubench.c` the guest image runs,
 * with a stdio platform file instead of the UART one, for `gcc -O2` on the host.
 *
 * @returns Absolute paths, in the order to pass to the compiler.
 * @throws {TypeError} If the package is not loaded from the file system.
 */
export function cpubenchHostSources(): string[] {
  return ["native/cpubench.c", "native/cpubench_host.c"].map((file) => {
    const url = new URL(`./${file}`, import.meta.url);
    if (url.protocol !== "file:") {
      throw new TypeError(`Guest source "${file}" is not on the file system: ${url.href}`);
    }
    return decodeURIComponent(url.pathname);
  });
}
