/*
 * Tests of the C API itself: result codes and their text, NULL checks, RFC 6052
 * embedding, configuration errors with the core's message, stateless translation of
 * packets built here (single and batch), counters, and the stateful NAT64 (sessions,
 * timers). Prints "ok"/"FAIL" lines and "N passed, N failed".
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat64.h"
#include "testing.h"

static uint16_t csum(const uint8_t *p, size_t n, uint32_t s) {
  for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (n & 1) s += (uint32_t)(p[n - 1] << 8);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}

/* An IPv6 UDP packet src -> dst with an 8-byte payload and a valid checksum. */
static size_t udp6(uint8_t *p, const char *src, const char *dst, uint16_t sport, uint16_t dport) {
  memset(p, 0, 64);
  p[0] = 0x60;
  p[5] = 16; /* payload length */
  p[6] = 17;
  p[7] = 64;
  inet_pton(AF_INET6, src, p + 8);
  inet_pton(AF_INET6, dst, p + 24);
  uint8_t *u = p + 40;
  u[0] = (uint8_t)(sport >> 8), u[1] = (uint8_t)sport, u[2] = (uint8_t)(dport >> 8), u[3] = (uint8_t)dport;
  u[5] = 16;
  memcpy(u + 8, "nat64-c!", 8);
  uint32_t s = 0;
  for (int i = 8; i < 40; i += 2) s += (uint32_t)(p[i] << 8 | p[i + 1]);
  s += 17 + 16;
  uint16_t c = csum(u, 16, s);
  u[6] = (uint8_t)(c >> 8), u[7] = (uint8_t)c;
  return 56;
}

static void test_codes(void) {
  EXPECT(NAT64_RESULT_OK == 0);
  EXPECT(NAT64_RESULT_NULL_PARAMETER == 1);
  EXPECT(NAT64_RESULT_PANIC == 2);
  EXPECT(strcmp(nat64_result_text(NAT64_RESULT_OK), "ok") == 0);
  EXPECT(strstr(nat64_result_text(NAT64_RESULT_INVALID_PREFIX), "prefix") != NULL);
  EXPECT(strcmp(nat64_result_text(9999), "unknown result code") == 0);
  EXPECT(strcmp(nat64_drop_reason_label(NAT64_DROP_REASON_HOP_LIMIT_EXCEEDED), "hop_limit_exceeded") == 0);
  EXPECT(strstr(nat64_drop_reason_explain(NAT64_DROP_REASON_HOP_LIMIT_EXCEEDED), "Time Exceeded") != NULL);
  EXPECT(strcmp(nat64_not_ours_label(NAT64_NOT_OURS_DESTINATION_NOT_MAPPED), "destination_not_mapped") == 0);
  EXPECT(strcmp(nat64_drop_reason_label(0), "unknown") == 0);
  EXPECT(strlen(nat64_version()) > 0);
}

static void test_nulls(void) {
  nat64_verdict v;
  uint8_t out[16];
  EXPECT(nat64_prefix64_new(NULL, NULL) == NAT64_RESULT_NULL_PARAMETER);
  EXPECT(nat64_config_new(NULL) == NAT64_RESULT_NULL_PARAMETER);
  EXPECT(nat64_config_set_pool6(NULL, "64:ff9b::/96") == NAT64_RESULT_NULL_PARAMETER);
  EXPECT(nat64_translator_new(NULL, NULL) == NAT64_RESULT_NULL_PARAMETER);
  EXPECT(nat64_translator_translate(NULL, out, 1, out, 16, &v) == NAT64_RESULT_NULL_PARAMETER);
  EXPECT(nat64_nat64_translate(NULL, out, 1, out, 16, 0, &v) == NAT64_RESULT_NULL_PARAMETER);
  EXPECT(nat64_last_error(NULL, 0, NULL) == NAT64_RESULT_NULL_PARAMETER);
  nat64_translator_free(NULL);
  nat64_config_free(NULL);
  nat64_prefix64_free(NULL);
  nat64_nat64_free(NULL);
  nat64_nat64_config_free(NULL);
}

