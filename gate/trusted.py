"""A trusted policy source: policies, their data and the waivers file read from a git ref.

On a pull request the work tree is the author's: a change that weakens a rule, relaxes a
threshold in data or adds a waiver would approve itself. With `--policy-ref REF` (the Action
passes the base commit) the gate reads instead, from REF with git (`git ls-tree`, `git
cat-file`, never a checkout, so the work tree is left alone):

- the policy folder (`--policy`, default `policies`): its `*.rego` modules and `data/` files;
- each `--data FILE` that lies inside the repository (files outside it are not the pull
  request's to change, and are read from disk; one inside it that the ref does not have is
  refused, since it may be the change's own);
- the waivers file (`--waivers`), at the same path.

Whatever the work tree changed in those files (modified, added, deleted) is ignored and listed
in the verdict as `not_used`, so a reviewer sees what the pull request tried to change and that
it did not count. Paths given on the command line are relative to the current directory, as
without `--policy-ref`; the current directory must lie inside the repository.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gate.errors import ConfigError, GateError, PolicyError
from gate.policy import DATA_DIR, DATA_SUFFIXES, PolicySet, load_policy

_GIT_TIMEOUT = 60.0


@dataclass
class TrustedPolicySet(PolicySet):
    """A PolicySet read from a git ref, with what the work tree changed and was not used."""

    ref: str = ""
    commit: str = ""
    not_used: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class _Repo:
    root: Path
    commit: str
    ref: str

    def rel(self, path: str | Path) -> str:
        """A command-line path (relative to the current directory) as a path in the repository."""
        real = Path(os.path.realpath(path))
        try:
            rel = real.relative_to(self.root)
        except ValueError:
            raise ConfigError(
                f"--policy-ref: {path} lies outside the git repository {self.root}",
                file=str(path),
                hint="run the gate from inside the repository whose ref holds the policies",
            ) from None
        return rel.as_posix() or "."

    def inside(self, path: str | Path) -> bool:
        try:
            Path(os.path.realpath(path)).relative_to(self.root)
        except ValueError:
            return False
        return True

    def shown(self, rel: str) -> str:
        """How a file from the ref is named in messages: `REF:path` (git's own notation)."""
        return f"{self.ref}:{rel}"


def _git(args: Sequence[str], *, cwd: Path | None = None, stdin: bytes | None = None) -> bytes:
    """Run git; a failure is a ConfigError quoting git's own message."""
    try:
        proc = subprocess.run(  # noqa: S603 - fixed program, arguments are not parsed by a shell
            ["git", *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            timeout=_GIT_TIMEOUT,
            check=False,
            env={**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_LITERAL_PATHSPECS": "1"},
        )
    except FileNotFoundError:
        raise ConfigError("--policy-ref needs git, and git is not on PATH") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(f"--policy-ref: `git {args[0]}` took longer than {_GIT_TIMEOUT:.0f} s") from None
    if proc.returncode != 0:
        text = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ConfigError(f"--policy-ref: `git {args[0]}` failed: {text[-1] if text else f'exit {proc.returncode}'}")
    return proc.stdout


def _open_repo(ref: str) -> _Repo:
    if not ref or ref.startswith("-") or any(c in ref for c in "\0\n\r"):
        raise ConfigError(f"--policy-ref {ref!r} is not a git ref or commit")
    try:
        root = _git(["rev-parse", "--show-toplevel"]).decode("utf-8", "surrogateescape").strip()
    except ConfigError:
        raise ConfigError(
            f"--policy-ref {ref}: the current directory {os.getcwd()} is not inside a git repository",
            hint="run the gate from the checkout whose history holds the trusted policies",
        ) from None
    try:
        commit = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"]).decode().strip()
    except ConfigError:
        raise ConfigError(
            f"--policy-ref {ref}: no such commit in {root}",
            hint="fetch it first (e.g. `git fetch origin BASE` or actions/checkout with fetch-depth: 0)",
        ) from None
    return _Repo(root=Path(os.path.realpath(root)), commit=commit, ref=ref)


@dataclass(frozen=True)
class _Entry:
    mode: str
    kind: str
    sha: str
    path: str


def _ls_tree(repo: _Repo, rel: str) -> list[_Entry]:
    """Every entry under `rel` at the ref (recursively), repository-relative paths."""
    args = ["ls-tree", "-r", "-z", "--full-tree", repo.commit]
    if rel != ".":
        args += ["--", rel]
    out = []
    for record in _git(args, cwd=repo.root).split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, kind, sha = meta.decode().split(" ")
        out.append(_Entry(mode, kind, sha, path.decode("utf-8", "surrogateescape")))
    return out


def _blobs(repo: _Repo, shas: Sequence[str]) -> dict[str, bytes]:
    """The contents of these blobs, in one `git cat-file --batch`."""
    if not shas:
        return {}
    unique = sorted(set(shas))
    raw = _git(["cat-file", "--batch"], cwd=repo.root, stdin="".join(f"{s}\n" for s in unique).encode())
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


def _relevant(rel: str) -> bool:
    """The files a policy folder's loader uses: Rego modules anywhere, data files under data/."""
    parts = rel.split("/")
    return rel.endswith(".rego") or (rel.endswith(DATA_SUFFIXES) and len(parts) > 1 and parts[0] == DATA_DIR)


def _work_tree_files(folder: Path) -> dict[str, bytes]:
    """The relevant files of the work tree's policy folder (what load_policy would read)."""
    if not folder.is_dir():
        return {}
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and _relevant(rel):
            out[rel] = p.read_bytes()
    return out


def _changes(trusted: Mapping[str, bytes], work: Mapping[str, bytes], shown_prefix: str, kind_of: Any) -> list[dict[str, Any]]:
    out = []
    for rel in sorted(set(trusted) | set(work)):
        if rel not in work:
            change = "deleted"
        elif rel not in trusted:
            change = "added"
        elif trusted[rel] != work[rel]:
            change = "modified"
        else:
            continue
        path = f"{shown_prefix}/{rel}" if shown_prefix not in ("", ".") else rel
        out.append({"path": path, "kind": kind_of(rel), "change": change})
    return out


def _kind(rel: str) -> str:
    return "policy" if rel.endswith(".rego") else "data"


@contextmanager
def _temp_files(contents: Mapping[str, bytes]) -> Iterator[dict[str, str]]:
    """Write contents to temporary files; yields shown name -> temporary path."""
    with tempfile.TemporaryDirectory(prefix="gate-ref-") as tmp:
        paths = {}
        for i, (shown, content) in enumerate(contents.items()):
            real = os.path.join(tmp, f"{i}{Path(shown).suffix or '.yaml'}")
            Path(real).write_bytes(content)
            paths[shown] = real
        yield paths


def _rename_in_error(exc: GateError, names: Mapping[str, str]) -> None:
    """Errors from loaders that read temporary copies name the file as the user knows it."""
    for shown, real in names.items():
        if exc.file == real:
            exc.file = shown
        exc.message = exc.message.replace(real, shown)


def load_from_ref(ref: str, policy_dir: str, extra_data: Sequence[str] = ()) -> TrustedPolicySet:
    """Load the policy folder (and the `--data` files inside the repository) as they are at `ref`.

    Raises ConfigError (2) when git, the repository or the ref is missing, PolicyError (4) when
    the ref has no policy folder at that path, and whatever load_policy raises for bad policies.
    """
    repo = _open_repo(ref)
    rel = repo.rel(policy_dir)
    entries = _ls_tree(repo, rel)
    prefix = "" if rel == "." else rel + "/"
    files_at_ref: dict[str, bytes]
    bundle: bytes | None = None
    if len(entries) == 1 and entries[0].path == rel and rel != ".":
        if entries[0].mode == "120000":
            raise PolicyError(f"{repo.shown(rel)} is a symbolic link: refused as a trusted policy source", file=policy_dir)
        bundle = _blobs(repo, [entries[0].sha])[entries[0].sha]
        files_at_ref = {}
    else:
        wanted = [e for e in entries if e.path.startswith(prefix) and _relevant(e.path[len(prefix) :])]
        if not wanted:
            raise PolicyError(f"no policy folder at {repo.shown(rel)} (no *.rego there)", file=policy_dir)
        for e in wanted:
            if e.mode == "120000":
                raise PolicyError(
                    f"{repo.shown(e.path)} is a symbolic link: refused as part of a trusted policy source",
                    file=policy_dir,
                    hint="commit the file itself",
                )
        commits = [e for e in wanted if e.kind != "blob"]
        if commits:
            raise PolicyError(f"{repo.shown(commits[0].path)} is a {commits[0].kind}, not a file", file=policy_dir)
        contents = _blobs(repo, [e.sha for e in wanted])
        files_at_ref = {e.path[len(prefix) :]: contents[e.sha] for e in wanted}

    # --data files: from the ref when they lie inside the repository.
    data_at_ref: dict[str, bytes] = {}
    not_used: list[dict[str, Any]] = []
    disk_data: list[str] = []
    for extra in extra_data:
        if not repo.inside(extra):
            disk_data.append(extra)
            continue
        erel = repo.rel(extra)
        found = [e for e in _ls_tree(repo, erel) if e.path == erel and e.kind == "blob" and e.mode != "120000"]
        work = Path(extra).read_bytes() if Path(extra).is_file() else None
        if found:
            content = _blobs(repo, [found[0].sha])[found[0].sha]
            data_at_ref[extra] = content
            if work is None:
                not_used.append({"path": extra, "kind": "data", "change": "deleted"})
            elif work != content:
                not_used.append({"path": extra, "kind": "data", "change": "modified"})
        elif work is not None:
            # Not in the trusted ref: added by the change, or written by the pipeline into the
            # checkout. Ignoring it could silently drop stricter settings; using it could let a
            # change relax its own gate. So neither: say where such a file must live.
            raise ConfigError(
                f"--data {extra} is not in {ref}: with --policy-ref, data files inside the repository come from the trusted ref; "
                "commit it to the trusted branch, or write pipeline-generated data outside the repository (e.g. $RUNNER_TEMP)",
                file=extra,
            )
        else:
            raise ConfigError(f"data file not found, neither at {repo.shown(erel)} nor in the work tree", file=extra)

    with _temp_files({**data_at_ref, **({policy_dir: bundle} if bundle is not None else {})}) as temps:
        # Keep the command line's order of --data files: it is their merge order.
        extra_paths = [temps.get(e, e) for e in extra_data if e in data_at_ref or e in disk_data]
        try:
            if bundle is not None:
                policy = load_policy(temps[policy_dir], extra_data=extra_paths, include_tests=False)
            else:
                policy = load_policy(repo.shown(rel), files=files_at_ref, extra_data=extra_paths, include_tests=False)
        except GateError as exc:
            _rename_in_error(exc, temps)
            raise
        policy.data_files = [_shown_of(p, temps, repo) for p in policy.data_files]

    if bundle is not None:
        work_bundle = Path(policy_dir).read_bytes() if Path(policy_dir).is_file() else None
        if work_bundle != bundle:
            change = "deleted" if work_bundle is None else "modified"
            not_used.insert(0, {"path": policy_dir, "kind": "policy", "change": change})
        policy.root = repo.shown(rel)
    else:
        not_used[:0] = _changes(files_at_ref, _work_tree_files(Path(policy_dir)), policy_dir.rstrip("/"), _kind)
    values = {f.name: getattr(policy, f.name) for f in dataclasses.fields(PolicySet)}
    values.update(source="git", revision=repo.commit)
    return TrustedPolicySet(**values, ref=ref, commit=repo.commit, not_used=sorted(not_used, key=lambda e: e["path"]))


def _shown_of(path: str, temps: Mapping[str, str], repo: _Repo) -> str:
    for shown, real in temps.items():
        if path == real:
            return repo.shown(repo.rel(shown))
    return path


def load_waivers_from_ref(
    ref: str,
    path: str,
    *,
    now: dt.datetime,
    horizon_days: int,
    warn_before_days: int,
) -> tuple[Any, list[dict[str, Any]]]:
    """The waivers file as it is at `ref` (a WaiverSet), and the work tree's change to it if any.

    A waivers file the ref does not have gives no waivers (the work tree's is listed as not
    used); one that neither the ref nor the work tree has is a ConfigError, as without a ref.
    """
    from gate.waivers import WaiverSet

    repo = _open_repo(ref)
    rel = repo.rel(path)
    found = [e for e in _ls_tree(repo, rel) if e.path == rel]
    work = Path(path).read_bytes() if Path(path).is_file() else None
    if not found:
        if work is None:
            raise ConfigError(f"waivers file not found, neither at {repo.shown(rel)} nor in the work tree", file=path)
        return WaiverSet.empty(path=repo.shown(rel), now=now, warn_before_days=warn_before_days), [
            {"path": path, "kind": "waivers", "change": "added"}
        ]
    entry = found[0]
    if entry.kind != "blob" or entry.mode == "120000":
        raise ConfigError(f"{repo.shown(rel)} is not a regular file: refused as the trusted waivers file", file=path)
    content = _blobs(repo, [entry.sha])[entry.sha]
    changes = []
    if work != content:
        changes.append({"path": path, "kind": "waivers", "change": "deleted" if work is None else "modified"})
    with _temp_files({path: content}) as temps:
        try:
            waivers = WaiverSet.load(
                temps[path], now=now, horizon_days=horizon_days, warn_before_days=warn_before_days, shown=repo.shown(rel)
            )
        except GateError as exc:
            _rename_in_error(exc, {repo.shown(rel): temps[path]})
            raise
    return waivers, changes


def unchanged_at_ref(ref: str, paths: Sequence[str]) -> dict[str, str | None]:
    """For each path: None when the work tree's file is byte-identical to the one at `ref`,
    else the change (`added` when the ref lacks it or it lies outside the repository, `modified`).

    Used for VEX documents passed as reports: under `--policy-ref`, a statement may only stop a
    finding from blocking when it comes from the trusted ref, as waivers do; otherwise a pull
    request could approve itself by adding a VEX file.
    """
    repo = _open_repo(ref)
    out: dict[str, str | None] = {}
    wanted: dict[str, str] = {}
    for path in paths:
        if not repo.inside(path):
            out[path] = "added"
            continue
        wanted[path] = repo.rel(path)
    entries = {e.path: e for rel in set(wanted.values()) for e in _ls_tree(repo, rel) if e.path == rel}
    blobs = _blobs(repo, [e.sha for e in entries.values() if e.kind == "blob" and e.mode != "120000"])
    for path, rel in wanted.items():
        entry = entries.get(rel)
        if entry is None or entry.sha not in blobs:
            out[path] = "added"
            continue
        out[path] = None if Path(path).read_bytes() == blobs[entry.sha] else "modified"
    return out
