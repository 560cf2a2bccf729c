/*
 * The DNS64 exchange and its cache through the C API alone: the RFC 6147 section 5.1
 * sequence driven as a resolver would, with this program playing the upstreams. AAAA
 * records relayed; an empty AAAA answer, then A, then synthesis; both upstreams silent
 * (SERVFAIL); a PTR query under the prefix (RFC 6147 section 5.3.1); what judge says of
 * a reply with another ID, with TC, oversized, SERVFAIL; a malformed client message
 * (FORMERR); a response as client message (silence); a second query answered from the
 * cache with its TTLs aged; a finished exchange fed another answer (SERVFAIL); buffer,
 * NULL and enumeration errors. The responses are read back by the small RFC 1035 reader
 * below, not by the library. Prints "FAIL" lines and "N passed, N failed".
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat64.h"
#include "testing.h"

enum { T_A = 1, T_CNAME = 5, T_PTR = 12, T_AAAA = 28 };
#define SECS(s) ((uint64_t)(s) * 1000000u)
#define T0 SECS(1000)
#define CLIENT "2001:db8::5"

static uint8_t out[65535];

/* ------------------------------------------------------------ an RFC 1035 reader */

/* Where the name at `at` ends (compression pointers not followed), or 0 when malformed. */
static size_t skip_name(const uint8_t *m, size_t len, size_t at) {
  while (at < len) {
    uint8_t l = m[at];
    if (l == 0) return at + 1;
    if ((l & 0xc0) == 0xc0) return at + 2 <= len ? at + 2 : 0;
    if (l & 0xc0) return 0;
    at += 1u + l;
  }
  return 0;
}

/* The name at `at` as dotted text in `buf` (256 bytes), following pointers; 0 when malformed. */
static int read_name(const uint8_t *m, size_t len, size_t at, char *buf) {
  size_t n = 0;
  for (int hops = 0; hops < 64 && at < len; hops++) {
    uint8_t l = m[at];
    if (l == 0) {
      buf[n ? n - 1 : 0] = 0;
      return 1;
    }
    if ((l & 0xc0) == 0xc0) {
      if (at + 1 >= len) return 0;
      at = (size_t)((l & 0x3f) << 8 | m[at + 1]);
      continue;
    }
    if (at + 1 + l > len || n + l + 2 > 256) return 0;
    memcpy(buf + n, m + at + 1, l);
    n += l;
    buf[n++] = '.';
    at += 1u + l;
  }
  return 0;
}

struct rr {
  size_t owner; /* offset of the owner name */
  uint16_t type;
  uint32_t ttl;
  size_t rdata; /* offset of the RDATA */
  uint16_t rdlen;
};

/* The answer records of message `m`: the first `max` into `rrs`; how many there are, or -1. */
static int answers(const uint8_t *m, size_t len, struct rr *rrs, int max) {
  if (len < 12) return -1;
  int qd = m[4] << 8 | m[5], an = m[6] << 8 | m[7];
  size_t at = 12;
  for (int i = 0; i < qd; i++) {
    at = skip_name(m, len, at);
    if (!at || at + 4 > len) return -1;
    at += 4;
  }
  for (int i = 0; i < an; i++) {
    size_t owner = at;
    at = skip_name(m, len, at);
    if (!at || at + 10 > len) return -1;
    const uint8_t *f = m + at;
    struct rr r = {owner, (uint16_t)(f[0] << 8 | f[1]), (uint32_t)f[4] << 24 | (uint32_t)f[5] << 16 | (uint32_t)f[6] << 8 | f[7],
                   at + 10, (uint16_t)(f[8] << 8 | f[9])};
    at += 10u + r.rdlen;
    if (at > len) return -1;
    if (i < max) rrs[i] = r;
  }
  return an;
}

static uint16_t msg_id(const uint8_t *m) { return (uint16_t)(m[0] << 8 | m[1]); }

/* ------------------------------------------------------------ driving an exchange */

static nat64_dns64_exchange *exchange(nat64_dns64 *d, const uint8_t *q, size_t ql, const char *client) {
  nat64_dns64_exchange *ex = NULL;
  EXPECT(nat64_dns64_exchange_new(d, q, ql, client, false, &ex) == NAT64_RESULT_OK && ex != NULL);
  return ex;
}