static void test_prefix(void) {
  nat64_prefix64 *p = NULL;
  uint8_t v4[4] = {192, 0, 2, 33}, v6[16], back[4], want[16];
  EXPECT(nat64_prefix64_new("2001:db8:100::/40", &p) == NAT64_RESULT_OK);
  EXPECT(nat64_prefix64_embed(p, v4, v6) == NAT64_RESULT_OK);
  inet_pton(AF_INET6, "2001:db8:1c0:2:21::", want);
  EXPECT(memcmp(v6, want, 16) == 0);
  EXPECT(nat64_prefix64_extract(p, v6, back) == NAT64_RESULT_OK);
  EXPECT(memcmp(back, v4, 4) == 0);
  inet_pton(AF_INET6, "2001:db9::1", want);
  EXPECT(nat64_prefix64_extract(p, want, back) == NAT64_RESULT_NOT_UNDER_PREFIX);
  EXPECT(nat64_prefix64_prefix_len(p) == 40);
  EXPECT(nat64_prefix64_contains(p, v6) && !nat64_prefix64_contains(p, want) && !nat64_prefix64_contains(NULL, v6));
  EXPECT(!nat64_prefix64_is_well_known(p));
  char text[64];
  size_t n = 0;
  EXPECT(nat64_prefix64_to_text(p, text, sizeof text, &n) == NAT64_RESULT_OK);
  EXPECT(strcmp(text, "2001:db8:100::/40") == 0 && n == 17);
  EXPECT(nat64_prefix64_to_text(p, text, 5, &n) == NAT64_RESULT_BUFFER_TOO_SMALL);
  nat64_prefix64_free(p);

  char msg[512];
  p = NULL;
  EXPECT(nat64_prefix64_new("2001:db8::/33", &p) == NAT64_RESULT_INVALID_PREFIX);
  EXPECT(p == NULL);
  EXPECT(nat64_last_error(msg, sizeof msg, &n) == NAT64_RESULT_OK);
  EXPECT(strstr(msg, "/32, /40, /48, /56, /64 or /96") != NULL);
  /* Truncation keeps a NUL. */
  EXPECT(nat64_last_error(msg, 8, &n) == NAT64_RESULT_OK);
  EXPECT(strlen(msg) == 7 && n > 7);
}

static void test_config_errors(void) {
  nat64_config *cfg = NULL;
  nat64_translator *t = NULL;
  char msg[512];
  EXPECT(nat64_config_new(&cfg) == NAT64_RESULT_OK);
  EXPECT(nat64_translator_new(cfg, &t) == NAT64_RESULT_INVALID_CONFIG);
  nat64_last_error(msg, sizeof msg, NULL);
  EXPECT(strstr(msg, "set pool6") != NULL);
  EXPECT(nat64_config_set_own_ipv4(cfg, "not-an-address") == NAT64_RESULT_INVALID_ADDRESS);
  EXPECT(nat64_config_set_eam_hairpin_mode(cfg, 77) == NAT64_RESULT_INVALID_VALUE);
  EXPECT(nat64_config_add_eam(cfg, "192.0.2.0/24", "2001:db8::/120", false) == NAT64_RESULT_OK);
  EXPECT(nat64_config_add_eam(cfg, "192.0.2.0/24", "2001:db8:1::/120", false) == NAT64_RESULT_INVALID_EAM);
  EXPECT(nat64_config_set_lowest_ipv6_mtu(cfg, 1000) == NAT64_RESULT_OK);
  EXPECT(nat64_translator_new(cfg, &t) == NAT64_RESULT_INVALID_CONFIG);
  nat64_last_error(msg, sizeof msg, NULL);
  EXPECT(strstr(msg, "1280") != NULL);
  nat64_config_free(cfg);
}

