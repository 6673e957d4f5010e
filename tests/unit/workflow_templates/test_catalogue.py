import pytest

from shared.errors import Conflict, Invalid, NotFound
from services.workflow.templates.catalogue import Catalogue
from services.workflow.templates.engine import act, start
from services.workflow.templates.examples import load
from services.workflow.templates.model import Template, copy_template
from services.workflow.templates.presets import preset
from tests.unit.workflow_templates.builders import straight


def test_publishing_numbers_versions_and_keeps_the_old_ones():
    one = Catalogue("acme").publish(straight("a", key="repair"))
    two = one.publish(straight("a", "b", key="repair"))
    assert [t.version for t in two.versions("repair")] == [1, 2]
    assert two.get("repair", 1) == one.get("repair", 1) and two.latest("repair").version == 2
    assert one.versions("repair") == (one.get("repair", 1),)  # the earlier catalogue value is unchanged


def test_a_ticket_finishes_on_the_version_it_started_on():
    catalogue = Catalogue("acme").publish(straight("a", "b", key="repair"))
    progress = act(catalogue.latest("repair"), start(catalogue.latest("repair")).progress, "advance", "a").progress
    catalogue = catalogue.publish(straight("x", key="repair"))
    own = catalogue.get(progress.template, progress.version)
    assert act(own, progress, "advance", "b").progress.status == "closed"
    with pytest.raises(Conflict, match="runs on repair v1, not repair v2"):
        act(catalogue.latest("repair"), progress, "advance", "b")


def test_an_invalid_template_is_not_published():
    with pytest.raises(Invalid, match="has 1 problem"):
        Catalogue("acme").publish(Template("broken", "Broken"))


def test_unknown_keys_and_versions_are_not_found():
    catalogue = Catalogue("acme").publish(straight("a", key="repair"))
    with pytest.raises(NotFound, match="no template 'refund'"):
        catalogue.latest("refund")
    with pytest.raises(NotFound, match="no version 3 \\(latest 1\\)"):
        catalogue.get("repair", 3)


def variant(key, *regions):
    return copy_template(load("repair"), key, key.upper(), variant_of="repair", regions=regions)


def test_a_regional_variant_serves_its_regions_and_the_most_specific_wins():
    catalogue = Catalogue("acme").publish(load("repair"))
    catalogue = catalogue.publish(variant("repair_south", "广东", "广西")).publish(variant("repair_sz", "广东/深圳"))
    assert catalogue.select("repair", "广东/广州").key == "repair_south"
    assert catalogue.select("repair", "广西").key == "repair_south"
    assert catalogue.select("repair", "广东/深圳/南山").key == "repair_sz"
    assert catalogue.select("repair", "广东省").key == "repair"  # a prefix of a name is not a region
    assert catalogue.select("repair", None).key == "repair"
    with pytest.raises(Conflict, match="'repair_south' already serves 广东"):
        catalogue.publish(variant("repair_gd", "广东"))
    with pytest.raises(Conflict, match="is itself a variant"):
        catalogue.publish(copy_template(load("repair"), "x", "X", variant_of="repair_sz", regions=("广东/深圳/南山",)))


def test_copy_and_modify_makes_an_unpublished_template_with_a_new_key():
    original = load("refund")
    copy = copy_template(original, "refund_vip", "VIP 退款", fields=original.fields + (preset("remark"),))
    assert (copy.key, copy.name, copy.version, copy.nodes) == ("refund_vip", "VIP 退款", 0, original.nodes)
    catalogue = Catalogue("acme").publish(original).publish(copy)
    assert catalogue.latest("refund_vip").version == 1 and catalogue.latest("refund").fields == original.fields
    without_reason = copy_template(
        original, "refund_lite", "简易退款", fields=original.fields[:3] + original.fields[4:]
    )
    with pytest.raises(Invalid, match="node 'apply': field rules name unknown field 'refund_reason'"):
        catalogue.publish(without_reason)


def test_templates_round_trip_through_json():
    for name in ("installation", "repair", "refund"):
        assert Template.from_dict(load(name).to_dict()) == load(name)
    with pytest.raises(Invalid, match=r"nodes\[0\] of template 'x' is malformed"):
        Template.from_dict({"key": "x", "name": "X", "nodes": [{"name": "no key"}]})
    with pytest.raises(Invalid, match="not a template"):
        Template.from_dict({"name": "no key"})
