"""`polls bench messages` runs end to end on a small scale: every resident told once."""

from __future__ import annotations

from polls.bench import messages


def test_the_messages_bench_tells_every_subscriber_once() -> None:
    figures = messages.run(subscribers=300)
    assert figures["queued"] == figures["received"] == 300
    assert figures["sent_twice"] == 0