static void test_translate(void) {
  nat64_config *cfg = NULL;
  nat64_translator *t = NULL;
  EXPECT(nat64_config_new(&cfg) == NAT64_RESULT_OK);
  EXPECT(nat64_config_set_pool6(cfg, "2001:db8:64::/96") == NAT64_RESULT_OK);
  EXPECT(nat64_config_set_wkp_forbids_non_global(cfg, false) == NAT64_RESULT_OK);
  EXPECT(nat64_config_set_own_ipv6(cfg, "2001:db8::1") == NAT64_RESULT_OK);
  EXPECT(nat64_translator_new(cfg, &t) == NAT64_RESULT_OK);
  nat64_config_free(cfg);

  uint8_t pkt[64], out[NAT64_OUTPUT_BUFFER_LEN];
  size_t n = udp6(pkt, "2001:db8:64::c000:201", "2001:db8:64::cb00:7102", 4000, 53);
  nat64_verdict v;
  EXPECT(nat64_translator_translate(t, pkt, n, out, sizeof out, &v) == NAT64_RESULT_OK);
  EXPECT(v.kind == NAT64_VERDICT_KIND_TRANSLATED);
  EXPECT(v.direction == NAT64_DIRECTION_SIX_TO_FOUR);
  EXPECT(v.len == 36 && v.count == 1);
  EXPECT(out[0] == 0x45 && out[9] == 17);
  EXPECT(memcmp(out + 12, "\xc0\x00\x02\x01\xcb\x00\x71\x02", 8) == 0);
  EXPECT(csum(out, 20, 0) == 0); /* IPv4 header checksum valid */
  EXPECT(memcmp(out + 28, "nat64-c!", 8) == 0);

  /* Too small an output buffer is a verdict, not an error. */
  EXPECT(nat64_translator_translate(t, pkt, n, out, 10, &v) == NAT64_RESULT_OK);
  EXPECT(v.kind == NAT64_VERDICT_KIND_DROPPED && v.reason == NAT64_DROP_REASON_OUTPUT_TOO_SMALL);

  /* Hop limit 1: Time Exceeded back to the sender. */
  pkt[7] = 1;
  EXPECT(nat64_translator_translate(t, pkt, n, out, sizeof out, &v) == NAT64_RESULT_OK);
  EXPECT(v.kind == NAT64_VERDICT_KIND_ICMP_ERROR && v.reason == NAT64_DROP_REASON_HOP_LIMIT_EXCEEDED);
  EXPECT(out[0] >> 4 == 6 && out[40] == 3); /* ICMPv6 Time Exceeded */
  pkt[7] = 64;

  /* Not ours: destination outside pool6. */
  udp6(pkt, "2001:db8:64::c000:201", "2001:db8:99::1", 4000, 53);
  EXPECT(nat64_translator_translate(t, pkt, n, out, sizeof out, &v) == NAT64_RESULT_OK);
  EXPECT(v.kind == NAT64_VERDICT_KIND_NOT_OURS && v.reason == NAT64_NOT_OURS_DESTINATION_NOT_MAPPED);
  EXPECT(nat64_translator_translate(t, (const uint8_t *)"\x10", 1, out, sizeof out, &v) == NAT64_RESULT_OK);
  EXPECT(v.kind == NAT64_VERDICT_KIND_NOT_OURS && v.reason == NAT64_NOT_OURS_NOT_IP);

  /* Batch: three packets back to back. */
  uint8_t a[64], b[64], c[64];
  size_t la = udp6(a, "2001:db8:64::c000:201", "2001:db8:64::cb00:7102", 1, 2);
  size_t lb = udp6(b, "2001:db8:64::c000:201", "2001:db8:99::1", 1, 2);
  size_t lc = udp6(c, "2001:db8:64::c000:202", "2001:db8:64::cb00:7103", 3, 4);
  nat64_packet ps[3] = {{a, la}, {b, lb}, {c, lc}};
  nat64_verdict vs[3];
  size_t offs[3];
  EXPECT(nat64_translator_translate_batch(t, ps, 3, out, sizeof out, vs, offs) == NAT64_RESULT_OK);
  EXPECT(vs[0].kind == NAT64_VERDICT_KIND_TRANSLATED && offs[0] == 0);
  EXPECT(vs[1].kind == NAT64_VERDICT_KIND_NOT_OURS && offs[1] == 36);
  EXPECT(vs[2].kind == NAT64_VERDICT_KIND_TRANSLATED && offs[2] == 36);
  EXPECT(out[36 + 15] == 2 && out[36 + 19] == 3);

  nat64_counters k;
  EXPECT(nat64_translator_counters(t, &k) == NAT64_RESULT_OK);
  EXPECT(k.translated_6to4 == 3);
  {
    nat64_config *bad = NULL, *other = NULL;
    EXPECT(nat64_config_new(&bad) == NAT64_RESULT_OK);
    EXPECT(nat64_translator_set_config(t, bad) == NAT64_RESULT_INVALID_CONFIG);
    EXPECT(nat64_config_new(&other) == NAT64_RESULT_OK);
    EXPECT(nat64_config_set_pool6(other, "2001:db8:99::/96") == NAT64_RESULT_OK);
    EXPECT(nat64_translator_set_config(t, other) == NAT64_RESULT_OK);
    udp6(pkt, "2001:db8:99::c000:201", "2001:db8:99::cb00:7102", 1, 2);
    EXPECT(nat64_translator_translate(t, pkt, n, out, sizeof out, &v) == NAT64_RESULT_OK);
    EXPECT(v.kind == NAT64_VERDICT_KIND_TRANSLATED);
    nat64_config_free(bad);
    nat64_config_free(other);
  }
  EXPECT(k.icmp_errors_generated == 1);
  EXPECT(k.dropped[NAT64_DROP_REASON_HOP_LIMIT_EXCEEDED] == 1);
  EXPECT(k.dropped[NAT64_DROP_REASON_OUTPUT_TOO_SMALL] == 1);
  EXPECT(k.not_ours[NAT64_NOT_OURS_DESTINATION_NOT_MAPPED] == 2);
  EXPECT(k.not_ours[NAT64_NOT_OURS_NOT_IP] == 1);
  nat64_translator_free(t);
}

