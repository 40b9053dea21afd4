"""The import contracts of `make lint` (pyproject.toml, import-linter) hold, and they do catch a domain module
that reaches back into the web layer."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(project: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(project / "pyproject.toml"), "--no-cache"],
                          cwd=project, env=environment, capture_output=True, text=True, timeout=120)


def _copy_of_the_project(target: Path) -> Path:
    shutil.copytree(ROOT / "app", target / "app", ignore=shutil.ignore_patterns(
        "templates", "static", "translations", "data", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def test_the_layers_hold(tmp_path):
    result = _lint_imports(_copy_of_the_project(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_domain_module_that_imports_the_web_layer_breaks_the_contract(tmp_path):
    project = _copy_of_the_project(tmp_path)
    (project / "app" / "domain" / "shortcut.py").write_text(
        '"""A rule that sends its own e-mail: what the contracts forbid."""\n\n'
        "from app.emails import queue_templated_email\n")
    result = _lint_imports(project)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and "app.domain.shortcut -> app.emails" in result.stdout


def test_a_blueprint_that_imports_another_breaks_the_contract(tmp_path):
    project = _copy_of_the_project(tmp_path)
    routes = project / "app" / "main" / "routes.py"
    routes.write_text(routes.read_text() + "\nfrom app.offers import routes as offer_routes  # noqa\n")
    result = _lint_imports(project)
    assert result.returncode != 0
    assert "app.main.routes -> app.offers.routes" in result.stdout
