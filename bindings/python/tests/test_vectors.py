"""Jool's graybox vectors replayed through the Python binding, as `nat64 conformance jool`
replays them through Rust: SIIT cases on a fresh translator each, the NAT64 suite in order
through one stateful translator on a virtual clock. Read from $NAT64_VECTORS/jool at test
time (never copied into the repository). Without them the module is skipped with the
reason (shown by the -rs in pyproject.toml); with NAT64_REQUIRE_VECTORS=1 its collection
fails instead (jool.VectorsMissing)."""

import pytest

import jool
import nat64

if (REASON := jool.missing()) is not None:
    pytest.skip(REASON, allow_module_level=True)
VECTORS = jool.vectors_dir() / "graybox.jsonl"

CASES = jool.load(VECTORS)
KNOWN = jool.known_differences()
SECOND = 1_000_000


def make_config(c: dict) -> nat64.Config:
    return nat64.Config(**jool.config(c))


def make_nat64(c: dict) -> nat64.Nat64:
    n = jool.nat64_config(c)
    pool4 = [nat64.Pool4Entry(e["prefix"], e["first_port"], e["last_port"], e["protocols"]) for e in n.pop("pool4")]
    bibs = [nat64.Bib(b["proto"], b["v6"], b["v4"]) for b in n.pop("static_bib")]
    return nat64.Nat64(nat64.Nat64Config(make_config(c), pool4, static_bib=bibs, **n))


def collect(v: nat64.Verdict[bytes] | None, outs: list[bytes]) -> None:
    if isinstance(v, nat64.Translated):
        outs.extend(bytes(p) for p in v.packets)
    elif isinstance(v, nat64.IcmpError):
        outs.append(bytes(v.packet))


@pytest.mark.parametrize("case", [c for c in CASES if jool.mode(c) == "siit"], ids=lambda c: c["id"])
def test_siit_case(case: dict) -> None:
    t = nat64.Translator(make_config(case["config"]))
    outs: list[bytes] = []
    for h in case["input_hex"]:
        collect(t.translate(bytes.fromhex(h)), outs)
    diff = jool.compare(outs, [bytes.fromhex(h) for h in case["expected_hex"]], case.get("ignore_offsets") or [])
    if case["id"] in KNOWN:
        pytest.skip(f"known difference: {diff}")
    assert diff is None, diff


def test_nat64_suite_in_order() -> None:
    cases = [c for c in CASES if jool.mode(c) == "nat64"]
    assert cases
    nat = make_nat64(cases[0]["config"])
    clock = SECOND
    failures = []
    for case in cases:
        clock += SECOND
        outs: list[bytes] = []
        for h in case["input_hex"]:
            collect(nat.translate(bytes.fromhex(h), clock), outs)
        want = [bytes.fromhex(h) for h in case["expected_hex"]]
        limit = clock + 60 * SECOND
        while len(outs) < len(want):
            at = nat.next_expiry()
            if at is None or at > limit:
                break
            clock = max(clock, at)
            any_out = False
            while (v := nat.poll(clock)) is not None:
                any_out = True
                collect(v, outs)
            if not any_out and (nxt := nat.next_expiry()) is not None and nxt <= clock:
                break
        diff = jool.compare(outs, want, case.get("ignore_offsets") or [])
        if diff and case["id"] not in KNOWN:
            failures.append(f"{case['id']}: {diff}")
    assert not failures, "\n".join(failures)
    assert nat.counters().translated_6to4 > 0
