"""Teller's packages import one way (teller; collector and dashboard; storage; schemas), with no cycles."""

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("teller", "collector", "dashboard", "storage", "schemas")
# The first-party packages each package may import besides itself.
MAY_IMPORT: dict[str, set[str]] = {
    "teller": {"collector", "dashboard", "storage", "schemas"},
    "collector": {"storage", "schemas"},
    "dashboard": {"storage", "schemas"},
    "storage": {"schemas"},
    "schemas": set(),
}
# The only first-party imports allowed inside a function: (importing module, imported package or module, reason).
FUNCTION_IMPORTS: tuple[tuple[str, str, str], ...] = (
    ("storage.opening", "storage.embedded", "chdb is an optional dependency that a server-engine install lacks"),
    ("teller.cli", "storage", "each subcommand imports what it uses, so `teller --help` starts fast"),
    ("teller.cli", "dashboard", "`export` reads through the stats code; other subcommands skip it"),
    ("teller.cli", "collector", "`import-logs` alone loads the ingest pipeline and the log parsers"),
    ("teller.cli", "teller", "`serve` alone loads the app; other subcommands skip FastAPI and the ingest code"),
)


@dataclass(frozen=True)
class Import:
    """One first-party import statement's target, as found in a module."""

    importer: str
    target: str
    line: int
    in_function: bool


def _module_name(path: Path) -> str:
    """Dotted module name of a file under ROOT."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    """Every first-party module and its file."""
    return {_module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def _resolve(name: str, modules: dict[str, Path]) -> str:
    """The deepest known module a dotted name lies in (the name itself for a first-party module not found)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in modules:
            return ".".join(parts[:end])
    return name


def _imports(module: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    """First-party imports of a module, including those inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        for name in names:
            if name.split(".")[0] in PACKAGES:
                found.append(Import(module, _resolve(name, modules), node.lineno, in_function))
        inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(tree, False)
    return found


def _all_imports() -> list[Import]:
    """First-party imports of every first-party module."""
    modules = _modules()
    return [found for module, path in modules.items() for found in _imports(module, path, modules)]


def _where(found: Import) -> str:
    """file:line of an import, for failure messages."""
    return f"{_modules()[found.importer].relative_to(ROOT)}:{found.line} imports {found.target}"


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_every_package_is_scanned() -> None:
    packages = {module.split(".")[0] for module in _modules()}
    assert packages == set(PACKAGES)
    assert len(_modules()) > 60


def test_packages_import_one_way() -> None:
    wrong = sorted(
        {
            _where(found)
            for found in _all_imports()
            if (source := found.importer.split(".")[0]) != (target := found.target.split(".")[0])
            and target not in MAY_IMPORT[source]
        }
    )
    layers = "teller > collector, dashboard > storage > schemas"
    assert not wrong, f"imports against the layering ({layers}):\n" + "\n".join(wrong)


def test_no_module_imports_itself_through_a_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for found in _all_imports():
        if found.target != found.importer:
            graph.setdefault(found.importer, set()).add(found.target)
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def _allowed_in_function(found: Import) -> bool:
    """True when an import inside a function is on the allow-list."""
    return any(
        found.importer == importer and (found.target == target or found.target.startswith(target + "."))
        for importer, target, _ in FUNCTION_IMPORTS
    )


def test_first_party_imports_inside_functions_are_only_the_allowed_ones() -> None:
    inside = [found for found in _all_imports() if found.in_function]
    wrong = sorted({_where(found) for found in inside if not _allowed_in_function(found)})
    assert not wrong, "import these at the top of the module (or allow-list them with a reason):\n" + "\n".join(wrong)
    unused = [
        (importer, target)
        for importer, target, _ in FUNCTION_IMPORTS
        if not any(f.importer == importer and (f.target + ".").startswith(target + ".") for f in inside)
    ]
    assert not unused, f"allow-list entries no longer needed: {unused}"


def test_the_cycle_finder_finds_cycles() -> None:
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "d": {"c"}}) is None
