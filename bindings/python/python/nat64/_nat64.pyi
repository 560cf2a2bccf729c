# Type stubs of the compiled module nat64._nat64 (checked by `python -m mypy.stubtest nat64`).
from collections.abc import Iterable, Iterator, Sequence
from types import GenericAlias
from ipaddress import IPv4Address, IPv6Address, IPv4Network, IPv6Network
from typing import ClassVar, Final, Generic, Literal, TypeVar, Union, final, overload

from typing_extensions import Buffer

__all__ = [
    "Batch",
    "Bib",
    "Config",
    "Counters",
    "Dns64",
    "Dns64Config",
    "Dns64Plan",
    "Dropped",
    "Held",
    "IcmpError",
    "Nat64",
    "Nat64Config",
    "Nat64Error",
    "Nat64Stats",
    "NotOurs",
    "OUTPUT_BUFFER_LEN",
    "__version__",
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
    "Written",
    "drop_reasons",
    "not_ours_reasons",
    "prefixes_from_addresses",
    "prefixes_from_response",
]

__version__: Final[str]
OUTPUT_BUFFER_LEN: Final[int]

# The packets' type: `bytes` from translate(), translate_batch() and poll(), `memoryview`
# (of the caller's bytearray) from translate_into().
_P = TypeVar("_P", bytes, memoryview)
_P_co = TypeVar("_P_co", bytes, memoryview, covariant=True)

_Addr4 = Union[str, IPv4Address]
_Addr6 = Union[str, IPv6Address]
_Net4 = Union[str, IPv4Address, IPv4Network]
_Net6 = Union[str, IPv6Address, IPv6Network]
_Direction = Literal["6to4", "4to6", "6to6"]
_ProtoName = Literal["tcp", "udp", "icmp"]

class Nat64Error(ValueError): ...

class QueryError(Nat64Error):
    rcode: int | None

@final
class Prefix64:
    def __new__(cls, prefix: Union[str, IPv6Network]) -> Prefix64: ...
    @staticmethod
    def well_known() -> Prefix64: ...
    def embed(self, v4: _Addr4) -> str: ...
    def extract(self, v6: _Addr6) -> str | None: ...
    def contains(self, v6: _Addr6) -> bool: ...
    @property
    def prefix_len(self) -> int: ...
    @property
    def is_well_known(self) -> bool: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Translated(Generic[_P_co]):
    __match_args__: ClassVar[tuple[Literal["packets"], Literal["direction"]]]
    def __class_getitem__(cls, item: object, /) -> GenericAlias: ...
    @property
    def packets(self) -> list[_P_co]: ...
    @property
    def direction(self) -> _Direction: ...
    @property
    def len(self) -> int: ...
    @property
    def count(self) -> int: ...
    @property
    def first_len(self) -> int: ...

@final
class IcmpError(Generic[_P_co]):
    __match_args__: ClassVar[tuple[Literal["packet"], Literal["reason"]]]
    def __class_getitem__(cls, item: object, /) -> GenericAlias: ...
    @property
    def packet(self) -> _P_co: ...
    @property
    def reason(self) -> str: ...
    @property
    def explain(self) -> str: ...

@final
class Dropped:
    __match_args__: ClassVar[tuple[Literal["reason"]]]
    @property
    def reason(self) -> str: ...
    @property
    def explain(self) -> str: ...

@final
class NotOurs:
    __match_args__: ClassVar[tuple[Literal["reason"]]]
    @property
    def reason(self) -> str: ...
    @property
    def explain(self) -> str: ...

@final
class Held:
    __match_args__: ClassVar[tuple[Literal["reason"]]]
    @property
    def reason(self) -> Literal["fragment", "simultaneous_open", "unknown"]: ...

_Verdict = Union[Translated[_P], IcmpError[_P], Dropped, NotOurs, Held]

@final
class Counters:
    @property
    def translated_6to4(self) -> int: ...
    @property
    def translated_4to6(self) -> int: ...
    @property
    def hairpinned(self) -> int: ...
    @property
    def fragments_emitted(self) -> int: ...
    @property
    def icmp_errors_generated(self) -> int: ...
    @property
    def held(self) -> int: ...
    @property
    def dropped(self) -> dict[str, int]: ...
    @property
    def not_ours(self) -> dict[str, int]: ...

