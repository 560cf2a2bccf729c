/*
 * The smallest useful program against an installed libnat64: a stateful NAT64
 * (RFC 6146) with pool6 2001:db8:64::/96 and pool4 198.51.100.1 translates one
 * IPv6 UDP datagram, then lists the session it made and shows how a bad
 * configuration is reported. Built with the pkg-config flags alone:
 *
 *   cc hello_nat64.c $(pkg-config --cflags --libs nat64)          # libnat64.so.0
 *   cc hello_nat64.c $(pkg-config --cflags --libs nat64-static)   # libnat64.a
 *
 * Exits 0 when every step gave what the RFCs say it should.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nat64.h>

#define CHECK(call)                                                                  \
  do {                                                                               \
    nat64_result r_ = (call);                                                        \
    if (r_ != NAT64_RESULT_OK) {                                                     \
      char msg_[256] = "";                                                           \
      nat64_last_error(msg_, sizeof msg_, NULL);                                     \
      fprintf(stderr, "%s: %s (%s)\n", #call, nat64_result_text(r_), msg_);          \
      exit(1);                                                                       \
    }                                                                                \
  } while (0)

/* An IPv6 UDP datagram with a valid checksum (RFC 8200 section 8.1). */
static size_t udp6(uint8_t *p, const char *src, const char *dst, uint16_t sport, uint16_t dport,
                   const char *payload) {
  size_t n = strlen(payload), ulen = 8 + n;
  memset(p, 0, 40 + ulen);
  p[0] = 0x60, p[4] = (uint8_t)(ulen >> 8), p[5] = (uint8_t)ulen, p[6] = 17, p[7] = 64;
  inet_pton(AF_INET6, src, p + 8);
  inet_pton(AF_INET6, dst, p + 24);
  uint8_t *u = p + 40;
  u[0] = (uint8_t)(sport >> 8), u[1] = (uint8_t)sport, u[2] = (uint8_t)(dport >> 8), u[3] = (uint8_t)dport;
  u[4] = (uint8_t)(ulen >> 8), u[5] = (uint8_t)ulen;
  memcpy(u + 8, payload, n);
  uint32_t s = 17 + (uint32_t)ulen;
  for (size_t i = 8; i < 40 + ulen; i += 2)
    s += (uint32_t)(p[i] << 8 | (i + 1 < 40 + ulen ? p[i + 1] : 0));
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  uint16_t c = (uint16_t)~s;
  u[6] = (uint8_t)(c >> 8), u[7] = (uint8_t)c;
  return 40 + ulen;
}

int main(void) {
  printf("libnat64 %s\n", nat64_version());

  nat64_config *xlat;
  nat64_nat64_config *cfg;
  nat64_nat64 *nat;
  CHECK(nat64_config_new(&xlat));
  CHECK(nat64_config_set_pool6(xlat, "2001:db8:64::/96"));
  CHECK(nat64_nat64_config_new(xlat, &cfg));
  nat64_config_free(xlat);
  CHECK(nat64_nat64_config_add_pool4(cfg, "198.51.100.1", 1024, 65535, 0));
  CHECK(nat64_nat64_new(cfg, &nat));
  nat64_nat64_config_free(cfg);

  uint8_t in[128];
  uint8_t *out = malloc(NAT64_OUTPUT_BUFFER_LEN); /* always holds one packet's result */
  if (!out) return 1;
  size_t len = udp6(in, "2001:db8:1::2", "2001:db8:64::cb00:7102", 5000, 53, "hello");
  nat64_verdict v;
  uint64_t now = 1000000; /* the caller's clock, in microseconds */
  CHECK(nat64_nat64_translate(nat, in, len, out, NAT64_OUTPUT_BUFFER_LEN, now, &v));
  int ok = v.kind == NAT64_VERDICT_KIND_TRANSLATED && v.count == 1 && v.len == 20 + 8 + 5;
  if (v.kind == NAT64_VERDICT_KIND_DROPPED)
    printf("dropped: %s\n", nat64_drop_reason_explain(v.reason));
  if (ok) {
    char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, out + 12, src, sizeof src);
    inet_ntop(AF_INET, out + 16, dst, sizeof dst);
    unsigned sport = (unsigned)(out[20] << 8 | out[21]), dport = (unsigned)(out[22] << 8 | out[23]);
    printf("translated 6->4: %s:%u -> %s:%u, %zu bytes\n", src, sport, dst, dport, v.len);
    ok = strcmp(src, "198.51.100.1") == 0 && strcmp(dst, "203.0.113.2") == 0 && dport == 53 &&
         sport >= 1024 && memcmp(out + 28, "hello", 5) == 0;
  }

  nat64_session s[4];
  size_t count = 0;
  CHECK(nat64_nat64_sessions(nat, NAT64_PROTO_ANY, NULL, s, 4, &count));
  printf("sessions: %zu\n", count);
  ok = ok && count == 1 && s[0].proto == NAT64_PROTO_UDP && s[0].v6_port == 5000 &&
       s[0].remote_port == 53 && s[0].expires > now;

  /* A pool6 that is not a valid RFC 6052 prefix: a result code and the core's message. */
  nat64_config *bad;
  CHECK(nat64_config_new(&bad));
  nat64_result r = nat64_config_set_pool6(bad, "2001:db8:64::/95");
  char msg[256] = "";
  nat64_last_error(msg, sizeof msg, NULL);
  printf("bad pool6: %s: %s\n", nat64_result_text(r), msg);
  ok = ok && r == NAT64_RESULT_INVALID_PREFIX && msg[0] != '\0';
  nat64_config_free(bad);

  nat64_nat64_free(nat);
  free(out);
  puts(ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
