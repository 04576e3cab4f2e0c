"""Where everything that governs a run comes from: the work tree, a git ref, or a bundle.

Policies, their data, `--data` files, the waivers file, the baseline, VEX documents, the
verification key and the config file (`gate.toml`) decide what blocks. On a pull request the work
tree is the author's, so with `--policy-ref REF` every one of them is read from REF instead, and
what the work tree changed is listed in the verdict as `not_used` (with the change and a reason),
so a reviewer sees what the pull request tried and that it did not count.

One interface, `Source`, hands the loaders bytes (never temporary files, never paths to re-read):

- `WorkTree`: files on disk, named as given (no `--policy-ref`);
- `GitRef`: blobs of one commit of the real repository, named `REF:path` (git's notation), so
  every error still names the file as the user knows it, with line and column;
- `Bundle`: the verified members of an OPA bundle (a `tar.gz`, or a folder), whichever of the two
  sources above its bytes came from. With a verification key, a folder is verified exactly like an
  archive (its `.signatures.json`, as `opa sign` writes it) or refused: never skipped.

`Governance` puts them together for one run: the trusted source, and the work tree to compare it
with.

How the real repository is found (issue "A planted git directory"): git is never left to discover
a repository from the working directory, where a pull request can commit a `.git`-like folder
with alternates and `refs/replace/` entries. The repository root is `--repo-root` /
`GATE_REPO_ROOT`, else the CI workspace (`GITHUB_WORKSPACE`, `CI_PROJECT_DIR`), else the
OUTERMOST folder above the current directory that holds a `.git` (a planted one always lies inside
the real work tree, so it is never the outermost). Git is then run with that `.git` as `GIT_DIR`,
an environment of its own (no inherited `GIT_*` variable: no `GIT_OBJECT_DIRECTORY`, no
`GIT_ALTERNATE_OBJECT_DIRECTORIES`), no system or global config, replace objects and grafts off,
and `safe.bareRepository=explicit`.

How paths are found at the ref (issue "Work-tree symlinks choose the trusted file"): a
command-line path is made relative to the repository root lexically (`os.path.normpath`, never
`realpath` through the work tree), then looked up in the ref's tree by name. A trusted path that is
a symbolic link at the ref (mode 120000, the path itself or any folder on the way) is refused; a
path that is a symbolic link in the work tree changes nothing (the ref's file is read by name)
and is listed in `not_used` as `symlink`, with its target.
"""

from __future__ import annotations

import os
import subprocess
import sys
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from gate.errors import ConfigError, PolicyError
from gate.policy import PolicySet, is_policy_file, policy_from_files

Node = Literal["file", "folder"]

REPO_ROOT_ENV = "GATE_REPO_ROOT"
WORKSPACE_ENVS = ("GITHUB_WORKSPACE", "CI_PROJECT_DIR")
"""CI variables naming the checked-out workspace, tried in order when no root is given."""

_GIT_TIMEOUT = 60.0
_SYMLINK = "120000"


# --------------------------------------------------------------------------------------------
# The interface


class Source(ABC):
    """Files by command-line path (relative to the current directory), as bytes."""

    kind: str
    """What the verdict says the policies came from: `directory`, `git` or `bundle`."""

    @abstractmethod
    def shown(self, path: str) -> str:
        """How a file from this source is named in messages."""

    @abstractmethod
    def node(self, path: str) -> Node | None:
        """Whether the path is a file, a folder, or absent."""

    @abstractmethod
    def read(self, path: str, *, what: str) -> bytes | None:
        """The file's bytes, None when absent. A folder (or a refused link) is a ConfigError."""

    @abstractmethod
    def folder(self, path: str) -> dict[str, bytes]:
        """Every file under a folder (relative POSIX path -> bytes); {} when absent."""


class WorkTree(Source):
    """The files on disk, named as given. Without `--policy-ref`, the work tree governs."""

    kind = "directory"

    def shown(self, path: str) -> str:
        return path

    def node(self, path: str) -> Node | None:
        p = Path(path)
        return "folder" if p.is_dir() else "file" if p.exists() else None

    def read(self, path: str, *, what: str) -> bytes | None:
        try:
            return Path(path).read_bytes()
        except (FileNotFoundError, NotADirectoryError):  # absent, or a folder on the way is a file
            return None
        except IsADirectoryError:
            raise ConfigError(f"the {what} is a directory", file=path) from None
        except OSError as exc:
            raise ConfigError(f"cannot read the {what}: {exc.strerror or exc}", file=path) from None

    def folder(self, path: str) -> dict[str, bytes]:
        root = Path(path)
        if not root.is_dir():
            return {}
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------------------------
# The real repository, and git pinned to it