@final
class Batch:
    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, key: int, /) -> _Verdict[bytes]: ...
    @overload
    def __getitem__(self, key: slice, /) -> list[_Verdict[bytes]]: ...
    def __iter__(self) -> Iterator[_Verdict[bytes]]: ...
    @property
    def data(self) -> bytes: ...
    @property
    def offsets(self) -> list[int]: ...
    @property
    def translated(self) -> int: ...

def drop_reasons() -> list[tuple[str, str]]: ...
def not_ours_reasons() -> list[tuple[str, str]]: ...

@final
class Config:
    def __new__(
        cls,
        *,
        pool6: Union[str, Prefix64, None] = None,
        wkp_forbids_non_global: bool = True,
        eamt: Sequence[tuple[_Net4, _Net6] | tuple[_Net4, _Net6, bool]] | None = None,
        eam_hairpin_mode: Literal["off", "simple", "intrinsic"] = "intrinsic",
        denylist4: Sequence[_Net4] | None = None,
        rfc6791v4_prefix: _Net4 | None = None,
        rfc6791v6_prefix: _Net6 | None = None,
        randomize_rfc6791_addresses: bool = True,
        own_ipv4: _Addr4 | None = None,
        own_ipv6: _Addr6 | None = None,
        mtu4: int = 1500,
        mtu6: int = 1500,
        lowest_ipv6_mtu: int = 1280,
        mtu_plateaus: Sequence[int] | None = None,
        amend_udp_checksum_zero: bool = False,
        forward_udp_checksum_zero: bool = False,
        zeroize_traffic_class: bool = False,
        override_tos: int | None = None,
        error_hop_limit: int = 64,
        ipv4_id: tuple[Literal["fixed", "counter"], int] | None = None,
        seed: int | None = None,
    ) -> Config: ...
    def validate(self) -> None: ...
    @property
    def pool6(self) -> Prefix64 | None: ...

@final
class Translator:
    def __new__(cls, config: Config) -> Translator: ...
    def translate(self, packet: Buffer) -> _Verdict[bytes]: ...
    def translate_into(self, packet: Buffer, out: bytearray) -> _Verdict[memoryview]: ...
    def translate_batch(self, packets: Iterable[Buffer]) -> Batch: ...
    def counters(self) -> Counters: ...
    def set_config(self, config: Config) -> None: ...
    @property
    def config(self) -> Config: ...

@final
class Pool4Entry:
    def __new__(
        cls,
        prefix: _Net4,
        first_port: int = 61001,
        last_port: int = 65535,
        protocols: Sequence[_ProtoName] | None = None,
    ) -> Pool4Entry: ...

@final
class Bib:
    def __new__(cls, proto: _ProtoName, v6: tuple[str, int], v4: tuple[str, int], is_static: bool = True) -> Bib: ...
    @property
    def proto(self) -> _ProtoName: ...
    @property
    def v6(self) -> tuple[str, int]: ...
    @property
    def v4(self) -> tuple[str, int]: ...
    @property
    def is_static(self) -> bool: ...

@final
class Timeouts:
    def __new__(
        cls,
        *,
        udp: float = 300.0,
        tcp_est: float = 7440.0,
        tcp_trans: float = 240.0,
        icmp: float = 60.0,
        tcp_incoming_syn: float = 6.0,
    ) -> Timeouts: ...

@final
class TableLimits:
    def __new__(
        cls, *, max_sessions: int = 1048576, max_sessions_per_client: int = 0, client_prefix_len: int = 128
    ) -> TableLimits: ...

@final
class Nat64Config:
    def __new__(
        cls,
        xlat: Config,
        pool4: Sequence[Union[Pool4Entry, _Net4]],
        *,
        static_bib: Sequence[Bib] | None = None,
        timeouts: Timeouts | None = None,
        address_dependent_filtering: bool = False,
        drop_externally_initiated_tcp: bool = False,
        drop_icmpv6_info: bool = False,
        max_simultaneous_opens: int = 10,
        source_icmpv6_errors_better: bool = True,
        handle_rst_during_fin_rcv: bool = False,
        max_iterations: int = 0,
        secret: tuple[int, int] | None = None,
        limits: TableLimits | None = None,
    ) -> Nat64Config: ...

@final
class Session:
    @property
    def proto(self) -> _ProtoName: ...
    @property
    def v6(self) -> tuple[str, int]: ...
    @property
    def v4(self) -> tuple[str, int]: ...
    @property
    def remote(self) -> tuple[str, int]: ...
    @property
    def state(self) -> str: ...
    @property
    def expires(self) -> int: ...

