"""Constant pickles in test code, read without being run (issue 17, scanners.run.constant_pickles).

A `pickle.loads` in test code blocks (CWE-502 is in test_code.always_block): an opaque pickle
can run `os.system` in CI. The gate proves, from its own copy of the source, that a load reads
only pickles that are program constants importing only harmless builtins or the project's own
classes; the policy then judges the finding as test code (a warning). Most tests here were
first written as attacks: each builds a tree whose load must NOT be proven (a payload that
imports os.system written in protocol 0 or hidden behind STACK_GLOBAL and the memo, a table
that mixes a constant with a computed value, a load of anything not constant, a tree that
shadows the pickle module, a Python 2 module name the unpickler renames to subprocess, ...).
"""

from __future__ import annotations

import json
import pickle
import sys
import textwrap
import types
from pathlib import Path

import pytest
from conftest import POLICIES, run_gate

from scanners.run.constant_pickles import ALLOWED_GLOBALS, Prover, pickle_globals, prove

# Hand-written payloads (never loaded): protocol 0 GLOBAL, and protocol 4 STACK_GLOBAL whose
# module and name strings go through the memo before use.
PAYLOAD_P0 = b"cos\nsystem\n(S'echo pwned'\ntR."
PAYLOAD_P4_MEMO = (
    b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x8c\x02os\x94\x8c\x04data\x94\x8c\x06system\x94"
    b"h\x00h\x02\x93\x94\x8c\necho pwned\x94\x85\x94R\x94."
)
PAYLOAD_INST = b"(S'echo pwned'\nios\nsystem\n."
PAYLOAD_EXT = b"\x80\x02\x82\x01)R."


def _class_pickle(module: str, name: str, protocol: int) -> bytes:
    """pickle.dumps of an instance of a class that claims to live in `module` (dumps only)."""
    parts = module.split(".")
    added = [".".join(parts[: i + 1]) for i in range(len(parts)) if ".".join(parts[: i + 1]) not in sys.modules]
    saved = {m: sys.modules.get(m) for m in [module]}
    for m in added:
        sys.modules[m] = types.ModuleType(m)
    mod = types.ModuleType(module)
    sys.modules[module] = mod
    cls = type(name, (), {"__module__": module, "__qualname__": name})
    setattr(mod, name, cls)
    try:
        obj = cls()
        obj.x = 1
        return pickle.dumps(obj, protocol=protocol)
    finally:
        for m in added:
            sys.modules.pop(m, None)
        for m, old in saved.items():
            if old is not None:
                sys.modules[m] = old


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def _proven(root: Path) -> list[dict[str, object]]:
    paths = [p.relative_to(root).as_posix() for p in root.rglob("*.py")]
    return prove(root, paths)


MODELS = """
class Point:
    pass
"""


# -- the disassembler -----------------------------------------------------------------------


@pytest.mark.parametrize("data", [PAYLOAD_P0, PAYLOAD_P4_MEMO, PAYLOAD_INST])
def test_payload_imports_are_seen_in_every_protocol(data: bytes) -> None:
    assert ("os", "system") in (pickle_globals(data) or [])


def test_extension_codes_and_broken_pickles_are_not_readable() -> None:
    assert pickle_globals(PAYLOAD_EXT) is None
    assert pickle_globals(b"\x80\x04\x93.") is None  # STACK_GLOBAL on an empty stack
    assert pickle_globals(b"\x80\x04K\x01K\x02\x93.") is None  # operands that are not strings
    assert pickle_globals(b"\x80\x04h\x07.") is None  # memo key never stored
    assert pickle_globals(b"not a pickle") is None


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_a_data_pickle_imports_its_class(protocol: int) -> None:
    found = pickle_globals(_class_pickle("pkg.models", "Point", protocol))
    assert found is not None
    assert ("pkg.models", "Point") in found
    assert all(g in ALLOWED_GLOBALS or g == ("pkg.models", "Point") for g in found)


# -- what is proven ---------------------------------------------------------------------------


