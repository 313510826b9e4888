"""The product badge: a small SVG saying which OpenStack Powered program a product passed.

Shaped like the badges READMEs carry (a grey label, a coloured value), sized from the text
(an average glyph width of DejaVu Sans/Verdana at 11 px), self-contained (no fonts, no links,
no scripts), so it can be embedded anywhere as an ``<img>``.
"""

from __future__ import annotations

from markupsafe import escape

PROGRAMS = {
    "platform": "OpenStack Powered Platform",
    "compute": "OpenStack Powered Compute",
    "object": "OpenStack Powered Storage",
    "dns": "OpenStack Powered DNS",
    "orchestration": "OpenStack Powered Orchestration",
}
VERIFIED = "#2e7d32"
UNVERIFIED = "#9aa3ad"
_CHAR = 6.6  # px per character, 11 px sans-serif
_PAD = 6


def badge_text(guideline: str | None, target: str | None) -> tuple[str, str]:
    """(label, value) for a product's latest verified run, or for none."""
    if not guideline:
        return "OpenStack Powered", "not verified"
    program = PROGRAMS.get(target or "platform", f"OpenStack Powered {target}")
    version = guideline[: -len(".json")] if guideline.endswith(".json") else guideline
    return program, f"{version} \u2713"


def _width(text: str) -> int:
    return int(len(text) * _CHAR + 2 * _PAD + 0.5)


def badge_svg(label: str, value: str, *, verified: bool) -> str:
    """The badge as SVG text."""
    left, right = _width(label), _width(value)
    total = left + right
    colour = VERIFIED if verified else UNVERIFIED
    safe_label, safe_value = escape(label), escape(value)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{safe_label}: {safe_value}">'
        f"<title>{safe_label}: {safe_value}</title>"
        f'<rect width="{left}" height="20" rx="3" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" rx="3" fill="{colour}"/>'
        f'<rect x="{left - 4}" width="8" height="20" fill="{colour}"/>'
        f'<g fill="#fff" font-family="DejaVu Sans,Verdana,Geneva,sans-serif" font-size="11" text-anchor="middle">'
        f'<text x="{left / 2:.1f}" y="14">{safe_label}</text>'
        f'<text x="{left + right / 2:.1f}" y="14">{safe_value}</text>'
        "</g></svg>"
    )


__all__ = ["PROGRAMS", "badge_svg", "badge_text"]
