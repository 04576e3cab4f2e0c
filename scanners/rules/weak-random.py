import random
import secrets
import string
from random import choice

ALPHABET = string.ascii_letters + string.digits


def new_credentials(user):
    # ruleid: gate.python.weak-random-secret
    reset_token = "".join(random.choice(ALPHABET) for _ in range(32))
    # ruleid: gate.python.weak-random-secret
    user.password = "".join(choice(ALPHABET) for _ in range(12))
    session = {"csrf_token": None}
    # ruleid: gate.python.weak-random-secret
    session["csrf_token"] = random.getrandbits(128)
    # ruleid: gate.python.weak-random-secret
    otp = random.randint(100000, 999999)
    return reset_token, otp, session


def make_api_key():
    # ruleid: gate.python.weak-random-secret
    return "%032x" % random.getrandbits(128)


def fine(items):
    # ok: gate.python.weak-random-secret
    reset_token = secrets.token_urlsafe(32)
    # ok: gate.python.weak-random-secret
    password = "".join(secrets.choice(ALPHABET) for _ in range(16))
    # ok: gate.python.weak-random-secret
    sample = random.sample(items, 3)
    # ok: gate.python.weak-random-secret
    delay = random.uniform(0.5, 1.5)
    # ok: gate.python.weak-random-secret
    salt = random.SystemRandom().getrandbits(64)
    return reset_token, password, sample, delay, salt


def shuffle_deck(deck):
    # ok: gate.python.weak-random-secret
    return random.sample(deck, len(deck))