def test_parametrized_constants_of_a_project_class_are_proven(tmp_path: Path) -> None:
    data = [_class_pickle("pkg.models", "Point", p) for p in (2, 5)]
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/models.py": MODELS,
            "tests/__init__.py": "",
            "tests/test_compat.py": f"""
            import pickle

            import pytest


            class TestCompat:
                OLD = {data[0]!r}
                NEW = {data[1]!r}

                @pytest.mark.parametrize(("blob", "label"), [(OLD, "old"), pytest.param(NEW, "new")])
                def test_loads(self, blob, label):
                    assert pickle.loads(blob).x == 1
            """,
        },
    )
    assert _proven(root) == [{"path": "tests/test_compat.py", "line": 13, "imports": ["pkg.models.Point"]}]


def test_a_local_constant_built_with_the_module_name_of_its_own_class_is_proven(tmp_path: Path) -> None:
    head = b"\x80\x04\x95\x1b\x00\x00\x00\x00\x00\x00\x00\x8c\x0e"  # 0x0e: len("tests.test_old")
    tail = b"\x94\x8c\x03Old\x94\x93\x94)\x81\x94."
    root = _tree(
        tmp_path,
        {
            "tests/__init__.py": "",
            "tests/test_old.py": f"""
            import pickle


            class Old:
                pass


            def test_old():
                o = Old()
                blob = {head!r} + o.__module__.encode() + {tail!r}
                loaded = pickle.loads(blob)
                assert isinstance(loaded, Old)
            """,
        },
    )
    assert _proven(root) == [{"path": "tests/test_old.py", "line": 12, "imports": ["tests.test_old.Old"]}]


# -- attacks: none of these may be proven -----------------------------------------------------


@pytest.mark.parametrize("payload", [PAYLOAD_P0, PAYLOAD_P4_MEMO, PAYLOAD_INST, PAYLOAD_EXT])
def test_attack_constant_payload_in_tests_is_not_proven(tmp_path: Path, payload: bytes) -> None:
    """Attack: a constant pickle in tests/ that imports os.system (or hides what it imports)."""
    root = _tree(
        tmp_path,
        {
            "tests/test_x.py": f"""
            import pickle

            BLOB = {payload!r}


            def test_x():
                data = {payload!r}
                pickle.loads(data)
            """
        },
    )
    assert _proven(root) == []


def test_attack_parametrize_mixing_a_constant_with_a_computed_value(tmp_path: Path) -> None:
    """Attack: one harmless constant row and one row computed at run time."""
    good = _class_pickle("pkg.models", "Point", 4)
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/models.py": MODELS,
            "tests/test_x.py": f"""
            import base64
            import pickle

            import pytest


            @pytest.mark.parametrize("blob", [{good!r}, base64.b64decode("Y29zCnN5c3RlbQo=")])
            def test_x(blob):
                pickle.loads(blob)
            """,
        },
    )
    assert _proven(root) == []


@pytest.mark.parametrize(
    "body",
    [
        "def test_x(blob):\n    pickle.loads(blob)\n",  # a fixture's value
        "def test_x(request):\n    pickle.loads(request.param)\n",
        "def test_x():\n    pickle.loads(open('blob.pkl', 'rb').read())\n",
        "def test_x():\n    blob = GOOD\n    pickle.loads(blob)\n",  # a module global, mutable at run time
        "def test_x():\n    blob = GOOD\n    blob = blob + EXTRA\n    pickle.loads(blob)\n",
        "def test_x():\n    pickle.loads(blob)\n    blob = GOOD\n",
        "def test_x():\n    blob = GOOD_LOCAL\n    pickle.loads(blob, encoding='bytes')\n",
        "def test_x():\n    pickle.loads(GOOD_LITERAL); marshal.loads(b'')\n",  # another call on the line
    ],
)
def test_attack_non_constant_loads_in_tests_are_not_proven(tmp_path: Path, body: str) -> None:
    """Attack: pickle.loads of anything the syntax tree cannot prove constant."""
    good = _class_pickle("pkg.models", "Point", 4)
    text = body.replace("GOOD_LOCAL", repr(good)).replace("GOOD_LITERAL", repr(good))
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/models.py": MODELS,
            "tests/test_x.py": f"import marshal\nimport pickle\n\nGOOD = {good!r}\nEXTRA = b''\n\n\n{text}",
        },
    )
    assert _proven(root) == []


