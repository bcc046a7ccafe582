/*
 * nettest.c — two guests exchanging Ethernet frames over the bridge (PV only): a ping-pong and a
 * bulk transfer of UDP/IPv4 frames, plus a flow a filter rule is expected to block.
 *
 *   app=nettest role=ping peer=<mac> [rounds=100] [size=64] [blocked=0]
 *   app=nettest role=pong [rounds=100]
 *   app=nettest role=send peer=<mac> [bytes=1048576] [size=1514] [window=32] [blocked=0]
 *   app=nettest role=recv
 *   common: [dev=0] [ip=N] [peer_ip=N]   (addresses 10.0.0.N; default: the MACs' last bytes)
 *
 * Rules of use:
 *   - Frames: Ethernet (our MAC from SYS_net_info, the peer's from peer=), IPv4 with a correct
 *     header checksum, UDP (checksum 0), then {magic "PVNT", kind, seq, value} and a payload byte
 *     pattern ((seq * 31 + j * 7) & 0xFF). Ports: ping/pong 7, data and end 5001, acks 5002,
 *     the blocked flow 9 (a filter rule such as `deny proto=udp dport=9` drops it).
 *   - ping sends `blocked` frames to port 9 first, then `rounds` pings (each answered by a pong
 *     with the same seq; resent after 2 s, at most 5 times) and prints
 *     "nettest: ping rounds=R size=S rtt_avg_ns=A rtt_min_ns=B rtt_max_ns=C".
 *     pong answers until it has answered `rounds` distinct pings, then prints
 *     "nettest: pong rounds=R blocked_seen=N".
 *   - send first sends a start frame until recv answers (the receiver's interface may come up
 *     later), then `bytes` in frames of `size` bytes (more than a page travels as fragments), at
 *     most `window` unacknowledged (fewer for frames over a page, so they fit the receiver's 64
 *     receive pages), interleaving the `blocked` frames to port 9, then an end frame (resent
 *     until acknowledged). recv acknowledges every window/2 frames and checks payloads; a frame
 *     out of order is dropped and the sender goes back to the first one missing (go-back-N:
 *     after a gap, or after a second without acks). At the end: "nettest: recv frames=F
 *     bytes=B mbps=X blocked_seen=N out_of_order=O" and "nettest: send frames=F bytes=B mbps=X
 *     blocked_sent=K retransmits=R".
 *   - The checksum is the FNV-1a hash of the seqs (ping/pong) or of (seq, length) of every data
 *     frame, each counted once (send/recv), so both ends of a pair print the same one. A frame on port 9 that
 *     arrives makes the receiving side fail: the filter let the blocked flow through.
 */
#include "ulib.h"

#define MAGIC 0x544E5650u /* "PVNT" little-endian */
#define KIND_PING 1u
#define KIND_PONG 2u
#define KIND_DATA 3u
#define KIND_ACK 4u
#define KIND_END 5u
#define KIND_BLOCKED 6u
#define KIND_START 7u
#define PORT_ECHO 7u
#define PORT_DATA 5001u
#define PORT_ACK 5002u
#define PORT_BLOCKED 9u
#define HDR (14u + 20u + 8u)
#define BODY (HDR + 16u)
#define MAX_FRAME 9216u
#define NS_PER_TICK 100u

static uint32_t dev;
static uint8_t my_mac[6], peer_mac[6];
static uint32_t my_ip, peer_ip;
static uint8_t out[MAX_FRAME], in[MAX_FRAME];
static uint32_t blocked_seen;

struct msg {
  uint32_t kind, seq, value, len, dport;
};

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static bool parse_mac(const char *s, uint8_t mac[6]) {
  for (int i = 0; i < 6; i++) {
    int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
    if (hi < 0 || lo < 0 || s[3 * i + 2] != (i == 5 ? '\0' : ':')) return false;
    mac[i] = (uint8_t)(hi * 16 + lo);
  }
  return true;
}

