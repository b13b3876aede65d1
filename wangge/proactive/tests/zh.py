"""What a zh-hans user reads on a page, checked as the site's i18n walk checks it."""

from wangge.web.tests.test_i18n_walk import ALLOWED_WORDS, VisibleText, problems_in


def english_in(html: str) -> list[str]:
    """English words, code names and data fragments a user would read on this page."""
    parser = VisibleText()
    parser.feed(html)
    text = " ".join(parser.parts + parser.texts)
    return problems_in(text, ALLOWED_WORDS | {"village_dispatcher", "town_dispatcher", "grid_manager"})
