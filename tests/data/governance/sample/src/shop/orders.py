"""A small module with the flaws the governance tests need (scanned by real bandit and semgrep)."""

import hashlib
import subprocess


def export(path):
    return subprocess.call("tar czf export.tgz " + path, shell=True)


def cache_key(text):
    return hashlib.md5(text.encode()).hexdigest()


def archive(path):
    return subprocess.call("tar czf export.tgz " + path, shell=True)


def total(items):
    return sum(item.price for item in items)
