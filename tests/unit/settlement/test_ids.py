from uuid import UUID, uuid5

from hypothesis import given
from hypothesis import strategies as st

from services.settlement.domain.ids import derived, derived_uuid

NAMESPACE = UUID("7f3e9a1c-4b2d-4e8f-a6c5-1d0b9e8f7a63")


@given(st.text())
def test_derived_ids_are_uuid5(name):
    assert derived_uuid(NAMESPACE.bytes, name) == uuid5(NAMESPACE, name)
    assert derived(NAMESPACE.bytes, name) == str(uuid5(NAMESPACE, name))
