"""House rules as machine checks (run by `make lint`).

Each rule has a pattern, the places it applies to, the places allowed to break
it, and a reason. Good: ``datetime.now(UTC)``; bad: ``datetime.now()``.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    globs: tuple[str, ...]
    allowed: tuple[str, ...]
    why: str


RULES = (
    Rule(
        "naive-now",
        re.compile(r"datetime\.(now|utcnow)\(\s*\)"),
        ("chatserver/**/*.py", "moderation/**/*.py"),
        (),
        "use datetime.now(UTC) or the injected clock",
    ),
    Rule(
        "driver-import",
        re.compile(r"^\s*(import|from)\s+(pymongo|redis|argon2|nh3)\b", re.M),
        ("chatserver/**/*.py",),
        ("chatserver/adapters/", "chatserver/jobs/supervisor.py"),
        "drivers are imported only in chatserver/adapters/",
    ),
    Rule(
        "bare-create-task",
        re.compile(r"asyncio\.create_task\("),
        ("chatserver/**/*.py",),
        ("chatserver/jobs/supervisor.py", "chatserver/live/", "chatserver/adapters/"),
        "long-lived tasks belong to the supervisor",
    ),
    Rule(
        "unsafe-template",
        re.compile(r"\|\s*safe\b|Markup\("),
        ("templates/**/*.html", "chatserver/**/*.py"),
        ("chatserver/web/sanitize.py",),
        "only the sanitising filter may mark HTML safe",
    ),
    Rule(
        "moderation-purity",
        re.compile(r"^\s*(import|from)\s+chatserver\b", re.M),
        ("moderation/**/*.py",),
        (),
        "moderation/ imports nothing of chatserver/",
    ),
)


MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
SIZED = ("chatserver/**/*.py", "moderation/**/*.py")


def size_violations() -> list[str]:
    """Modules over 500 lines and functions over 80 lines: a house one can hold in one's head."""
    found: list[str] = []
    for glob in SIZED:
        for path in sorted(ROOT.glob(glob)):
            rel = path.relative_to(ROOT).as_posix()
            text = path.read_text(encoding="utf-8")
            lines = text.count("\n")
            if lines > MAX_MODULE_LINES:
                found.append(f"{rel}: [module-size] {lines} lines (at most {MAX_MODULE_LINES}); split it by concept")
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    length = (node.end_lineno or node.lineno) - node.lineno + 1
                    if length > MAX_FUNCTION_LINES:
                        found.append(
                            f"{rel}:{node.lineno}: [function-size] {node.name} has {length} lines "
                            f"(at most {MAX_FUNCTION_LINES})"
                        )
    return found


def main() -> int:
    failures = 0
    for problem in size_violations():
        print(problem)
        failures += 1
    for rule in RULES:
        for glob in rule.globs:
            for path in sorted(ROOT.glob(glob)):
                rel = path.relative_to(ROOT).as_posix()
                if any(rel.startswith(a) for a in rule.allowed):
                    continue
                text = path.read_text(encoding="utf-8")
                for match in rule.pattern.finditer(text):
                    line = text.count("\n", 0, match.start()) + 1
                    print(f"{rel}:{line}: [{rule.name}] {rule.why}")
                    failures += 1
    if failures:
        print(f"{failures} house-rule violation(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
