import os

import requests
from flask import Flask

app = Flask(__name__)

# ruleid: gate.python.secrets.hardcoded-secret
SECRET_KEY = "s3cr3t-k3y-f0r-s1gn1ng-c00k1es"
# ruleid: gate.python.secrets.hardcoded-secret
DB_PASSWORD = "Tr0ub4dor&3"
# ruleid: gate.python.secrets.hardcoded-secret
app.secret_key = "f8a9c2e1d4b7a6e5"
# ruleid: gate.python.secrets.hardcoded-secret
app.config["SECRET_KEY"] = "another-very-secret-value"
# ruleid: gate.python.secrets.hardcoded-secret
SETTINGS = {"api_key": "9f8e7d6c5b4a39281706"}


def call_api():
    # ruleid: gate.python.secrets.hardcoded-secret
    return requests.get("https://api.example.com", auth=("svc", "x"), headers={}, timeout=5, token="ghx9f8e7d6c5b4a3")


# ruleid: gate.python.secrets.credential-pattern
AWS_ID = "AKIAIOSFODNN7EXAMPLE"

# ok: gate.python.secrets.hardcoded-secret
PASSWORD = os.environ["DB_PASSWORD"]
# ok: gate.python.secrets.hardcoded-secret
API_KEY = os.environ.get("API_KEY", "")
# ok: gate.python.secrets.hardcoded-secret
password = "changeme"
# ok: gate.python.secrets.hardcoded-secret
token = "<your-token-here>"
# ok: gate.python.secrets.hardcoded-secret
PASSWORD_FIELD_LABEL = "Enter your password"
# ok: gate.python.secrets.hardcoded-secret
secret_name = "prod/db/credentials"
# ok: gate.python.secrets.hardcoded-secret
pwd = ""
# ok: gate.python.secrets.credential-pattern
AWS_REGION = "eu-central-1"
