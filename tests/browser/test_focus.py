"""RGAA 10.7: a control reached with the keyboard shows where the focus is, on fields, selects, checkboxes and radios
alike. Bootstrap's own `:focus` rules (a pale glow, `outline: 0`) outrank a plain `input:focus-visible`."""

from __future__ import annotations

import pytest

from app.domain.demo import DEMO_PASSWORD
from tests.browser.helpers import log_in

pytestmark = pytest.mark.browser

# The focus ring as drawn: the outline, or failing that a box-shadow, and the colours behind it.
_FOCUS_STYLE = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  let background = null;
  for (let node = element.parentElement; node && !background; node = node.parentElement) {
    const colour = getComputedStyle(node).backgroundColor;
    if (colour && colour !== "rgba(0, 0, 0, 0)" && colour !== "transparent") background = colour;
  }
  return {id: element.id, type: element.type || element.tagName, outlineStyle: style.outlineStyle,
          outlineWidth: parseFloat(style.outlineWidth), outlineColor: style.outlineColor, boxShadow: style.boxShadow,
          background: background || "rgb(255, 255, 255)"};
}"""


def _rgb(text: str, over: str = "rgb(255, 255, 255)") -> tuple[float, float, float]:
    """The colour as seen: a translucent one (Bootstrap's glow is at 25 %) blended over what is behind it."""
    numbers = [float(n) for n in text[text.index("(") + 1:text.index(")")].replace("/", ",").split(",")]
    alpha = numbers[3] if len(numbers) > 3 else 1.0
    behind = _rgb(over) if alpha < 1 else (0.0, 0.0, 0.0)
    return tuple(alpha * c + (1 - alpha) * b for c, b in zip(numbers[:3], behind, strict=True))


def _luminance(rgb: tuple[float, float, float]) -> float:
    channels = [c / 255 for c in rgb]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    light, dark = sorted((_luminance(_rgb(first, over=second)), _luminance(_rgb(second))), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_is_the_wcag_ratio():
    assert round(contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)"), 1) == 21.0
    assert round(contrast("rgb(179, 64, 0)", "rgb(255, 255, 255)"), 1) == 5.8
    assert contrast("rgba(31, 78, 140, 0.25) 0px 0px 0px 4px", "rgb(255, 255, 255)") < 3  # Bootstrap's glow


def tab_to(page, selector: str) -> dict:
    """Press Tab from the top of the page until the control has the focus, then read its focus style."""
    page.locator("body").focus()
    page.evaluate("document.activeElement && document.activeElement.blur()")
    target = page.locator(selector)
    for _ in range(150):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return page.evaluate(_FOCUS_STYLE)
    raise AssertionError(f"Tab never reached {selector}")


def assert_focus_visible(style: dict) -> None:
    """An outline of 2 px at least, or a box-shadow, at 3:1 against what surrounds the control (WCAG 1.4.11)."""
    if style["outlineStyle"] != "none" and style["outlineWidth"] >= 2:
        ratio = contrast(style["outlineColor"], style["background"])
    else:
        assert style["boxShadow"] not in ("", "none"), f"no focus indicator at all: {style}"
        ratio = contrast(style["boxShadow"], style["background"])
    assert ratio >= 3, f"focus indicator of {style['id']} ({style['type']}) at {ratio:.1f}:1 only: {style}"


def test_every_kind_of_control_shows_its_focus(demo, page):
    page.goto("/compte/connexion")
    for selector in ("#email", "#password", "#remember"):  # text and password fields, a checkbox
        assert_focus_visible(tab_to(page, selector))

    log_in(page, "coordination.police.69@relais.demo", DEMO_PASSWORD)
    page.goto("/calendrier/export")
    kinds = {"#date_from": "date", "#departement": "select-one", "#trainer": "text",
             "#statuses-0": "checkbox", "#format-0": "radio"}
    for selector, kind in kinds.items():
        style = tab_to(page, selector)
        assert style["type"] == kind
        assert_focus_visible(style)
