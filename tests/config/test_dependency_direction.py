"""The apps depend one way: people <- sms_admin <- messaging <- twilio_bridge. messaging owns
sending and reaches the bridge's send tasks by name (messaging.enqueue), never by import. A seam
joined the wrong way (the Twilio tab reading the bridge's models, say) fails here, and so does any
import cycle among the project's modules, imports inside functions included."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest
from django.conf import settings

ORDER = ["people", "sms_admin", "messaging", "twilio_bridge"]
ALLOWED_BACK_EDGES = {
    # Known, left as found: the prospect upload page reads the default SMS phone type (C3).
    ("people/views.py", "sms_admin.services"),
    # Giving a permitted role (C4) is an administrator's act: the people API asks which roles
    # the SMS configuration permits and hands their ids to people's services.
    ("people/api/views.py", "sms_admin.selectors"),
    # The People list offers its selection for a cohort text only to staff who may send (C4).
    ("people/views.py", "sms_admin.selectors"),
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


def _project_modules(root: Path) -> dict[str, Path]:
    modules = {}
    for app in ["config", *ORDER]:
        for path in (root / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(root).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    return modules


def _owner(name: str, modules: dict[str, Path]) -> str | None:
    """The project module an imported name lives in (`messaging.services.x` -> its module)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def test_no_import_cycle_among_the_project_modules() -> None:
    modules = _project_modules(Path(settings.BASE_DIR))
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {_owner(module, modules) for module in _imports(path)}
        # A package's __init__ is where its modules are found, not a dependency of its own.
        graph[name] = {t for t in targets if t and t != name and modules[t].name != "__init__.py"}
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None
