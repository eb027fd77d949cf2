"""Removes the files a project without torch does not have (cookiecutter.json's _torch_only).

Promotion renders this template without cookiecutter and skips those files the same way (default_template.py).
Valid Python before rendering too: the Jinja is inside string literals.
"""

import json
from pathlib import Path

TORCH = "{{ cookiecutter._torch }}" == "True"
TORCH_ONLY = json.loads("""{{ cookiecutter._torch_only | jsonify }}""")

if not TORCH:
    for path in TORCH_ONLY:
        Path(path).unlink()
