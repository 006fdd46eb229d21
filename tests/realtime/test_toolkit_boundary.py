"""The toolkit (realtime_project/realtime/) stands on its own: it imports no
feature app and nothing of the project outside itself, so that it can be
packaged alone, and its modules import one another without a cycle."""

import ast
from pathlib import Path

import pytest

TOOLKIT = "realtime_project.realtime"
ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "realtime_project" / "realtime"
# The project's own top-level packages: apps and the project package.
PROJECT_PACKAGES = {
    path.parent.name for path in ROOT.glob("*/__init__.py") if path.parent.name not in {"tests", "bench"}
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            found.add(target)
            # `from . import x` imports the module x when there is one.
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py") if "migrations" not in path.parts}


def test_the_toolkit_was_found():
    assert f"{TOOLKIT}.consumers.stream" in MODULES and f"{TOOLKIT}.server.server" in MODULES
    assert {"accounts", "feed", "notifications", "engagement", "trending"} <= PROJECT_PACKAGES


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_toolkit_module_imports_nothing_of_the_project_outside_the_toolkit(name):
    outside = sorted(
        target
        for target in imports_of(MODULES[name])
        if target.split(".")[0] in PROJECT_PACKAGES and not (target + ".").startswith(TOOLKIT + ".")
    )
    assert outside == [], f"{name} imports {outside}"


def test_the_toolkits_migrations_import_nothing_of_the_project():
    for path in (PACKAGE / "migrations").glob("0*.py"):
        outside = [target for target in imports_of(path) if target.split(".")[0] in PROJECT_PACKAGES]
        assert outside == [], f"{path.name} imports {outside}"


def test_the_toolkits_modules_import_one_another_without_a_cycle():
    graph = {
        name: {target for target in imports_of(path) if target in MODULES and target != name}
        for name, path in MODULES.items()
    }
    # A package's __init__ re-exporting its modules is no cycle of theirs.
    for name in graph:
        graph[name] = {
            t for t in graph[name] if not (name.startswith(t + ".") and MODULES[t].name == "__init__.py")
        }
    visiting, done, cycles = set(), set(), []

    def visit(name, trail):
        if name in done:
            return
        if name in visiting:
            cycles.append(trail[trail.index(name) :] + [name])
            return
        visiting.add(name)
        for target in sorted(graph[name]):
            visit(target, trail + [name])
        visiting.discard(name)
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert cycles == []
