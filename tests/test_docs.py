"""The config documentation is generated from the schema and must stay in sync with it."""

import yaml

from gfm_limits.config import schema_table

from conftest import ROOT


def test_config_readme_lists_every_key_as_the_schema_does():
    table = schema_table(yaml.safe_load((ROOT / "config" / "schema.yaml").read_text()))
    assert table in (ROOT / "config" / "README.md").read_text(), (
        "config/README.md is out of date; regenerate its table with "
        "python -c 'import sys, yaml; sys.path.insert(0, \"scripts\"); "
        "from gfm_limits.config import schema_table; "
        "print(schema_table(yaml.safe_load(open(\"config/schema.yaml\"))), end=\"\")'"
    )
