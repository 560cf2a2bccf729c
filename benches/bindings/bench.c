/* The C side of benches/bindings.sh: per-packet cost of nat64_translator_translate (single)
 * and nat64_translator_translate_batch (1000 packets a call), best of 7 timed runs.
 *   bench HEX_PACKET */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nat64.h"

#define N 200000
#define BATCH 1000

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  size_t len = strlen(argv[1]) / 2;
  uint8_t *pkt = malloc(len);
  for (size_t i = 0; i < len; i++) sscanf(argv[1] + 2 * i, "%2hhx", &pkt[i]);
  nat64_config *cfg = NULL;
  nat64_translator *t = NULL;
  if (nat64_config_new(&cfg) || nat64_config_set_pool6(cfg, "2001:db8:64::/96") || nat64_translator_new(cfg, &t)) return 1;
  nat64_config_free(cfg);
  uint8_t *out = malloc(NAT64_OUTPUT_BUFFER_LEN);
  nat64_verdict v;
  nat64_translator_translate(t, pkt, len, out, NAT64_OUTPUT_BUFFER_LEN, &v);
  if (v.kind != NAT64_VERDICT_KIND_TRANSLATED) return 1;
  double best = 1e18;
  for (int r = 0; r < 8; r++) {
    double s = now_ns();
    for (int i = 0; i < N; i++) nat64_translator_translate(t, pkt, len, out, NAT64_OUTPUT_BUFFER_LEN, &v);
    double per = (now_ns() - s) / N;
    if (r > 0 && per < best) best = per;
  }
  printf("c single %.1f\n", best);
  nat64_packet *ps = malloc(sizeof *ps * BATCH);
  for (int i = 0; i < BATCH; i++) ps[i] = (nat64_packet){pkt, len};
  size_t cap = BATCH * (len * 2 + 1024);
  uint8_t *big = malloc(cap);
  nat64_verdict *vs = malloc(sizeof *vs * BATCH);
  size_t *offs = malloc(sizeof *offs * BATCH);
  best = 1e18;
  for (int r = 0; r < 8; r++) {
    double s = now_ns();
    for (int i = 0; i < N / BATCH; i++) nat64_translator_translate_batch(t, ps, BATCH, big, cap, vs, offs);
    double per = (now_ns() - s) / N;
    if (r > 0 && per < best) best = per;
  }
  if (vs[BATCH - 1].kind != NAT64_VERDICT_KIND_TRANSLATED) return 1;
  printf("c batch %.1f\n", best);
  nat64_translator_free(t);
  free(pkt), free(out), free(ps), free(big), free(vs), free(offs);
  return 0;
}