/* Writes the upstream query the exchange asks for with `id` and checks it: that ID, QR
 * clear, one question of type `qtype` for `qname`. */
static void expect_query(nat64_dns64_exchange *ex, uint16_t id, uint16_t qtype, const char *qname) {
  uint8_t q[512];
  size_t n = 0;
  char name[256] = "";
  EXPECT(nat64_dns64_exchange_write_query(ex, id, q, sizeof q, &n) == NAT64_RESULT_OK);
  EXPECT(n > 12 && msg_id(q) == id && !(q[2] & 0x80) && q[4] == 0 && q[5] == 1);
  EXPECT(read_name(q, n, 12, name) && strcmp(name, qname) == 0);
  size_t at = skip_name(q, n, 12);
  EXPECT(at && at + 4 <= n && (q[at] << 8 | q[at + 1]) == qtype);
}

static nat64_dns64_step start(nat64_dns64_exchange *ex, uint64_t now, nat64_dns64_cache *c) {
  nat64_dns64_step st;
  EXPECT(nat64_dns64_exchange_start(ex, now, c, out, sizeof out, &st) == NAT64_RESULT_OK);
  return st;
}

static nat64_dns64_step answer(nat64_dns64_exchange *ex, const uint8_t *a, size_t al, uint64_t now,
                               nat64_dns64_cache *c) {
  nat64_dns64_step st;
  EXPECT(nat64_dns64_exchange_on_answer(ex, a, al, now, c, out, sizeof out, &st) == NAT64_RESULT_OK);
  return st;
}

static int is_ask(nat64_dns64_step st, uint16_t qtype) {
  return st.kind == NAT64_DNS64_STEP_KIND_ASK && st.qtype == qtype && st.outcome == 0;
}

static int is_answered(nat64_dns64_step st, uint32_t kind, int from_cache) {
  return st.kind == NAT64_DNS64_STEP_KIND_DONE && st.outcome == NAT64_DNS64_OUTCOME_ANSWERED &&
         st.written.answer == kind && st.from_cache == (from_cache != 0) && st.len == st.written.len && st.len > 12;
}

static int is_error(nat64_dns64_step st, uint16_t rcode, uint16_t id) {
  return st.kind == NAT64_DNS64_STEP_KIND_DONE && st.outcome == NAT64_DNS64_OUTCOME_ERROR && st.rcode == rcode &&
         st.len >= 12 && (out[3] & 0xf) == rcode && (out[2] & 0x80) && msg_id(out) == id;
}

static uint32_t judge(nat64_dns64_exchange *ex, uint16_t id, const uint8_t *r, size_t rl, uint32_t how) {
  uint32_t j = 0;
  EXPECT(nat64_dns64_exchange_judge(ex, id, r, rl, how, &j) == NAT64_RESULT_OK);
  return j;
}

static int last_error_has(const char *text) {
  char msg[512] = "";
  nat64_last_error(msg, sizeof msg, NULL);
  if (strstr(msg, text)) return 1;
  printf("      last error: %s\n", msg);
  return 0;
}

/* ------------------------------------------------------------ the sequence */

/* AAAA records exist: relayed (RFC 6147 section 5.1.6); what judge says of other replies;
 * a finished exchange fed another answer: SERVFAIL. */
