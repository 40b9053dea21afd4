"""The results of the automated accessibility tests, as the « Accessibilité » page publishes them (issue #21).

`make accessibility-report` runs the browser tests with RELAIS_ACCESSIBILITY_LOG set: every `assert_accessible`
notes the page it checked (tests/browser/helpers.py). This module adds those lines up, one entry per page (its
path, the widths it was checked at, the most serious or critical axe-core violations seen at once), and writes
docs/accessibility-results.json, committed with the code:

    python -m tests.browser.accessibility_report LOG [OUTPUT]
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[2] / "docs" / "accessibility-results.json"
REQUIRED = ("date", "axe_version", "tool", "pages")


def summarise(lines: list[dict], moment: datetime) -> dict:
    pages: dict[str, dict] = {}
    versions = {line.get("axe_version") for line in lines if line.get("axe_version")}
    for line in lines:
        entry = pages.setdefault(line["path"], {"path": line["path"], "widths": [], "violations": 0, "rules": []})
        if line.get("width") and line["width"] not in entry["widths"]:
            entry["widths"].append(line["width"])
        entry["violations"] = max(entry["violations"], int(line["violations"]))
        entry["rules"] = sorted(set(entry["rules"]) | set(line.get("rules", ())))
    for entry in pages.values():
        entry["widths"].sort(reverse=True)
    return {"date": moment.date().isoformat(), "axe_version": ", ".join(sorted(versions)) or None,
            "tool": "axe-core (serious and critical), Playwright + Chromium", "standard": "RGAA 4.1",
            "audit": "automated tests only, no full RGAA audit",
            "pages": sorted(pages.values(), key=lambda entry: entry["path"])}


def check(results: dict) -> list[str]:
    """What is wrong with a results file (empty when it is well-formed)."""
    problems = [f"missing {key}" for key in REQUIRED if key not in results]
    for entry in results.get("pages", []):
        if not (isinstance(entry.get("path"), str) and entry["path"].startswith("/")):
            problems.append(f"bad path in {entry}")
        if not isinstance(entry.get("violations"), int) or entry["violations"] < 0:
            problems.append(f"bad violations count in {entry}")
    if not results.get("pages"):
        problems.append("no page checked")
    return problems


def main(argv: list[str]) -> int:
    log = Path(argv[0])
    output = Path(argv[1]) if len(argv) > 1 else OUTPUT
    lines = [json.loads(text) for text in log.read_text(encoding="utf-8").splitlines() if text.strip()]
    results = summarise(lines, datetime.now(UTC))
    problems = check(results)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    output.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{len(results['pages'])} pages, {sum(p['violations'] for p in results['pages'])} violations → {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
