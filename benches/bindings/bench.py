"""The Python side of benches/bindings.sh: per-packet cost of Translator.translate (single,
bytes out), translate_into (single, into a bytearray) and translate_batch (1000 packets a
call), best of 7 timed runs.   python bench.py HEX_PACKET"""

import sys
import time

import nat64

N = 200_000
BATCH = 1000


def best(f) -> float:
    f()
    return min(f() for _ in range(7))


def main() -> None:
    pkt = bytes.fromhex(sys.argv[1])
    t = nat64.Translator(nat64.Config(pool6="2001:db8:64::/96"))
    assert isinstance(t.translate(pkt), nat64.Translated)
    translate = t.translate

    def single() -> float:
        s = time.perf_counter_ns()
        for _ in range(N):
            translate(pkt)
        return (time.perf_counter_ns() - s) / N

    out = bytearray(nat64.OUTPUT_BUFFER_LEN)
    into = t.translate_into

    def single_into() -> float:
        s = time.perf_counter_ns()
        for _ in range(N):
            into(pkt, out)
        return (time.perf_counter_ns() - s) / N

    packets = [pkt] * BATCH
    tb = t.translate_batch

    def batch() -> float:
        s = time.perf_counter_ns()
        for _ in range(N // BATCH):
            tb(packets)
        return (time.perf_counter_ns() - s) / N

    assert tb(packets).translated == BATCH
    print(f"python single {best(single):.1f}")
    print(f"python single_into {best(single_into):.1f}")
    print(f"python batch {best(batch):.1f}")


main()