def git_env(git_dir: Path) -> dict[str, str]:
    """The whole environment git runs with: nothing inherited but PATH, no `GIT_*` of the job."""
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "LC_ALL": "C",
        "GIT_DIR": str(git_dir),
        "GIT_NO_REPLACE_OBJECTS": "1",
        "GIT_GRAFT_FILE": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_LITERAL_PATHSPECS": "1",
        "GIT_OPTIONAL_LOCKS": "0",
    }


GIT_OPTIONS = ("--no-replace-objects", "-c", "core.useReplaceRefs=false", "-c", "safe.bareRepository=explicit")
"""Before every git command: replace refs off (also against a repository config that turns them
on), and no implicit bare repository."""


def find_repo_root(explicit: str | None = None, *, cwd: str | None = None) -> Path:
    """The workspace root whose `.git` holds the trusted ref (see the module docstring).

    Raises ConfigError (2) when none is found or the one named holds no `.git`.
    """
    named = explicit or os.environ.get(REPO_ROOT_ENV) or next((os.environ[v] for v in WORKSPACE_ENVS if os.environ.get(v)), None)
    if named:
        root = Path(os.path.realpath(named))
        if not (root / ".git").exists():
            raise ConfigError(
                f"--policy-ref: the repository root {root} holds no .git",
                hint=f"set --repo-root (or {REPO_ROOT_ENV}) to the top level of the checkout",
            )
        return root
    here = Path(os.path.realpath(cwd or os.getcwd()))
    found = [d for d in (here, *here.parents) if (d / ".git").exists()]
    if not found:
        raise ConfigError(
            f"--policy-ref: the current directory {here} is not inside a git repository",
            hint=f"run the gate from the checkout whose history holds the trusted policies, or set --repo-root ({REPO_ROOT_ENV})",
        )
    return found[-1]


def git_dir_of(root: Path) -> Path:
    """The root's `.git` folder, or the folder a `.git` file (`gitdir: ...`) names."""
    dot = root / ".git"
    if dot.is_dir() and not dot.is_symlink():
        return dot
    if dot.is_file() and not dot.is_symlink():
        text = dot.read_text(encoding="utf-8", errors="replace").strip()
        if text.startswith("gitdir:"):
            target = Path(text[len("gitdir:") :].strip())
            return target if target.is_absolute() else (root / target)
    raise ConfigError(f"--policy-ref: {dot} is neither a git folder nor a `gitdir:` file", file=str(dot))


@dataclass(frozen=True)
class _Entry:
    mode: str
    kind: str
    sha: str
    path: str


@dataclass(frozen=True)
class GitRepo:
    """The real repository: its root (for relative paths) and git folder (for git)."""

    root: Path
    git_dir: Path

    @classmethod
    def find(cls, explicit: str | None = None) -> GitRepo:
        """The repository at `find_repo_root(explicit)`."""
        root = find_repo_root(explicit)
        return cls(root=root, git_dir=git_dir_of(root))

    def git(self, args: Sequence[str], *, stdin: bytes | None = None) -> bytes:
        """Run git on this repository only; a failure is a ConfigError quoting git's own message."""
        try:
            proc = subprocess.run(  # noqa: S603 - fixed program, arguments are not parsed by a shell
                ["git", *GIT_OPTIONS, *args],  # noqa: S607 - git from PATH, as the user's checkout uses it
                cwd=self.git_dir,
                input=stdin,
                capture_output=True,
                timeout=_GIT_TIMEOUT,
                check=False,
                env=git_env(self.git_dir),
            )
        except FileNotFoundError:
            raise ConfigError("--policy-ref needs git, and git is not on PATH") from None
        except subprocess.TimeoutExpired:
            raise ConfigError(f"--policy-ref: `git {args[0]}` took longer than {_GIT_TIMEOUT:.0f} s") from None
        if proc.returncode != 0:
            text = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise ConfigError(f"--policy-ref: `git {args[0]}` failed: {text[-1] if text else f'exit {proc.returncode}'}")
        return proc.stdout

    def commit_of(self, ref: str) -> str:
        """The commit a ref names (replace refs ignored). ConfigError when there is none."""
        if not ref or ref.startswith("-") or any(c in ref for c in "\0\n\r"):
            raise ConfigError(f"--policy-ref {ref!r} is not a git ref or commit")
        try:
            return self.git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"]).decode().strip()
        except ConfigError:
            raise ConfigError(
                f"--policy-ref {ref}: no such commit in {self.root}",
                hint="fetch it first (e.g. `git fetch origin BASE` or actions/checkout with fetch-depth: 0)",
            ) from None


