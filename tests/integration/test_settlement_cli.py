"""`scrm settlement ...` against a store, on SQLite and PostgreSQL: terms set up from the shell, a
price book imported from CSV and XLSX (all rows checked first), a period statement to a file."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, UTC
from decimal import Decimal
from uuid import UUID

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from shared.transport import Batch

from services.cli import cli
from services.settlement import bootstrap
from tests.integration.settlement_feed import Feed

HEADER = ["kind", "code", "name", "unit", "category", "standard_hours", "tier", "price"]


@pytest.fixture
def scrm(settings, monkeypatch):
    """Runs `scrm settlement ARGS` on the test's store; the CLI's own changes to the environment are undone."""
    monkeypatch.setenv("SCRM_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SCRM_TRANSPORT", "embedded")
    monkeypatch.setenv("SCRM_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    if settings.database_url:
        monkeypatch.setenv("SCRM_DATABASE_URL", settings.database_url)
    else:
        monkeypatch.delenv("SCRM_DATABASE_URL", raising=False)

    def run(*args: str, ok: bool = True) -> str:
        result = CliRunner().invoke(cli, ["settlement", *args], catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return result.output

    return run


def test_terms_set_up_and_a_price_book_imported_from_csv_and_xlsx(scrm, settings, tmp_path):
    scrm(
        "region",
        "acme",
        "CN",
        "--name",
        "中国大陆",
        "--currency",
        "CNY",
        "--tier",
        "tier-1",
        "--covers",
        "*",
        "--tax",
        "配件=0.13",
        "--tax",
        "*=0.06",
    )
    scrm("warehouse", "acme", "WH-1", "--name", "一号仓", "--region", "CN", "--main")
    scrm("rate", "acme", "HKD", "CNY", "0.92")
    for name in ("t1-direct", "t1-dealer"):
        scrm("tier", "acme", name, "--currency", "CNY", "--region-tier", "tier-1", "--mode", name.split("-")[1])
    scrm("fallback", "acme", "t1-direct")
    scrm(
        "payout-rules",
        "acme",
        "t1-direct",
        "--line",
        "kind:labour=percent:60",
        "--line",
        "code:L-1=fixed:80",
        "--remote-surcharge",
        "50",
    )
    scrm("technician", "acme", "tech-a", "--mode", "dealer", "--party", "dealer-a", "--home-region", "CN")

    csv_file = tmp_path / "book.csv"
    csv_file.write_text(
        "\ufeff" + ",".join(HEADER) + "\n"
        "part,P-1,滤芯,个,配件,,t1-direct,35.00\n"
        "labour,L-1,安装,次,安装,2,t1-direct,150\n"
        ",L-1,,,,,t1-dealer,120\n",
        encoding="utf-8",
    )
    printed = scrm("import", "acme", str(csv_file))
    assert "catalogue: 2 of 2 items" in printed and "prices: 3 set" in printed

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["part", "P-2", "阀门", "个", "配件", None, "t1-direct", 120])
    sheet.append(["part", "P-3", "电机", "台", "配件", None, "nowhere", 480])  # no such tier
    sheet.append(["part", "", "无编码", "个", "配件", None, None, None])  # no code
    xlsx_file = tmp_path / "book.xlsx"
    book.save(xlsx_file)
    refused = scrm("import", "acme", str(xlsx_file), ok=False)
    assert "row 4: no code" in refused and "no tier 'nowhere'" in refused

    terms = bootstrap.application(settings).terms("acme")
    now = datetime.now(UTC)
    assert terms.catalogue.item("part", "P-2", now) is None  # nothing of the refused file was recorded
    assert terms.prices.price("t1-dealer", "L-1", now) == Decimal("120")
    assert terms.prices.payout_rules("t1-direct", now).remote_surcharge == Decimal("50")
    assert terms.parties.technician("tech-a", now).party == "dealer-a"
    assert terms.regions.main_warehouse("CN", now).code == "WH-1" and terms.regions.rate("HKD", "CNY", now)

    sheet.delete_rows(3, 2)
    book.save(xlsx_file)
    assert "prices: 1 set" in scrm("import", "acme", str(xlsx_file))
    later = (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    assert f"prices: 3 set, from {later[:10]}" in scrm("import", "acme", str(csv_file), "--effective-from", later)
    assert "from when it is recorded" in scrm(
        "rate", "acme", "HKD", "CNY", "0.9", "--effective-from", "2020-01-01T00:00:00+0000", ok=False
    )


def test_a_period_statement_to_csv_and_xlsx_files(scrm, settings, tmp_path):
    scrm("load-example", "acme")
    feed = Feed(start=datetime.now(UTC) + timedelta(seconds=1))
    ticket = feed.opened(UUID(int=9), 0).subject
    feed.work(ticket, 1, "labour", "tech-a", [("L-INSTALL", "2")])
    feed.closed(ticket, 2)
    bootstrap.follower(settings).process(Batch("workflow", feed.envelopes[-1].sequence, feed.envelopes))
    today = datetime.now(UTC).date()
    for suffix in ("csv", "xlsx"):
        out = tmp_path / f"tech-a.{suffix}"
        printed = scrm(
            "statement",
            "acme",
            "technician",
            "tech-a",
            "--from",
            str(today - timedelta(days=1)),
            "--to",
            str(today + timedelta(days=2)),
            "--output",
            str(out),
        )
        assert printed.startswith("1 rows") and out.stat().st_size > 0
    assert "300.00" in (tmp_path / "tech-a.csv").read_text(encoding="utf-8-sig")  # 2 × 150.00
    assert "write a .csv or an .xlsx" in scrm(
        "statement",
        "acme",
        "technician",
        "tech-a",
        "--from",
        str(today),
        "--to",
        str(today),
        "--output",
        str(tmp_path / "x.pdf"),
        ok=False,
    )