static void put16(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static uint32_t get16(const uint8_t *p) { return ((uint32_t)p[0] << 8) | p[1]; }

static void put32le(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32le(const uint8_t *p) {
  return p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint8_t payload_byte(uint32_t seq, uint32_t j) { return (uint8_t)(seq * 31u + j * 7u); }

/* Builds a frame of `len` bytes (at least BODY) to the peer and sends it. */
static long send_msg(uint32_t kind, uint32_t seq, uint32_t value, uint32_t len, uint32_t sport,
                     uint32_t dport) {
  memcpy(out, peer_mac, 6);
  memcpy(out + 6, my_mac, 6);
  put16(out + 12, 0x0800);
  uint8_t *ip = out + 14;
  memset(ip, 0, 20);
  ip[0] = 0x45;
  put16(ip + 2, len - 14);
  ip[8] = 64;
  ip[9] = 17;
  ip[12] = 10, ip[13] = 0, ip[14] = 0, ip[15] = (uint8_t)my_ip;
  ip[16] = 10, ip[17] = 0, ip[18] = 0, ip[19] = (uint8_t)peer_ip;
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += get16(ip + i);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  put16(ip + 10, ~sum & 0xFFFF);
  uint8_t *udp = ip + 20;
  put16(udp, sport);
  put16(udp + 2, dport);
  put16(udp + 4, len - 34);
  put16(udp + 6, 0);
  uint8_t *body = out + HDR;
  put32le(body, MAGIC);
  put32le(body + 4, kind);
  put32le(body + 8, seq);
  put32le(body + 12, value);
  for (uint32_t j = BODY; j < len; j++) out[j] = payload_byte(seq, j);
  return sys_net_send(dev, out, len);
}

/* A frame received before its loop started (pong/recv learn the peer from it). */
static struct msg held;
static bool have_held;

/* Receives the next of our frames; returns 1, 0 on timeout, or -errno. Frames on the blocked
 * port are counted (they must never arrive) and skipped. The payload stays in `in`. */
static long recv_msg(struct msg *m, uint32_t timeout_ms) {
  if (have_held) {
    have_held = false;
    *m = held;
    return 1;
  }
  for (;;) {
    long n = sys_net_recv(dev, in, sizeof(in), timeout_ms);
    if (n == -(long)ETIMEDOUT) return 0;
    if (n < 0) return n;
    if (n < (long)BODY || n > (long)sizeof(in)) continue;
    if (get16(in + 12) != 0x0800 || in[14 + 9] != 17) continue;
    if (get32le(in + HDR) != MAGIC) continue;
    m->dport = get16(in + 36);
    m->kind = get32le(in + HDR + 4);
    m->seq = get32le(in + HDR + 8);
    m->value = get32le(in + HDR + 12);
    m->len = (uint32_t)n;
    if (m->dport == PORT_BLOCKED || m->kind == KIND_BLOCKED) {
      blocked_seen++;
      continue;
    }
    return 1;
  }
}

static bool payload_ok(uint32_t seq, uint32_t len) {
  for (uint32_t j = BODY; j < len; j++) {
    if (in[j] != payload_byte(seq, j)) return false;
  }
  return true;
}

static uint32_t fnv(uint32_t h, uint32_t v) { return (h ^ v) * 16777619u; }

static int send_blocked(uint32_t count) {
  for (uint32_t i = 0; i < count; i++) {
    long rc = send_msg(KIND_BLOCKED, i, 0, 64, PORT_BLOCKED, PORT_BLOCKED);
    if (rc < 0) return app_fail("nettest", "sending a blocked-flow frame: error %ld", rc);
  }
  return 0;
}

static int ping(uint32_t rounds, uint32_t size, uint32_t blocked) {
  if (send_blocked(blocked) != 0) return 1;
  uint32_t hash = 2166136261u;
  uint64_t total = 0, min = ~0ull, max = 0;
  for (uint32_t i = 0; i < rounds; i++) {
    uint64_t t0 = rdtime();
    bool answered = false;
    for (uint32_t attempt = 0; attempt < 5 && !answered; attempt++) {
      long rc = send_msg(KIND_PING, i, 0, size, 40000, PORT_ECHO);
      if (rc < 0) return app_fail("nettest", "sending ping %u: error %ld", i, rc);
      struct msg m;
      for (;;) {
        rc = recv_msg(&m, 2000);
        if (rc < 0) return app_fail("nettest", "receiving: error %ld", rc);
        if (rc == 0) break;
        if (m.kind == KIND_PONG && m.seq == i) {
          if (!payload_ok(i, m.len)) return app_fail("nettest", "pong %u is corrupt", i);
          answered = true;
          break;
        }
      }
    }
    if (!answered) return app_fail("nettest", "ping %u was never answered", i);
    uint64_t dt = rdtime() - t0;
    total += dt;
    if (dt < min) min = dt;
    if (dt > max) max = dt;
    hash = fnv(hash, i);
  }
  printf("nettest: ping rounds=%u size=%u rtt_avg_ns=%llu rtt_min_ns=%llu rtt_max_ns=%llu\n",
         rounds, size, total * NS_PER_TICK / rounds, min * NS_PER_TICK, max * NS_PER_TICK);
  return app_done("nettest", hash);
}

static int pong(uint32_t rounds) {
  uint32_t hash = 2166136261u;
  uint32_t answered = 0;
  while (answered < rounds) {
    struct msg m;
    long rc = recv_msg(&m, 60000);
    if (rc < 0) return app_fail("nettest", "receiving: error %ld", rc);
    if (rc == 0) return app_fail("nettest", "no ping for 60 s after %u rounds", answered);
    if (m.kind != KIND_PING || m.dport != PORT_ECHO) continue;
    if (!payload_ok(m.seq, m.len)) return app_fail("nettest", "ping %u is corrupt", m.seq);
    rc = send_msg(KIND_PONG, m.seq, 0, m.len, PORT_ECHO, 40000);
    if (rc < 0) return app_fail("nettest", "sending pong %u: error %ld", m.seq, rc);
    if (m.seq == answered) {
      hash = fnv(hash, m.seq);
      answered++;
    }
  }
  printf("nettest: pong rounds=%u blocked_seen=%u\n", rounds, blocked_seen);
  if (blocked_seen != 0) {
    return app_fail("nettest", "%u frame(s) of the blocked flow arrived", blocked_seen);
  }
  return app_done("nettest", hash);
}

/* Waits up to timeout_ms for an ack; returns its value, -1 on timeout, or -2 - errno. */
static long wait_ack(uint32_t timeout_ms) {
  struct msg m;
  for (;;) {
    long rc = recv_msg(&m, timeout_ms);
    if (rc < 0) return -2 + rc;
    if (rc == 0) return -1;
    if (m.kind == KIND_ACK && m.dport == PORT_ACK) return (long)m.value;
  }
}

static int sender(uint64_t bytes, uint32_t size, uint32_t window, uint32_t blocked) {
  uint32_t frames = (uint32_t)((bytes + size - 1) / size);
  /* Start: the receiver answers with ack 0 once it is listening (its vif may come up later). */
  bool started = false;
  for (uint32_t attempt = 0; attempt < 40 && !started; attempt++) {
    long rc = send_msg(KIND_START, 0, window, BODY, 40001, PORT_DATA);
    if (rc < 0) return app_fail("nettest", "sending the start: error %ld", rc);
    long ack = wait_ack(500);
    if (ack < -1) return app_fail("nettest", "receiving: error %ld", ack + 2);
    started = ack == 0;
  }
  if (!started) return app_fail("nettest", "the receiver never answered the start");
  uint32_t hash = 2166136261u;
  uint32_t acked = 0, next = 0, highest = 0, retransmits = 0;
  uint32_t every = blocked == 0 ? 0 : frames / blocked > 0 ? frames / blocked : 1;
  uint32_t blocked_sent = 0, stalls = 0;
  uint64_t sent_bytes = 0;
  uint64_t t0 = rdtime();
  /* acked counts frames, and frames + 1 once the end is acknowledged too. */
  bool end_sent = false;
  while (acked < frames + 1) {
    if (next < frames && next - acked < window) {
      uint32_t len = next + 1 == frames && bytes % size != 0 ? (uint32_t)(bytes % size) : size;
      if (len < BODY) len = BODY;
      long rc = send_msg(KIND_DATA, next, window, len, 40001, PORT_DATA);
      if (rc < 0) return app_fail("nettest", "sending frame %u: error %ld", next, rc);
      if (next < highest) {
        retransmits++;
      } else {
        highest = next + 1;
        sent_bytes += len;
        hash = fnv(fnv(hash, next), len);
        if (every != 0 && next % every == 0 && blocked_sent < blocked) {
          if (send_blocked(1) != 0) return 1;
          blocked_sent++;
        }
      }
      next++;
      continue;
    }
    while (next == frames && blocked_sent < blocked) {
      if (send_blocked(1) != 0) return 1;
      blocked_sent++;
    }
    if (next == frames && !end_sent) {
      /* Everything is out: the end asks the receiver to acknowledge what it has. */
      long rc = send_msg(KIND_END, frames, frames, BODY, 40001, PORT_DATA);
      if (rc < 0) return app_fail("nettest", "sending the end: error %ld", rc);
      end_sent = true;
    }
    long ack = wait_ack(1000);
    if (ack < -1) return app_fail("nettest", "receiving: error %ld", ack + 2);
    if (ack < 0) {
      /* Nothing for a second: go back to the first unacknowledged frame. */
      if (++stalls > 20) return app_fail("nettest", "no ack for 20 s (acked %u of %u)", acked, frames);
      next = acked < frames ? acked : frames;
      end_sent = false;
      continue;
    }
    stalls = 0;
    if ((uint32_t)ack == frames + 1 && next == frames) {
      acked = frames + 1;
    } else if ((uint32_t)ack > acked && (uint32_t)ack <= highest) {
      acked = (uint32_t)ack;
    } else if ((uint32_t)ack == acked && (next - acked >= window || next == frames)) {
      /* A repeated ack with nothing newer to send: the receiver misses frame `acked`. */
      next = acked;
      end_sent = false;
    }
  }
  uint64_t ticks = rdtime() - t0;
  char a[24];
  printf("nettest: send frames=%u bytes=%llu mbps=%s blocked_sent=%u retransmits=%u\n", frames,
         sent_bytes, fixed2(a, sizeof(a), sent_bytes * 1000u / (ticks ? ticks : 1)), blocked_sent,
         retransmits);
  return app_done("nettest", hash);
}

static int receiver(void) {
  uint32_t hash = 2166136261u;
  uint32_t expected = 0, since_ack = 0, window = 32, out_of_order = 0;
  uint64_t got_bytes = 0;
  uint64_t t0 = 0;
  for (;;) {
    struct msg m;
    long rc = recv_msg(&m, 60000);
    if (rc < 0) return app_fail("nettest", "receiving: error %ld", rc);
    if (rc == 0) return app_fail("nettest", "nothing for 60 s after %u frames", expected);
    if (m.dport != PORT_DATA) continue;
    if (m.kind == KIND_START) {
      window = m.value >= 2 && m.value <= 64 ? m.value : 2;
      send_msg(KIND_ACK, 0, 0, BODY, PORT_ACK, PORT_ACK);
      continue;
    }
    if (m.kind == KIND_END) {
      /* The sender ends only once everything is acked; answer with what we have. */
      send_msg(KIND_ACK, 0, m.seq == expected ? expected + 1 : expected, BODY, PORT_ACK,
               PORT_ACK);
      if (m.seq == expected) break;
      continue;
    }
    if (m.kind != KIND_DATA) continue;
    if (t0 == 0) t0 = rdtime();
    if (m.seq != expected) {
      /* A duplicate or a gap (something was lost): go-back-N, ask again from `expected`. */
      out_of_order++;
      send_msg(KIND_ACK, 0, expected, BODY, PORT_ACK, PORT_ACK);
      continue;
    }
    if (!payload_ok(m.seq, m.len)) return app_fail("nettest", "frame %u is corrupt", m.seq);
    hash = fnv(fnv(hash, m.seq), m.len);
    got_bytes += m.len;
    expected++;
    if (++since_ack >= window / 2) {
      since_ack = 0;
      rc = send_msg(KIND_ACK, 0, expected, BODY, PORT_ACK, PORT_ACK);
      if (rc < 0) return app_fail("nettest", "sending an ack: error %ld", rc);
    }
  }
  /* Late duplicates of the end (our ack was lost or slow) get acked again for a moment. */
  for (;;) {
    struct msg m;
    long rc = recv_msg(&m, 300);
    if (rc <= 0) break;
    if (m.kind == KIND_END) send_msg(KIND_ACK, 0, expected + 1, BODY, PORT_ACK, PORT_ACK);
  }
  uint64_t ticks = t0 == 0 ? 1 : rdtime() - t0;
  char a[24];
  printf("nettest: recv frames=%u bytes=%llu mbps=%s blocked_seen=%u out_of_order=%u\n",
         expected, got_bytes, fixed2(a, sizeof(a), got_bytes * 1000u / (ticks ? ticks : 1)),
         blocked_seen, out_of_order);
  if (blocked_seen != 0) {
    return app_fail("nettest", "%u frame(s) of the blocked flow arrived", blocked_seen);
  }
  return app_done("nettest", hash);
}

int main(const char *cmdline) {
  char role[8], peer[24];
  int ok[9];
  dev = arg_u32(cmdline, "dev", 0, &ok[0]);
  uint32_t rounds = arg_u32(cmdline, "rounds", 100, &ok[1]);
  uint32_t size = arg_u32(cmdline, "size", 0, &ok[2]);
  uint32_t blocked = arg_u32(cmdline, "blocked", 0, &ok[3]);
  uint32_t bytes = arg_u32(cmdline, "bytes", 1048576, &ok[4]);
  uint32_t window = arg_u32(cmdline, "window", 32, &ok[5]);
  uint32_t ip = arg_u32(cmdline, "ip", 0, &ok[6]);
  uint32_t pip = arg_u32(cmdline, "peer_ip", 0, &ok[7]);
  for (int i = 0; i < 8; i++) {
    if (!ok[i]) return app_fail("nettest", "a number on the command line is malformed");
  }
  if (!arg_str(cmdline, "role", role, sizeof(role))) {
    return app_fail("nettest", "role= must be ping, pong, send or recv");
  }
  bool is_ping = strcmp(role, "ping") == 0, is_pong = strcmp(role, "pong") == 0,
       is_send = strcmp(role, "send") == 0, is_recv = strcmp(role, "recv") == 0;
  if (!is_ping && !is_pong && !is_send && !is_recv) {
    return app_fail("nettest", "role= must be ping, pong, send or recv");
  }
  struct pvk_net_info info;
  long rc = sys_net_info(dev, &info);
  if (rc == -(long)ENOSYS) {
    return app_fail("nettest", "no network interface: the kernel runs natively (network "
                               "frontends need the hypervisor and xenstore)");
  }
  if (rc != 0) return app_fail("nettest", "interface %u: error %ld", dev, rc);
  memcpy(my_mac, info.mac, 6);
  if (is_ping || is_send) {
    if (!arg_str(cmdline, "peer", peer, sizeof(peer)) || !parse_mac(peer, peer_mac)) {
      return app_fail("nettest", "peer= must be the other guest's MAC (aa:bb:cc:dd:ee:ff)");
    }
  } else {
    memset(peer_mac, 0xFF, 6); /* replies go to whoever asked: filled in below */
  }
  my_ip = ip != 0 ? ip : my_mac[5];
  peer_ip = pip != 0 ? pip : peer_mac[5];
  printf("nettest: %s on vif %u mac %02x:%02x:%02x:%02x:%02x:%02x ip 10.0.0.%u\n", role,
         info.devid, my_mac[0], my_mac[1], my_mac[2], my_mac[3], my_mac[4], my_mac[5], my_ip);
  if (is_ping) {
    if (size == 0) size = 64;
    if (size < BODY || size > MAX_FRAME) return app_fail("nettest", "size= must be 58..9216");
    if (rounds == 0) return app_fail("nettest", "rounds= must be positive");
    return ping(rounds, size, blocked);
  }
  if (is_send) {
    if (size == 0) size = 1514;
    if (size < BODY || size > MAX_FRAME) return app_fail("nettest", "size= must be 58..9216");
    if (window < 2 || window > 48) return app_fail("nettest", "window= must be 2..48");
    /* The receiver posts 64 pages: keep what may be in flight within 48 of them. */
    uint32_t pages = (size + 4095u) / 4096u;
    if (window * pages > 48) window = 48 / pages < 2 ? 2 : 48 / pages;
    return sender(bytes, size, window, blocked);
  }
  /* pong and recv answer whoever sends to them: learn the peer from the first frame, then
   * hand that frame to the loop. */
  if (rounds == 0) return app_fail("nettest", "rounds= must be positive");
  rc = recv_msg(&held, 60000);
  if (rc < 0) return app_fail("nettest", "receiving: error %ld", rc);
  if (rc == 0) return app_fail("nettest", "no frame for 60 s");
  memcpy(peer_mac, in + 6, 6);
  if (pip == 0) peer_ip = in[14 + 15];
  have_held = true;
  return is_pong ? pong(rounds) : receiver();
}
