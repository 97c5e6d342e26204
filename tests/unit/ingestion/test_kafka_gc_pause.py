"""The Kafka landing pauses the cyclic garbage collector while it consumes, and gives it back as it found it."""

from __future__ import annotations

import gc

import pytest

from include.ingestion import kafka as kl


@pytest.fixture
def gc_state():
    enabled = gc.isenabled()
    yield
    (gc.enable if enabled else gc.disable)()


def test_the_collector_is_off_inside_and_on_again_after(gc_state):
    gc.enable()
    with kl._cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_is_on_again_after_a_failure(gc_state):
    gc.enable()
    with pytest.raises(RuntimeError), kl._cyclic_gc_paused():
        raise RuntimeError("broker gone")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(gc_state):
    gc.disable()
    with kl._cyclic_gc_paused():
        pass
    assert not gc.isenabled()
