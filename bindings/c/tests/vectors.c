/*
 * Replays Jool's graybox vectors through the C API, as `nat64 conformance jool` does:
 * SIIT cases each on a fresh translator, the NAT64 suite in order through one stateful
 * translator on a virtual clock (one second per case; timers run until the expected
 * packets are out, at most 60 s).
 *
 *   vectors CASES.txt      (CASES.txt written by bindings/vectors/jool.py at test time)
 *
 * Prints a line per failure and "N passed, N failed"; exits non-zero on any failure not
 * listed as a known difference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat64.h"

#define MAX_PKTS 8
#define MAX_LINE 300000

struct pkt {
  uint8_t *data;
  size_t len;
};

struct ccase {
  char id[256];
  char mode[16];
  int known;
  nat64_config *cfg;
  nat64_nat64_config *ncfg; /* built lazily from cfg for nat64 cases */
  char pool4[8][128];
  int npool4;
  char bib[16][256];
  int nbib;
  char nset[16][128];
  int nnset;
  struct pkt in[MAX_PKTS], out[MAX_PKTS];
  int nin, nout;
  int ignore[64];
  int nignore;
};

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static struct pkt unhex(const char *h) {
  struct pkt p;
  size_t n = strlen(h) / 2;
  p.data = malloc(n ? n : 1);
  p.len = n;
  for (size_t i = 0; i < n; i++) p.data[i] = (uint8_t)(hexval(h[2 * i]) * 16 + hexval(h[2 * i + 1]));
  return p;
}

static void die(const char *what, nat64_result r) {
  char msg[512];
  nat64_last_error(msg, sizeof msg, NULL);
  fprintf(stderr, "%s: %s (%s)\n", what, nat64_result_text(r), msg);
  exit(2);
}