class GitRef(Source):
    """One commit of the real repository, read with `git ls-tree` and `git cat-file` (no checkout)."""

    kind = "git"

    def __init__(self, ref: str, repo: GitRepo) -> None:
        self.ref = ref
        self.repo = repo
        self.commit = repo.commit_of(ref)

    # -- paths ------------------------------------------------------------------------------

    def lexical(self, path: str) -> Path | None:
        """The repository-relative path, found without following any link below the root.

        `..` is resolved on the text (`os.path.normpath`). Folders above the root are the
        runner's, so the root is matched at the first folder on the path's way (from `/` down)
        whose real path is the root; None when no folder on the way is the root.
        """
        full = Path(os.path.normpath(os.path.join(os.getcwd(), path)))
        for anchor in reversed((full, *full.parents)):
            if anchor == self.repo.root or Path(os.path.realpath(anchor)) == self.repo.root:
                return full.relative_to(anchor)
        return None

    def inside(self, path: str) -> bool:
        """Whether the path lies inside the repository (lexically)."""
        return self.lexical(path) is not None

    def rel(self, path: str) -> str:
        """The repository-relative POSIX path; ConfigError when the path lies outside."""
        rel = self.lexical(path)
        if rel is None:
            raise ConfigError(
                f"--policy-ref: {path} lies outside the git repository {self.repo.root}",
                file=path,
                hint="run the gate from inside the repository whose ref holds the policies",
            )
        return rel.as_posix() or "."

    def shown(self, path: str) -> str:
        return self.shown_rel(self.rel(path))

    def shown_rel(self, rel: str) -> str:
        """A repository-relative path in git's notation: `REF:path`."""
        return f"{self.ref}:{rel}"

    # -- the tree ---------------------------------------------------------------------------

    def _ls(self, rel: str, *, recursive: bool) -> list[_Entry]:
        args = ["ls-tree", "-z", "--full-tree", *(["-r"] if recursive else []), self.commit]
        if rel != ".":
            args += ["--", rel]
        out = []
        for record in self.repo.git(args).split(b"\0"):
            if not record:
                continue
            meta, _, name = record.partition(b"\t")
            mode, kind, sha = meta.decode().split(" ")
            out.append(_Entry(mode, kind, sha, name.decode("utf-8", "surrogateescape")))
        return out

    def _entry(self, rel: str) -> _Entry | None:
        """The entry at `rel` by name; a symbolic link on the way (or at rel) is refused."""
        if rel == ".":
            return _Entry("040000", "tree", "", ".")
        parts = rel.split("/")
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            found = [e for e in self._ls(prefix, recursive=False) if e.path == prefix]
            if not found:
                return None
            entry = found[0]
            if entry.mode == _SYMLINK:
                raise ConfigError(
                    f"{self.shown_rel(prefix)} is a symbolic link at the trusted ref: refused as (part of) a trusted path",
                    file=self.shown_rel(rel),
                    hint="commit the file itself on the trusted branch, not a link to it",
                )
            if i < len(parts) and entry.kind != "tree":
                return None
            if i == len(parts):
                return entry
        return None  # pragma: no cover - the loop always returns

    def node(self, path: str) -> Node | None:
        entry = self._entry(self.rel(path))
        if entry is None:
            return None
        return "folder" if entry.kind == "tree" else "file"

    def _blobs(self, shas: Sequence[str]) -> dict[str, bytes]:
        if not shas:
            return {}
        unique = sorted(set(shas))
        raw = self.repo.git(["cat-file", "--batch"], stdin="".join(f"{s}\n" for s in unique).encode())
        out: dict[str, bytes] = {}
        pos = 0
        for sha in unique:
            nl = raw.index(b"\n", pos)
            header = raw[pos:nl].decode().split(" ")
            if len(header) != 3 or header[1] != "blob":
                raise ConfigError(f"--policy-ref: git could not read object {sha}: {' '.join(header)}")
            size = int(header[2])
            out[sha] = raw[nl + 1 : nl + 1 + size]
            pos = nl + 1 + size + 1
        return out

    def read(self, path: str, *, what: str) -> bytes | None:
        rel = self.rel(path)
        entry = self._entry(rel)
        if entry is None:
            return None
        if entry.kind != "blob":
            raise ConfigError(f"{self.shown_rel(rel)} is a {entry.kind}, not a file: refused as the {what}", file=self.shown_rel(rel))
        return self._blobs([entry.sha])[entry.sha]

    def folder(self, path: str) -> dict[str, bytes]:
        rel = self.rel(path)
        entry = self._entry(rel)
        if entry is None or entry.kind != "tree":
            return {}
        prefix = "" if rel == "." else rel + "/"
        entries = [e for e in self._ls(rel, recursive=True) if e.path.startswith(prefix)]
        for e in entries:
            if e.mode == _SYMLINK:
                raise PolicyError(
                    f"{self.shown_rel(e.path)} is a symbolic link: refused as part of a trusted policy source",
                    file=self.shown_rel(e.path),
                    hint="commit the file itself",
                )
            if e.kind != "blob":
                raise PolicyError(f"{self.shown_rel(e.path)} is a {e.kind}, not a file", file=self.shown_rel(e.path))
        contents = self._blobs([e.sha for e in entries])
        return {e.path[len(prefix) :]: contents[e.sha] for e in entries}


