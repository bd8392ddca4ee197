"""The house's import rules, read from the code (docs/architecture.md, "Layers"):

- layers, lowest first: core → vault → audit → accounts → notifications → customers → contracts →
  documents → the apps built on them → ops (process entry points, the demo); a module imports only
  from its own app and from apps in lower layers;
- an app never imports another app's HTML views, and an API module never imports HTML views;
- no import circles between modules (imports inside functions count too).

Tests and migrations are left out: tests may import anything.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Lowest first. Apps on one line share a layer and may not import each other.
LAYERS = [
    {"core"},
    {"vault"},
    {"audit"},
    {"accounts"},
    {"notifications"},
    {"customers"},
    {"contracts"},
    {"documents"},
    {"search", "archive", "reports", "workflow", "finance", "reminders", "drafting", "signing", "imports",
     "integrations"},
    {"ops"},
]
RANK = {app: rank for rank, apps in enumerate(LAYERS) for app in apps}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources(top: str):
    for path in sorted((ROOT / top).rglob("*.py")):
        rel = path.relative_to(ROOT).parts
        if "tests" in rel or "migrations" in rel or "static" in rel:
            continue
        yield path


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function, with relative imports resolved."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            found.add(prefix)
            # `from package import module` imports the module.
            found.update(f"{prefix}.{alias.name}" for alias in node.names)
    return found


def _graph(tops=("qiyue", "bench")) -> dict[str, set[str]]:
    modules = {_module_name(p): p for top in tops for p in _sources(top)}
    return {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}


def _app(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "qiyue" and len(parts) > 1 else None


def test_every_app_has_a_layer():
    apps = {p.name for p in (ROOT / "qiyue").iterdir() if (p / "__init__.py").exists()}
    apps -= {"templates", "static", "locale", "formats"}
    assert apps <= set(RANK), f"apps without a layer in LAYERS: {sorted(apps - set(RANK))}"


def test_no_module_imports_a_higher_layer_or_a_peer_app():
    wrong = []
    for module, imported in _graph(("qiyue",)).items():
        here = _app(module)
        for other in imported:
            there = _app(other)
            if here is None or there is None or here == there:
                continue
            if RANK[there] >= RANK[here]:
                wrong.append(f"{module} imports {other}")
    assert not wrong, "imports against the layers:\n" + "\n".join(sorted(wrong))


def test_no_app_imports_another_apps_views_and_api_never_imports_views():
    wrong = []
    for module, imported in _graph(("qiyue",)).items():
        for other in imported:
            is_views = other.split(".")[-1] == "views" and ".api." not in f".{other}."
            if not is_views:
                continue
            if _app(other) != _app(module) or ".api." in f".{module}.":
                wrong.append(f"{module} imports {other}")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_circles():
    graph = _graph()
    index, low, stack, on_stack, circles = {}, {}, [], set(), []
    counter = iter(range(10**9))

    def visit(node):  # Tarjan's strongly connected components
        index[node] = low[node] = next(counter)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert not circles, f"import circles: {circles}"


def test_the_check_sees_a_violation(tmp_path, monkeypatch):
    """The rules are not vacuous: a core module importing an app is found."""
    bad = ROOT / "qiyue" / "core" / "_layer_probe.py"
    bad.write_text("from qiyue.contracts.models import Contract\n")
    try:
        graph = _graph(("qiyue",))
        assert "qiyue.contracts.models" in graph["qiyue.core._layer_probe"]
        try:
            test_no_module_imports_a_higher_layer_or_a_peer_app()
        except AssertionError as exc:
            assert "qiyue.core._layer_probe imports qiyue.contracts.models" in str(exc)
        else:
            raise AssertionError("a core module importing contracts was not reported")
    finally:
        bad.unlink()
