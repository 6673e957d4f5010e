"""The distributed topology: PostgreSQL, a Kafka-protocol broker, every service its own process."""

import pytest

from tests.e2e.flow import check_one_ticket_end_to_end
from tests.support.platform import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.postgres]


def test_the_flow_runs_over_kafka_with_a_relay_per_service(tmp_path, database_url, kafka):
    with Platform(tmp_path, "kafka", database_url, kafka.bootstrap) as platform:
        check_one_ticket_end_to_end(platform, "h5-kafka-1")
        for child in ("workflow-worker", "settlement-worker", "notify-worker", "intake-relay", "workflow-relay"):
            platform.kill(child)
        check_one_ticket_end_to_end(platform, "h5-kafka-2")
