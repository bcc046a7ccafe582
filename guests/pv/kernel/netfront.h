/*
 * netfront.h — the network frontend (io/netif.h): virtual interfaces whose backend in domain 0
 * attaches them to a bridge, found in xenstore under device/vif/<devid>.
 *
 * Rules of use (PV only; natively every entry point answers -ENOSYS):
 *   - netfront_get(index) finds the interfaces on first use, starts one kernel thread per
 *     interface for the xenbus handshake and waits (up to NET_CONNECT_TIMEOUT_NS) until both ends
 *     are Connected.
 *   - Handshake (as Linux's netfront): when the backend is InitWait we make a tx and an rx ring,
 *     grant them, allocate one event channel, post every receive buffer, and write tx-ring-ref,
 *     rx-ring-ref, event-channel, request-rx-copy=1, feature-rx-notify=1, feature-sg=1 and
 *     state Connected in one transaction. If the backend closes or starts over, we tear the
 *     rings down and do it again; frames queued for sending at that moment are lost (a network
 *     may drop frames), received frames not yet read are kept.
 *   - Transmit copies the frame into NET_TX_BUFS granted (read-only) kernel pages, one page per
 *     fragment: the first request's size is the whole frame, each following one's its own length,
 *     NETTXF_more_data on all but the last. Larger than a page needs the backend's feature-sg.
 *   - Receive: NET_RX_BUFS kernel pages are granted (writable) once and posted as rx requests;
 *     the backend copies a frame into one or more of them (NETRXF_more_data chains them); the
 *     frame waits in a queue until netfront_recv copies it out, then its pages are posted again.
 *     A response naming a buffer we did not post, a status < 0, or data outside its page drops
 *     that frame (counted).
 */
#ifndef PVK_NETFRONT_H
#define PVK_NETFRONT_H
#include "pvk_syscall.h"
#include "types.h"

#define NET_MAX_DEVS 2u
#define NET_TX_BUFS 64u
#define NET_RX_BUFS 64u
#define NET_CONNECT_TIMEOUT_NS 30000000000ull

struct process;
struct netfront;

struct netfront *netfront_get(uint32_t index, int *rc);
void netfront_info(struct netfront *d, struct pvk_net_info *out);
/* Sends the frame at user address va (len bytes); returns len or -errno. */
int netfront_send(struct netfront *d, struct process *p, uint32_t va, uint32_t len);
/* Receives the next frame into user address va (size bytes); returns its full length or -errno
 * (-ETIMEDOUT when none came within timeout_ms; 0xFFFFFFFF waits without limit). */
int netfront_recv(struct netfront *d, struct process *p, uint32_t va, uint32_t size,
                  uint32_t timeout_ms);

#endif