@pytest.mark.parametrize(
    ("models", "module"),
    [
        ("import os\n\nclass Point:\n    pass\n\nPoint = os.system\n", "pkg.models"),  # rebound, no call on it
        ("from os import system as Point\n", "pkg.models"),  # not a class statement
        ("class Point:\n    pass\n\ndef __getattr__(name):\n    return __import__('os').system\n", "pkg.models"),
        ("class getoutput:\n    pass\n", "commands"),  # fix_imports: commands -> subprocess
        ("class system:\n    pass\n", "os"),  # a standard-library name
    ],
)
def test_attack_imports_that_only_look_like_project_classes(tmp_path: Path, models: str, module: str) -> None:
    """Attack: the pickle imports module.Name where the tree's module does not define a class
    Name by its class statement (or the unpickler imports another module than the tree's)."""
    name = "getoutput" if module == "commands" else "system" if module == "os" else "Point"
    blob = _class_pickle(module, name, 2)
    files = {
        f"{module.replace('.', '/')}.py": models,
        "tests/test_x.py": f"import pickle\n\n\ndef test_x():\n    blob = {blob!r}\n    pickle.loads(blob)\n",
    }
    if module.startswith("pkg."):
        files["pkg/__init__.py"] = ""
    assert _proven(_tree(tmp_path, files)) == []


@pytest.mark.parametrize(
    "conftest",
    [
        "def pytest_pyfunc_call(pyfuncitem):\n    pyfuncitem.funcargs['blob'] = b'cos\\nsystem\\n.'\n",
        "def pytest_collection_modifyitems(items):\n    pass\n",
        "pytest_plugins = ['evil_plugin']\n",
        "globals()['pytest_' + 'pyfunc_call'] = print\n",
    ],
)
def test_attack_a_hook_that_swaps_the_test_arguments(tmp_path: Path, conftest: str) -> None:
    """Attack: a conftest hook hands the test another blob than its parametrize table."""
    blob = _class_pickle("pkg.models", "Point", 4)
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/models.py": MODELS,
            "tests/conftest.py": conftest,
            "tests/test_x.py": f"import pickle\n\nimport pytest\n\n\n@pytest.mark.parametrize('blob', [{blob!r}])\n"
            "def test_x(blob):\n    pickle.loads(blob)\n",
        },
    )
    assert _proven(root) == []
    (root / "tests" / "conftest.py").write_text("import pytest\n", encoding="utf-8")
    assert len(_proven(root)) == 1  # the same tree without the hook: proven


def _parametrized_load_tree(tmp_path: Path, extra: dict[str, str]) -> Path:
    """A test whose parametrize table holds the project's own pickle (proven on its own), plus `extra`."""
    blob = _class_pickle("pkg.models", "Point", 4)
    return _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/models.py": MODELS,
            "tests/test_x.py": f"import pickle\n\nimport pytest\n\n\n@pytest.mark.parametrize('blob', [{blob!r}])\n"
            "def test_x(blob):\n    pickle.loads(blob)\n",
            **extra,
        },
    )


def test_a_tree_without_plugins_or_cookies_is_proven(tmp_path: Path) -> None:
    """The control for the attacks below: the same tree without their addition is proven."""
    assert len(_proven(_parametrized_load_tree(tmp_path, {}))) == 1


HOOK_IN_UTF7 = (
    "# -*- coding: utf-7 -*-\n"
    "import base64\n"
    "def pytest+AF8-pyfunc+AF8-call(pyfuncitem):\n"
    "    pyfuncitem.func+AGE-rgs['blob'] = base64.b64decode('Y29zCnN5c3RlbQooUydpZCcKdFIu')\n"
)


def test_attack_a_hook_spelled_in_another_source_encoding(tmp_path: Path) -> None:
    """Attack (review, round 2, confirmed with real pytest): a conftest in UTF-7 names
    `pytest_pyfunc_call` and `funcargs` in bytes the search never sees, and swaps the proven
    blob for `os.system`. A file in any encoding but UTF-8 / Latin-1 / ASCII: no fact."""
    root = _parametrized_load_tree(tmp_path, {})
    (root / "tests" / "conftest.py").write_bytes(HOOK_IN_UTF7.encode("ascii"))
    assert _proven(root) == []


PLUGIN = (
    "import base64\n\n"
    "def _hook(item):\n"
    "    getattr(item, 'func' + 'args')['blob'] = base64.b64decode('Y29zCnN5c3RlbQooUydpZCcKdFIu')\n\n"
    "globals()['pytest_' + 'pyfunc_call'] = _hook\n"
)


