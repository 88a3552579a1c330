"""The web app's pages in a real browser."""
import pytest

pytestmark = pytest.mark.browser


def test_demo_page_renders_with_crisis_line(assistant, page, screenshot):
    page.goto(assistant.web + "/")
    assert page.title() == "IPT assistant"
    assert page.locator("a[href='tel:988']").count() >= 1
    screenshot("demo-page")