# --------------------------------------------------------------------------------------------
# Bundles: an archive or a folder, verified


class Bundle(Source):
    """The members of a policy bundle, verified against the key when one is configured.

    Made from a `tar.gz`'s bytes (`from_archive`) or a folder's files (`from_folder`), whichever
    source they came from. Its paths are the members' names.
    """

    kind = "bundle"

    def __init__(self, name: str, files: Mapping[str, bytes]) -> None:
        self.name = name
        self.files = dict(files)

    @classmethod
    def from_archive(cls, name: str, content: bytes, key: bytes | None) -> Bundle:
        """A `tar.gz`'s members (links, devices, unclean names and oversize refused), verified
        against the key when one is given or the archive is signed (else refused)."""
        from gate.bundle import archive_members, check_signature

        members = archive_members(content, name)
        check_signature(members, key, shown=name)
        return cls(name, members)

    @classmethod
    def from_folder(cls, name: str, files: Mapping[str, bytes], key: bytes | None) -> Bundle:
        """A folder's files; with a key, its `.signatures.json` must cover every file, or it is refused."""
        from gate.bundle import SIGNATURES, check_signature

        members = dict(files)
        if key is not None or SIGNATURES in members:
            check_signature(members, key, shown=name, what="policy folder")
        return cls(name, members)

    def shown(self, path: str) -> str:
        return f"{self.name}/{path}"

    def node(self, path: str) -> Node | None:
        if path in self.files:
            return "file"
        return "folder" if any(n.startswith(path.rstrip("/") + "/") for n in self.files) or path == "." else None

    def read(self, path: str, *, what: str) -> bytes | None:
        return self.files.get(path)

    def folder(self, path: str) -> dict[str, bytes]:
        if path in (".", ""):
            return dict(self.files)
        prefix = path.rstrip("/") + "/"
        return {n[len(prefix) :]: c for n, c in self.files.items() if n.startswith(prefix)}


def load_policy_from(source: Source, path: str, *, extra_data: Sequence[tuple[str, bytes]] = (), key: bytes | None = None) -> PolicySet:
    """The policies at `path` in `source`: a folder, or a bundle archive (a file).

    Raises PolicyError (4) when there is none there, or a signature fails or is missing where a
    key is configured; ConfigError (2) for bad data files.
    """
    from gate import bundle

    shown = source.shown(path)
    node = source.node(path)
    at_ref = isinstance(source, GitRef)
    if node is None:
        raise PolicyError(f"no policy folder at {shown} (no *.rego there)" if at_ref else "policy folder not found", file=shown)
    if node == "file":
        content = source.read(path, what="policy bundle")
        assert content is not None  # noqa: S101 - node() said it exists
        members = Bundle.from_archive(shown, content, key).files
        policy = bundle.policy_from_members(members, shown, extra_data=extra_data)
    else:
        files = Bundle.from_folder(shown, source.folder(path), key).files
        if not any(is_policy_file(rel) for rel in files):
            what = f"no policy folder at {shown} (no *.rego there)" if at_ref else "no Rego policy (*.rego) in the policy folder"
            raise PolicyError(what, file=shown)
        policy = policy_from_files(shown, files, extra_data=extra_data, include_tests=False)
        if key is not None:
            policy.source = "bundle"
    if isinstance(source, GitRef):
        if policy.source != "bundle":
            policy.source = "git"
        policy.revision = source.commit
    return policy


