/*
 * What the C test programs share: the EXPECT check with its counters, and DNS
 * wire-format builders (a name, a message with one question, a record).
 */
#ifndef NAT64_C_TESTING_H
#define NAT64_C_TESTING_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int passed, failed;

#define EXPECT(cond)                                                  \
  do {                                                                \
    if (cond) {                                                       \
      passed++;                                                       \
    } else {                                                          \
      failed++;                                                       \
      printf("FAIL  %s:%d: %s\n", __FILE__, __LINE__, #cond);         \
    }                                                                 \
  } while (0)

/* DNS wire format: a name, a message with one question, a record, an SOA record. */
static inline size_t put_name(uint8_t *p, const char *name) {
  size_t n = 0;
  while (*name) {
    const char *dot = strchr(name, '.');
    size_t l = dot ? (size_t)(dot - name) : strlen(name);
    p[n++] = (uint8_t)l;
    memcpy(p + n, name, l);
    n += l;
    name += l + (dot ? 1 : 0);
  }
  p[n++] = 0;
  return n;
}

static inline size_t dns_msg(uint8_t *p, uint16_t id, uint16_t flags, const char *qname, uint16_t qtype,
                             uint16_t an, uint16_t ns) {
  memset(p, 0, 12);
  p[0] = (uint8_t)(id >> 8), p[1] = (uint8_t)id, p[2] = (uint8_t)(flags >> 8), p[3] = (uint8_t)flags;
  p[5] = 1, p[7] = (uint8_t)an, p[9] = (uint8_t)ns;
  size_t n = 12 + put_name(p + 12, qname);
  p[n++] = 0, p[n++] = (uint8_t)qtype, p[n++] = 0, p[n++] = 1;
  return n;
}

static inline size_t dns_rr(uint8_t *p, const char *owner, uint16_t type, uint32_t ttl, const uint8_t *rdata,
                            size_t rlen) {
  size_t n = put_name(p, owner);
  uint8_t f[10] = {0, (uint8_t)type, 0, 1, (uint8_t)(ttl >> 24), (uint8_t)(ttl >> 16), (uint8_t)(ttl >> 8), (uint8_t)ttl,
                   0, (uint8_t)rlen};
  memcpy(p + n, f, 10);
  memcpy(p + n + 10, rdata, rlen);
  return n + 10 + rlen;
}

/* An SOA record (mname ns.net, rname h.net, serial/refresh/retry/expire 1) with MINIMUM `minimum`. */
static inline size_t dns_soa(uint8_t *p, const char *owner, uint32_t ttl, uint32_t minimum) {
  uint8_t rd[64];
  size_t n = put_name(rd, "ns.net");
  n += put_name(rd + n, "h.net");
  const uint32_t v[5] = {1, 1, 1, 1, minimum};
  for (int i = 0; i < 5; i++)
    rd[n++] = (uint8_t)(v[i] >> 24), rd[n++] = (uint8_t)(v[i] >> 16), rd[n++] = (uint8_t)(v[i] >> 8), rd[n++] = (uint8_t)v[i];
  return dns_rr(p, owner, 6, ttl, rd, n);
}

#endif
