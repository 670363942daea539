"""The apps depend one way: people <- sms_admin <- messaging <- twilio_bridge (STYLE.md). The one
edge back is messaging's services enqueueing twilio_bridge's send task. A seam joined the wrong
way (the Twilio tab reading the bridge's models, say) fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings

ORDER = ["people", "sms_admin", "messaging", "twilio_bridge"]
ALLOWED_BACK_EDGES = {
    ("messaging/services.py", "twilio_bridge.tasks"),
    # Known, left as found: the prospect upload page reads the default SMS phone type (C3).
    ("people/views.py", "sms_admin.services"),
    # Giving a permitted role (C4) is an administrator's act: the people API asks which roles
    # the SMS configuration permits and hands their ids to people's services.
    ("people/api/views.py", "sms_admin.selectors"),
}
# The demo seed fills every app (configuration, sender pool) and is an entry point, not a layer.
ALLOWED_FILES = {"people/management/commands/seed_demo.py"}


def _imports(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


@pytest.mark.parametrize("app", ORDER[:-1])
def test_an_app_imports_none_of_the_apps_that_depend_on_it(app: str) -> None:
    root = Path(settings.BASE_DIR)
    later = ORDER[ORDER.index(app) + 1 :]
    wrong = []
    for path in sorted((root / app).rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative in ALLOWED_FILES:
            continue
        for module in _imports(path):
            top = module.split(".")[0]
            if top in later and (relative, module) not in ALLOWED_BACK_EDGES:
                wrong.append(f"{relative} imports {module}")
    assert wrong == []