def load_policy_path(root: str | Path, *, extra_data: Sequence[str] = (), include_tests: bool = False) -> PolicySet:
    """A policy folder or bundle archive on disk (for the commands that take a path: doc, bundle, baseline)."""
    from gate import bundle

    path = str(root)
    if Path(path).is_file():
        return bundle.load_bundle(path, extra_data=extra_data)
    from gate.policy import load_policy

    return load_policy(path, extra_data=extra_data, include_tests=include_tests)


PROJECT_POLICY_FOLDER = "policies"
"""The folder a project keeps its own policies in, relative to where the gate runs (or to the
trusted ref's root under `--policy-ref`)."""


def policy_root(given: str | None = None, *, source: Source | None = None, has_policies: bool | None = None) -> str:
    """The policy folder (or bundle) a command uses: `given` (`--policy`), else the project's
    `policies` folder where it has one, else the pack shipped with the gate.

    The one place this rule lives: `gate evaluate`/`run`/`baseline`, `gate policy ...` and the
    GitHub Action (`policy_root_at_ref`). Whether the project has its folder is asked of `source`:
    under `--policy-ref` the trusted ref (a folder the change itself adds to the work tree never
    counts), else the working folder. `has_policies` overrides the question.
    """
    if given:
        return given
    if has_policies is None:
        if isinstance(source, GitRef) and source.inside(PROJECT_POLICY_FOLDER):
            has_policies = source.node(PROJECT_POLICY_FOLDER) is not None
        else:  # the work tree, or a folder outside the repository (the CI's own)
            has_policies = WorkTree().node(PROJECT_POLICY_FOLDER) == "folder"
    if has_policies:
        return PROJECT_POLICY_FOLDER
    from gate.policy import default_policy_dir

    return str(default_policy_dir())


def policy_root_at_ref(policy_ref: str, repo_root: str | None = None) -> str:
    """`policy_root` as a trusted ref decides it, asked by the GitHub Action before it runs the
    gate: `policies` when the ref has that folder (relative to the current directory), else the
    shipped pack. ConfigError when the repository or the ref cannot be read."""
    return policy_root(source=Governance.open(policy_ref, repo_root).source)


# --------------------------------------------------------------------------------------------
# One run's governance: the trusted source and what the work tree changed


Kind = Literal["policy", "data", "waivers", "baseline", "vex", "config", "key"]


