"""Accessibility checks in the browser tests: axe-core (npm, installed by `make prism`) run
inside the page under test, WCAG 2 A and AA rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page: Any, context: str = "body") -> list[str]:
    """The WCAG 2 A/AA violations axe finds in `context` (a CSS selector) of the page, one line
    each: the rule, its help text and the first offending elements."""
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run `make prism` (npm ci)")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async (context) => {
            const result = await axe.run(context, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
            });
            return result.violations.map((v) => ({
                id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
            }));
        }""",
        context,
    )
    return [f"{v['id']}: {v['help']} ({', '.join(v['nodes'])})" for v in found]
