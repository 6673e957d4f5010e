from uuid import uuid4

from services.intake.domain import Submission, ticket_id


def test_a_submission_id_is_the_same_for_the_same_channel_message():
    assert ticket_id("acme", "h5", "s-1") == ticket_id("acme", "h5", "s-1")
    assert (
        len(
            {
                ticket_id("acme", "h5", "s-1"),
                ticket_id("acme", "wecom", "s-1"),
                ticket_id("other", "h5", "s-1"),
                ticket_id("acme", "h5", "s-2"),
            }
        )
        == 4
    )
    s = Submission(
        tenant="acme",
        channel="h5",
        submission_id="s-1",
        customer={},
        description="d",
        template="default",
        route={"by": "default"},
    )
    assert s.id == ticket_id("acme", "h5", "s-1")
