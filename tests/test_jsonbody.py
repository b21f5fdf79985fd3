"""Request bodies parsed safely: whatever JSON (or not) arrives, the answer is the data or a
BodyRefused with a message, never a RecursionError, a digit-limit ValueError or infinity."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontyard import i18n
from frontyard.jsonbody import MAX_DEPTH, MAX_INTEGER_DIGITS, BodyRefused, loads_body


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages in English, to match them."""
    with i18n.use_locale("en"):
        yield


# A body as an attacker writes it: valid JSON, broken JSON, or deep and huge pieces of both.
LARGEST = 10**MAX_INTEGER_DIGITS - 1
scalars = st.one_of(st.none(), st.booleans(), st.integers(-LARGEST, LARGEST),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=50))
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=30)
hostile_pieces = st.one_of(
    st.integers(1, 50_000).map(lambda n: "[" * n),
    st.integers(1, 50_000).map(lambda n: '{"a":' * n),
    st.integers(1, 6000).map(lambda n: "9" * n),
    st.integers(1, 6000).map(lambda n: "-0." + "1" * n + "e99999"),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "\ud800", "\x00", '"\\ud800"']),
    documents.map(json.dumps),
    st.integers().map(str),
)
bodies = st.lists(hostile_pieces, min_size=1, max_size=4).map("".join)


@settings(max_examples=300, deadline=None)
@given(body=bodies, as_bytes=st.booleans())
def test_any_body_is_data_or_a_refusal(body, as_bytes):
    """No input makes the parser fail in any other way than BodyRefused."""
    raw = body.encode("utf-8", "surrogatepass") if as_bytes else body
    try:
        loads_body(raw)
    except BodyRefused as refused:
        assert refused.status_code == 400 and str(refused.message)


@settings(max_examples=200, deadline=None)
@given(document=documents)
def test_ordinary_json_reads_as_json_does(document):
    """Within the limits the parser is plain `json.loads`."""
    assert loads_body(json.dumps(document)) == document


@pytest.mark.parametrize("depth", [1, MAX_DEPTH])
def test_nesting_up_to_the_limit_is_read(depth):
    """`MAX_DEPTH` levels are fine (the API's bodies have three)."""
    assert loads_body("[" * depth + "]" * depth) is not None


@pytest.mark.parametrize("body", ["[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
                                  "[" * 20_000, '{"a":' * 5000 + "1" + "}" * 5000])
def test_deep_nesting_is_refused(body):
    """The issue's 40 KB of `[`: a 400 saying why, not a RecursionError."""
    with pytest.raises(BodyRefused, match="nested too deeply"):
        loads_body(body)


@pytest.mark.parametrize("body", ["9" * (MAX_INTEGER_DIGITS + 1), "9" * 5000,
                                  '{"age": -' + "1" * 5000 + "}", "1e999", "[-1e400]"])
def test_huge_numbers_are_refused(body):
    """Past bigint or the float range: refused, neither a ValueError nor infinity."""
    with pytest.raises(BodyRefused, match="too large"):
        loads_body(body)


@pytest.mark.parametrize("body", ["NaN", "[Infinity]", "{", "", b"\xff\xfe\xfa"])
def test_not_json_is_refused(body):
    """Python's extensions (NaN, Infinity) are not JSON either."""
    with pytest.raises(BodyRefused, match="not valid JSON"):
        loads_body(body)


def test_numbers_within_range_are_kept():
    """The largest integer and ordinary decimals come through exactly."""
    assert loads_body("[" + "9" * MAX_INTEGER_DIGITS + ", -2.5, 1e300]") == [
        int("9" * MAX_INTEGER_DIGITS), -2.5, 1e300]