@pytest.mark.parametrize(
    "config",
    [
        {"pyproject.toml": '[tool.pytest.ini_options]\naddopts = "-p plug"\npythonpath = ["tests"]\n'},
        {"pyproject.toml": '[tool.pytest.ini_options]\naddopts = ["-pplug"]\n'},
        {"tests/pytest.ini": "[pytest]\naddopts = -p plug\n"},
        {"setup.cfg": "[options.entry_points]\npytest11 =\n    plug = plug\n"},
        {"pyproject.toml": '[project.entry-points.pytest11]\nplug = "plug"\n'},
    ],
)
def test_attack_a_plugin_loaded_by_configuration_names_its_hook_at_run_time(tmp_path: Path, config: dict[str, str]) -> None:
    """Attack (review, round 2, confirmed with real pytest): `tests/plug.py` builds the hook's
    name at run time (no conftest, no token), and the project's pytest configuration loads it
    (`-p`, `pythonpath`, a `pytest11` entry point). A tree whose configuration can load a plugin
    gives no fact."""
    root = _parametrized_load_tree(tmp_path, {"tests/plug.py": PLUGIN})
    assert len(_proven(root)) == 1  # the plugin file alone, never loaded, changes nothing
    _tree(root, config)
    assert _proven(root) == []


@pytest.mark.parametrize(
    "conftest",
    ["from plug import *\n", "import sys\nsys._getframe(0).f_globals.update(__import__('plug').__dict__)\n"],
)
def test_attack_a_conftest_that_takes_its_hooks_from_another_module(tmp_path: Path, conftest: str) -> None:
    """Attack: a conftest takes every name of a module that wrote its hook with `globals()`
    (a star import, a frame's globals). Such a conftest gives no fact."""
    root = _parametrized_load_tree(tmp_path, {"tests/plug.py": PLUGIN, "tests/conftest.py": conftest})
    assert _proven(root) == []


def test_attack_a_pickle_constant_too_large_to_judge(tmp_path: Path) -> None:
    """Attack (review, round 2): one bytes literal of megabytes, disassembled with every
    global judged against every file, held the gate for minutes. A literal over MAX_PICKLE is
    not judged (no fact)."""
    from scanners.run.constant_pickles import MAX_PICKLE

    big = b"(" + b"cpkg.models\nPoint\n" * (MAX_PICKLE // 18 + 1) + b"l."
    root = _tree(tmp_path, {"pkg/__init__.py": "", "pkg/models.py": MODELS})
    (root / "tests").mkdir()
    (root / "tests" / "test_x.py").write_text(f"import pickle\n\n\ndef test_x():\n    pickle.loads({big!r})\n", encoding="utf-8")
    assert _proven(root) == []


@pytest.mark.parametrize(
    ("prefix", "class_line", "in_class"),
    [
        (
            "class Swap(type):\n    @classmethod\n    def __prepare__(mcs, name, bases):\n        return {}\n\n\n",
            "class TestX(metaclass=Swap):",
            True,
        ),
        ("class Base:\n    pass\n\n\n", "class TestX(Base):", True),
        ("BLOB = BLOB_VALUE\nfrom base import *\n\n\n", "class TestX:", False),  # rebinds BLOB unseen
    ],
)
def test_attack_class_namespace_or_star_import_changes_the_constant(tmp_path: Path, prefix: str, class_line: str, in_class: bool) -> None:
    """Attack: a metaclass's __prepare__ (or a base's) or a star import changes what a name holds."""
    blob = _class_pickle("pkg.models", "Point", 4)
    body = f"    BLOB = {blob!r}\n\n" if in_class else ""
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/models.py": MODELS,
            "tests/test_x.py": f"import pickle\n\nimport pytest\n\n{prefix.replace('BLOB_VALUE', repr(blob))}{class_line}\n{body}"
            "    @pytest.mark.parametrize('blob', [BLOB])\n    def test_x(self, blob):\n        pickle.loads(blob)\n",
        },
    )
    assert _proven(root) == []
    # the same test in a plain class, without the star import: proven
    plain = _tree(
        tmp_path / "plain",
        {
            "pkg/__init__.py": "",
            "pkg/models.py": MODELS,
            "tests/test_x.py": f"import pickle\n\nimport pytest\n\nBLOB = {blob!r}\n\n\nclass TestX:\n"
            "    @pytest.mark.parametrize('blob', [BLOB])\n    def test_x(self, blob):\n        pickle.loads(blob)\n",
        },
    )
    assert len(_proven(plain)) == 1