static void test_aaaa_relayed(nat64_dns64 *d, nat64_dns64_cache *c) {
  uint8_t q[512], r[512], scratch[512];
  size_t ql = dns_msg(q, 0x1111, 0x0100, "www.example.net", T_AAAA, 0, 0), n = 0;
  nat64_dns64_exchange *ex = exchange(d, q, ql, CLIENT);
  nat64_plan plan;
  EXPECT(nat64_dns64_exchange_plan(ex, &plan) == NAT64_RESULT_OK && plan.kind == NAT64_PLAN_KIND_AAAA);
  size_t limit = 0;
  EXPECT(nat64_dns64_exchange_response_limit(ex, &limit) == NAT64_RESULT_OK && limit == 512);
  EXPECT(nat64_dns64_exchange_write_query(ex, 1, scratch, sizeof scratch, &n) == NAT64_RESULT_DNS_NO_QUESTION);
  EXPECT(!nat64_dns64_exchange_is_done(ex));

  EXPECT(is_ask(start(ex, T0, c), T_AAAA));
  expect_query(ex, 0x2222, T_AAAA, "www.example.net");
  EXPECT(nat64_dns64_exchange_write_query(ex, 0x2222, scratch, 10, &n) == NAT64_RESULT_BUFFER_TOO_SMALL);
  size_t rl = dns_msg(r, 0x2222, 0x8180, "www.example.net", T_AAAA, 1, 0);
  uint8_t v6[16];
  inet_pton(AF_INET6, "2001:db8:1::1", v6);
  rl += dns_rr(r + rl, "www.example.net", T_AAAA, 600, v6, 16);

  EXPECT(judge(ex, 0x2223, r, rl, NAT64_DNS64_RECEIVED_UDP) == NAT64_DNS64_REPLY_FOREIGN); /* another ID */
  EXPECT(judge(ex, 0x2222, q, ql, NAT64_DNS64_RECEIVED_UDP) == NAT64_DNS64_REPLY_FOREIGN); /* a query */
  EXPECT(judge(ex, 0x2222, r, rl, NAT64_DNS64_RECEIVED_UDP) == NAT64_DNS64_REPLY_ANSWER);
  r[2] |= 0x02; /* TC */
  EXPECT(judge(ex, 0x2222, r, rl, NAT64_DNS64_RECEIVED_UDP) == NAT64_DNS64_REPLY_TRUNCATED);
  EXPECT(judge(ex, 0x2222, r, rl, NAT64_DNS64_RECEIVED_TCP) == NAT64_DNS64_REPLY_ANSWER);
  r[2] &= (uint8_t)~0x02;
  EXPECT(judge(ex, 0x2222, r, 12, NAT64_DNS64_RECEIVED_UDP_OVERSIZED) == NAT64_DNS64_REPLY_TRUNCATED);
  EXPECT(judge(ex, 0x2223, r, 12, NAT64_DNS64_RECEIVED_UDP_OVERSIZED) == NAT64_DNS64_REPLY_FOREIGN);
  r[3] = 0x82; /* SERVFAIL */
  EXPECT(judge(ex, 0x2222, r, rl, NAT64_DNS64_RECEIVED_UDP) == NAT64_DNS64_REPLY_FAILED);
  r[3] = 0x80;
  uint32_t j = 99;
  EXPECT(nat64_dns64_exchange_judge(ex, 0x2222, r, rl, 7, &j) == NAT64_RESULT_INVALID_VALUE && j == 99);
  EXPECT(last_error_has("7 is not a nat64_dns64_received"));

  nat64_dns64_step st = answer(ex, r, rl, T0, c);
  EXPECT(is_answered(st, NAT64_ANSWER_RELAYED, 0) && !st.written.truncated);
  struct rr rrs[4];
  EXPECT(msg_id(out) == 0x1111 && answers(out, st.len, rrs, 4) == 1);
  EXPECT(rrs[0].type == T_AAAA && rrs[0].rdlen == 16 && memcmp(out + rrs[0].rdata, v6, 16) == 0);
  EXPECT(nat64_dns64_exchange_is_done(ex));

  EXPECT(is_error(answer(ex, r, rl, T0, c), 2, 0x1111)); /* finished: SERVFAIL */
  EXPECT(nat64_dns64_exchange_write_query(ex, 1, scratch, sizeof scratch, &n) == NAT64_RESULT_DNS_NO_QUESTION);
  EXPECT(last_error_has("no question"));
  EXPECT(judge(ex, 0x2222, r, rl, NAT64_DNS64_RECEIVED_UDP) == NAT64_DNS64_REPLY_FOREIGN);
  nat64_dns64_exchange_free(ex);
}

/* The AAAA answer is empty: A is asked and AAAA records synthesized (RFC 6147 sections
 * 5.1.2, 5.1.7); then the same question from another client query comes from the cache,
 * with its ID and the TTLs aged (RFC 1035 section 7.4). */
