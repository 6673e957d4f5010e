"""The tests' check that an answer holds only what its schema documents (tests/support/documented.py)."""

import pytest
from flask import Flask
from marshmallow import Schema, fields

from tests.support.documented import Undocumented


class Shown(Schema):
    shown = fields.String()
    from_ = fields.String(data_key="from", attribute="from")


def test_an_answer_with_a_key_its_schema_would_drop_fails_and_one_without_passes():
    with Flask(__name__).test_request_context():
        assert Shown().dump({"shown": "a", "from": "b"}) == {"shown": "a", "from": "b"}
        assert Shown(many=True).dump([{"shown": "a"}]) == [{"shown": "a"}]
        with pytest.raises(Undocumented, match=r"Shown does not document \['hidden'\]"):
            Shown().dump({"shown": "a", "hidden": "b"})
        with pytest.raises(Undocumented):
            Shown().dump([{"shown": "a", "hidden": "b"}], many=True)
    assert Shown().dump({"shown": "a", "hidden": "b"}) == {"shown": "a"}  # outside a request: not an answer