@dataclass
class Governance:
    """The source of everything that governs one run, and the work tree's changes not used.

    `file()` reads one governing file from the trusted source (the ref under `--policy-ref`, else
    the work tree) and, under a ref, records how the work tree's copy differs.
    """

    source: Source
    work: WorkTree = field(default_factory=WorkTree)
    not_used: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def open(cls, policy_ref: str | None, repo_root: str | None = None) -> Governance:
        """The work tree, or the ref of the real repository (found as the module docstring says)."""
        if not policy_ref:
            return cls(source=WorkTree())
        if policy_ref.startswith("-") or any(c in policy_ref for c in "\0\n\r"):
            raise ConfigError(f"--policy-ref {policy_ref!r} is not a git ref or commit")
        return cls(source=GitRef(policy_ref, GitRepo.find(repo_root)))

    @property
    def ref(self) -> GitRef | None:
        """The git ref, when the run is under `--policy-ref`."""
        return self.source if isinstance(self.source, GitRef) else None

    def note(self, path: str, kind: Kind, change: str, reason: str) -> None:
        """List one work-tree change as not used."""
        self.not_used.append({"path": path, "kind": kind, "change": change, "reason": reason})

    def file(self, path: str, kind: Kind, *, what: str) -> tuple[str, bytes] | None:
        """(name, bytes) of a governing file from the trusted source; None when it lacks the file.

        Under a ref: a file outside the repository is the CI's own and is read from disk (one
        that reaches into the repository through a symbolic link is refused); one inside it is
        read from the ref by name, and the work tree's differing copy is listed as not used.
        """
        ref = self.ref
        if ref is None:
            content = self.work.read(path, what=what)
            return (path, content) if content is not None else None
        if not ref.inside(path):
            self._outside(path, ref, what)
            content = self.work.read(path, what=what)
            return (path, content) if content is not None else None
        rel = ref.rel(path)
        trusted = ref.read(path, what=what)
        self.compare(path, kind, trusted, ref.shown_rel(rel))
        return (ref.shown_rel(rel), trusted) if trusted is not None else None

    @staticmethod
    def _outside(path: str, ref: GitRef, what: str) -> None:
        """A path outside the repository is the CI's own; one that links into the work tree is refused."""
        real = Path(os.path.realpath(path))
        if real == ref.repo.root or ref.repo.root in real.parents:
            raise ConfigError(
                f"{path} lies outside the repository but is a symbolic link into it: refused as the {what}",
                file=path,
                hint="name the file by its path inside the repository, or keep CI files outside it",
            )

    def compare(self, path: str, kind: Kind, trusted: bytes | None, shown: str) -> None:
        """Record how the work tree's copy of one trusted file differs (nothing when equal)."""
        link = self.work_link(path)
        if link is not None:
            self.note(path, kind, "symlink", f"a symbolic link in the work tree ({link}); {shown} was read by name")
            return
        work = self.work.read(path, what=kind) if not Path(path).is_dir() else None
        if work == trusted:
            return
        if trusted is None:
            self.note(path, kind, "added", f"not in {self.ref.ref if self.ref else 'the trusted source'}: not used")
        elif work is None:
            self.note(path, kind, "deleted", f"{shown} was used")
        else:
            self.note(path, kind, "modified", f"{shown} was used")

    def work_link(self, path: str) -> str | None:
        """`a -> target` when the path, or a folder on its way below the repository root, is a symbolic link."""
        ref = self.ref
        if ref is None:
            return None
        here = ref.repo.root
        for part in Path(ref.rel(path)).parts:
            if part == ".":
                continue
            here = here / part
            if here.is_symlink():
                return f"{here.relative_to(ref.repo.root).as_posix()} -> {os.readlink(here)}"
        return None

    def policy_root(self, given: str | None) -> str:
        """`policy_root` asked of the trusted source. Under a ref without a policy folder, the
        work tree's own `policies` folder (added by the change) is listed as not used."""
        root = policy_root(given, source=self.source)
        ref = self.ref
        if ref is not None and not given and root != PROJECT_POLICY_FOLDER and ref.inside(PROJECT_POLICY_FOLDER):
            if self.work.node(PROJECT_POLICY_FOLDER) == "folder":
                self.note(PROJECT_POLICY_FOLDER, "policy", "added", f"not in {ref.ref}: not used; the pack shipped with the gate judged")
        return root

    def policy(self, path: str, extra_data: Sequence[str], key: tuple[str, bytes] | None) -> PolicySet:
        """The policies (folder or bundle) and `--data` files from the trusted source."""
        extra = []
        for data in extra_data:
            got = self.file(data, "data", what="data file")
            if got is None:
                ref = self.ref
                if ref is not None and ref.inside(data) and self.work.node(data) == "file":
                    # Not in the trusted ref: added by the change, or written by the pipeline into
                    # the checkout. Ignoring it could drop stricter settings; using it could let a
                    # change relax its own gate. So neither: say where such a file must live.
                    raise ConfigError(
                        f"--data {data} is not in {ref.ref}: with --policy-ref, data files inside the repository come from the trusted "
                        "ref; commit it to the trusted branch, or write pipeline-generated data outside the repository (e.g. $RUNNER_TEMP)",
                        file=data,
                    )
                where = f"neither at {ref.shown(data)} nor in the work tree" if ref is not None and ref.inside(data) else ""
                raise ConfigError(f"data file not found{', ' + where if where else ''}", file=data)
            extra.append(got)
        ref = self.ref
        source: Source = self.source
        if ref is not None and not ref.inside(path):
            # A policy outside the repository (a bundle the CI downloaded) is the CI's own.
            self._outside(path, ref, "policy source")
            source = self.work
        policy = load_policy_from(source, path, extra_data=extra, key=key[1] if key else None)
        if ref is not None and source is ref:
            self._compare_policy(path, ref)
        return policy

    def _compare_policy(self, path: str, ref: GitRef) -> None:
        link = self.work_link(path)
        shown = ref.shown(path)
        if link is not None:
            self.note(path, "policy", "symlink", f"a symbolic link in the work tree ({link}); {shown} was read by name")
            return
        if ref.node(path) == "file":
            self.compare(path, "policy", ref.read(path, what="policy bundle"), shown)
            return
        trusted = {rel: c for rel, c in ref.folder(path).items() if _governs(rel)}
        work_root = Path(path)
        prefix = path.rstrip("/")
        in_work = {p.relative_to(work_root).as_posix() for p in work_root.rglob("*")} if work_root.is_dir() else set()
        for rel in sorted(set(trusted) | in_work):
            if not _governs(rel):
                continue
            p = work_root / rel
            kind: Kind = "policy" if rel.endswith(".rego") or not is_policy_file(rel) else "data"
            shown_rel = f"{shown}/{rel}"
            name = rel if prefix in ("", ".") else f"{prefix}/{rel}"
            link = self.work_link(name)
            if link is not None:
                link = f"a symbolic link in the work tree ({link})"
                self.note(name, kind, "symlink", f"{link}; {shown_rel} was read" if rel in trusted else f"{link}: not used")
                continue
            work = p.read_bytes() if p.is_file() else None
            if p.is_dir() or work == trusted.get(rel):
                continue
            if rel not in trusted:
                self.note(name, kind, "added", f"not in {ref.ref}: not used")
            elif work is None:
                self.note(name, kind, "deleted", f"{shown_rel} was used")
            else:
                self.note(name, kind, "modified", f"{shown_rel} was used")


