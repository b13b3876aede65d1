import json

import pytest
from django.test import Client


@pytest.mark.django_db
def test_the_app_needs_a_login_and_carries_the_workers_grid_and_matter_items(client_as):
    assert Client().get("/patrol/m/").status_code == 302
    response = client_as("grid_manager").get("/patrol/m/")
    assert response.status_code == 200 and "csrftoken" in response.cookies
    config = json.loads(response.content.decode().split('id="app-config" type="application/json">')[1].split("<")[0])
    assert config["isFieldWorker"] and config["gridCode"].startswith("441900122")
    assert {"code": "fire_exit", "name": "消防通道堵塞"} in config["matterItems"]


@pytest.mark.django_db
def test_service_worker_lists_the_shell_and_changes_with_the_assets(client):
    response = client.get("/patrol/m/sw.js")
    assert response["Content-Type"].startswith("text/javascript") and response["Cache-Control"] == "no-cache"
    body = response.content.decode()
    assert '"/patrol/m/"' in body and "patrol/mobile/app.js" in body
    assert "wangge-m-" in body and "{{" not in body
    manifest = client.get("/patrol/m/manifest.webmanifest").json()
    assert manifest["scope"] == "/patrol/m/" and manifest["icons"]


@pytest.mark.django_db
def test_the_app_speaks_chinese_from_the_patrol_catalogue(client_as):
    page = client_as("grid_manager").get("/patrol/m/").content.decode()
    texts = json.loads(page.split('id="app-text" type="application/json">')[1].split("<")[0])
    assert texts["chooseRoom"] == "请选择房间" and texts["fields"]["id_number"] == "身份证号"
    page += json.dumps(texts, ensure_ascii=False)  # the script's texts, a JSON data block (no inline script)
    for text in ("登记住户 / 租户", "扫门牌", "地图", "请选择房间", "已在册，已登记迁入："):
        assert text in page
    assert "Register a resident" not in page and "Scan the door plate" not in page
