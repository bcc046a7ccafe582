/*
 * pvops.c — chooses the pv-ops table at boot (pvops.h).
 *
 * Rules of use: pvops_select is called once, early in kmain; it asks the SBI base extension to
 * probe HYPERCALL_EXTENSION. The contract (public/README.md, "Native mode") says the answer is
 * 0 on the board and 1 under the hypervisor; any other answer is treated as "not
 * paravirtualized".
 */
#include "pvops.h"

#include "sbi.h"

const struct pv_ops *pv;

const struct pv_ops *pvops_select(void) {
  pv = sbi_probe(HYPERCALL_EXTENSION) == 1 ? &pv_ops_xen : &pv_ops_native;
  return pv;
}
