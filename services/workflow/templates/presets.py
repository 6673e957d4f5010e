"""A library of preset fields (常用字段) a template designer picks from instead of starting blank. Those a
customer fills in on the H5 page (who they are, where, what is wrong) come with `ask_customer`."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from shared.errors import NotFound

from shared.formfields.fields import Field

PRESETS: dict[str, Field] = {
    f.key: f
    for f in (
        Field("customer", "客户", "customer", required=True, ask_customer=True),
        Field("contact_name", "联系人", "text", max_length=50, ask_customer=True),
        Field("contact_phone", "联系电话", "phone", required=True, ask_customer=True),
        Field("address", "服务地址", "location", required=True, ask_customer=True),
        Field("product_model", "产品型号", "text", max_length=80, ask_customer=True),
        Field("serial_number", "机身序列号", "device_serial", ask_customer=True),
        Field("purchase_date", "购买日期", "date", ask_customer=True),
        Field("appointment", "预约上门时间", "datetime"),
        Field("fault_description", "故障描述", "long_text", max_length=2000, ask_customer=True),
        Field(
            "warranty",
            "保修状态",
            "single_select",
            options=("in_warranty", "out_of_warranty"),
            default="out_of_warranty",
        ),
        Field("service_type", "服务类型", "multi_select", options=("install", "repair", "maintain", "inspect")),
        Field("site_photos", "现场照片", "image", max_length=9, ask_customer=True),
        Field("finish_photos", "完工照片", "image", min_length=1, max_length=9),
        Field("signature", "客户签名", "image", min_length=1, max_length=1),
        Field("service_fee", "服务费", "money", minimum=Decimal("0")),
        Field("remark", "备注", "long_text", max_length=500),
    )
}


def preset(key: str, **changes: Any) -> Field:
    """A preset field, with whatever the designer changes (label, required, bounds …)."""
    if key not in PRESETS:
        raise NotFound(f"no preset field {key!r} (there are {', '.join(PRESETS)})", preset=key)
    return replace(PRESETS[key], **changes)