@pytest.mark.parametrize(
    ("files", "test_body"),
    [
        # a class body's namespace written through locals()
        (
            {},
            "class TestX:\n    BLOB = GOOD\n    locals()['BLOB'] = b'cos\\nsystem\\n.'\n\n"
            "    @pytest.mark.parametrize('blob', [BLOB])\n    def test_x(self, blob):\n        pickle.loads(blob)\n",
        ),
        # a helper that rewrites the caller's local between the binding and the load
        (
            {"tests/helpers.py": "import sys\n\ndef swap():\n    sys._getframe(1).f_locals['blob'] = b'cos\\nsystem\\n.'\n"},
            "from tests.helpers import swap\n\n\ndef test_x():\n    blob = GOOD\n    swap()\n    pickle.loads(blob)\n",
        ),
    ],
)
def test_attack_names_changed_at_run_time(tmp_path: Path, files: dict[str, str], test_body: str) -> None:
    """Attack: the constant the syntax shows is replaced at run time (locals(), frame locals)."""
    blob = _class_pickle("pkg.models", "Point", 4)
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/models.py": MODELS,
            **files,
            "tests/test_x.py": "import pickle\n\nimport pytest\n\n\n" + test_body.replace("GOOD", repr(blob)),
        },
    )
    assert _proven(root) == []


def test_attack_a_tree_that_shadows_the_pickle_module(tmp_path: Path) -> None:
    """Attack: tests/pickle.py shadows the standard library's module when tests/ is on sys.path."""
    blob = _class_pickle("pkg.models", "Point", 4)
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/models.py": MODELS,
            "tests/pickle.py": "import os\n\ndef loads(data):\n    os.system('echo pwned')\n",
            "tests/test_x.py": f"import pickle\n\n\ndef test_x():\n    blob = {blob!r}\n    pickle.loads(blob)\n",
        },
    )
    assert _proven(root) == []


@pytest.mark.parametrize(
    "head",
    [
        "import pickle\npickle = __import__('os')\n",  # the name is not the pickle module
        "from pickle import loads as load_it\nimport pickle\npytest = None\n",  # pytest rebound
        "import pickle\nimport pytest\n\ndef swap(fn):\n    return fn\n",  # a non-mark decorator
    ],
)
def test_attack_names_the_proof_relies_on_are_rebound(tmp_path: Path, head: str) -> None:
    """Attack: `pickle`, `pytest`, the test's decorators or a class's __module__ are not what
    the syntax suggests."""
    blob = _class_pickle("pkg.models", "Point", 4)
    deco = "@swap\n" if "swap" in head else ""
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/models.py": MODELS,
            "tests/test_x.py": (
                f"{head}\n\nclass Old:\n    pass\n\n\n{deco}@pytest.mark.parametrize('blob', [{blob!r}])\n"
                "def test_x(blob):\n    pickle.loads(blob)\n\n\ndef test_y():\n    o = Old()\n"
                "    pickle.loads(b'\\x80\\x04\\x8c' + o.__module__.encode() + b'\\x94.')\n"
            ),
        },
    )
    assert _proven(root) == []


def test_attack_module_name_written_in_the_file(tmp_path: Path) -> None:
    """Attack: the file writes a class's __module__: the bytes' module name is not the file's."""
    head = b"\x80\x04\x95\x1b\x00\x00\x00\x00\x00\x00\x00\x8c\x0e"
    tail = b"\x94\x8c\x03Old\x94\x93\x94)\x81\x94."
    for write in ("Old.__module__ = 'os'\n", "setattr(Old, '__module__', 'os')\n", "__name__ = 'os'\n"):
        root = _tree(
            tmp_path / str(abs(hash(write))),
            {
                "tests/__init__.py": "",
                "tests/test_old.py": f"import pickle\n\n\nclass Old:\n    pass\n\n\n{write}\ndef test_old():\n    o = Old()\n"
                f"    blob = {head!r} + o.__module__.encode() + {tail!r}\n    loaded = pickle.loads(blob)\n",
            },
        )
        assert _proven(root) == [], write


