"""The API's docs work offline: the page names only this site's files (Swagger UI from ninja's
static files, no validator badge); the menu shows them to the roles that connect other systems."""

import re

import pytest
from django.test import Client

ROLES = ["admin", "city_dispatcher", "town_dispatcher", "village_dispatcher", "grid_manager", "fire_handler", "leader"]


@pytest.mark.django_db
def test_the_docs_page_references_only_local_static_files():
    page = Client().get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(url.startswith("/static/") for url in urls), urls
    assert "//" not in " ".join(urls)
    assert '"validatorUrl": null' in html  # the badge would load an image from validator.swagger.io
    for url in urls:  # and every one is served here
        assert Client().get(url).status_code == 200, url


@pytest.mark.django_db
@pytest.mark.parametrize("username", ROLES)
def test_the_api_menu_item_only_for_administrators(client_as, username):
    page = client_as(username).get("/").content.decode()
    assert ('href="/api/v1/docs"' in page) == (username == "admin")