static void test_synthesized_then_cached(nat64_dns64 *d, nat64_dns64_cache *c) {
  uint8_t q[512], r[512];
  const char *name = "v4only.example.net";
  size_t ql = dns_msg(q, 0x3333, 0x0100, name, T_AAAA, 0, 0);
  nat64_dns64_exchange *ex = exchange(d, q, ql, CLIENT);
  EXPECT(is_ask(start(ex, T0, c), T_AAAA));
  expect_query(ex, 0x4444, T_AAAA, name);
  size_t rl = dns_msg(r, 0x4444, 0x8180, name, T_AAAA, 0, 1);
  rl += dns_soa(r + rl, "example.net", 900, 300);
  EXPECT(judge(ex, 0x4444, r, rl, NAT64_DNS64_RECEIVED_UDP) == NAT64_DNS64_REPLY_ANSWER);
  EXPECT(is_ask(answer(ex, r, rl, T0, c), T_A));
  expect_query(ex, 0x4445, T_A, name);
  rl = dns_msg(r, 0x4445, 0x8180, name, T_A, 2, 0);
  const uint8_t a1[4] = {203, 0, 113, 5}, a2[4] = {198, 51, 100, 9};
  rl += dns_rr(r + rl, name, T_A, 3600, a1, 4);
  rl += dns_rr(r + rl, name, T_A, 3600, a2, 4);
  EXPECT(judge(ex, 0x4445, r, rl, NAT64_DNS64_RECEIVED_UDP) == NAT64_DNS64_REPLY_ANSWER);
  nat64_dns64_step st = answer(ex, r, rl, T0, c);
  EXPECT(is_answered(st, NAT64_ANSWER_SYNTHESIZED, 0) && st.written.records == 2 && !st.written.truncated);
  EXPECT(nat64_dns64_exchange_is_done(ex));
  nat64_dns64_exchange_free(ex);

  uint8_t w1[16], w2[16];
  inet_pton(AF_INET6, "2001:db8:64::cb00:7105", w1);
  inet_pton(AF_INET6, "2001:db8:64::c633:6409", w2);
  struct rr rrs[4];
  char owner[256];
  EXPECT(msg_id(out) == 0x3333 && (out[3] & 0xf) == 0 && answers(out, st.len, rrs, 4) == 2);
  uint32_t ttl = rrs[0].ttl;
  for (int i = 0; i < 2; i++) {
    EXPECT(rrs[i].type == T_AAAA && rrs[i].rdlen == 16 && rrs[i].ttl == ttl);
    EXPECT(memcmp(out + rrs[i].rdata, i ? w2 : w1, 16) == 0);
    EXPECT(read_name(out, st.len, rrs[i].owner, owner) && strcmp(owner, name) == 0);
  }
  /* RFC 6147 section 5.1.7: min(A TTL 3600, the negative TTL of the AAAA answer's SOA: min(900, 300)). */
  EXPECT(ttl == 300);
  EXPECT(nat64_dns64_cache_len(c) == 2); /* this and www.example.net */

  ql = dns_msg(q, 0x5555, 0x0100, "V4ONLY.example.NET", T_AAAA, 0, 0);
  ex = exchange(d, q, ql, "2001:db8::77");
  st = start(ex, T0 + SECS(10), c);
  EXPECT(is_answered(st, NAT64_ANSWER_RELAYED, 1) && nat64_dns64_exchange_is_done(ex));
  EXPECT(msg_id(out) == 0x5555 && answers(out, st.len, rrs, 4) == 2);
  EXPECT(read_name(out, st.len, 12, owner) && strcmp(owner, "V4ONLY.example.NET") == 0);
  EXPECT(rrs[0].ttl == ttl - 10 && rrs[1].ttl == ttl - 10);
  EXPECT(memcmp(out + rrs[0].rdata, w1, 16) == 0 && memcmp(out + rrs[1].rdata, w2, 16) == 0);
  nat64_dns64_exchange_free(ex);

  /* Without the cache the same query goes to the upstreams. */
  ex = exchange(d, q, ql, "2001:db8::77");
  EXPECT(is_ask(start(ex, T0 + SECS(10), NULL), T_AAAA));
  nat64_dns64_exchange_free(ex);
}

/* No upstream answers AAAA nor A: SERVFAIL (RFC 6147 section 5.1.3). */
static void test_silent_upstreams(nat64_dns64 *d) {
  uint8_t q[512];
  size_t ql = dns_msg(q, 0x6666, 0x0100, "gone.example.net", T_AAAA, 0, 0);
  nat64_dns64_exchange *ex = exchange(d, q, ql, CLIENT);
  EXPECT(is_ask(start(ex, T0, NULL), T_AAAA));
  EXPECT(is_ask(answer(ex, NULL, 0, T0, NULL), T_A));
  EXPECT(is_error(answer(ex, NULL, 0, T0, NULL), 2, 0x6666));
  nat64_dns64_exchange_free(ex);
}

