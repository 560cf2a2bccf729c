"""The typing sample (checked by `mypy --strict` in ci.sh) also holds at run time, and the
runtime supports the generic spelling the stubs use."""

import types

import typing_sample

import nat64


def test_typing_sample_runs() -> None:
    typing_sample.main()


def test_generic_verdicts_at_run_time() -> None:
    alias = nat64.Translated[bytes]
    assert isinstance(alias, types.GenericAlias) and alias.__origin__ is nat64.Translated
    assert nat64.IcmpError[memoryview].__args__ == (memoryview,)
    assert nat64.Verdict[bytes].__args__[:2] == (nat64.Translated[bytes], nat64.IcmpError[bytes])
