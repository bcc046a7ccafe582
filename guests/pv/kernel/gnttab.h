/*
 * gnttab.h — the guest's grant table (v1, xen/grant_table.h): sharing our frames with a backend
 * domain by reference.
 *
 * Rules of use (PV only; natively every call answers -ENOSYS):
 *   - gnttab_init asks the hypervisor for the table's frames (GNTTABOP_setup_table) and maps
 *     them at FIXMAP_GNTTAB; it is idempotent, and the other calls run it on first use.
 *   - gnttab_grant fills an entry in Xen's order: frame and domid first, a write barrier, then
 *     flags last — the publish point: the backend must never see GTF_permit_access with a stale
 *     frame.
 *   - gnttab_end revokes an entry the Xen way: it reads the flags and, unless the backend holds
 *     the grant mapped (GTF_reading / GTF_writing, which the hypervisor's mapper sets and clears
 *     with compare-exchange), clears them with a compare-exchange of the same word, so a backend
 *     mapping at that instant either wins (we retry later) or fails. An entry still in use is
 *     put on a deferred list and retried on later calls; its reference is reused only once
 *     revoked, so a backend can never reach a frame through a reference we have re-granted.
 *   - References 0..GNTTAB_RESERVED-1 are Xen's reserved entries and never handed out.
 */
#ifndef PVK_GNTTAB_H
#define PVK_GNTTAB_H
#include "types.h"

#define GNTTAB_ENTRIES (GRANT_TABLE_MAX_FRAMES * GRANT_ENTRIES_PER_FRAME)
#define GNTTAB_RESERVED 8u

int gnttab_init(void);
/* Grants domain `domid` access to machine frame `mfn`; returns the reference or a negated errno
 * (-ENOSPC when the table is full). */
int gnttab_grant(uint32_t domid, mfn_t mfn, bool readonly);
/* Revokes and frees `gref` (now, or deferred while the backend still maps it). */
void gnttab_end(uint32_t gref);
/* Revokes `gref` only if nobody maps it: 0 (revoked and freed) or -EBUSY (left as it was). */
int gnttab_try_end(uint32_t gref);
/* References free to grant; revocations still deferred. */
uint32_t gnttab_free_count(void);
uint32_t gnttab_deferred_count(void);
/* The entry's current flags (for tests and the hostile job). */
uint32_t gnttab_flags(uint32_t gref);

#endif
