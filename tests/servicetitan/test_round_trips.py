"""Counting sequential round trips from the meter's recordings (what a caller waited for)."""

from __future__ import annotations

from st_mcp.servicetitan.metrics import UpstreamCall, UpstreamRecording
from st_mcp.servicetitan.models.crm import Customer
from st_mcp.servicetitan.resources._base import page_of


def call(started: float, seconds: float) -> UpstreamCall:
    return UpstreamCall("GET", "/x", 200, seconds * 1000, started)


def test_requests_sent_together_count_once_and_a_chain_counts_each_link() -> None:
    assert UpstreamRecording().round_trips == 0
    together = UpstreamRecording([call(0.0, 0.1), call(0.001, 0.1), call(0.002, 0.1)])
    assert together.count == 3 and together.round_trips == 1
    chain = UpstreamRecording([call(0.0, 0.1), call(0.11, 0.1), call(0.22, 0.1)])
    assert chain.round_trips == 3
    # lookup's shape: one search, then three reads at once, then one more after the slowest.
    shaped = UpstreamRecording(
        [call(0.0, 0.1), call(0.1, 0.1), call(0.1, 0.3), call(0.1, 0.1), call(0.41, 0.1)]
    )
    assert shaped.round_trips == 3


def test_page_classes_are_built_once_per_model() -> None:
    assert page_of(Customer) is page_of(Customer)
