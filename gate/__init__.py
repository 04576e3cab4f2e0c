"""policy-gate: a DevSecOps pipeline policy gate.

Gathers what security scanners found and what the SBOM says, judges it against Rego policies,
and answers pass or fail with the evidence. See the README for the contract.
"""

__version__ = "0.1.0"
