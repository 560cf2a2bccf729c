"""Jool's graybox vectors for the binding tests, read at test time.

The vectors are GPL-2.0 and are never copied into this repository: every
binding's test reads them from $NAT64_VECTORS/jool (default
../shared/vectors/jool beside the repository). This module turns each record
into the binding-level configuration (the names of the core's `Config` and
`Nat64Config` fields), the way `nat64 conformance jool` does
(nat64-cli/src/conformance.rs), and can write them as a plain text file for
the C and Node tests:

    python3 bindings/vectors/jool.py OUT.txt          # cases.txt for C / Node

Without the vectors (a fresh clone has no ../shared) the tests that need them
are skipped with the reason `missing()` gives; the command then writes nothing
and exits with status 77 (the Automake "skipped" status), the reason on stderr.
With NAT64_REQUIRE_VECTORS=1 (set by .ci/run) missing vectors are an error
instead: `missing()` raises VectorsMissing and the command exits with status 1.

Text format, one item per line, fields separated by one space:

    case ID MODE                 MODE is siit or nat64; nat64 cases of a suite share one translator
    known 0|1                    1: listed in nat64-cli/conformance/jool-known-differences.toml
    set KEY VALUE                Config field (pool6, own_ipv4, mtu4, amend_udp_checksum_zero 0|1, ...)
    eam V4PREFIX V6PREFIX
    pool4 PREFIX FIRST LAST PROTOS   PROTOS like tcp,udp,icmp
    bib PROTO V6ADDR V6PORT V4ADDR V4PORT
    nset KEY VALUE               Nat64Config field (address_dependent_filtering 0|1, max_simultaneous_opens N, ...)
    in HEX                       a packet sent
    out HEX                      a packet expected, in order
    ignore OFFSET...             offsets of expected packets not compared
    end
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


SKIPPED = 77


class VectorsMissing(Exception):
    """NAT64_REQUIRE_VECTORS=1 and the vectors are not there."""


def vectors_dir() -> Path:
    env = os.environ.get("NAT64_VECTORS")
    base = Path(env) if env else ROOT.parent / "shared" / "vectors"
    return base / "jool"


def required() -> bool:
    """NAT64_REQUIRE_VECTORS: 1 means missing vectors fail the tests, unset, empty or 0 that they skip them."""
    v = os.environ.get("NAT64_REQUIRE_VECTORS", "")
    if v not in ("", "0", "1"):
        raise ValueError(f"NAT64_REQUIRE_VECTORS is {v!r}: set it to 1 (the vectors must be there) or 0")
    return v == "1"


def missing() -> str | None:
    """None if the vectors are there, else why the tests that need them are skipped.

    Raises VectorsMissing instead when NAT64_REQUIRE_VECTORS=1."""
    path = vectors_dir() / "graybox.jsonl"
    require = required()
    if path.is_file():
        return None
    if require:
        raise VectorsMissing(
            f"Jool vectors not found at {path} and NAT64_REQUIRE_VECTORS=1: "
            "set NAT64_VECTORS=/path/to/vectors (the folder holding jool/graybox.jsonl)"
        )
    return f"Jool vectors not found at {path}: set NAT64_VECTORS=/path/to/vectors to run"


def known_differences() -> set[str]:
    text = (ROOT / "nat64-cli" / "conformance" / "jool-known-differences.toml").read_text()
    return {d["id"] for d in tomllib.loads(text).get("difference", [])}


def load(path: Path | None = None) -> list[dict]:
    """Every record, in replay order (suite, then sequence)."""
    path = path or vectors_dir() / "graybox.jsonl"
    cases = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for i, c in enumerate(cases):
        c.setdefault("sequence", i)
    cases.sort(key=lambda c: (c["suite"], c["sequence"]))
    return cases


def _leading_addr(v: object) -> str | None:
    if not isinstance(v, str) or not v.split():
        return None
    return v.split()[0].split("/")[0]


def config(c: dict) -> dict:
    """The stateless `Config` fields of a record's `config`, as Jool ran it
    (no RFC 6052 section 3.1 check: Jool has none)."""
    out: dict = {"wkp_forbids_non_global": False}
    if c.get("pool6"):
        out["pool6"] = c["pool6"]
    eamt = []
    for a, b in c.get("eamt") or []:
        v4, v6 = (b, a) if ":" in a else (a, b)
        eamt.append((v4, v6))
    if eamt:
        out["eamt"] = eamt
    for k in ("rfc6791v4_prefix", "rfc6791v6_prefix"):
        if isinstance(c.get(k), str):
            out[k] = c[k]
    for k in ("randomize_rfc6791_addresses", "amend_udp_checksum_zero", "zeroize_traffic_class"):
        if isinstance(c.get(k), bool):
            out[k] = c[k]
    if isinstance(c.get("lowest_ipv6_mtu"), int):
        out["lowest_ipv6_mtu"] = c["lowest_ipv6_mtu"]
    mtu = c.get("egress_mtu") or {}
    if isinstance(mtu.get("to_client_v6"), int):
        out["mtu6"] = mtu["to_client_v6"]
    if isinstance(mtu.get("to_client_v4"), int):
        out["mtu4"] = mtu["to_client_v4"]
    for k, field in (("translator_ipv4_addr", "own_ipv4"), ("translator_ipv6_addr", "own_ipv6")):
        a = _leading_addr(c.get(k))
        if a:
            out[field] = a
    if isinstance(c.get("eam_hairpin_mode"), str):
        w = c["eam_hairpin_mode"].split()
        out["eam_hairpin_mode"] = w[0] if w and w[0] in ("off", "simple") else "intrinsic"
    return out


def nat64_config(c: dict) -> dict:
    """The `Nat64Config` fields (besides `xlat`) of a stateful record."""
    out: dict = {"pool4": [], "static_bib": []}
    for e in c.get("pool4") or []:
        first, _, last = (e.get("ports") or "61001-65535").partition("-")
        out["pool4"].append(
            {
                "prefix": e["addr"],
                "first_port": int(first),
                "last_port": int(last or first),
                "protocols": list(e.get("protocols") or ["tcp", "udp", "icmp"]),
            }
        )
    for b in c.get("bib_static") or []:
        a6, p6 = b["v6"].rsplit("#", 1)
        a4, p4 = b["v4"].rsplit("#", 1)
        out["static_bib"].append({"proto": b["proto"], "v6": (a6, int(p6)), "v4": (a4, int(p4))})
    for k in ("address_dependent_filtering", "drop_externally_initiated_tcp", "source_icmpv6_errors_better"):
        if isinstance(c.get(k), bool):
            out[k] = c[k]
    if isinstance(c.get("maximum_simultaneous_opens"), int):
        out["max_simultaneous_opens"] = c["maximum_simultaneous_opens"]
    return out


def mode(case: dict) -> str:
    return (case.get("config") or {}).get("mode") or case["suite"]


def compare(got: list[bytes], want: list[bytes], ignore: list[int]) -> str | None:
    """None when the outputs match, else what differs."""
    if len(got) != len(want):
        return f"{len(got)} packet(s) out, {len(want)} expected"
    for i, (g, w) in enumerate(zip(got, want)):
        if len(g) != len(w):
            return f"packet {i}: {len(g)} bytes, {len(w)} expected"
        diff = [o for o in range(len(g)) if g[o] != w[o] and o not in ignore]
        if diff:
            return f"packet {i}: {len(diff)} byte(s) differ, first at offset {diff[0]}"
    return None


def _b(v: bool) -> str:
    return "1" if v else "0"


def write_text(out_path: Path, cases: list[dict] | None = None) -> int:
    cases = cases if cases is not None else load()
    known = known_differences()
    lines = []
    for case in cases:
        m = mode(case)
        lines.append(f"case {case['id']} {m}")
        lines.append(f"known {_b(case['id'] in known)}")
        cfg = config(case.get("config") or {})
        for k, v in cfg.items():
            if k == "eamt":
                lines += [f"eam {v4} {v6}" for v4, v6 in v]
            elif isinstance(v, bool):
                lines.append(f"set {k} {_b(v)}")
            else:
                lines.append(f"set {k} {v}")
        if m == "nat64":
            n = nat64_config(case.get("config") or {})
            for e in n.pop("pool4"):
                lines.append(f"pool4 {e['prefix']} {e['first_port']} {e['last_port']} {','.join(e['protocols'])}")
            for b in n.pop("static_bib"):
                lines.append(f"bib {b['proto']} {b['v6'][0]} {b['v6'][1]} {b['v4'][0]} {b['v4'][1]}")
            for k, v in n.items():
                lines.append(f"nset {k} {_b(v) if isinstance(v, bool) else v}")
        lines += [f"in {h}" for h in case["input_hex"]]
        lines += [f"out {h}" for h in case["expected_hex"]]
        if case.get("ignore_offsets"):
            lines.append("ignore " + " ".join(str(o) for o in case["ignore_offsets"]))
        lines.append("end")
    out_path.write_text("\n".join(lines) + "\n")
    return len(cases)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: jool.py OUT.txt   (reads $NAT64_VECTORS/jool/graybox.jsonl)")
    try:
        reason = missing()
    except (VectorsMissing, ValueError) as e:
        sys.exit(f"jool.py: {e}")
    if reason:
        print(reason, file=sys.stderr)
        sys.exit(SKIPPED)
    n = write_text(Path(sys.argv[1]))
    print(f"{n} cases written to {sys.argv[1]}", file=sys.stderr)