static void test_nat64(void) {
  nat64_config *x = NULL;
  nat64_nat64_config *cfg = NULL;
  nat64_nat64 *nat = NULL;
  EXPECT(nat64_config_new(&x) == NAT64_RESULT_OK);
  EXPECT(nat64_nat64_config_new(x, &cfg) == NAT64_RESULT_INVALID_CONFIG); /* no pool6 */
  EXPECT(nat64_config_set_pool6(x, "64:ff9b::/96") == NAT64_RESULT_OK);
  EXPECT(nat64_config_set_own_ipv4(x, "192.0.2.1") == NAT64_RESULT_OK);
  EXPECT(nat64_nat64_config_new(x, &cfg) == NAT64_RESULT_OK);
  nat64_config_free(x);
  EXPECT(nat64_nat64_new(cfg, &nat) == NAT64_RESULT_INVALID_CONFIG); /* no pool4 */
  EXPECT(nat64_nat64_config_add_pool4(cfg, "192.0.2.1", 9, 5, 0) == NAT64_RESULT_OK);
  EXPECT(nat64_nat64_new(cfg, &nat) == NAT64_RESULT_INVALID_POOL4); /* reversed range */
  nat64_nat64_config_free(cfg);

  EXPECT(nat64_config_new(&x) == NAT64_RESULT_OK);
  EXPECT(nat64_config_set_pool6(x, "64:ff9b::/96") == NAT64_RESULT_OK);
  EXPECT(nat64_nat64_config_new(x, &cfg) == NAT64_RESULT_OK);
  nat64_config_free(x);
  EXPECT(nat64_nat64_config_add_pool4(cfg, "198.51.100.1", 61001, 65535,
                                      1u << NAT64_PROTO_UDP | 1u << NAT64_PROTO_TCP) == NAT64_RESULT_OK);
  nat64_timeouts to;
  EXPECT(nat64_nat64_config_timeouts(cfg, &to) == NAT64_RESULT_OK);
  EXPECT(to.udp == 300 && to.tcp_incoming_syn == 6);
  to.udp = 120;
  EXPECT(nat64_nat64_config_set_timeouts(cfg, &to) == NAT64_RESULT_OK);
  EXPECT(nat64_nat64_new(cfg, &nat) == NAT64_RESULT_OK);
  nat64_nat64_config_free(cfg);

  uint8_t pkt[64], out[NAT64_OUTPUT_BUFFER_LEN];
  /* 8.8.8.8 is global, so the Well-Known Prefix may carry it. */
  size_t n = udp6(pkt, "2001:db8::5", "64:ff9b::808:808", 5353, 53);
  nat64_verdict v;
  uint64_t now = 10 * 1000000ull;
  EXPECT(nat64_nat64_translate(nat, pkt, n, out, sizeof out, now, &v) == NAT64_RESULT_OK);
  EXPECT(v.kind == NAT64_VERDICT_KIND_TRANSLATED);
  EXPECT(memcmp(out + 12, "\xc6\x33\x64\x01\x08\x08\x08\x08", 8) == 0);

  nat64_stats st;
  EXPECT(nat64_nat64_stats(nat, &st) == NAT64_RESULT_OK);
  EXPECT(st.sessions == 1 && st.bib_entries == 1 && st.sessions_evicted == 0);
  EXPECT(st.pool4_size[2] == 0); /* no ICMP in this pool4 */

  size_t count = 0;
  nat64_session s[4];
  EXPECT(nat64_nat64_sessions(nat, NAT64_PROTO_ANY, NULL, NULL, 0, &count) == NAT64_RESULT_OK);
  EXPECT(count == 1);
  EXPECT(nat64_nat64_sessions(nat, NAT64_PROTO_UDP, NULL, s, 4, &count) == NAT64_RESULT_OK);
  EXPECT(count == 1 && s[0].proto == NAT64_PROTO_UDP && s[0].v6_port == 5353 && s[0].remote_port == 53);
  EXPECT(memcmp(s[0].remote_addr, "\x08\x08\x08\x08", 4) == 0);
  EXPECT(s[0].v4_port >= 61001);
  EXPECT(s[0].expires == now + 120 * 1000000ull);
  EXPECT(nat64_nat64_sessions(nat, NAT64_PROTO_TCP, NULL, s, 4, &count) == NAT64_RESULT_OK && count == 0);
  EXPECT(nat64_nat64_sessions(nat, 42, NULL, s, 4, &count) == NAT64_RESULT_INVALID_VALUE);

  nat64_bib bibs[4];
  EXPECT(nat64_nat64_bibs(nat, NAT64_PROTO_UDP, bibs, 4, &count) == NAT64_RESULT_OK && count == 1);
  EXPECT(bibs[0].v6_port == 5353 && bibs[0].v4_port == s[0].v4_port && !bibs[0].is_static);
  uint64_t at = 0;
  EXPECT(nat64_nat64_next_expiry(nat, &at) && at == s[0].expires);
  EXPECT(nat64_nat64_poll(nat, at, out, sizeof out, &v) == NAT64_RESULT_OK);
  EXPECT(v.kind == NAT64_VERDICT_KIND_NONE);
  EXPECT(nat64_nat64_stats(nat, &st) == NAT64_RESULT_OK && st.sessions == 0);
  EXPECT(!nat64_nat64_next_expiry(nat, &at));

  uint8_t p2[64];
  size_t n2 = udp6(p2, "2001:db8::5", "64:ff9b::808:808", 5354, 53);
  nat64_packet ps[2] = {{pkt, n}, {p2, n2}};
  nat64_verdict vs[2];
  size_t offs[2];
  EXPECT(nat64_nat64_translate_batch(nat, ps, 2, out, sizeof out, at + 1, vs, offs) == NAT64_RESULT_OK);
  EXPECT(vs[0].kind == NAT64_VERDICT_KIND_TRANSLATED && vs[1].kind == NAT64_VERDICT_KIND_TRANSLATED);
  EXPECT(offs[1] == vs[0].len && nat64_nat64_stats(nat, &st) == NAT64_RESULT_OK && st.sessions == 2);
  nat64_counters k;
  EXPECT(nat64_nat64_counters(nat, &k) == NAT64_RESULT_OK && k.translated_6to4 == 3);
  nat64_nat64_free(nat);
}

