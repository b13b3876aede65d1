"""Error pages (400, 403, 404, 500/503, a failed CSRF check) with DEBUG off, as in production: the
site's layout and language, what happened in plain words, the way back (home, and the page the user
came from when it is on this site); the API keeps answering JSON. The 500 page makes no query."""

import pytest
from django.template import loader
from django.test import Client, RequestFactory

from wangge.core import faults

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def production(settings):
    settings.DEBUG = False


def back_link(html):
    return 'data-way="back"' in html


def test_404_in_the_layout_with_the_way_back_for_a_signed_in_user(client_as):
    client = client_as("town_dispatcher")
    response = client.get("/cases/no-such-page/x/", headers={"Referer": "http://testserver/cases/?status=open"})
    html = response.content.decode()
    assert response.status_code == 404
    assert [t.name for t in response.templates][:2] == ["web/errors/error.html", "web/base.html"]
    assert "找不到该页面" in html and "管辖范围" in html
    assert 'href="http://testserver/cases/?status=open" data-way="back"' in html and "返回上一页" in html
    assert 'href="/" data-way="home"' in html and "回到首页" in html
    assert 'class="mainnav"' in html and "退出" in html  # the user's own menu: the layout, signed in
    assert "Page not found" not in html and "Not Found" not in html


def test_no_way_back_to_another_site_or_to_the_same_address():
    client = Client()
    for referer in ("https://evil.example/cases/", "//evil.example/", "javascript:alert(1)", "http://testserver/gone/"):
        html = client.get("/gone/", headers={"Referer": referer}).content.decode()
        assert not back_link(html), referer
        assert "回到首页" in html


def test_404_of_an_object_outside_the_jurisdiction_is_the_same_page(client_as):
    from wangge.areas.models import Area

    other_town = Area.objects.filter(level="town").exclude(code="441900122").first()
    response = client_as("town_dispatcher").get(f"/areas/{other_town.code}/")
    assert response.status_code == 404 and "找不到该页面" in response.content.decode()


def test_403_says_the_account_may_not_and_gives_the_pages_reason(client_as):
    response = client_as("citizen").get("/evaluation/schemes/", headers={"Referer": "http://testserver/"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "您没有权限打开此页面" in html and "系统管理员" in html
    assert 'class="error-reason"' in html  # the page's own reason, translated
    assert "回到首页" in html


def test_400_for_a_bad_host_is_the_page_too():
    response = Client().get("/", HTTP_HOST="evil.example")
    html = response.content.decode()
    assert response.status_code == 400
    assert "请求无法处理" in html and "回到首页" in html


def test_a_failed_csrf_check_explains_the_expired_form(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user("town_dispatcher"))
    response = client.post("/password/", {"old_password": "x"}, headers={"Referer": "http://testserver/password/"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "表单已失效" in html and "刷新后重新提交" in html
    assert 'href="http://testserver/password/" data-way="back"' in html
    assert "CSRF" not in html.split("<main>")[1]  # no jargon


def test_500_in_the_layout_from_a_minimal_context(monkeypatch, client_as):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("wangge.web.views.render", broken)  # the home page's view fails
    client = client_as("town_dispatcher")
    client.raise_request_exception = False
    response = client.get("/", headers={"Referer": "http://testserver/cases/"})
    html = response.content.decode()
    assert response.status_code == 500
    assert "服务器错误" in html and "已记录" in html and "回到首页" in html
    assert 'href="http://testserver/cases/" data-way="back"' in html
    assert "a bug" not in html and "Traceback" not in html
    assert "退出" not in html  # no user, no menu, no bell: nothing read from the database


def test_the_500_page_makes_no_query(django_assert_num_queries):
    request = RequestFactory().get("/cases/", headers={"Referer": "http://testserver/"})
    with django_assert_num_queries(0):
        try:
            raise RuntimeError("a bug")
        except RuntimeError:
            response = faults.server_error(request)
    assert response.status_code == 500 and "服务器错误" in response.content.decode()


def test_the_500_page_falls_back_to_plain_text_when_its_template_fails(monkeypatch):
    def broken(name):
        raise RuntimeError("no templates today")

    monkeypatch.setattr(loader, "get_template", broken)
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        response = faults.server_error(RequestFactory().get("/cases/"))
    assert response.status_code == 500 and response["Content-Type"].startswith("text/plain")
    assert "服务器错误" in response.content.decode()


def test_the_api_keeps_json_errors(user, api_as):
    client = Client()
    for path in ("/api/v1/no/such/thing", "/api/v2/cases"):
        response = client.get(path)
        assert response.status_code == 404 and response.json() == {"detail": "not found"}, path
    asked = client.get("/no/such/page/", headers={"Accept": "application/json"})
    assert asked.status_code == 404 and asked["Content-Type"] == "application/json"
    # A browser session without its CSRF token: JSON 403, not the form page.
    session = Client(enforce_csrf_checks=True)
    session.force_login(user("town_dispatcher"))
    refused = session.post("/api/v1/privacy/reveal", {}, content_type="application/json")
    assert refused.status_code == 403 and refused["Content-Type"].startswith("application/json")
    # A page view's PermissionDenied under /api/ (outside ninja's views) would be JSON too.
    request = RequestFactory().get("/api/v1/x")
    from wangge.web import errors

    assert errors.permission_denied(request).status_code == 403
    assert errors.permission_denied(request)["Content-Type"] == "application/json"
    assert errors.csrf_failure(request, "no token")["Content-Type"] == "application/json"
    assert errors.bad_request(request)["Content-Type"] == "application/json"


def test_the_503_busy_page_keeps_retry_after():
    from wangge.core.sqlite.base import WriterBusy

    try:
        raise WriterBusy("database is locked (waited 10 s for the writer lock)")
    except WriterBusy:
        response = faults.server_error(RequestFactory().get("/cases/"))
    html = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"]
    assert "服务暂不可用" in html and "系统繁忙" in html and "回到首页" in html