def test_a_module_name_of_another_length_than_the_pickle_says_is_not_proven(tmp_path: Path) -> None:
    """Attack: the declared string length fits one import mode's module name, not the other's
    (without tests/__init__.py the file is `test_old` for pytest, `tests.test_old` from the root):
    the bytes would be read differently at run time, so every name must pass."""
    head = b"\x80\x04\x95\x1b\x00\x00\x00\x00\x00\x00\x00\x8c\x0e"
    tail = b"\x94\x8c\x03Old\x94\x93\x94)\x81\x94."
    root = _tree(
        tmp_path,
        {
            "tests/test_old.py": f"import pickle\n\n\nclass Old:\n    pass\n\n\ndef test_old():\n    o = Old()\n"
            f"    blob = {head!r} + o.__module__.encode() + {tail!r}\n    pickle.loads(blob)\n",
        },
    )
    assert _proven(root) == []


def test_prover_reads_only_the_files_it_is_given(tmp_path: Path) -> None:
    blob = _class_pickle("pkg.models", "Point", 4)
    root = _tree(
        tmp_path,
        {"pkg/models.py": MODELS, "tests/test_x.py": f"import pickle\n\n\ndef test_x():\n    blob = {blob!r}\n    pickle.loads(blob)\n"},
    )
    # pkg/models.py was not surveyed (excluded, or not copied): Point is not known as the project's.
    assert Prover(root, ["tests/test_x.py"]).prove() == []
    assert [c.line for c in Prover(root, ["tests/test_x.py", "pkg/models.py"]).prove()] == [6]


# -- end to end: gate evaluate --source-root --------------------------------------------------


def _bandit_report(path: Path, line: int) -> Path:
    report = {
        "errors": [],
        "generated_at": "2026-11-26T12:00:00Z",
        "metrics": {
            "_totals": {"nosec": 0, "skipped_tests": 0},
            **{name: {"loc": 1, "nosec": 0} for name in ("pkg/__init__.py", "pkg/models.py", "tests/test_x.py")},
        },
        "results": [
            {
                "code": f"{line} pickle.loads(blob)\n",
                "col_offset": 4,
                "end_col_offset": 22,
                "filename": "tests/test_x.py",
                "issue_confidence": "HIGH",
                "issue_cwe": {"id": 502, "link": "https://cwe.mitre.org/data/definitions/502.html"},
                "issue_severity": "HIGH",
                "issue_text": "Pickle and modules that wrap it can be unsafe when used to deserialize untrusted data.",
                "line_number": line,
                "line_range": [line],
                "more_info": "https://bandit.readthedocs.io/en/latest/blacklists/blacklist_calls.html#b301-pickle",
                "test_id": "B301",
                "test_name": "blacklist",
            }
        ],
    }
    path.write_text(json.dumps(report), encoding="utf-8")
    return path


@pytest.mark.parametrize(("payload", "decision"), [(None, "pass"), (PAYLOAD_P4_MEMO, "fail")])
def test_evaluate_with_source_root_judges_the_proof(tmp_path: Path, payload: bytes | None, decision: str) -> None:
    """The same bandit report of a pickle.loads in tests/: the constant data pickle warns, the
    os.system payload still blocks (the proof comes from the source, never from the report)."""
    blob = payload if payload is not None else _class_pickle("pkg.models", "Point", 4)
    root = _tree(
        tmp_path / "src",
        {
            "pkg/__init__.py": "",
            "pkg/models.py": MODELS,
            "tests/test_x.py": f"import pickle\n\n\ndef test_x():\n    blob = {blob!r}\n    pickle.loads(blob)\n",
        },
    )
    report = _bandit_report(tmp_path / "bandit.json", 6)
    verdict = tmp_path / "verdict.json"
    res = run_gate(
        [
            "evaluate",
            str(report),
            "--policy",
            str(POLICIES),
            "--source-root",
            str(root),
            "--stage",
            "dev",
            "--time",
            "2026-11-26T12:00:00Z",
            "--output",
            f"json={verdict}",
        ]
    )
    assert res.exit_code in (0, 10, 11), res.stderr
    doc = json.loads(verdict.read_text(encoding="utf-8"))
    assert doc["decision"] == decision, doc["violations"]
    if payload is None:
        assert any(w["rule"] == "GATE-SAST-003" for w in doc["warnings"])


# -- round 2 (red team): the project class is not what its class statement says at run time ----

