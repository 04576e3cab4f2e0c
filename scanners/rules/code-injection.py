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
