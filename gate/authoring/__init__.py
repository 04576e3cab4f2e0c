"""Tools for the people who own the policies: check, document, compare, explain.

Pure logic: every function here takes policies or verdicts and returns values (reports,
Markdown, comparisons, text lines); the `gate policy ...` and `gate explain` commands in
`gate/cli/` only wire options to these functions and print what they return.
"""
