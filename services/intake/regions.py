"""The region of a request, from an address (the customer's, or the label of a location they sent):
paths such as "广东/深圳", which workflow uses to choose a regional template and a handler.

A built-in table knows the provinces and the larger cities; a tenant adds its own names (a
district, an estate, a dealer's area) with `scrm intake region add`. No I/O here.
"""

from __future__ import annotations

import re
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from shared.errors import Invalid
from shared.pertenant import tenant_uuid

_REGION_NAMES_IDS = UUID("c41f6e0a-8b27-4d93-a5e1-7f2b9c0d3e64")
_SEGMENT = re.compile(r"^[^/\s]{1,32}$")

_PROVINCES = {  # province -> its larger cities (a municipality has none here: it is one region)
    "北京": "",
    "天津": "",
    "上海": "",
    "重庆": "",
    "香港": "",
    "澳门": "",
    "台湾": "",
    "广东": "广州 深圳 珠海 佛山 东莞 中山 惠州 汕头 江门 湛江",
    "浙江": "杭州 宁波 温州 绍兴 嘉兴 金华 台州 湖州",
    "江苏": "南京 苏州 无锡 常州 南通 徐州 扬州 镇江",
    "山东": "济南 青岛 烟台 潍坊 淄博 临沂",
    "福建": "福州 厦门 泉州 漳州",
    "河北": "石家庄 唐山 保定 廊坊",
    "河南": "郑州 洛阳",
    "湖北": "武汉 宜昌 襄阳",
    "湖南": "长沙 株洲 岳阳",
    "四川": "成都 绵阳",
    "陕西": "西安",
    "辽宁": "沈阳 大连",
    "吉林": "长春 吉林",
    "黑龙江": "哈尔滨 大庆",
    "安徽": "合肥 芜湖",
    "江西": "南昌 赣州",
    "山西": "太原 大同",
    "广西": "南宁 桂林 柳州",
    "海南": "海口 三亚",
    "贵州": "贵阳 遵义",
    "云南": "昆明 大理",
    "甘肃": "兰州",
    "青海": "西宁",
    "宁夏": "银川",
    "新疆": "乌鲁木齐",
    "西藏": "拉萨",
    "内蒙古": "呼和浩特 包头",
}
BUILT_IN: dict[str, str] = {
    **{province: province for province in _PROVINCES},
    **{city: f"{province}/{city}" for province, cities in _PROVINCES.items() for city in cities.split()},
}


def locate(text: str | None, names: dict[str, str] | None = None) -> str | None:
    """The most specific region the text names: the deepest path; at equal depth the name
    found further on (addresses go from the province down), the tenant's names first."""
    if not text:
        return None
    best, best_key = None, None
    for rank, table in enumerate((names or {}, BUILT_IN)):
        for name, path in table.items():
            at = text.rfind(name)
            if at < 0:
                continue
            key = (path.count("/"), at + len(name), -rank)
            if best_key is None or key > best_key:
                best, best_key = path, key
    return best


def check_path(path: str) -> str:
    if not path or not all(_SEGMENT.match(segment) for segment in path.split("/")):
        raise Invalid('a region is a path of names such as "广东/深圳" (no spaces, 1 to 32 characters each)')
    return path


def region_names_id(tenant: str) -> UUID:
    return tenant_uuid(_REGION_NAMES_IDS, tenant)


class RegionNames(Aggregate):
    """A tenant's own place names, added to the built-in table."""

    @staticmethod
    def create_id(tenant: str) -> UUID:
        return region_names_id(tenant)

    @event("Created")
    def __init__(self, tenant: str):
        self.tenant = tenant
        self.names: dict[str, str] = {}

    def add(self, name: str, path: str) -> None:
        if not name or len(name) > 32 or name.strip() != name:
            raise Invalid("a place name is 1 to 32 characters, without surrounding spaces")
        if self.names.get(name) != check_path(path):
            self._name_added(name=name, path=path)

    @event("NameAdded")
    def _name_added(self, name: str, path: str) -> None:
        self.names[name] = path

    def remove(self, name: str) -> None:
        if name not in self.names:
            raise Invalid(f"{name!r} is not one of the tenant's place names")
        self._name_removed(name=name)

    @event("NameRemoved")
    def _name_removed(self, name: str) -> None:
        del self.names[name]
