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


# Issue 17: a signing library's lazy SHA-1 constructor, passed as the digest of an HMAC.
def _lazy_sha1(string=b""):
    """Don't touch hashlib.sha1 until it is needed (FIPS builds may lack it)."""
    # ok: gate.python.weak-hash
    return hashlib.sha1(string)


def _plain_md5(data):
    # ok: gate.python.weak-hash
    return hashlib.md5(data)


def signature(key, value):
    mac = hmac.new(key, msg=value, digestmod=_lazy_sha1)
    # ok: gate.python.weak-hash
    other = hmac.new(key, value, lambda d=b"": hashlib.sha1(d))
    return mac.digest(), other.digest()


def store(password, salt):
    # ruleid: gate.python.weak-hash-wrapper-call
    first = _plain_md5(salt + password).hexdigest()
    # ruleid: gate.python.weak-hash-wrapper-call
    second = _later_sha1(password).hexdigest()
    # ruleid: gate.python.weak-hash-wrapper-call
    third = _lambda_md5(password).hexdigest()
    # ok: gate.python.weak-hash, gate.python.weak-hash-wrapper-call
    fourth = hmac.new(salt, password, _lazy_sha1).digest()
    return first, second, third, fourth


def _later_sha1(data=b""):
    """Defined below its caller."""
    # ok: gate.python.weak-hash
    return hashlib.sha1(data)


# ok: gate.python.weak-hash
_lambda_md5 = lambda d: hashlib.md5(d)  # noqa: E731


class Store:
    digest = staticmethod(_plain_md5)

    def save(self, key, password):
        # ruleid: gate.python.weak-hash-wrapper-call
        stored = self.digest(password).hexdigest()
        # ok: gate.python.weak-hash-wrapper-call
        mac = hmac.new(key, password, digestmod=self.digest).digest()
        return stored, mac


def not_a_wrapper(password, salt):
    # ruleid: gate.python.weak-hash
    return hashlib.sha1(salt + password)


def fixed_input_wrapper(string=b""):
    # ruleid: gate.python.weak-hash
    return hashlib.md5(b"secret" + string)


def wrapper_that_does_more(password):
    password = password.strip()
    # ruleid: gate.python.weak-hash
    return hashlib.sha1(password)