# Popen(["sh", "-c", "echo pwned"]) through the project's class: REDUCE calls Job(args).
PAYLOAD_JOB = b"cpkg.models\nJob\n((lVsh\naV-c\naVecho pwned\natR."
PAYLOAD_POINT_CALL = b"cpkg.models\nPoint\n(Vecho pwned\ntR."


@pytest.mark.parametrize(
    "models",
    [
        "import subprocess\n\n\nclass Job(subprocess.Popen):\n    pass\n",
        "from subprocess import Popen\n\n\nclass Job(Popen):\n    pass\n",
        "import threading\n\n\nclass Base(threading.Thread):\n    pass\n\n\nclass Job(Base):\n    pass\n",
        # fail closed: a metaclass's __call__ decides what Job(...) runs
        "import abc\n\n\nclass Job(metaclass=abc.ABCMeta):\n    pass\n",
    ],
)
def test_attack_a_project_class_that_inherits_a_command_runner(tmp_path: Path, models: str) -> None:
    """Attack (round 2): `class Job(subprocess.Popen): pass` is a class statement of the tree, so
    the pickle `pkg.models.Job(["sh", "-c", ...])` was proven data: REDUCE calls Popen with the
    command the opaque bytes choose. A project class now has no bases but `object`, the tree's
    own classes of the same file (checked the same way) or an Enum, and no keywords."""
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/models.py": models,
            "tests/test_x.py": f"import pickle\n\n\ndef test_x():\n    blob = {PAYLOAD_JOB!r}\n    pickle.loads(blob)\n",
        },
    )
    assert _proven(root) == []


def test_project_classes_with_data_bases_are_still_proven(tmp_path: Path) -> None:
    """What attrs' backward-compatibility pickles need: an Enum, `object`, a base of the same file."""
    models = (
        "import enum\n\n\nclass Base(object):\n    pass\n\n\nclass Job(Base):\n    pass\n\n\nclass _Nothing(enum.Enum):\n    NOTHING = 1\n"
    )
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/models.py": models,
            "tests/test_x.py": f"import pickle\n\n\ndef test_x():\n    blob = {PAYLOAD_JOB!r}\n    pickle.loads(blob)\n",
        },
    )
    assert [c["imports"] for c in _proven(root)] == [["pkg.models.Job"]]


@pytest.mark.parametrize(
    "files",
    [
        # pytest's default import mode puts tests/ (no __init__.py) first on sys.path: the
        # unpickler's `import pkg` finds tests/pkg, not the root's pkg the proof read.
        {"tests/pkg/__init__.py": "", "tests/pkg/models.py": "import os\n\nPoint = os.system\n"},
        {"tests/pkg/__init__.py": "import os\nimport sys\n\nsys.modules['pkg.models'] = os\n"},
        {"tests/helpers/pkg/models.py": "import os\n\nPoint = os.system\n"},
        # another file replaces the class or the module before the test runs
        {"tests/conftest.py": "import os\n\nimport pkg.models\n\npkg.models.Point = os.system\n"},
        {"tests/test_a.py": "import os\nfrom unittest import mock\n\nmock.patch('pkg.models.Point', os.system).start()\n"},
        {"tests/test_a.py": "import os\nfrom pkg import models\n\nvars(models)['Point'] = os.system\n"},
        {"tests/test_a.py": "import os\nfrom unittest import mock\n\nimport pkg\n\nmock.patch.multiple(pkg.models, Point=os.system)\n"},
        {"tests/test_a.py": "import os\nimport sys\n\nsys.modules.update({'pkg.models': os})\n"},
        {"tests/test_a.py": "import os\nfrom sys import modules\n\nmodules['pkg.models'] = os\n"},
        {"tests/test_a.py": "import os\n\nimport pkg.models\n\npkg.models.__dict__.update({'Point': os.system})\n"},
        {"tests/test_a.py": "import pkg.models\n\nexec('import os; Point = os.system', vars(pkg.models))\n"},
        {
            "tests/test_a.py": "import os\nfrom unittest import mock\n\nfrom pkg import models\n\n"
            "mock.patch.dict(vars(models), {'Point': os.system}).start()\n"
        },
    ],
)
def test_attack_the_module_the_unpickler_imports_is_another_one(tmp_path: Path, files: dict[str, str]) -> None:
    """Attack (round 2): the proof read pkg/models.py, but at run time `pkg.models.Point` is
    os.system: another file of the same module name earlier on sys.path, or a file that rebinds
    the module or its attribute (`sys.modules[...] =`, `pkg.models.Point =`, mock.patch).
    The pickle (`Point("echo pwned")`) names only the project class."""
    models = "class Point:\n    pass\n\n\nclass system:\n    pass\n"
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/models.py": models,
            **files,
            "tests/test_x.py": f"import pickle\n\n\ndef test_x():\n    blob = {PAYLOAD_POINT_CALL!r}\n    pickle.loads(blob)\n",
        },
    )
    assert _proven(root) == []
    for rel in files:
        (root / rel).unlink()
    assert len(_proven(root)) == 1  # the same tree without the other file: proven


