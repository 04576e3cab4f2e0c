"""Hostile project trees for the scan-trust tests (`tests/test_scan_trust.py`).

Each builder writes a pull request's worth of attacker-controlled files into a folder. They are
shared by the tests and kept apart from them so the same trees can be fed to an older gate to
show the attack worked there.
"""

from __future__ import annotations

from pathlib import Path

FLAW = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
"""A flaw both bandit (B602) and semgrep (gate.python.command-injection.subprocess-shell) report."""

SHEBANG_FLAW = "#!/usr/bin/env python3\n" + FLAW


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _evil_backend(marker: Path) -> str:
    return (
        "import pathlib\n"
        f"pathlib.Path({str(marker)!r}).write_text('the project build backend ran')\n\n"
        "def get_requires_for_build_wheel(config_settings=None):\n    return []\n\n"
        "def get_requires_for_build_editable(config_settings=None):\n    return []\n\n"
        "def prepare_metadata_for_build_wheel(directory, config_settings=None):\n    raise SystemExit(1)\n\n"
        "def build_wheel(directory, config_settings=None, metadata_directory=None):\n    raise SystemExit(1)\n\n"
        "build_editable = build_wheel\n"
        "prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel\n"
    )


def build_hook_tree(root: Path, marker: Path, *, outside_include: bool = True) -> Path:
    """A project whose requirements name a local package with build code that writes `marker`,
    as a path line, an editable line and a `file:` URL, plus `-e .` of a project whose own build
    backend (in `pyproject.toml`, `backend-path = ["."]`, needing nothing from an index) writes it
    too; index and find-links options; and (`outside_include`) an include that leaves the project.
    `app.py` holds a planted flaw."""
    _write(
        root,
        {
            "app.py": FLAW,
            "requirements.txt": "\n".join(
                [
                    "requests==2.19.1",
                    "./evilpkg",
                    "-e ./evilpkg",
                    "file:./evilpkg",
                    "-e .",
                    "--index-url http://127.0.0.1:9/simple",
                    "--extra-index-url http://127.0.0.1:9/extra",
                    "--find-links ./wheels",
                    *(["-r ../outside/more.txt"] if outside_include else []),
                    "",
                ]
            ),
            "pyproject.toml": (
                '[build-system]\nrequires = []\nbuild-backend = "evil_backend"\nbackend-path = ["."]\n\n'
                '[project]\nname = "victim"\nversion = "1.0"\n'
            ),
            "evil_backend.py": _evil_backend(marker),
            "evilpkg/pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "evil_backend"\nbackend-path = ["."]\n',
            "evilpkg/evil_backend.py": _evil_backend(marker),
            "evilpkg/setup.py": f"import pathlib\npathlib.Path({str(marker)!r}).write_text('setup.py ran')\n",
        },
    )
    _write(root.parent, {"outside/more.txt": "outside-package==1.0\n"})
    return root


HIDDEN = (
    "src/node_modules/pkg/nm.py",  # bandit's and semgrep's default excludes
    "tests/test_flaw.py",  # semgrep's default ignore list
    "build/generated.py",  # semgrep's default ignore list
    "src/.tox/tox_flaw.py",  # bandit's default excludes (.tox)
    "hidden/h.py",  # named in the planted .semgrepignore, .policy-gate-semgrepignore and .gitignore
    "excluded_by_bandit.py",  # excluded by the planted .bandit, setup.cfg and pyproject.toml
    "src/vendor/v.py",  # not excluded: the data's glob `vendor/**` is anchored at the root
    "bin/tool",  # no extension, a Python shebang (our own variant)
)
"""Paths of planted flaws that the scanners' own defaults or the tree's configuration would hide."""


def hiding_tree(root: Path, outside: Path) -> Path:
    """A project that tries to hide flaws from the scanners (see `HIDDEN`), plus a folder excluded by
    data (`vendor/`, given `vendor/**` in data) and a symbolic link `lib` to a folder outside."""
    ignore = "hidden/\nsrc/\ntests/\nbuild/\nbin/\nexcluded_by_bandit.py\n"
    files = {path: (SHEBANG_FLAW if path == "bin/tool" else FLAW) for path in HIDDEN}
    files.update(
        {
            "app.py": "print('hello')\n",
            "vendor/third_party.py": FLAW,
            ".semgrepignore": ignore,
            ".policy-gate-semgrepignore": ignore,
            ".gitignore": ignore,
            ".bandit": "[bandit]\nexclude: ./excluded_by_bandit.py,./src,./tests,./bin,./hidden\nskips: B602,B404\n",
            "setup.cfg": "[bandit]\nexclude = excluded_by_bandit.py\nskips = B602\n",
            "pyproject.toml": '[tool.bandit]\nexclude_dirs = ["src", "tests", "bin", "hidden"]\nskips = ["B602", "B404"]\n',
        }
    )
    _write(root, files)
    _write(outside, {"flaw.py": FLAW})
    (root / "lib").symlink_to(outside, target_is_directory=True)
    return root
