"""The Kafka landing retries the broker answers that go away by themselves, and only those."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException

from include.ingestion import kafka as kl


def flaky(codes: list[int]):
    """A broker call that fails with `codes` in turn, then answers 'ok'."""
    calls = []

    def committed(*args, **kwargs):
        calls.append(args)
        if len(calls) <= len(codes):
            raise KafkaException(KafkaError(codes[len(calls) - 1]))
        return "ok"

    return committed, calls


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(kl.time, "sleep", lambda seconds: None)


def test_a_coordinator_loading_or_moving_is_retried_until_it_answers():
    call, calls = flaky([KafkaError.COORDINATOR_LOAD_IN_PROGRESS, KafkaError.NOT_COORDINATOR])
    assert kl._kafka(call, "tp") == "ok"
    assert len(calls) == 3


def test_a_lasting_retriable_error_fails_after_the_last_try_naming_the_call():
    call, calls = flaky([KafkaError.NOT_COORDINATOR] * kl.KAFKA_RETRIES)
    with pytest.raises(kl.LandingError, match=r"Kafka committed.*Not coordinator"):
        kl._kafka(call, "tp")
    assert len(calls) == kl.KAFKA_RETRIES


def test_other_errors_fail_at_once():
    call, calls = flaky([KafkaError.TOPIC_AUTHORIZATION_FAILED])
    with pytest.raises(kl.LandingError, match="Topic authorization failed"):
        kl._kafka(call, "tp")
    assert len(calls) == 1
