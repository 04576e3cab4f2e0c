"""OPA bundles of a policy folder: build them (optionally signed), read them back, verify them.

An organisation that runs OPA servers distributes policy as bundles (a `tar.gz` that OPA reads
with `opa run --bundle` or downloads from a bundle service). `gate policy bundle` builds one:

- `.manifest`: `revision` (the policy digest, or `--revision`), `roots` `["gate", "config"]`,
  `rego_version` 1, and `metadata.gate`: `content_digest`, the policy digest (what
  `--policy-digest` pins and the gate compares with an OPA server's loaded bundle), and
  `git_revision` (the last commit of the folder) when there is one. One policy set has one
  digest: the folder, the same folder at a git ref, the bundle and its manifest all give it;
- the Rego modules that decide (unit tests left out: what is deployed is what decides), at
  their paths inside the policy folder;
- `data.json`: `{"config": merged data}`, exactly the `data` every engine receives;
- `_gate_decision.rego`: generated, not a policy: one rule (`data.gate._decision.decisions`)
  that gathers every decision set, so the `opa-server` engine sends the input once per
  evaluation; the gate leaves it out when it reads a bundle back (it is not in the content digest);
- with a signing key, `.signatures.json`: OPA's bundle signing, a JWT whose `files` claim lists
  every file with its SHA-256 computed the way OPA computes it (structured files hashed over
  their parsed form, keys sorted), so `opa run --verification-key` accepts the bundle.

The archive's bytes are deterministic (sorted members, zero times and owners, gzip without a
name or time; RSA signatures are deterministic too), so the same folder and revision give the
same file (`build_bundle` returns its `sha256:`, for artifact stores).

Reading is defensive: members must be regular files with clean relative names, no duplicates,
bounded sizes; a signed bundle is used only after its signature and every file hash verify
against the key the user gave; a signed bundle without a key, a key without a signature, a
tampered file, or a file the signature does not list is refused (exit 4).
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from gate.errors import ConfigError, OutputError, PolicyError
from gate.policy import DEFAULT_DATA, PolicySet, merge_data_bytes, policy_from_files, relative_modules

# The policy digest; re-exported here, where it was defined before it became the policy digest.
from gate.policy import content_digest as content_digest

ROOTS = ("gate", "config")
MANIFEST = ".manifest"
SIGNATURES = ".signatures.json"
DATA_JSON = "data.json"
HASH_ALGORITHM = "SHA-256"
DEFAULT_KEY_ID = "default"
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512")
VERIFICATION_KEY_ENV = "GATE_VERIFICATION_KEY"
DECISION_MODULE = "_gate_decision.rego"
DECISION_PACKAGE = "gate._decision"
DECISION_RULE = "decisions"
MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024


# --------------------------------------------------------------------------------------------
# Digests


def file_digest(path: str | Path) -> str:
    """`sha256:<hex>` of a file's bytes."""
    hasher = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            hasher.update(chunk)
    return "sha256:" + hasher.hexdigest()


# OPA hashes structured files (data.json, .manifest) over their parsed value, so whitespace and
# key order do not matter: objects as `{` key `:` value ... `}` with keys sorted, arrays as
# `[`...`]`, and every scalar as Go's encoding/json writes it (HTML escaping off; numbers
# exactly as written in the file). See OPA's v1/bundle/hash.go; written by hand because no
# library implements this walk.


class _Number(str):
    """A JSON number kept as its literal text (Go decodes with UseNumber and re-emits it)."""


