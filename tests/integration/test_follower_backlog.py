from shared.metrics import FOLLOWER_BACKLOG
from services.workflow import bootstrap as workflow
from tests.integration.test_exactly_once import submit_many


def test_the_backlog_metric_says_how_far_behind_a_follower_is(settings):
    submit_many(settings, 5)  # and the customer who sent them: intake's log holds private events too
    follower = workflow.follower(settings)
    behind = follower.measure_backlog()["intake"]
    assert behind >= 5 and FOLLOWER_BACKLOG.labels("workflow", "intake")._value.get() == behind
    while follower.run_once():
        pass
    assert follower.measure_backlog() == {"intake": 0, "settlement": 0}  # it follows settlement's catalogue too
    assert FOLLOWER_BACKLOG.labels("workflow", "intake")._value.get() == 0
