import tempfile


def write_report(data):
    # ruleid: gate.python.insecure-tempfile
    name = tempfile.mktemp(suffix=".csv")
    with open(name, "w") as fh:
        fh.write(data)
    # ruleid: gate.python.hardcoded-tmp-path
    with open("/tmp/report.csv", "w") as fh:
        fh.write(data)
    return name


def fine(data):
    # ok: gate.python.insecure-tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as fh:
        fh.write(data)
    # ok: gate.python.insecure-tempfile
    fd, path = tempfile.mkstemp()
    # ok: gate.python.hardcoded-tmp-path
    with open("reports/out.csv", "w") as out:
        out.write(data)
    return fh.name, fd, path