def trusted_config(path: str, policy_ref: str, repo_root: str | None = None) -> tuple[str, bytes, list[dict[str, Any]]]:
    """The config file (`gate.toml`) under `--policy-ref`: (name, bytes, the work tree's change).

    A config file inside the repository is read from the ref by name; one the ref lacks is a
    ConfigError (2): ignoring it could drop stricter settings, using it would let the change pick
    its own stage, waivers or baseline. A config file outside the repository is the CI's own.
    """
    gov = Governance.open(policy_ref, repo_root)
    got = gov.file(path, "config", what="config file")
    if got is None:
        ref = gov.ref
        where = f" at {ref.shown(path)}" if ref is not None and ref.inside(path) else ""
        raise ConfigError(
            f"config file not found{where}: under --policy-ref a config file inside the repository comes from the trusted ref",
            file=path,
            hint="commit it on the trusted branch, or keep a CI-only config outside the repository",
        )
    return got[0], got[1], gov.not_used


def read_config(path: str, policy_ref: str | None = None, repo_root: str | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """`--config FILE`: the `[gate]` table of a gate.toml (or the whole file when it has none),
    and the work tree's change set aside. Under `--policy-ref` a config file inside the
    repository is read from the ref (`trusted_config`). ConfigError (2) naming the file when it
    is missing, not TOML, or its table is not a table."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10
        import tomli as tomllib
    shown = path
    not_used: list[dict[str, Any]] = []
    if policy_ref:
        shown, content, not_used = trusted_config(path, policy_ref, repo_root)
    else:
        try:
            with open(path, "rb") as fh:
                content = fh.read()
        except FileNotFoundError:
            raise ConfigError("config file not found", file=path) from None
    try:
        data = tomllib.loads(content.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"invalid TOML: {exc}", file=shown) from None
    section = data.get("gate", data)
    if not isinstance(section, dict):
        raise ConfigError("the [gate] table must be a table", file=shown)
    return section, not_used


def _governs(rel: str) -> bool:
    """The files of a policy folder whose change matters: what the loader reads, and a signature."""
    return is_policy_file(rel) or rel.split("/")[-1] in (".signatures.json", ".manifest")


def git_toplevel(path: str | os.PathLike[str]) -> str | None:
    """`git rev-parse --show-toplevel` from `path` (git only reads; nothing of the tree runs)."""
    folder = Path(path)
    if not folder.is_dir():
        folder = folder.parent
    try:
        done = subprocess.run(  # noqa: S603 - a fixed git command, no shell
            ["git", "rev-parse", "--show-toplevel"],  # noqa: S607 - git from PATH, as trusted.py uses it
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    top = done.stdout.strip()
    return top if done.returncode == 0 and top else None
