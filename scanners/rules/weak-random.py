import random
import secrets
import string
from random import choice

ALPHABET = string.ascii_letters + string.digits


def new_credentials(user):
    # ruleid: gate.python.weak-random-token
    reset_token = "".join(random.choice(ALPHABET) for _ in range(32))
    # ruleid: gate.python.weak-random-token
    user.password = "".join(choice(ALPHABET) for _ in range(12))
    session = {"csrf_token": None}
    # ruleid: gate.python.weak-random-token
    session["csrf_token"] = random.getrandbits(128)
    # ruleid: gate.python.weak-random-token
    otp = random.randint(100000, 999999)
    return reset_token, otp, session


def make_api_key():
    # ruleid: gate.python.weak-random-token
    return "%032x" % random.getrandbits(128)


def fine(items):
    # ok: gate.python.weak-random-token
    reset_token = secrets.token_urlsafe(32)
    # ok: gate.python.weak-random-token
    password = "".join(secrets.choice(ALPHABET) for _ in range(16))
    # ok: gate.python.weak-random-token
    sample = random.sample(items, 3)
    # ok: gate.python.weak-random-token
    delay = random.uniform(0.5, 1.5)
    # ok: gate.python.weak-random-token
    salt = random.SystemRandom().getrandbits(64)
    return reset_token, password, sample, delay, salt


def shuffle_deck(deck):
    # ok: gate.python.weak-random-token
    return random.sample(deck, len(deck))