@final
class Nat64Stats:
    @property
    def sessions(self) -> int: ...
    @property
    def bib_entries(self) -> int: ...
    @property
    def pool4_size(self) -> tuple[int, int, int]: ...
    @property
    def held_syns(self) -> int: ...
    @property
    def sessions_evicted(self) -> int: ...

@final
class Nat64:
    def __new__(cls, config: Nat64Config) -> Nat64: ...
    def translate(self, packet: Buffer, now: int) -> _Verdict[bytes]: ...
    def translate_into(self, packet: Buffer, out: bytearray, now: int) -> _Verdict[memoryview]: ...
    def translate_batch(self, packets: Iterable[Buffer], now: int) -> Batch: ...
    def poll(self, now: int) -> _Verdict[bytes] | None: ...
    def next_expiry(self) -> int | None: ...
    def sessions(self, proto: _ProtoName | None = None, client: _Addr6 | None = None) -> list[Session]: ...
    def bibs(self, proto: _ProtoName | None = None) -> list[Bib]: ...
    def stats(self) -> Nat64Stats: ...
    def counters(self) -> Counters: ...

@final
class PrefixRule:
    def __new__(cls, prefix: Union[str, Prefix64], mapped: Sequence[_Net4] | None = None) -> PrefixRule: ...

@final
class Dns64Config:
    def __new__(
        cls,
        *,
        prefixes: Sequence[Union[str, Prefix64, PrefixRule]] | None = None,
        exclude: Sequence[_Net6] | None = None,
        clients: Sequence[Union[_Net4, _Net6]] | None = None,
        translate_all: bool = False,
        allow_ipv4: bool = False,
        allow_non_global: bool = False,
        edns_udp_size: int = 1232,
        upstream_validates: bool = False,
    ) -> Dns64Config: ...

@final
class Dns64Plan:
    @property
    def kind(self) -> Literal["forward", "local", "aaaa", "ptr"]: ...
    @property
    def synthesize(self) -> bool: ...
    @property
    def ptr_target(self) -> str | None: ...

@final
class Written:
    @property
    def response(self) -> bytes: ...
    @property
    def truncated(self) -> bool: ...
    @property
    def answer(self) -> Literal["relayed", "filtered", "synthesized", "empty", "ptr_cname", "local", "error"]: ...
    @property
    def records(self) -> int: ...

@final
class Dns64:
    def __new__(cls, config: Dns64Config | None = None) -> Dns64: ...
    def serves(self, client: Union[_Addr4, _Addr6]) -> bool: ...
    def response_limit(self, query: Buffer, tcp: bool = False) -> int: ...
    def plan(self, query: Buffer, client: Union[_Addr4, _Addr6]) -> Dns64Plan: ...
    def upstream_query(self, query: Buffer, id: int, qname: Buffer, qtype: int) -> bytes: ...
    def needs_a_query(self, query: Buffer, aaaa_response: Buffer | None = None) -> Literal["query_a", "respond"]: ...
    def synthesize(
        self, query: Buffer, aaaa_response: Buffer | None = None, a_response: Buffer | None = None, max_len: int = 65535
    ) -> Written: ...
    def relay(self, query: Buffer, response: Buffer, max_len: int = 65535) -> Written: ...
    def synthesize_ptr(self, query: Buffer, target: _Addr4, response: Buffer, max_len: int = 65535) -> Written | None: ...
    def answer_local(self, query: Buffer, synthesize: bool, max_len: int = 65535) -> Written: ...
    def error_response(self, client_msg: Buffer, rcode: int, max_len: int = 65535) -> bytes | None: ...

def prefixes_from_response(response: Buffer) -> list[Prefix64]: ...
def prefixes_from_addresses(addrs: Sequence[_Addr6]) -> list[Prefix64]: ...

@final
class Pref64:
    def __new__(cls, prefix: Union[str, Prefix64], lifetime_secs: int) -> Pref64: ...
    @staticmethod
    def decode(option: Buffer) -> Pref64: ...
    def encode(self) -> bytes: ...
    @property
    def prefix(self) -> Prefix64: ...
    @property
    def lifetime_secs(self) -> int: ...
    @property
    def scaled_lifetime(self) -> int: ...
