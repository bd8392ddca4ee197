"""The house's import rules, read from the code (docs/architecture.md, "Layers"):

- layers, lowest first: core → vault → audit → accounts → notifications → customers → contracts →
  documents → the apps built on them → reminders → ops (process entry points, the demo); a module imports only
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
    {"search", "archive", "reports", "workflow", "finance", "drafting", "signing", "imports", "integrations"},
    # Reminders read the dates of contracts, money and approvals.
    {"reminders"},
    {"ops"},
]
RANK = {app: rank for rank, apps in enumerate(LAYERS) for app in apps}


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources(top: str, root: Path = ROOT):
    for path in sorted((root / top).rglob("*.py")):
        rel = path.relative_to(root).parts
        if "tests" in rel or "migrations" in rel or "static" in rel:
            continue
        yield path


def _imports(path: Path, root: Path = ROOT) -> set[str]:
    """Every module `path` imports, at the top or inside a function, with relative imports resolved."""
    module = _module_name(path, root)
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


def _graph(tops=("qiyue", "bench"), root: Path = ROOT) -> dict[str, set[str]]:
    modules = {_module_name(p, root): p for top in tops for p in _sources(top, root)}
    return {name: {m for m in _imports(path, root) if m in modules and m != name}
            for name, path in modules.items()}


def _app(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "qiyue" and len(parts) > 1 else None


def test_every_app_has_a_layer():
    apps = {p.name for p in (ROOT / "qiyue").iterdir() if (p / "__init__.py").exists()}
    apps -= {"templates", "static", "locale", "formats"}
    assert apps <= set(RANK), f"apps without a layer in LAYERS: {sorted(apps - set(RANK))}"


def _against_layers(graph) -> list[str]:
    wrong = []
    for module, imported in graph.items():
        here = _app(module)
        for other in imported:
            there = _app(other)
            if here is None or there is None or here == there:
                continue
            if RANK[there] >= RANK[here]:
                wrong.append(f"{module} imports {other}")
    return sorted(wrong)


def test_no_module_imports_a_higher_layer_or_a_peer_app():
    wrong = _against_layers(_graph(("qiyue",)))
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


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


def _circles(graph) -> list[list[str]]:
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
    return circles


def test_no_import_circles():
    circles = _circles(_graph())
    assert not circles, f"import circles: {circles}"


def test_the_check_sees_a_violation(tmp_path):
    """The rules are not vacuous: in a small tree, a core module importing an app (even inside a
    function), a peer import and a circle are all found."""
    for name, text in {
        "qiyue/__init__.py": "",
        "qiyue/core/__init__.py": "",
        "qiyue/core/probe.py": "def f():\n    from qiyue.contracts.models import Contract\n",
        "qiyue/contracts/__init__.py": "",
        "qiyue/contracts/models.py": "from . import services\n",
        "qiyue/contracts/services.py": "from .models import x\n",
        "qiyue/search/__init__.py": "",
        "qiyue/search/views.py": "from qiyue.archive import selectors\n",
        "qiyue/archive/__init__.py": "",
        "qiyue/archive/selectors.py": "",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = _graph(("qiyue",), root=tmp_path)
    assert _against_layers(graph) == ["qiyue.core.probe imports qiyue.contracts.models",
                                      "qiyue.search.views imports qiyue.archive",
                                      "qiyue.search.views imports qiyue.archive.selectors"]
    assert _circles(graph) == [["qiyue.contracts.models", "qiyue.contracts.services"]]