/* The ip6.arpa name of an IPv6 address, nibbles reversed. */
static void ip6_arpa(const char *addr, char *buf) {
  uint8_t a[16];
  inet_pton(AF_INET6, addr, a);
  size_t n = 0;
  for (int i = 15; i >= 0; i--) n += (size_t)sprintf(buf + n, "%x.%x.", a[i] & 0xf, a[i] >> 4);
  strcpy(buf + n, "ip6.arpa");
}

/* PTR for an address under the prefix: PTR asked for the in-addr.arpa name, a CNAME to it
 * answered (RFC 6147 section 5.3.1). */
static void test_ptr(nat64_dns64 *d) {
  char v6name[80], target[256];
  ip6_arpa("2001:db8:64::cb00:7105", v6name);
  uint8_t q[512], r[512];
  size_t ql = dns_msg(q, 0x7777, 0x0100, v6name, T_PTR, 0, 0);
  nat64_dns64_exchange *ex = exchange(d, q, ql, CLIENT);
  nat64_plan plan;
  EXPECT(nat64_dns64_exchange_plan(ex, &plan) == NAT64_RESULT_OK && plan.kind == NAT64_PLAN_KIND_PTR);
  EXPECT(plan.ptr_target[0] == 203 && plan.ptr_target[1] == 0 && plan.ptr_target[2] == 113 && plan.ptr_target[3] == 5);
  EXPECT(is_ask(start(ex, T0, NULL), T_PTR));
  const char *v4name = "5.113.0.203.in-addr.arpa";
  expect_query(ex, 0x7778, T_PTR, v4name);
  size_t rl = dns_msg(r, 0x7778, 0x8180, v4name, T_PTR, 1, 0);
  uint8_t host[64];
  size_t hl = put_name(host, "host.example.net");
  rl += dns_rr(r + rl, v4name, T_PTR, 3600, host, hl);
  EXPECT(judge(ex, 0x7778, r, rl, NAT64_DNS64_RECEIVED_UDP) == NAT64_DNS64_REPLY_ANSWER);
  nat64_dns64_step st = answer(ex, r, rl, T0, NULL);
  EXPECT(is_answered(st, NAT64_ANSWER_PTR_CNAME, 0));
  struct rr rrs[4];
  int an = answers(out, st.len, rrs, 4);
  EXPECT(msg_id(out) == 0x7777 && an >= 1 && rrs[0].type == T_CNAME);
  EXPECT(an >= 1 && read_name(out, st.len, rrs[0].owner, target) && strcmp(target, v6name) == 0);
  EXPECT(an >= 1 && read_name(out, st.len, rrs[0].rdata, target) && strcmp(target, v4name) == 0);
  nat64_dns64_exchange_free(ex);
}

/* A client the DNS64 does not serve: the query is forwarded and the answer relayed
 * (RFC 6147 section 5.3.3). */
static void test_forward(nat64_dns64 *d) {
  uint8_t q[512], r[512];
  size_t ql = dns_msg(q, 0x8888, 0x0100, "www.example.net", T_AAAA, 0, 0);
  nat64_dns64_exchange *ex = exchange(d, q, ql, "192.0.2.1");
  nat64_plan plan;
  EXPECT(nat64_dns64_exchange_plan(ex, &plan) == NAT64_RESULT_OK && plan.kind == NAT64_PLAN_KIND_FORWARD);
  EXPECT(is_ask(start(ex, T0, NULL), T_AAAA));
  expect_query(ex, 0x8889, T_AAAA, "www.example.net");
  size_t rl = dns_msg(r, 0x8889, 0x8180, "www.example.net", T_AAAA, 0, 1);
  rl += dns_soa(r + rl, "example.net", 900, 300);
  EXPECT(is_answered(answer(ex, r, rl, T0, NULL), NAT64_ANSWER_RELAYED, 0) && msg_id(out) == 0x8888);
  nat64_dns64_exchange_free(ex);
}

