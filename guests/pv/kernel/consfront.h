/*
 * consfront.h — the console frontend (io/console.h): the console ring page and event channel
 * named in start-info, served by the console backend in domain 0 (what `xl console` attaches to).
 *
 * Rules of use (PV only): console_io (CONSOLEIO_write) stays the early and fallback console.
 * The ring is used from consfront_init on (kmain calls it after the event channels are up) when
 * the command line says console=ring, or console=auto and xenstore names a console backend
 * (console/backend) whose state is Connected; console=io (or nothing) keeps console_io. Output is copied into the out ring, the producer index
 * is moved after the bytes (the publish point), and the backend is notified. If the ring stays
 * full for CONSFRONT_STALL_NS (no backend is draining it), or an index is corrupt, the frontend
 * gives up: it says so on console_io and everything after goes there again.
 * Input: consfront_read takes typed bytes from the in ring (the backend notifies on the same
 * channel; readers wait on consfront_waitq).
 */
#ifndef PVK_CONSFRONT_H
#define PVK_CONSFRONT_H
#include "types.h"

#define CONSFRONT_STALL_NS 2000000000ull

struct waitq;

/* Switches the console to the ring if `cmdline` asks for it; returns whether it did. */
bool consfront_init(const char *cmdline);
bool consfront_active(void);
/* Writes everything (false: the ring failed; the caller falls back to console_io). */
bool consfront_write(const char *buf, size_t len);
/* Copies up to len typed bytes; returns how many (0 if none). */
uint32_t consfront_read(char *buf, uint32_t len);
struct waitq *consfront_waitq(void);

#endif
