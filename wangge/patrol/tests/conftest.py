from wangge.registry.tests.conftest import admin, make_building, make_person  # noqa: F401  (shared register fixtures)

PHONE = {"width": 390, "height": 844}


def open_field_app(new_page, user, *, wait_for_tasks=True):
    """grid_manager's phone: located inside their grid, logged in, the field app open with its
    service worker ready and (wait_for_tasks) today's tasks fetched ahead into the phone's cache."""
    from wangge.browser_testing import log_in
    from wangge.patrol.queries import assigned_grid

    page = new_page(PHONE)
    inside = assigned_grid(user("grid_manager")).representative_point()
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": inside.y, "longitude": inside.x, "accuracy": 12})
    log_in(page, "grid_manager")
    page.goto(page.base_url + "/patrol/m/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    if wait_for_tasks:
        page.wait_for_function(
            "() => caches.open('wangge-data-grid_manager').then(c => c.match('/api/v1/patrol/tasks')).then(Boolean)",
            polling=200,
            timeout=15000,
        )
    return page
