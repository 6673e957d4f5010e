"""A period statement as a file: CSV (UTF-8 with a BOM, so that Excel reads the Chinese) or XLSX."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
COLUMNS = {
    "document": "单据",
    "document_kind": "单据类型",
    "number": "单据序号",
    "issued_at": "开具时间",
    "ticket_number": "工单号",
    "ticket_id": "工单 ID",
    "entry": "条目",
    "line": "行 ID",
    "source": "来源事件",
    "at": "发生时间",
    "kind": "类别",
    "code": "编码",
    "name": "名称",
    "quantity": "数量",
    "unit_price": "单价",
    "tier": "档位",
    "technician": "技术员",
    "party": "合作方",
    "region": "成本区域",
    "currency": "币种",
    "net": "净额",
    "tax": "税额",
    "gross": "含税金额",
    "payout": "技术员收入",
    "from_currency": "原币种",
    "rate": "汇率",
}
NUMBERS = {"quantity", "unit_price", "net", "tax", "gross", "payout", "rate"}
TOTALS = ("net", "tax", "gross", "payout")
VIEWS = {"technician": "技术员", "party": "合作方", "region": "区域"}


def export(statement: dict[str, Any], form: str) -> bytes:
    return _xlsx(statement) if form == "xlsx" else _csv(statement)


def _title(statement: dict[str, Any]) -> str:
    currency = f"，折算为 {statement['currency']}" if statement["currency"] else ""
    return (
        f"对账单：{VIEWS[statement['view']]} {statement['who']}，"
        f"{statement['from'][:10]} 至 {statement['to'][:10]}（不含）{currency}"
    )


def _totals(statement: dict[str, Any]) -> list[list[Any]]:
    return [["合计", t["currency"], f"{t['rows']} 行", *(t[n] for n in TOTALS)] for t in statement["totals"]]


def _csv(statement: dict[str, Any]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_title(statement)])
    writer.writerow(COLUMNS.values())
    for row in statement["rows"]:
        writer.writerow(["" if row.get(k) is None else row[k] for k in COLUMNS])
    writer.writerow([])
    writer.writerow(["", "币种", "行数", *(COLUMNS[n] for n in TOTALS)])
    writer.writerows(_totals(statement))
    return ("\ufeff" + out.getvalue()).encode()


def _xlsx(statement: dict[str, Any]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "对账单"
    sheet.append([_title(statement)])
    sheet.append(list(COLUMNS.values()))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in statement["rows"]:
        sheet.append([_cell(k, row.get(k)) for k in COLUMNS])
    sheet.append([])
    sheet.append(["", "币种", "行数", *(COLUMNS[n] for n in TOTALS)])
    for line in _totals(statement):
        sheet.append([*line[:3], *(Decimal(v) for v in line[3:])])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(key: str, value: Any) -> Any:
    return Decimal(value) if key in NUMBERS and value is not None else value
