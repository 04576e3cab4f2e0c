import ast
import re


def calculate(expression, namespace):
    # ruleid: gate.python.code-injection
    result = eval(expression)
    # ruleid: gate.python.code-injection
    exec(f"result = {expression}", namespace)
    # ruleid: gate.python.code-injection
    code = compile(expression, "<user>", "eval")
    return result, code


def safe(expression, pattern):
    # ok: gate.python.code-injection
    value = ast.literal_eval(expression)
    # ok: gate.python.code-injection
    constant = eval("1 + 1")
    # ok: gate.python.code-injection
    regex = re.compile(pattern)
    return value, constant, regex


def generate_method(script, filename, globs):
    # A code generator: the text is a parameter, compiled in "exec" mode; a warning of its own.
    # ok: gate.python.code-injection
    # ruleid: gate.python.code-generation
    bytecode = compile(script, filename, "exec")
    # The code object compile() returned: the compile call above is the finding.
    # ok: gate.python.code-injection
    # ok: gate.python.code-generation
    eval(bytecode, globs)
    return globs


def not_a_generator(script, request, globs):
    # ok: gate.python.code-generation
    # ruleid: gate.python.code-injection
    exec(script, globs)
    # ok: gate.python.code-generation
    # ruleid: gate.python.code-injection
    code = compile(script, "<x>", "eval")
    body = request.args["code"]
    # ok: gate.python.code-generation
    # ruleid: gate.python.code-injection
    compiled = compile(body, "<x>", "exec")
    compiled = request.args["obj"]
    # ruleid: gate.python.code-injection
    exec(compiled, globs)
    return code


def rebinds(script, request):
    script = request.args["code"]
    # ok: gate.python.code-generation
    # ruleid: gate.python.code-injection
    return compile(script, "<x>", "exec")
