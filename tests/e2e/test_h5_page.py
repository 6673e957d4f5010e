"""An H5 form page opened and submitted in headless Chromium, as a phone in WeChat would: a template
published through workflow's API reaches intake as a public event, the page shows its fields, an image
is uploaded, and the ticket opens in workflow with the values typed in.

Needs Debian's chromium and chromium-driver (`make test` installs them when missing)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import requests

from tests.support.h5 import TEMPLATE, png
from tests.support.platform import Platform
from deploy.devservers import wait_for
from tests.support.identity import staff as as_staff

pytestmark = pytest.mark.e2e

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 "
    "Mobile Safari/537.36 MicroMessenger/8.0.50.2701(0x28003253) NetType/WIFI Language/zh_CN"
)


@pytest.fixture
def browser():
    if not (CHROMIUM and DRIVER):
        pytest.skip("needs chromium and chromium-driver (apt-get install chromium chromium-driver; make test does)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--lang=zh-CN"):
        options.add_argument(flag)
    options.add_experimental_option(
        "mobileEmulation", {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 3.0}, "userAgent": WECHAT_UA}
    )
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def form_link(platform) -> str | None:
    done = subprocess.run(
        [sys.executable, "-m", "services", "intake", "form-link", "acme", "aircon"],
        env=platform.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return json.loads(done.stdout)["path"] if done.returncode == 0 else None


def test_a_form_page_filled_in_chromium_opens_the_ticket_with_its_values(tmp_path, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    photo = tmp_path / "fault.png"
    photo.write_bytes(png(32, 24))
    with Platform(tmp_path / "data") as platform:
        base = f"{platform.urls['workflow']}/v1/tenants/acme/templates/aircon"
        staff = as_staff("designer", "admin")
        assert requests.put(base + "/draft", json=TEMPLATE, headers=staff, timeout=10).status_code == 200
        assert requests.post(base + "/publish", headers=staff, timeout=10).status_code == 201
        path = wait_for(lambda: form_link(platform), 60, interval=0.5, message="intake never learned the form")

        browser.get(platform.urls["intake"] + path)
        assert browser.title == "空调报修"
        field = browser.find_element
        field(By.ID, "customer.name").send_keys("王五")
        field(By.ID, "customer.phone").send_keys("13900000000")
        field(By.ID, "customer.address").send_keys("杭州市西湖区文三路 90 号")
        field(By.ID, "f-fault").send_keys("空调不制冷，外机有异响")
        field(By.ID, "f-model").send_keys("KF-350")
        field(By.ID, "f-units").send_keys("2")
        field(By.ID, "f-budget").send_keys("300.50")
        Select(field(By.ID, "f-kind")).select_by_visible_text("空调")
        for symptom in ("不制冷", "噪音"):
            field(By.CSS_SELECTOR, f'#f-symptoms input[value="{symptom}"]').click()
        browser.execute_script(
            "document.getElementById('f-visit_on').value = '2026-12-01'"
        )  # the picker is locale-bound
        field(By.ID, "f-serial").send_keys("ab-1234")
        field(By.ID, "f-photos").send_keys(str(photo))
        wait = WebDriverWait(browser, 20)
        wait.until(
            lambda b: b.find_element(By.CSS_SELECTOR, '[data-key="photos"]').get_attribute("data-uploaded") == "1"
        )
        field(By.ID, "submit").click()
        wait.until(lambda b: "工单号" in b.find_element(By.ID, "result").text)
        number = field(By.ID, "result").text.split("工单号")[-1].strip()
        submission_id = field(By.ID, "form").get_attribute("data-submission-id")

        found = platform.look_up(f"/v1/tenants/acme/channels/h5/messages/{submission_id}").json()
        assert found["number"] == number and found["template"] == "aircon"
        ticket = platform.wait_for_ticket(found["ticket_id"])
        assert (ticket["template"], ticket["node"], ticket["handler"]) == ("aircon", "handle", "tech-1")
        values = ticket["values"]
        assert {
            k: values[k] for k in ("fault", "model", "units", "budget", "kind", "symptoms", "visit_on", "serial")
        } == {
            "fault": "空调不制冷，外机有异响",
            "model": "KF-350",
            "units": "2",
            "budget": "300.50",
            "kind": "空调",
            "symptoms": ["不制冷", "噪音"],
            "visit_on": "2026-12-01",
            "serial": "AB-1234",
        }
        [ref] = values["photos"]
        image = requests.get(f"{platform.urls['intake']}/h5/acme/uploads/{ref}", timeout=10)
        assert image.status_code == 200 and image.content == photo.read_bytes()
