"""`make run` installs requirements.txt only (the tests add requirements-dev.txt): every third-party package the
application, its configuration and its WSGI entry import must be declared there, not arrive by chance as another
tool's dependency (`requests`, imported by the single sign-on, came only with the test tools and `make run` failed
on a fresh machine)."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _declared(path: Path) -> set[str]:
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(_normalised(re.split(r"[\[=<>~! ;]", line, maxsplit=1)[0]))
    return names


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_top_levels(paths: list[Path]) -> set[str]:
    found = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_every_package_the_application_imports_is_a_declared_runtime_requirement():
    sources = [*ROOT.joinpath("app").rglob("*.py"), ROOT / "config.py", ROOT / "wsgi.py",
               *ROOT.joinpath("migrations").rglob("*.py")]
    local = {"app", "config", "wsgi", "migrations"}
    third_party = {name for name in _imported_top_levels(sources)
                   if name not in local and name not in sys.stdlib_module_names and name != "__future__"}
    distributions = packages_distributions()
    declared = _declared(ROOT / "requirements.txt")
    missing = {}
    for name in sorted(third_party):
        owners = {_normalised(d) for d in distributions.get(name, [])}
        assert owners, f"{name} is imported by the application but installed by no package"
        if not owners & declared:
            missing[name] = sorted(owners)
    assert not missing, f"imported by the application, absent from requirements.txt: {missing}"