static void test_dns64(void) {
  nat64_dns64_config *cfg = NULL;
  nat64_dns64 *d = NULL;
  EXPECT(nat64_dns64_config_new(&cfg) == NAT64_RESULT_OK);
  EXPECT(nat64_dns64_config_add_prefix(cfg, "2001:db8:64::/96") == NAT64_RESULT_OK);
  EXPECT(nat64_dns64_config_add_mapped(cfg, "2001:db8:65::/96", "192.0.2.0/24") == NAT64_RESULT_INVALID_CONFIG);
  EXPECT(nat64_dns64_config_set_edns_udp_size(cfg, 100) == NAT64_RESULT_OK);
  EXPECT(nat64_dns64_new(cfg, &d) == NAT64_RESULT_INVALID_CONFIG);
  EXPECT(nat64_dns64_config_set_edns_udp_size(cfg, 1232) == NAT64_RESULT_OK);
  EXPECT(nat64_dns64_new(cfg, &d) == NAT64_RESULT_OK);
  nat64_dns64_config_free(cfg);

  uint8_t q[128], aaaa[256], a[256], out[512];
  size_t ql = dns_msg(q, 0x1234, 0x0100, "example.net", 28, 0, 0);
  nat64_plan plan;
  EXPECT(nat64_dns64_plan(d, q, ql, "2001:db8::5", &plan) == NAT64_RESULT_OK);
  EXPECT(plan.kind == NAT64_PLAN_KIND_AAAA);
  bool yes = false;
  EXPECT(nat64_dns64_serves(d, "192.0.2.1", &yes) == NAT64_RESULT_OK && !yes);

  /* NOERROR, no AAAA, an SOA with minimum 300. */
  size_t al = dns_msg(aaaa, 0x1234, 0x8180, "example.net", 28, 0, 1);
  al += dns_soa(aaaa + al, "net", 900, 300);
  bool query_a = false;
  EXPECT(nat64_dns64_needs_a_query(d, q, ql, aaaa, al, &query_a) == NAT64_RESULT_OK && query_a);
  size_t l4 = dns_msg(a, 0x1234, 0x8180, "example.net", 1, 1, 0);
  const uint8_t addr4[4] = {203, 0, 113, 5};
  l4 += dns_rr(a + l4, "example.net", 1, 3600, addr4, 4);
  nat64_written w;
  EXPECT(nat64_dns64_synthesize(d, q, ql, aaaa, al, a, l4, out, sizeof out, &w) == NAT64_RESULT_OK);
  EXPECT(w.answer == NAT64_ANSWER_SYNTHESIZED && w.records == 1 && !w.truncated);
  uint8_t want[16];
  inet_pton(AF_INET6, "2001:db8:64::cb00:7105", want);
  EXPECT(w.len > 16 && memcmp(out + w.len - 16, want, 16) == 0);
  EXPECT(nat64_dns64_synthesize(d, q, ql, NULL, 0, NULL, 0, out, sizeof out, &w) == NAT64_RESULT_DNS_UPSTREAM);

  /* A bad opcode: NOTIMP. */
  uint8_t bad[64];
  size_t bl = dns_msg(bad, 1, 0x1000, "x", 1, 0, 0);
  EXPECT(nat64_dns64_plan(d, bad, bl, "2001:db8::5", &plan) == NAT64_RESULT_DNS_BAD_QUERY && plan.rcode == 4);
  size_t n = 0;
  bool answered = false;
  EXPECT(nat64_dns64_error_response(d, bad, bl, 4, out, sizeof out, &n, &answered) == NAT64_RESULT_OK);
  EXPECT(answered && n >= 12 && (out[3] & 0xf) == 4);

  /* ipv4only.arpa, answered here, then discovery from the answer. */
  size_t ll = dns_msg(q, 7, 0x0100, "ipv4only.arpa", 28, 0, 0);
  EXPECT(nat64_dns64_plan(d, q, ll, "2001:db8::5", &plan) == NAT64_RESULT_OK);
  EXPECT(plan.kind == NAT64_PLAN_KIND_LOCAL && plan.synthesize);
  EXPECT(nat64_dns64_answer_local(d, q, ll, true, out, sizeof out, &w) == NAT64_RESULT_OK);
  nat64_prefix64 *found[4] = {0};
  size_t count = 0;
  EXPECT(nat64_prefixes_from_response(out, w.len, found, 4, &count) == NAT64_RESULT_OK && count == 1);
  char text[64];
  EXPECT(nat64_prefix64_to_text(found[0], text, sizeof text, NULL) == NAT64_RESULT_OK);
  EXPECT(strcmp(text, "2001:db8:64::/96") == 0);

  uint8_t opt[16];
  EXPECT(nat64_pref64_encode(found[0], 600, opt) == NAT64_RESULT_OK && opt[0] == 38);
  nat64_prefix64 *back = NULL;
  uint32_t life = 0;
  EXPECT(nat64_pref64_decode(opt, 16, &back, &life) == NAT64_RESULT_OK && life == 600);
  EXPECT(nat64_prefix64_prefix_len(back) == 96);
  nat64_prefix64_free(back);
  nat64_prefix64_free(found[0]);

  uint8_t addrs[32];
  inet_pton(AF_INET6, "2001:db8:1c0:0:aa::", addrs);
  inet_pton(AF_INET6, "2001:db8::1", addrs + 16);
  EXPECT(nat64_prefixes_from_addresses(addrs, 2, found, 4, &count) == NAT64_RESULT_OK && count == 1);
  EXPECT(nat64_prefix64_to_text(found[0], text, sizeof text, NULL) == NAT64_RESULT_OK);
  EXPECT(strcmp(text, "2001:db8:100::/40") == 0);
  nat64_prefix64_free(found[0]);
  EXPECT(nat64_prefixes_from_addresses(addrs + 16, 1, found, 4, &count) == NAT64_RESULT_NO_PREFIX);
  nat64_dns64_free(d);
}

int main(void) {
  test_codes();
  test_nulls();
  test_prefix();
  test_config_errors();
  test_translate();
  test_nat64();
  test_dns64();
  printf("c-api: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
