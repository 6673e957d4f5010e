"""Who may see and change what in settlement (api/identity.py), request by request."""

from contextlib import contextmanager

import pytest
from flask import Flask, g

from shared.errors import NotAllowed
from shared.identity.principal import Principal, scopes_of_roles

from services.settlement.api.identity import Caller, caller, earnings_of, finance

APP = Flask("identity")


@contextmanager
def asking(staff: str, *roles: str):
    """A request by a signed-in staff member, as the platform's guard leaves it."""
    with APP.test_request_context():
        g.principal = Principal("acme", staff, "staff", roles, scopes_of_roles(roles))
        yield


def test_the_caller_is_the_authenticated_principal():
    with asking("t-1", "technician", "finance"):
        assert caller() == Caller("t-1", frozenset({"technician", "finance"}), frozenset({"read", "write"}))


@pytest.mark.parametrize(
    "roles, allowed", [(("finance",), True), (("admin",), True), (("technician",), False), ((), False)]
)
def test_only_finance_and_admin_change_terms_and_see_everyone(roles, allowed):
    with asking("s", *roles):
        if allowed:
            assert finance().staff == "s"
        else:
            with pytest.raises(NotAllowed) as refused:
                finance()
            assert refused.value.details["rule"] == "finance"


def test_a_technician_sees_only_their_own_earnings_finance_anyones():
    with asking("t-1"):
        assert earnings_of(None)[1] == "t-1" and earnings_of("t-1")[1] == "t-1"
        with pytest.raises(NotAllowed):
            earnings_of("t-2")
    with asking("f-1", "finance"):
        assert earnings_of("t-2")[1] == "t-2"


def test_a_machine_client_with_the_admin_scope_sees_everything():
    assert Caller("api-key:k1", scopes=frozenset({"read", "write", "admin"})).sees_all
    assert not Caller("api-key:k2", scopes=frozenset({"read"})).sees_all
