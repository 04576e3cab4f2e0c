"""The local OSV vulnerability database: build it (`store`), read OSV records (`records`), order
versions per ecosystem (`versions`), match SBOM components (`match`) and attach the result to a
run as evidence (`evidence`)."""
