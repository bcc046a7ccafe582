/**
 * `console_io(cmd, count, buffer)`: a domain's console through the hypervisor. Writes go to the
 * domain's console listeners; reads take typed input (0 bytes when none).
 *
 * @module
 */

import { CONSOLEIO_read, CONSOLEIO_write, EINVAL, ENOSYS } from "@paravirt/public";
import { CONSOLE_WRITE_MAX } from "../params.ts";
import type { Hypercall } from "./host.ts";

/** The console_io hypercall. */
export const consoleIo: Hypercall = (_host, domain, vcpu, args) => {
  const count = args[1];
  const buffer = args[2];
  if (count < 0 || count > CONSOLE_WRITE_MAX) return -EINVAL;
  switch (args[0]) {
    case CONSOLEIO_write: {
      if (count === 0) return 0;
      domain.console.output(vcpu.guest.read(buffer, count));
      return count;
    }
    case CONSOLEIO_read: {
      const bytes = domain.console.read(count);
      if (bytes.length > 0) vcpu.guest.write(buffer, bytes);
      return bytes.length;
    }
    default:
      return -ENOSYS;
  }
};