def _go_string(s: str) -> bytes:
    # Python and Go agree on every escape (\" \\ \b \f \n \r \t, \u00XX lowercase for other
    # control characters, DEL and non-ASCII left raw) except U+2028/U+2029, which Go escapes.
    text = json.dumps(s, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text.encode("utf-8", "replace")


def _walk(value: Any, out: list[bytes]) -> None:
    if isinstance(value, dict):
        out.append(b"{")
        for i, key in enumerate(sorted(value)):
            if i:
                out.append(b",")
            out.append(_go_string(key))
            out.append(b":")
            _walk(value[key], out)
        out.append(b"}")
    elif isinstance(value, list):
        out.append(b"[")
        for i, item in enumerate(value):
            if i:
                out.append(b",")
            _walk(item, out)
        out.append(b"]")
    elif isinstance(value, _Number):
        out.append(str.__str__(value).encode())
    elif isinstance(value, str):
        out.append(_go_string(value))
    elif value is True:
        out.append(b"true")
    elif value is False:
        out.append(b"false")
    elif value is None:
        out.append(b"null")
    else:  # only reached for numbers of documents the gate serialised itself
        out.append(json.dumps(value).encode())


def _parse_structured(content: bytes, name: str) -> Any:
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        return json.loads(content.decode("utf-8"), parse_int=_Number, parse_float=_Number, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PolicyError(f"bundle file {name} is not valid JSON: {exc}") from None


def opa_file_hash(name: str, content: bytes) -> str:
    """The hex SHA-256 OPA records for a bundle file in `.signatures.json`."""
    base = PurePosixPath(name).name
    if base in (DATA_JSON, MANIFEST):
        parts: list[bytes] = []
        _walk(_parse_structured(content, name), parts)
        return hashlib.sha256(b"".join(parts)).hexdigest()
    return hashlib.sha256(content).hexdigest()


# --------------------------------------------------------------------------------------------
# Revision


def git_revision(folder: str | Path) -> str | None:
    """The last commit that touched the folder, with `-dirty` when it has uncommitted changes.

    None when the folder is not in a git work tree (or git is absent).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return None
    try:
        sha = subprocess.run(
            ["git", "log", "-1", "--format=%H", "--", "."], cwd=folder, capture_output=True, text=True, timeout=30, check=False
        )
        if sha.returncode != 0 or not sha.stdout.strip():
            return None
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "."], cwd=folder, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    revision = sha.stdout.strip()
    if status.returncode != 0 or status.stdout.strip():
        revision += "-dirty"
    return revision


# --------------------------------------------------------------------------------------------
# Building


def _read_key(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the {what}: {exc.strerror or exc}", file=str(path)) from None


def _jwt() -> Any:
    try:
        import jwt
    except ModuleNotFoundError:  # pragma: no cover - a dependency of the package
        raise PolicyError("bundle signing needs PyJWT with cryptography (pip install 'PyJWT[crypto]')") from None
    return jwt


def sign_files(files: Mapping[str, bytes], signing_key: str | Path, *, algorithm: str = "RS256", key_id: str = DEFAULT_KEY_ID) -> bytes:
    """`.signatures.json` for these bundle files, as `opa build --signing-key` writes it."""
    if algorithm not in SIGNING_ALGORITHMS:
        raise ConfigError(f"unknown signing algorithm {algorithm!r}; one of: {', '.join(SIGNING_ALGORITHMS)}")
    key = _read_key(signing_key, "signing key")
    if not algorithm.startswith("HS") and not key.lstrip().startswith(b"-----BEGIN"):
        raise ConfigError(f"{algorithm} needs a PEM private key", file=str(signing_key))
    claims = {
        "files": [
            {"name": name, "hash": opa_file_hash(name, content), "algorithm": HASH_ALGORITHM} for name, content in sorted(files.items())
        ],
        "keyid": key_id,  # deprecated claim OPA still writes, kept for older verifiers
    }
    jwt = _jwt()
    try:
        token = jwt.encode(claims, key, algorithm=algorithm, headers={"kid": key_id})
    except (ValueError, TypeError, jwt.exceptions.PyJWTError) as exc:
        raise ConfigError(f"cannot sign with this key and {algorithm}: {exc}", file=str(signing_key)) from None
    return json.dumps({"signatures": [token]}, indent=2).encode() + b"\n"


def decision_module(policy: PolicySet) -> str:
    """The generated module: `decisions` is every decision set of the policy, keyed `package|decision`
    (the key scheme of `gate.engine.embedded.decision_query`), undefined if any of them is."""
    entries = "".join(f'\t"{pkg}|{dec}": data.{pkg}.{dec},\n' for pkg, dec in policy.queries())
    return (
        "# Generated by `gate policy bundle`; not a policy (the gate does not load it). Every decision\n"
        "# in one rule, so the opa-server engine asks once per evaluation.\n"
        f"package {DECISION_PACKAGE}\n\n{DECISION_RULE} := {{\n{entries}}}\n"
    )


def bundle_files(policy: PolicySet, revision: str, git: str | None = None) -> dict[str, bytes]:
    """The files of the bundle (name -> bytes), before signing; `git` is the folder's git revision."""
    gate_meta: dict[str, str] = {"content_digest": content_digest(policy)}
    if git:
        gate_meta["git_revision"] = git
    modules = relative_modules(policy)
    by_path = {m.path: m for m in policy.policy_modules()}
    for m in by_path.values():
        if m.package.split(".")[0] != "gate":  # `config` is the data's root, not a package's
            raise PolicyError(
                f"package {m.package} lies outside the bundle root for policies (gate); OPA would refuse the bundle",
                file=m.path,
            )
    files: dict[str, bytes] = {}
    for rel, text in modules:
        if PurePosixPath(rel).name in (DATA_JSON, MANIFEST, SIGNATURES) or rel == DECISION_MODULE:
            raise PolicyError(f"a module may not be named {rel}", file=f"{policy.root}/{rel}")
        files[rel] = text.encode("utf-8")
    for m in by_path.values():
        if m.package == DECISION_PACKAGE or m.package.startswith(DECISION_PACKAGE + "."):
            raise PolicyError(f"package {m.package} is reserved for the bundle's generated decision rule", file=m.path)
    files[DECISION_MODULE] = decision_module(policy).encode("utf-8")
    try:
        data = json.dumps(policy.data_document(), indent=2, sort_keys=True, allow_nan=False)  # ASCII: see content_digest
    except ValueError as exc:
        raise ConfigError(f"the policy data cannot be written as JSON: {exc}", file=policy.root) from None
    files[DATA_JSON] = (data + "\n").encode("utf-8")
    manifest = {
        "revision": revision,
        "roots": list(ROOTS),
        "rego_version": 1,
        "metadata": {"gate": gate_meta},
    }
    files[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    return files


def tar_gz_bytes(files: Mapping[str, bytes]) -> bytes:
    """A deterministic tar.gz of the files: sorted, zero times and owners, no gzip name or time."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            info.mode = 0o644
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(files[name]))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def build_bundle(
    policy: PolicySet,
    out: str | Path,
    revision: str | None = None,
    signing_key: str | Path | None = None,
    *,
    signing_alg: str = "RS256",
    key_id: str = DEFAULT_KEY_ID,
) -> str:
    """Write the OPA bundle of `policy` to `out`; return its digest (`sha256:` of the file).

    The revision defaults to the policy digest (`content_digest`); the folder's git revision, when
    it has one, is recorded in the manifest's `metadata.gate.git_revision`.
    Raises PolicyError (a module outside the roots), ConfigError (bad key), OutputError.
    """
    if revision is None:
        revision = content_digest(policy)
    files = bundle_files(policy, revision, git_revision(policy.root))
    if signing_key is not None:
        files[SIGNATURES] = sign_files(files, signing_key, algorithm=signing_alg, key_id=key_id)
    payload = tar_gz_bytes(files)
    target = Path(out)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".bundle-", dir=target.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(f"cannot write the bundle: {exc.strerror or exc}", file=str(out)) from None
    return "sha256:" + hashlib.sha256(payload).hexdigest()


# --------------------------------------------------------------------------------------------
# Reading and verifying


def read_bundle_files(path: str | Path) -> dict[str, bytes]:
    """The members of a bundle archive on disk (name -> bytes), refusing anything unsafe or odd."""
    try:
        content = Path(path).read_bytes()
    except OSError as exc:
        raise PolicyError(f"cannot read the bundle: {exc.strerror or exc}", file=str(path)) from None
    return archive_members(content, str(path))


def archive_members(content: bytes, shown: str) -> dict[str, bytes]:
    """The members of a bundle archive held in memory (name -> bytes); errors name `shown`."""
    files: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as tar:
            for count, member in enumerate(tar, 1):
                if count > MAX_MEMBERS:
                    raise PolicyError(f"bundle has more than {MAX_MEMBERS} members", file=shown)
                if member.isdir():
                    continue
                if not member.isfile():
                    raise PolicyError(f"bundle member {member.name!r} is not a regular file (links and devices are refused)", file=shown)
                name = _clean_name(member.name, shown)
                if name in files:
                    raise PolicyError(f"bundle holds {name} twice", file=shown)
                if member.size > MAX_MEMBER_BYTES:
                    raise PolicyError(f"bundle member {name} is larger than {MAX_MEMBER_BYTES} bytes", file=shown)
                total += member.size
                if total > MAX_TOTAL_BYTES:
                    raise PolicyError(f"bundle unpacks to more than {MAX_TOTAL_BYTES} bytes", file=shown)
                fh = tar.extractfile(member)
                if fh is None:  # pragma: no cover - regular files always have data
                    raise PolicyError(f"cannot read bundle member {name}", file=shown)
                files[name] = fh.read()
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise PolicyError(f"not a readable bundle (tar.gz): {exc}", file=shown) from None
    except OSError as exc:
        raise PolicyError(f"cannot read the bundle: {exc.strerror or exc}", file=shown) from None
    return files


def _clean_name(name: str, shown: str) -> str:
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise PolicyError(f"bundle member name {name!r} is not a clean relative path", file=shown)
    return "/".join(parts)


def verify_signature(files: Mapping[str, bytes], signatures: bytes, key: bytes, *, shown: str) -> None:
    """Check the JWT against the key and every file against the hash it signs (OPA's rules)."""
    jwt = _jwt()
    try:
        doc = json.loads(signatures)
    except ValueError:
        raise PolicyError(f"{SIGNATURES} is not valid JSON", file=shown) from None
    tokens = doc.get("signatures") if isinstance(doc, dict) else None
    if not isinstance(tokens, list) or len(tokens) != 1 or not isinstance(tokens[0], str):
        raise PolicyError(f"{SIGNATURES} must hold exactly one JWT", file=shown)
    asymmetric = key.lstrip().startswith(b"-----BEGIN")
    allowed = [a for a in SIGNING_ALGORITHMS if a.startswith("HS") != asymmetric]
    try:
        header = jwt.get_unverified_header(tokens[0])
        claims = jwt.decode(tokens[0], key, algorithms=allowed, options={"require": ["files"], "verify_aud": False})
    except (jwt.exceptions.PyJWTError, ValueError, TypeError) as exc:
        raise PolicyError(
            f"bundle signature does not verify with the given key: {exc}",
            file=shown,
            hint="the bundle was tampered with or signed with another key",
        ) from None
    if header.get("alg") not in allowed:  # pragma: no cover - jwt.decode already refused it
        raise PolicyError(f"bundle signature algorithm {header.get('alg')!r} does not fit the key", file=shown)
    if claims.get("scope", "") != "":
        raise PolicyError(f"bundle signature has scope {claims.get('scope')!r}; the gate verifies unscoped signatures only", file=shown)
    listed: dict[str, Mapping[str, Any]] = {}
    for entry in claims.get("files") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise PolicyError("bundle signature lists a malformed file entry", file=shown)
        listed[entry["name"].lstrip("/")] = entry
    for name, content in sorted(files.items()):
        entry = listed.pop(name, None)
        if entry is None:
            raise PolicyError(f"bundle file {name} is not covered by the signature: refused", file=shown)
        if entry.get("algorithm") != HASH_ALGORITHM:
            raise PolicyError(
                f"bundle file {name} is signed with hash {entry.get('algorithm')!r}; only {HASH_ALGORITHM} is accepted", file=shown
            )
        if opa_file_hash(name, content) != str(entry.get("hash", "")).lower():
            raise PolicyError(f"bundle file {name} does not match its signed hash: the bundle was tampered with", file=shown)
    if listed:
        raise PolicyError(f"bundle signature lists files that are missing: {', '.join(sorted(listed))}", file=shown)


def read_manifest(files: Mapping[str, bytes], shown: str) -> dict[str, Any]:
    """The parsed `.manifest` ({} when absent)."""
    if MANIFEST not in files:
        return {}
    try:
        manifest = json.loads(files[MANIFEST])
    except ValueError:
        raise PolicyError(f"{MANIFEST} is not valid JSON", file=shown) from None
    if not isinstance(manifest, dict):
        raise PolicyError(f"{MANIFEST} must be a JSON object", file=shown)
    return manifest


def load_bundle(path: str | Path, extra_data: Sequence[str] = (), verification_key: str | Path | None = None) -> PolicySet:
    """A PolicySet from a bundle archive on disk, verified first when it is signed.

    The verification key is `verification_key`, else the file named by GATE_VERIFICATION_KEY.
    (`gate evaluate` reads bundles through gate.sources, which also reads them from a git ref.)
    """
    key_path = verification_key if verification_key is not None else os.environ.get(VERIFICATION_KEY_ENV) or None
    key = _read_key(key_path, "verification key") if key_path is not None else None
    extra = [(e, Path(e).read_bytes()) for e in extra_data]
    try:
        content = Path(path).read_bytes()
    except OSError as exc:
        raise PolicyError(f"cannot read the bundle: {exc.strerror or exc}", file=str(path)) from None
    return policy_from_archive(content, str(path), extra_data=extra, key=key)


def check_signature(files: dict[str, bytes], key: bytes | None, *, shown: str, what: str = "bundle") -> None:
    """Verify (and remove) `.signatures.json` when a key is given; refuse the mismatched cases.

    A signed bundle or folder without a key, a key without a signature, or a signature that does
    not cover exactly the files present is refused (PolicyError, exit 4). Never skipped: a
    folder is checked exactly like an archive (OPA's `opa sign` writes the same file into it).
    """
    signatures = files.pop(SIGNATURES, None)
    if signatures is not None:
        if key is None:
            raise PolicyError(
                f"the {what} is signed but no verification key was given",
                file=shown,
                hint=f"set {VERIFICATION_KEY_ENV} (or --verification-key) to the public key (PEM) it was signed for",
            )
        verify_signature(files, signatures, key, shown=shown)
    elif key is not None:
        raise PolicyError(
            f"a verification key was given but the {what} is not signed: refused ({SIGNATURES} missing)",
            file=shown,
            hint="sign it (`gate policy bundle --signing-key`, or `opa sign` for a folder)",
        )


def policy_from_archive(content: bytes, shown: str, *, extra_data: Sequence[tuple[str, bytes]] = (), key: bytes | None = None) -> PolicySet:
    """A PolicySet from a bundle archive's bytes, verified first when signed or when a key is given.

    The digest is the policy digest (`content_digest`), as for the folder the bundle was built
    from; with `--data` files it covers them too.
    """
    files = archive_members(content, shown)
    check_signature(files, key, shown=shown)
    return policy_from_members(files, shown, extra_data=extra_data)


def policy_from_members(files: Mapping[str, bytes], shown: str, *, extra_data: Sequence[tuple[str, bytes]] = ()) -> PolicySet:
    """A PolicySet from a bundle's members, already verified (`check_signature`) and without
    `.signatures.json`.

    A bundle without data.json (e.g. `opa build` of plain Rego rules) gets the built-in default
    data, as the folder would. A manifest whose `metadata.gate.content_digest` is not the digest
    of what the bundle holds is refused (PolicyError, exit 4): it was edited after it was built.
    """
    files = dict(files)
    for name in files:
        base = PurePosixPath(name).name
        if (base in (DATA_JSON, "data.yaml", "data.yml") and name != DATA_JSON) or name.endswith((".wasm", ".pb")) or base == "patch.json":
            raise PolicyError(f"bundle file {name} is not supported by the gate (only Rego modules and a top-level data.json)", file=shown)
    manifest = read_manifest(files, shown)
    files.pop(MANIFEST, None)
    config: Any = copy.deepcopy(DEFAULT_DATA) if DATA_JSON not in files else {}
    layout: dict[str, bytes] = {}
    for name, member in files.items():
        if name == DATA_JSON:
            doc = _parse_plain_json(member, name, shown)
            if not isinstance(doc, dict) or set(doc) - {"config"}:
                raise PolicyError('the bundle\'s data.json must be {"config": {...}} (a bundle made by `gate policy bundle`)', file=shown)
            config = doc.get("config", {})
            if not isinstance(config, dict):
                raise PolicyError("data.config in the bundle must be an object", file=shown)
        elif name == DECISION_MODULE:
            continue  # generated from the modules (bundle_files), not a policy: the server's shortcut
        elif name.endswith(".rego"):
            layout[name] = member
        # other files are ignored, as OPA ignores them (unsupported ones were refused above)
    # The data is taken as parsed JSON (not re-read as a data file: YAML would misread some JSON
    # strings); --data files are merged on top as for a folder.
    policy = policy_from_files(shown, layout, include_tests=False)
    policy.data = config
    recorded = _recorded_digest(manifest)
    if recorded is not None and recorded != content_digest(policy):
        raise PolicyError(
            f"the manifest records content {recorded} but the bundle holds {content_digest(policy)}: it was changed after it was built",
            file=shown,
            hint="rebuild it with `gate policy bundle`",
        )
    policy.data = merge_data_bytes(config, extra_data)
    policy.digest = content_digest(policy)
    policy.data_files = [f"{shown}/{DATA_JSON}", *(name for name, _ in extra_data)]
    revision = manifest.get("revision")
    policy.revision = str(revision) if revision not in (None, "") else None
    policy.source = "bundle"
    return policy


def _recorded_digest(manifest: Mapping[str, Any]) -> str | None:
    meta = manifest.get("metadata")
    gate_meta = meta.get("gate") if isinstance(meta, dict) else None
    found = gate_meta.get("content_digest") if isinstance(gate_meta, dict) else None
    return str(found) if found is not None else None


def _no_constant(token: str) -> Any:
    raise ValueError(f"{token} is not JSON")


def _parse_plain_json(content: bytes, name: str, shown: str) -> Any:
    try:
        return json.loads(content.decode("utf-8-sig"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PolicyError(f"bundle file {name} is not valid JSON: {exc}", file=shown) from None