def test_attack_setattr_from_another_file(tmp_path: Path) -> None:
    """Attack (round 2): `setattr(models, "Point", os.system)` at the top of another test module
    (run at collection, before the load)."""
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/models.py": "class Point:\n    pass\n",
            "tests/test_a.py": "import os\n\nfrom pkg import models\n\nsetattr(models, 'Point', os.system)\n",
            "tests/test_x.py": f"import pickle\n\n\ndef test_x():\n    blob = {PAYLOAD_POINT_CALL!r}\n    pickle.loads(blob)\n",
        },
    )
    assert _proven(root) == []


def test_attack_a_shadowing_module_in_an_excluded_folder(tmp_path: Path) -> None:
    """Attack (round 2): the shadowing `pkg/models.py` sits in a folder the coverage rules
    exclude (vendored code): the prover is not given it, but `import pkg.models` may find it."""
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/models.py": "class Point:\n    pass\n",
            "third_party/pkg/__init__.py": "",
            "third_party/pkg/models.py": "import os\n\nPoint = os.system\n",
            "tests/test_x.py": f"import pickle\n\n\ndef test_x():\n    blob = {PAYLOAD_POINT_CALL!r}\n    pickle.loads(blob)\n",
        },
    )
    surveyed = ["pkg/__init__.py", "pkg/models.py", "tests/test_x.py"]
    excluded = ["third_party/pkg/__init__.py", "third_party/pkg/models.py"]
    assert len(prove(root, surveyed)) == 1  # what the gate gave the prover before round 2
    assert prove(root, surveyed, excluded) == []


@pytest.mark.parametrize(
    "files",
    [
        # pytest's own generate_tests runs after a conftest's: the test's parametrize mark is replaced
        {
            "tests/conftest.py": "import pytest\n\n\ndef pytest_generate_tests(metafunc):\n"
            "    marks = metafunc.definition.own_markers\n"
            "    marks[0] = pytest.mark.parametrize('blob', [b'cos\\nsystem\\n.']).mark\n"
        },
        # another test module, collected first, rewrites the function's marks
        {
            "tests/__init__.py": "",
            "tests/test_a.py": "import pytest\n\nfrom tests import test_x\n\n"
            "test_x.test_x.pytestmark[0] = pytest.mark.parametrize('blob', [b'cos\\nsystem\\n.']).mark\n",
        },
        # pytest.mark itself replaced before the test module is imported
        {"tests/conftest.py": "import pytest\n\nfrom tests import fake\n\npytest.mark = fake.Marks()\n"},
        {"tests/test_a.py": "import pytest\n\nfrom tests import fake\n\nsetattr(pytest, 'mark', fake.Marks())\n"},
        # a plugin module registered under another name
        {"tests/conftest.py": "from tests import swap\n\n\ndef pytest_configure(config):\n    config.pluginmanager.register(swap)\n"},
    ],
)
def test_attack_the_parametrize_mark_is_rewritten_before_pytest_reads_it(tmp_path: Path, files: dict[str, str]) -> None:
    """Attack (red team, round 2): the table the proof read is not the one pytest uses: a
    `pytest_generate_tests` hook, another module writing the function's `pytestmark`, a
    replaced `pytest.mark`, or a plugin registered through the plugin manager swaps the row."""
    blob = _class_pickle("pkg.models", "Point", 4)
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/models.py": MODELS,
            **files,
            "tests/test_x.py": f"import pickle\n\nimport pytest\n\n\n@pytest.mark.parametrize('blob', [{blob!r}])\n"
            "def test_x(blob):\n    pickle.loads(blob)\n",
        },
    )
    assert _proven(root) == []
    for rel in files:
        (root / rel).unlink()
    assert len(_proven(root)) == 1  # the same tree without them: proven
