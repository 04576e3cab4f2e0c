import yaml
from yaml import FullLoader, SafeLoader


def read_config(text, stream):
    # ruleid: gate.python.unsafe-yaml-load
    a = yaml.load(text, Loader=yaml.Loader)
    # ruleid: gate.python.unsafe-yaml-load
    b = yaml.load(text, Loader=FullLoader)
    # ruleid: gate.python.unsafe-yaml-load
    c = yaml.unsafe_load(stream)
    # ruleid: gate.python.unsafe-yaml-load
    d = yaml.load(text)
    # ruleid: gate.python.unsafe-yaml-load
    e = list(yaml.load_all(text, yaml.UnsafeLoader))
    # ruleid: gate.python.unsafe-yaml-load
    f = yaml.full_load(text)
    return a, b, c, d, e, f


def safe(text):
    # ok: gate.python.unsafe-yaml-load
    a = yaml.safe_load(text)
    # ok: gate.python.unsafe-yaml-load
    b = yaml.load(text, Loader=yaml.SafeLoader)
    # ok: gate.python.unsafe-yaml-load
    c = yaml.load(text, Loader=SafeLoader)
    # ok: gate.python.unsafe-yaml-load
    d = yaml.load(text, yaml.CSafeLoader)
    return a, b, c, d
