"""A template with most field types for the H5 form tests, and a real (tiny) PNG to upload."""

from __future__ import annotations

import struct
import zlib

FIELDS = [
    {"key": "fault", "label": "故障描述", "type": "long_text", "required": True, "min_length": 4, "max_length": 500},
    {"key": "model", "label": "型号", "type": "text", "pattern": "[A-Z]{2}-[0-9]{3}"},
    {"key": "units", "label": "台数", "type": "number", "required": True, "minimum": "1", "maximum": "20"},
    {"key": "budget", "label": "预算", "type": "money", "minimum": "0"},
    {"key": "kind", "label": "类型", "type": "single_select", "required": True, "options": ["空调", "冰箱", "洗衣机"]},
    {"key": "symptoms", "label": "症状", "type": "multi_select", "options": ["不制冷", "漏水", "噪音"]},
    {"key": "visit_on", "label": "上门日期", "type": "date"},
    {"key": "serial", "label": "机身序列号", "type": "device_serial"},
    {"key": "photos", "label": "故障照片", "type": "image", "required": True, "max_length": 3},
]
for _field in FIELDS:
    _field["ask_customer"] = True  # every field of this template is the customer's to fill in
TEMPLATE = {
    "key": "aircon",
    "name": "空调报修",
    "fields": FIELDS,
    "nodes": [
        {
            "key": "handle",
            "name": "处理",
            "handler": {"kind": "user", "value": "tech-1"},
            "actions": ["view", "edit", "advance", "close"],
            "fields": {"editable": ["fault"]},
        },
        {"key": "done", "name": "完成", "kind": "end", "actions": ["view"]},
    ],
    "transitions": [{"from": "handle", "to": "done"}],
}


def png(width: int = 4, height: int = 4, rgb: tuple[int, int, int] = (7, 193, 96)) -> bytes:
    """A valid PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
