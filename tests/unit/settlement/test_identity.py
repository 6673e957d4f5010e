"""Who may see and change what in settlement (api/identity.py), request by request."""

import pytest
from flask import Flask

from shared.errors import NotAllowed

from services.settlement.api.identity import Caller, Unauthenticated, caller, earnings_of, finance

APP = Flask("identity")


def asking(headers: dict):
    return APP.test_request_context(headers=headers)


def test_the_caller_is_read_from_the_staff_headers():
    with asking({"X-Staff-Id": " t-1 ", "X-Staff-Roles": "technician, finance"}):
        assert caller() == Caller("t-1", frozenset({"technician", "finance"}))
    with asking({}), pytest.raises(Unauthenticated):
        caller()


@pytest.mark.parametrize("roles, allowed", [("finance", True), ("admin", True), ("technician", False), ("", False)])
def test_only_finance_and_admin_change_terms_and_see_everyone(roles, allowed):
    with asking({"X-Staff-Id": "s", "X-Staff-Roles": roles}):
        if allowed:
            assert finance().staff == "s"
        else:
            with pytest.raises(NotAllowed) as refused:
                finance()
            assert refused.value.details["rule"] == "finance"


def test_a_technician_sees_only_their_own_earnings_finance_anyones():
    with asking({"X-Staff-Id": "t-1"}):
        assert earnings_of(None)[1] == "t-1" and earnings_of("t-1")[1] == "t-1"
        with pytest.raises(NotAllowed):
            earnings_of("t-2")
    with asking({"X-Staff-Id": "f-1", "X-Staff-Roles": "finance"}):
        assert earnings_of("t-2")[1] == "t-2"


def test_a_machine_client_with_the_admin_scope_sees_everything():
    assert Caller("api-key:k1", scopes=frozenset({"read", "write", "admin"})).sees_all
    assert not Caller("api-key:k2", scopes=frozenset({"read"})).sees_all
