"""Documents: one reading function per format, each with its bounds and its errors.

- `json.parse_json`: reports and SBOMs (strict, bounded depth and numbers; `InputError`, exit 3).
- `xml.parse_xml`: XML reports and SBOMs (no DTD, no entity, bounded depth; `InputError`).
- `yaml.load` / `yaml.loads`: files people write (data, waivers, baseline), with the line and
  column of every node (aliases, depth and numbers bounded; `ConfigError`, exit 2).
- `schema`: the gate's JSON Schemas (jsonschema-rs): `is_valid`, `problems`, `validate`.

Where a format has a fast path beside its reference path, both sit in its one function and the
module's docstring gives the figure that keeps the fast one. A leaf: these modules import only
`gate.errors` (and each other), so readers may use them too.
"""
