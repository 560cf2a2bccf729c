/*
 * tun_nat64: a stateful NAT64 gateway in ~150 lines of C around libnat64.
 *
 * It opens a TUN device, reads each packet the kernel routes to it (IPv6 to pool6, IPv4 to
 * pool4), translates it with nat64_nat64_translate() and writes what comes out back to the
 * same device, for the kernel to route on. Timers run through nat64_nat64_poll() at
 * nat64_nat64_next_expiry(). NOT_OURS packets are dropped here (a real gateway would hand
 * them to the host); SIGINT/SIGTERM print the counters and exit.
 *
 *   tun_nat64 IFNAME POOL6 POOL4 [OWN_IPV4]
 *   tun_nat64 nat64tun 2001:db8:64::/96 198.51.100.1 198.51.100.1
 *
 * The caller brings the device up and routes POOL6 and POOL4 to it (see e2e.sh).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "nat64.h"

static volatile sig_atomic_t stop;
static void on_signal(int sig) { stop = sig; }

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void check(nat64_result r, const char *what) {
  if (r == NAT64_RESULT_OK) return;
  char msg[512];
  nat64_last_error(msg, sizeof msg, NULL);
  fprintf(stderr, "tun_nat64: %s: %s: %s\n", what, nat64_result_text(r), msg);
  exit(1);
}

static int tun_open(const char *name) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    perror("/dev/net/tun");
    exit(1);
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    perror("TUNSETIFF");
    exit(1);
  }
  return fd;
}

/* Writes every packet a verdict put in `out` to the device. */
static void emit(int fd, const nat64_verdict *v, const uint8_t *out) {
  size_t n = v->kind == NAT64_VERDICT_KIND_TRANSLATED ? v->count : v->kind == NAT64_VERDICT_KIND_ICMP_ERROR ? 1 : 0;
  for (size_t i = 0; i < n; i++) {
    size_t start = i * v->first_len;
    size_t end = i + 1 == n ? v->len : start + v->first_len;
    if (write(fd, out + start, end - start) < 0 && errno != EAGAIN) perror("write");
  }
}

int main(int argc, char **argv) {
  if (argc < 4 || argc > 5) {
    fprintf(stderr, "usage: %s IFNAME POOL6 POOL4 [OWN_IPV4]\n", argv[0]);
    return 2;
  }
  nat64_config *x = NULL;
  nat64_nat64_config *cfg = NULL;
  nat64_nat64 *nat = NULL;
  check(nat64_config_new(&x), "config");
  check(nat64_config_set_pool6(x, argv[2]), "pool6");
  check(nat64_config_set_own_ipv4(x, argc == 5 ? argv[4] : NULL), "own_ipv4");
  check(nat64_nat64_config_new(x, &cfg), "nat64 config");
  check(nat64_nat64_config_add_pool4(cfg, argv[3], 61001, 65535, 0), "pool4");
  check(nat64_nat64_new(cfg, &nat), "nat64");
  nat64_nat64_config_free(cfg);
  nat64_config_free(x);

  int fd = tun_open(argv[1]);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  uint8_t *in = malloc(65536), *out = malloc(NAT64_OUTPUT_BUFFER_LEN);
  uint64_t packets = 0, not_ours = 0;
  fprintf(stderr, "tun_nat64: %s up, pool6 %s, pool4 %s (libnat64 %s)\n", argv[1], argv[2], argv[3], nat64_version());
  while (!stop) {
    int timeout = 1000;
    uint64_t at, now = now_us();
    if (nat64_nat64_next_expiry(nat, &at)) timeout = at <= now ? 0 : (int)((at - now) / 1000 + 1);
    if (timeout > 1000) timeout = 1000;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, timeout);
    if (r < 0 && errno != EINTR) {
      perror("poll");
      break;
    }
    nat64_verdict v;
    if (r > 0 && (p.revents & POLLIN)) {
      ssize_t n = read(fd, in, 65536);
      if (n > 0) {
        packets++;
        check(nat64_nat64_translate(nat, in, (size_t)n, out, NAT64_OUTPUT_BUFFER_LEN, now_us(), &v), "translate");
        if (v.kind == NAT64_VERDICT_KIND_NOT_OURS) not_ours++;
        if (v.kind == NAT64_VERDICT_KIND_DROPPED)
          fprintf(stderr, "tun_nat64: dropped: %s\n", nat64_drop_reason_label(v.reason));
        emit(fd, &v, out);
      }
    }
    for (;;) {
      check(nat64_nat64_poll(nat, now_us(), out, NAT64_OUTPUT_BUFFER_LEN, &v), "poll");
      if (v.kind == NAT64_VERDICT_KIND_NONE) break;
      emit(fd, &v, out);
    }
  }
  nat64_counters c;
  nat64_stats s;
  check(nat64_nat64_counters(nat, &c), "counters");
  check(nat64_nat64_stats(nat, &s), "stats");
  printf("packets %llu translated_6to4 %llu translated_4to6 %llu icmp_errors %llu not_ours %llu sessions %zu\n",
         (unsigned long long)packets, (unsigned long long)c.translated_6to4, (unsigned long long)c.translated_4to6,
         (unsigned long long)c.icmp_errors_generated, (unsigned long long)not_ours, s.sessions);
  size_t count = 0;
  nat64_session ss[16];
  check(nat64_nat64_sessions(nat, NAT64_PROTO_ANY, NULL, ss, 16, &count), "sessions");
  for (size_t i = 0; i < count && i < 16; i++)
    printf("session proto %u v6_port %u -> %u.%u.%u.%u:%u via pool4 port %u\n", ss[i].proto, ss[i].v6_port,
           ss[i].remote_addr[0], ss[i].remote_addr[1], ss[i].remote_addr[2], ss[i].remote_addr[3], ss[i].remote_port,
           ss[i].v4_port);
  fflush(stdout);
  nat64_nat64_free(nat);
  free(in);
  free(out);
  close(fd);
  return 0;
}
