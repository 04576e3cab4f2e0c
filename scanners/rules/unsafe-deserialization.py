import json
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
