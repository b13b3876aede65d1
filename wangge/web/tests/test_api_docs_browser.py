"""The API's docs render in a browser with no network beyond this site (a government network is
often offline): every request the page makes goes to this server."""

import pytest

pytestmark = pytest.mark.browser


def test_the_api_docs_render_with_no_request_off_this_site(page):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.context.route(  # anything else fails, as it would offline
        "**/*", lambda route: route.continue_() if route.request.url.startswith(page.base_url) else route.abort()
    )
    page.goto(page.base_url + "/api/v1/docs")
    page.wait_for_selector("#swagger-ui .info .title")
    page.wait_for_selector("#swagger-ui .opblock")  # the operations, from /api/v1/openapi.json
    assert "wangge API" in page.inner_text("#swagger-ui .info .title")
    outside = [url for url in requests if not url.startswith((page.base_url, "data:", "blob:"))]
    assert outside == []
