"""The subscription the settings choose: the embedded adapter by default, Kafka when configured."""

from __future__ import annotations

from shared.settings import Settings
from shared.slices import WHOLE, Slice
from shared.transport import Subscription


def subscribe(follower: str, leaders: list[str], settings: Settings, slice_: Slice = WHOLE) -> Subscription:
    """The subscription for `follower` to its leaders' public events, by the configured transport."""
    if settings.transport == "kafka":
        from shared.transport.kafka import KafkaSubscription

        return KafkaSubscription(follower, leaders, settings)
    from shared.transport.embedded import EmbeddedSubscription

    return EmbeddedSubscription(leaders, settings, slice_)
