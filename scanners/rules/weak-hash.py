import hashlib
import hmac

from cryptography.hazmat.primitives import hashes


def sign(payload, key, password):
    # ruleid: gate.python.weak-hash
    digest = hashlib.md5(payload).hexdigest()
    # ruleid: gate.python.weak-hash
    fingerprint = hashlib.sha1(payload).hexdigest()
    # ruleid: gate.python.weak-hash
    stored = hashlib.new("md5", password).hexdigest()
    # ruleid: gate.python.weak-hash
    algorithm = hashes.SHA1()
    return digest, fingerprint, stored, algorithm


def fine(payload, key):
    # ok: gate.python.weak-hash
    digest = hashlib.sha256(payload).hexdigest()
    # ok: gate.python.weak-hash
    cache_key = hashlib.md5(payload, usedforsecurity=False).hexdigest()
    # ok: gate.python.weak-hash
    mac = hmac.new(key, payload, hashlib.sha256).hexdigest()
    # ok: gate.python.weak-hash
    legacy_mac = hmac.new(key, payload, hashlib.md5).hexdigest()
    # ok: gate.python.weak-hash
    other = hashlib.new("sha512", payload)
    return digest, cache_key, mac, legacy_mac, other