/* A malformed client message gets FORMERR; a response gets nothing (RFC 1035 section 7.3). */
static void test_bad_messages(nat64_dns64 *d) {
  const uint8_t cut[14] = {0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w'};
  nat64_dns64_exchange *ex = exchange(d, cut, sizeof cut, CLIENT);
  nat64_plan plan;
  EXPECT(nat64_dns64_exchange_plan(ex, &plan) == NAT64_RESULT_DNS_BAD_QUERY && plan.rcode == 1 && plan.kind == 0);
  size_t limit = 0;
  EXPECT(nat64_dns64_exchange_response_limit(ex, &limit) == NAT64_RESULT_OK && limit == 512);
  EXPECT(is_error(start(ex, T0, NULL), 1, 0xabcd));
  EXPECT(nat64_dns64_exchange_is_done(ex));
  nat64_dns64_exchange_free(ex);

  uint8_t m[512];
  size_t ml = dns_msg(m, 0x9999, 0x8180, "www.example.net", T_AAAA, 0, 0);
  ex = exchange(d, m, ml, CLIENT);
  EXPECT(nat64_dns64_exchange_plan(ex, &plan) == NAT64_RESULT_DNS_BAD_QUERY && plan.rcode == -1);
  nat64_dns64_step st = start(ex, T0, NULL);
  EXPECT(st.kind == NAT64_DNS64_STEP_KIND_DONE && st.outcome == NAT64_DNS64_OUTCOME_SILENT && st.len == 0);
  EXPECT(nat64_dns64_exchange_is_done(ex));
  nat64_dns64_exchange_free(ex);
}

/* Buffers, NULLs, the exchange outliving its nat64_dns64, over TCP. */
static void test_arguments(nat64_dns64 *d, nat64_dns64_cache *c) {
  uint8_t q[512];
  size_t ql = dns_msg(q, 0x1212, 0x0100, "args.example.net", T_AAAA, 0, 0);
  nat64_dns64_exchange *ex = NULL;
  nat64_dns64_step st;
  EXPECT(nat64_dns64_exchange_new(NULL, q, ql, CLIENT, false, &ex) == NAT64_RESULT_NULL_PARAMETER);
  EXPECT(nat64_dns64_exchange_new(d, NULL, ql, CLIENT, false, &ex) == NAT64_RESULT_NULL_PARAMETER);
  EXPECT(nat64_dns64_exchange_new(d, q, ql, NULL, false, &ex) == NAT64_RESULT_NULL_PARAMETER);
  EXPECT(nat64_dns64_exchange_new(d, q, ql, CLIENT, false, NULL) == NAT64_RESULT_NULL_PARAMETER);
  EXPECT(nat64_dns64_exchange_new(d, q, ql, "nope", false, &ex) == NAT64_RESULT_INVALID_ADDRESS && ex == NULL);
  EXPECT(last_error_has("\"nope\" is not an IP address"));
  EXPECT(nat64_dns64_exchange_start(NULL, T0, c, out, sizeof out, &st) == NAT64_RESULT_NULL_PARAMETER);
  EXPECT(nat64_dns64_cache_new(10, 60, NULL) == NAT64_RESULT_NULL_PARAMETER);
  EXPECT(nat64_dns64_cache_len(NULL) == 0 && !nat64_dns64_exchange_is_done(NULL));
  EXPECT(nat64_dns64_exchange_response_limit(NULL, &ql) == NAT64_RESULT_NULL_PARAMETER);
  nat64_dns64_exchange_free(NULL);
  nat64_dns64_cache_free(NULL);
  EXPECT(strstr(nat64_result_text(NAT64_RESULT_DNS_NO_QUESTION), "no question") != NULL);
  EXPECT(NAT64_DNS64_CACHE_CAPACITY == 10000 && NAT64_DNS64_CACHE_MAX_TTL == 86400);

  /* Too small an out buffer: nothing done, the size needed reported. */
  ex = exchange(d, q, ql, CLIENT);
  EXPECT(nat64_dns64_exchange_start(ex, T0, c, out, 511, &st) == NAT64_RESULT_BUFFER_TOO_SMALL);
  EXPECT(st.kind == 0 && st.len == 512 && !nat64_dns64_exchange_is_done(ex));
  EXPECT(last_error_has("at least 512 bytes"));
  EXPECT(nat64_dns64_exchange_start(ex, T0, c, out, 512, NULL) == NAT64_RESULT_NULL_PARAMETER);
  EXPECT(nat64_dns64_exchange_start(ex, T0, c, NULL, 512, &st) == NAT64_RESULT_NULL_PARAMETER);
  EXPECT(nat64_dns64_exchange_start(ex, T0, c, out, 512, &st) == NAT64_RESULT_OK && is_ask(st, T_AAAA));
  EXPECT(nat64_dns64_exchange_on_answer(ex, NULL, 0, T0, c, out, 100, &st) == NAT64_RESULT_BUFFER_TOO_SMALL);
  EXPECT(st.len == 512 && !nat64_dns64_exchange_is_done(ex));
  EXPECT(nat64_dns64_exchange_on_answer(ex, NULL, 5, T0, c, out, 512, &st) == NAT64_RESULT_OK && is_ask(st, T_A));
  nat64_dns64_exchange_free(ex);

  /* Over TCP the response may take 65535 bytes; the exchange keeps its DNS64 alive. */
  nat64_dns64_config *cfg = NULL;
  nat64_dns64 *d2 = NULL;
  EXPECT(nat64_dns64_config_new(&cfg) == NAT64_RESULT_OK);
  EXPECT(nat64_dns64_config_add_prefix(cfg, "2001:db8:46::/96") == NAT64_RESULT_OK);
  EXPECT(nat64_dns64_new(cfg, &d2) == NAT64_RESULT_OK);
  nat64_dns64_config_free(cfg);
  EXPECT(nat64_dns64_exchange_new(d2, q, ql, CLIENT, true, &ex) == NAT64_RESULT_OK);
  nat64_dns64_free(d2);
  size_t limit = 0;
  EXPECT(nat64_dns64_exchange_response_limit(ex, &limit) == NAT64_RESULT_OK && limit == 65535);
  EXPECT(nat64_dns64_exchange_start(ex, T0, NULL, out, 65534, &st) == NAT64_RESULT_BUFFER_TOO_SMALL &&
         st.len == 65535);
  EXPECT(is_ask(start(ex, T0, NULL), T_AAAA));
  EXPECT(is_ask(answer(ex, NULL, 0, T0, NULL), T_A));
  uint8_t r[512];
  size_t rl = dns_msg(r, 1, 0x8180, "args.example.net", T_A, 1, 0);
  const uint8_t a[4] = {203, 0, 113, 9};
  rl += dns_rr(r + rl, "args.example.net", T_A, 60, a, 4);
  nat64_dns64_step done = answer(ex, r, rl, T0, NULL);
  EXPECT(is_answered(done, NAT64_ANSWER_SYNTHESIZED, 0) && done.written.records == 1);
  uint8_t want[16];
  inet_pton(AF_INET6, "2001:db8:46::cb00:7109", want);
  struct rr rrs[2];
  EXPECT(answers(out, done.len, rrs, 2) == 1 && memcmp(out + rrs[0].rdata, want, 16) == 0);
  nat64_dns64_exchange_free(ex);
}

int main(void) {
  nat64_dns64_config *cfg = NULL;
  nat64_dns64 *d = NULL;
  nat64_dns64_cache *c = NULL;
  if (nat64_dns64_config_new(&cfg) != NAT64_RESULT_OK || nat64_dns64_config_add_prefix(cfg, "2001:db8:64::/96") ||
      nat64_dns64_config_add_client(cfg, "2001:db8::/32") || nat64_dns64_new(cfg, &d) != NAT64_RESULT_OK ||
      nat64_dns64_cache_new(NAT64_DNS64_CACHE_CAPACITY, NAT64_DNS64_CACHE_MAX_TTL, &c) != NAT64_RESULT_OK) {
    printf("FAIL  setup\n");
    return 1;
  }
  nat64_dns64_config_free(cfg);
  EXPECT(nat64_dns64_cache_len(c) == 0);
  test_aaaa_relayed(d, c);
  test_synthesized_then_cached(d, c);
  test_silent_upstreams(d);
  test_ptr(d);
  test_forward(d);
  test_bad_messages(d);
  test_arguments(d, c);
  nat64_dns64_cache_free(c);
  nat64_dns64_free(d);
  printf("c-dns64-exchange: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
