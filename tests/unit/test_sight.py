"""What a viewer may see of a ticket (services/workflow/sight.py): one rule for values, the customer
block, free text and event data."""

from services.workflow.sight import MASK, sight
from services.workflow.templates.model import Template

TEMPLATE = Template.from_dict(
    {
        "key": "t",
        "name": "t",
        "version": 1,
        "fields": [
            {"key": "contact_phone", "label": "联系电话", "type": "phone"},
            {"key": "site", "label": "地址", "type": "location"},
            {"key": "rating", "label": "评分", "type": "number"},
            {"key": "note", "label": "备注", "type": "text"},
        ],
        "nodes": [
            {
                "key": "a",
                "name": "A",
                "handler": {"kind": "role", "value": "x"},
                "fields": {"hidden": ["contact_phone", "site", "rating"]},
            },
            {"key": "b", "name": "B", "handler": {"kind": "role", "value": "y"}},
            {"key": "end", "name": "E", "kind": "end"},
        ],
        "transitions": [{"from": "a", "to": "b"}, {"from": "b", "to": "end"}],
    }
)
VALUES = {
    "contact_phone": "13800138000",
    "site": {"lat": 31.2, "lng": 121.4, "address": "上海市徐汇区"},
    "rating": "5",
    "note": "打 138-0013-8000 前先确认",
}
CUSTOMER = {"name": "张三", "phone": "13800138000", "address": "上海市徐汇区", "openid": "o-1"}


def test_hidden_values_leave_no_trace_in_values_customer_or_text():
    seen = sight(TEMPLATE, ["a"], True, VALUES, CUSTOMER)
    assert seen.values(VALUES).keys() == {"note"}
    assert seen.customer(CUSTOMER) == {"name": "张三", "openid": "o-1"}
    assert seen.text("联系电话：138 0013 8000\n地址 : 31.2, 121.4\n说明：上海市徐汇区 附近") == (
        f"联系电话：{MASK}\n地址 :{MASK}\n说明：{MASK} 附近"
    )
    assert seen.shown({"values": VALUES}) == {"values": {"note": f"打 {MASK} 前先确认"}}
    assert seen.hides("13800138000") and not seen.hides("o-1")


def test_a_short_hidden_value_masks_its_line_not_every_character_like_it():
    seen = sight(TEMPLATE, ["a"], True, {"rating": "5"}, {})
    assert seen.text("评分：5\n版本 5") == f"评分：{MASK}\n版本 5"


def test_who_looks_through_a_node_hiding_nothing_sees_everything():
    seen = sight(TEMPLATE, ["b"], True, VALUES, CUSTOMER)
    assert seen.values(VALUES) == VALUES and seen.customer(CUSTOMER) == CUSTOMER and not seen.hides("13800138000")


def test_a_bystander_sees_only_what_no_current_node_hides_and_nothing_through_an_unknown_node():
    assert "contact_phone" not in sight(TEMPLATE, ["a", "b"], False, VALUES, CUSTOMER).values(VALUES)
    assert "contact_phone" in sight(TEMPLATE, ["a", "b"], True, VALUES, CUSTOMER).values(VALUES)
    blind = sight(TEMPLATE, ["b", "inserted"], False, VALUES, CUSTOMER)
    assert blind.values(VALUES) == {} and "phone" not in blind.customer(CUSTOMER)