#define CHECK(call)                    \
  do {                                 \
    nat64_result r_ = (call);          \
    if (r_ != NAT64_RESULT_OK) die(#call, r_); \
  } while (0)

static void set_key(nat64_config *cfg, const char *k, const char *v) {
  if (!strcmp(k, "pool6")) CHECK(nat64_config_set_pool6(cfg, v));
  else if (!strcmp(k, "wkp_forbids_non_global")) CHECK(nat64_config_set_wkp_forbids_non_global(cfg, atoi(v)));
  else if (!strcmp(k, "rfc6791v4_prefix")) CHECK(nat64_config_set_rfc6791v4_prefix(cfg, v));
  else if (!strcmp(k, "rfc6791v6_prefix")) CHECK(nat64_config_set_rfc6791v6_prefix(cfg, v));
  else if (!strcmp(k, "randomize_rfc6791_addresses")) CHECK(nat64_config_set_randomize_rfc6791_addresses(cfg, atoi(v)));
  else if (!strcmp(k, "amend_udp_checksum_zero")) CHECK(nat64_config_set_amend_udp_checksum_zero(cfg, atoi(v)));
  else if (!strcmp(k, "zeroize_traffic_class")) CHECK(nat64_config_set_zeroize_traffic_class(cfg, atoi(v)));
  else if (!strcmp(k, "lowest_ipv6_mtu")) CHECK(nat64_config_set_lowest_ipv6_mtu(cfg, (uint32_t)atoi(v)));
  else if (!strcmp(k, "mtu4")) CHECK(nat64_config_set_mtu4(cfg, (uint32_t)atoi(v)));
  else if (!strcmp(k, "mtu6")) CHECK(nat64_config_set_mtu6(cfg, (uint32_t)atoi(v)));
  else if (!strcmp(k, "own_ipv4")) CHECK(nat64_config_set_own_ipv4(cfg, v));
  else if (!strcmp(k, "own_ipv6")) CHECK(nat64_config_set_own_ipv6(cfg, v));
  else if (!strcmp(k, "eam_hairpin_mode"))
    CHECK(nat64_config_set_eam_hairpin_mode(cfg, !strcmp(v, "off")      ? NAT64_HAIRPIN_MODE_OFF
                                                 : !strcmp(v, "simple") ? NAT64_HAIRPIN_MODE_SIMPLE
                                                                        : NAT64_HAIRPIN_MODE_INTRINSIC));
  else {
    fprintf(stderr, "unknown config key %s\n", k);
    exit(2);
  }
}

static uint32_t proto_of(const char *s) {
  if (!strcmp(s, "tcp")) return NAT64_PROTO_TCP;
  if (!strcmp(s, "udp")) return NAT64_PROTO_UDP;
  if (!strcmp(s, "icmp")) return NAT64_PROTO_ICMP;
  fprintf(stderr, "unknown protocol %s\n", s);
  exit(2);
}

static nat64_nat64 *make_nat64(struct ccase *c) {
  nat64_nat64_config *n = NULL;
  CHECK(nat64_nat64_config_new(c->cfg, &n));
  for (int i = 0; i < c->npool4; i++) {
    char prefix[64], protos[64];
    unsigned first, last;
    uint32_t mask = 0;
    if (sscanf(c->pool4[i], "%63s %u %u %63s", prefix, &first, &last, protos) != 4) exit(2);
    for (char *t = strtok(protos, ","); t; t = strtok(NULL, ",")) mask |= 1u << proto_of(t);
    CHECK(nat64_nat64_config_add_pool4(n, prefix, (uint16_t)first, (uint16_t)last, mask));
  }
  for (int i = 0; i < c->nbib; i++) {
    char proto[16], a6[64], a4[32];
    unsigned p6, p4;
    if (sscanf(c->bib[i], "%15s %63s %u %31s %u", proto, a6, &p6, a4, &p4) != 5) exit(2);
    CHECK(nat64_nat64_config_add_static_bib(n, proto_of(proto), a6, (uint16_t)p6, a4, (uint16_t)p4));
  }
  for (int i = 0; i < c->nnset; i++) {
    char k[64];
    unsigned v;
    if (sscanf(c->nset[i], "%63s %u", k, &v) != 2) exit(2);
    if (!strcmp(k, "address_dependent_filtering")) CHECK(nat64_nat64_config_set_address_dependent_filtering(n, v));
    else if (!strcmp(k, "drop_externally_initiated_tcp")) CHECK(nat64_nat64_config_set_drop_externally_initiated_tcp(n, v));
    else if (!strcmp(k, "source_icmpv6_errors_better")) CHECK(nat64_nat64_config_set_source_icmpv6_errors_better(n, v));
    else if (!strcmp(k, "max_simultaneous_opens")) CHECK(nat64_nat64_config_set_max_simultaneous_opens(n, v));
    else {
      fprintf(stderr, "unknown nat64 key %s\n", k);
      exit(2);
    }
  }
  nat64_nat64 *nat = NULL;
  CHECK(nat64_nat64_new(n, &nat));
  nat64_nat64_config_free(n);
  return nat;
}

struct outs {
  struct pkt p[MAX_PKTS * 4];
  int n;
};

static void collect(const nat64_verdict *v, const uint8_t *buf, struct outs *o) {
  if (v->kind == NAT64_VERDICT_KIND_TRANSLATED) {
    for (size_t i = 0; i < v->count && o->n < MAX_PKTS * 4; i++) {
      size_t start = i * v->first_len;
      size_t end = i + 1 == v->count ? v->len : start + v->first_len;
      o->p[o->n].len = end - start;
      o->p[o->n].data = malloc(end - start);
      memcpy(o->p[o->n].data, buf + start, end - start);
      o->n++;
    }
  } else if (v->kind == NAT64_VERDICT_KIND_ICMP_ERROR && o->n < MAX_PKTS * 4) {
    o->p[o->n].len = v->len;
    o->p[o->n].data = malloc(v->len);
    memcpy(o->p[o->n].data, buf, v->len);
    o->n++;
  }
}

/* NULL when they match, else a static description. */
static const char *compare(const struct outs *got, const struct ccase *c, char *why, size_t whylen) {
  if (got->n != c->nout) {
    snprintf(why, whylen, "%d packet(s) out, %d expected", got->n, c->nout);
    return why;
  }
  for (int i = 0; i < got->n; i++) {
    if (got->p[i].len != c->out[i].len) {
      snprintf(why, whylen, "packet %d: %zu bytes, %zu expected", i, got->p[i].len, c->out[i].len);
      return why;
    }
    for (size_t o = 0; o < got->p[i].len; o++) {
      int ignored = 0;
      for (int k = 0; k < c->nignore; k++) ignored |= c->ignore[k] == (int)o;
      if (!ignored && got->p[i].data[o] != c->out[i].data[o]) {
        snprintf(why, whylen, "packet %d: first difference at offset %zu", i, o);
        return why;
      }
    }
  }
  return NULL;
}

static void free_case(struct ccase *c) {
  for (int i = 0; i < c->nin; i++) free(c->in[i].data);
  for (int i = 0; i < c->nout; i++) free(c->out[i].data);
  nat64_config_free(c->cfg);
  memset(c, 0, sizeof *c);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s CASES.txt\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "r");
  if (!f) {
    perror(argv[1]);
    return 2;
  }
  char *line = malloc(MAX_LINE);
  uint8_t *buf = malloc(NAT64_OUTPUT_BUFFER_LEN);
  static struct ccase c;
  int passed = 0, failed = 0, known = 0;
  nat64_nat64 *nat = NULL;
  uint64_t clock = 1000000;
  while (fgets(line, MAX_LINE, f)) {
    line[strcspn(line, "\n")] = 0;
    char *sp = strchr(line, ' ');
    char *rest = sp ? sp + 1 : line + strlen(line);
    if (sp) *sp = 0;
    if (!strcmp(line, "case")) {
      sscanf(rest, "%255s %15s", c.id, c.mode);
      CHECK(nat64_config_new(&c.cfg));
    } else if (!strcmp(line, "known")) {
      c.known = atoi(rest);
    } else if (!strcmp(line, "set")) {
      char *v = strchr(rest, ' ');
      *v++ = 0;
      set_key(c.cfg, rest, v);
    } else if (!strcmp(line, "eam")) {
      char *v6 = strchr(rest, ' ');
      *v6++ = 0;
      CHECK(nat64_config_add_eam(c.cfg, rest, v6, true));
    } else if (!strcmp(line, "pool4")) {
      snprintf(c.pool4[c.npool4++], sizeof c.pool4[0], "%s", rest);
    } else if (!strcmp(line, "bib")) {
      snprintf(c.bib[c.nbib++], sizeof c.bib[0], "%s", rest);
    } else if (!strcmp(line, "nset")) {
      snprintf(c.nset[c.nnset++], sizeof c.nset[0], "%s", rest);
    } else if (!strcmp(line, "in")) {
      c.in[c.nin++] = unhex(rest);
    } else if (!strcmp(line, "out")) {
      c.out[c.nout++] = unhex(rest);
    } else if (!strcmp(line, "ignore")) {
      for (char *t = strtok(rest, " "); t; t = strtok(NULL, " ")) c.ignore[c.nignore++] = atoi(t);
    } else if (!strcmp(line, "end")) {
      struct outs got = {0};
      nat64_verdict v;
      if (!strcmp(c.mode, "siit")) {
        nat64_translator *t = NULL;
        CHECK(nat64_translator_new(c.cfg, &t));
        for (int i = 0; i < c.nin; i++) {
          CHECK(nat64_translator_translate(t, c.in[i].data, c.in[i].len, buf, NAT64_OUTPUT_BUFFER_LEN, &v));
          collect(&v, buf, &got);
        }
        nat64_translator_free(t);
      } else {
        if (!nat) nat = make_nat64(&c);
        clock += 1000000;
        for (int i = 0; i < c.nin; i++) {
          CHECK(nat64_nat64_translate(nat, c.in[i].data, c.in[i].len, buf, NAT64_OUTPUT_BUFFER_LEN, clock, &v));
          collect(&v, buf, &got);
        }
        uint64_t limit = clock + 60000000, at;
        while (got.n < c.nout && nat64_nat64_next_expiry(nat, &at) && at <= limit) {
          if (at > clock) clock = at;
          int any = 0;
          for (;;) {
            CHECK(nat64_nat64_poll(nat, clock, buf, NAT64_OUTPUT_BUFFER_LEN, &v));
            if (v.kind == NAT64_VERDICT_KIND_NONE) break;
            any = 1;
            collect(&v, buf, &got);
          }
          if (!any && nat64_nat64_next_expiry(nat, &at) && at <= clock) break;
        }
      }
      char why[256];
      const char *d = compare(&got, &c, why, sizeof why);
      if (!d) {
        passed++;
      } else if (c.known) {
        known++;
        passed++;
        printf("known %s: %s\n", c.id, d);
      } else {
        failed++;
        printf("FAIL  %s: %s\n", c.id, d);
      }
      for (int i = 0; i < got.n; i++) free(got.p[i].data);
      free_case(&c);
    }
  }
  fclose(f);
  nat64_nat64_free(nat);
  free(line);
  free(buf);
  printf("jool vectors through the C API (%d listed known differences among the passed)\n", known);
  printf("c-vectors: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
