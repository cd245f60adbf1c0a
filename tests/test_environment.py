"""#19 A newcomer's first hour: the README's *Configuration* lists every environment variable
the product reads, and nothing that nobody reads.

The code side is read from the source (every ``BACKOFFICE_*`` name the product spells, and
every name passed to ``os.environ``/``os.getenv``), so a variable added without a README
row fails here, however it is read.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = re.compile(r"BACKOFFICE_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_])")
#: helpers that read ``PREFIX + their argument``: their string arguments are variable names
PREFIXED_READERS = {"_oidc": "BACKOFFICE_OIDC_", "_ldap": "BACKOFFICE_LDAP_"}
#: ``ldap_settings`` reads from a mapping with the prefix taken off, through its ``get``
PREFIX_OF_FUNCTION = {"ldap_settings": "BACKOFFICE_LDAP_"}
KNOWN_PREFIXES = {"BACKOFFICE_OIDC_", "BACKOFFICE_LDAP_"}


def product_sources() -> list[Path]:
    """The product and its two commands: the package without its tests, and dev.py."""
    files = [p for p in (ROOT / "backoffice").rglob("*.py") if "tests" not in p.parts]
    return [*files, ROOT / "dev.py"]


def _environ_call(node: ast.Call) -> bool:
    """``os.environ.get(…)``, ``os.environ.setdefault(…)``, ``os.getenv(…)``."""
    func = node.func
    if not isinstance(func, ast.Attribute):
        return False
    if isinstance(func.value, ast.Name) and func.value.id == "os" and func.attr == "getenv":
        return True
    owner = func.value
    return (
        isinstance(owner, ast.Attribute)
        and owner.attr == "environ"
        and func.attr in {"get", "setdefault", "pop"}
    )


class Reads(ast.NodeVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()
        self.prefixes: set[str] = set()
        self.function: list[str] = []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.function.append(node.name)
        self.generic_visit(node)
        self.function.pop()

    def visit_Expr(self, node: ast.Expr) -> None:
        """Docstrings and bare strings mention names; they read nothing."""
        if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and node.value.startswith("BACKOFFICE_"):
            if NAME.fullmatch(node.value):
                self.names.add(node.value)
            elif not node.value.startswith("BACKOFFICE_ ") and " " not in node.value:
                self.prefixes.add(node.value)
        if isinstance(node.value, str):  # names inside messages: "…needs BACKOFFICE_X, …"
            self.names.update(n for n in NAME.findall(node.value) if n != node.value)

    def visit_Subscript(self, node: ast.Subscript) -> None:  # os.environ["X"]
        key = node.slice.value if isinstance(node.slice, ast.Constant) else None
        if isinstance(node.value, ast.Attribute) and node.value.attr == "environ" and key:
            self.names.add(str(key))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        first = node.args[0] if node.args else None
        literal = first.value if isinstance(first, ast.Constant) else None
        if isinstance(literal, str):
            if _environ_call(node):
                self.names.add(literal)
            callee = node.func.id if isinstance(node.func, ast.Name) else ""
            if callee in PREFIXED_READERS:
                self.names.add(PREFIXED_READERS[callee] + literal)
            if callee == "get" and self.function and self.function[0] in PREFIX_OF_FUNCTION:
                self.names.add(PREFIX_OF_FUNCTION[self.function[0]] + literal)
        self.generic_visit(node)


def read_by_the_code() -> tuple[set[str], set[str]]:
    reads = Reads()
    for path in product_sources():
        reads.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return reads.names, reads.prefixes


def listed_in_the_readme() -> set[str]:
    """The first cell of every table row under README's ``## Configuration``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", section, flags=re.MULTILINE))


def test_every_variable_the_code_reads_is_in_the_readme() -> None:
    read, _ = read_by_the_code()
    assert "BACKOFFICE_DATABASE_URL" in read and "BACKOFFICE_OIDC_ISSUER" in read  # sanity
    missing = sorted(read - listed_in_the_readme())
    assert not missing, f"read by the code but not in README.md's Configuration: {missing}"


def test_the_readme_lists_no_variable_that_nobody_reads() -> None:
    read, _ = read_by_the_code()
    unread = sorted(listed_in_the_readme() - read)
    assert not unread, f"in README.md's Configuration but read by no code: {unread}"


def test_variables_read_through_a_prefix_are_known_to_this_test() -> None:
    """A new ``f"BACKOFFICE_X_{name}"`` helper would hide its names from the two tests above."""
    _, prefixes = read_by_the_code()
    assert prefixes <= KNOWN_PREFIXES, (
        f"teach tests/test_environment.py the readers of {sorted(prefixes - KNOWN_PREFIXES)}"
    )


def test_the_readme_gives_each_variable_a_default_and_a_meaning() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if re.match(r"^\| `[A-Z]", line)]
    assert len(rows) == len(listed_in_the_readme()), "one row per variable"
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 3 and all(cells), f"name, default and meaning: {row}"
