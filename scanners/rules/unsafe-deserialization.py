import json

import cloudpickle
import marshal
import pickle
import shelve

import numpy as np
import pandas as pd
import torch


def load_session(cookie_bytes, path, blob):
    # ruleid: gate.python.unsafe-deserialization
    session = pickle.loads(cookie_bytes)
    with open(path, "rb") as fh:
        # ruleid: gate.python.unsafe-deserialization
        cache = pickle.load(fh)
    # ruleid: gate.python.unsafe-deserialization
    code = marshal.loads(blob)
    # ruleid: gate.python.unsafe-deserialization
    db = shelve.open(path)
    # ruleid: gate.python.unsafe-deserialization
    frame = pd.read_pickle(path)
    # ruleid: gate.python.unsafe-deserialization
    arrays = np.load(path, allow_pickle=True)
    # ruleid: gate.python.unsafe-deserialization
    model = torch.load(path)
    return session, cache, code, db, frame, arrays, model


def safe(text, path, obj):
    # ok: gate.python.unsafe-deserialization
    data = json.loads(text)
    # ok: gate.python.unsafe-deserialization
    blob = pickle.dumps(obj)
    # ok: gate.python.unsafe-deserialization
    arrays = np.load(path)
    # ok: gate.python.unsafe-deserialization
    weights = torch.load(path, weights_only=True)
    return data, blob, arrays, weights


def round_trips(obj, protocol):
    # ok: gate.python.unsafe-deserialization
    copy = pickle.loads(pickle.dumps(obj, protocol))
    frozen = pickle.dumps(obj)
    # ok: gate.python.unsafe-deserialization
    thawed = pickle.loads(frozen)
    blob = marshal.dumps(obj)
    if protocol:
        # ok: gate.python.unsafe-deserialization
        return marshal.loads(blob)
    return copy, thawed


def laundered(obj, request, paths):
    # A name first bound to a round trip and then to something else is not a round trip.
    data = pickle.dumps(obj)
    data = request.body
    # ruleid: gate.python.unsafe-deserialization
    first = pickle.loads(data)
    other = pickle.dumps(obj)
    for other in paths:
        # ruleid: gate.python.unsafe-deserialization
        pickle.loads(other)
    third = pickle.dumps(obj)
    with open(paths[0], "rb") as third:
        # ruleid: gate.python.unsafe-deserialization
        pickle.loads(third)
    fourth = pickle.dumps(obj)
    fourth += request.body
    # ruleid: gate.python.unsafe-deserialization
    pickle.loads(fourth)
    # A dumps of another module does not make the bytes pickle's own.
    fifth = json.dumps(obj)
    # ruleid: gate.python.unsafe-deserialization
    pickle.loads(fifth)
    return first


def cloud(obj, blob, helper):
    # ruleid: gate.python.unsafe-deserialization
    cloudpickle.loads(blob)
    kept = cloudpickle.dumps(obj)
    # ok: gate.python.unsafe-deserialization
    cloudpickle.loads(kept)
    # A module the rule does not know is not judged by the round-trip branch either.
    mine = helper.dumps(obj)
    # ok: gate.python.unsafe-deserialization
    helper.loads(mine)
