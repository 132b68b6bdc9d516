"""gis/db's modules stand in layers: pure encoders and DSN text below, server code above, no loop."""

from __future__ import annotations

import ast
from pathlib import Path

import gis.db

DB = Path(gis.db.__file__).parent


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at module level or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def graph() -> dict[str, set[str]]:
    modules = {f"gis.db.{p.stem}": p for p in DB.glob("*.py") if p.stem != "__init__"}
    return {name: {m for m in imports_of(path) if m in modules} for name, path in modules.items()}


def test_no_import_loop_between_gis_db_modules():
    edges = graph()
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            assert state.get(nxt) != 1, " -> ".join([*path, node, nxt])
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])
    assert "gis.db.connection" not in edges["gis.db.cluster"]


def test_encoders_and_dsn_text_never_talk_to_a_server():
    for name in ("encoding", "dsn"):
        used = imports_of(DB / f"{name}.py")
        assert not {m for m in used if m.startswith("gis.db")}, name
        # psycopg only for parsing DSN text (conninfo), never a connection
        assert {m for m in used if m.startswith("psycopg")} <= {"psycopg.conninfo"}, name


def test_whole_database_operations_live_apart_from_the_cluster():
    import gis.db.admin as admin
    import gis.db.cluster as cluster

    for name in ("backup_database", "restore_database", "reset_database"):
        assert hasattr(admin, name) and not hasattr(cluster, name)
