"""Scanner runners: run bandit, semgrep, pip-audit and the SBOM generator on a project.

One abstract base (`interface.ScannerRunner`), one module per tool, a hand-written registry, and
`parallel.run_all` that runs a selection of them at once, each with its own time limit. A runner
never judges what a tool found: it records how the tool ran (`RunRecord`) and where its native
report is, and the gate then evaluates that report exactly as `gate evaluate` would.
"""
