"""nat64: IPv6/IPv4 translation from the nat64-core Rust engine.

RFC 6052 prefixes (`Prefix64`), the stateless translator (`Translator`, RFC 7915
SIIT), the stateful NAT64 (`Nat64`, RFC 6146), DNS64 (`Dns64`, RFC 6147; its whole
query sequence, step by step with the caller's sockets: `Dns64.exchange()`, with a
`Dns64Cache`) and NAT64 prefix discovery (RFC 7050, RFC 8781). Packets go in as any buffer and come out as
`bytes`; every packet gets a typed verdict::

    from nat64 import Config, Translator, Translated
    t = Translator(Config(pool6="64:ff9b::/96"))
    match t.translate(packet):
        case Translated(packets, direction): ...

Errors are `Nat64Error` (a `ValueError`) with the core's message. `Verdict[bytes]` is
what `translate()` returns, `Verdict[memoryview]` what `translate_into()` returns.
"""

from typing import TypeVar, Union

from ._nat64 import (
    OUTPUT_BUFFER_LEN,
    __version__,
    Batch,
    Bib,
    Config,
    Counters,
    Dns64,
    Dns64Cache,
    Dns64Config,
    Dns64Exchange,
    Dns64Plan,
    Dns64Step,
    Dropped,
    Held,
    IcmpError,
    Nat64,
    Nat64Config,
    Nat64Error,
    Nat64Stats,
    NotOurs,
    Pool4Entry,
    Pref64,
    Prefix64,
    PrefixRule,
    QueryError,
    Session,
    TableLimits,
    Timeouts,
    Translated,
    Translator,
    Written,
    drop_reasons,
    not_ours_reasons,
    prefixes_from_addresses,
    prefixes_from_response,
)

_P = TypeVar("_P", bytes, memoryview)

Verdict = Union[Translated[_P], IcmpError[_P], Dropped, NotOurs, Held]
"""What happened to a packet: one of the five verdict classes. Generic in the packets'
type: `Verdict[bytes]` from `translate()`, `translate_batch()` and `poll()`,
`Verdict[memoryview]` (views of the caller's bytearray) from `translate_into()`."""

__all__ = [
    "OUTPUT_BUFFER_LEN",
    "Batch",
    "Bib",
    "Config",
    "Counters",
    "Dns64",
    "Dns64Cache",
    "Dns64Config",
    "Dns64Exchange",
    "Dns64Plan",
    "Dns64Step",
    "Dropped",
    "Held",
    "IcmpError",
    "Nat64",
    "Nat64Config",
    "Nat64Error",
    "Nat64Stats",
    "NotOurs",
    "Pool4Entry",
    "Pref64",
    "Prefix64",
    "PrefixRule",
    "QueryError",
    "Session",
    "TableLimits",
    "Timeouts",
    "Translated",
    "Translator",
    "Verdict",
    "Written",
    "drop_reasons",
    "not_ours_reasons",
    "prefixes_from_addresses",
    "prefixes_from_response",
    "__version__",
]
