"""mkdocs hooks: the site's header shows the project's name and version.

The version is read from the package itself, so the header cannot drift from a release.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

_SRC = Path(__file__).resolve().parents[1] / "src"


def on_config(config: Any) -> Any:
    sys.path.insert(0, str(_SRC))
    try:
        from rotation_testkit import __version__
    finally:
        sys.path.remove(str(_SRC))
    config["site_name"] = f"rotation-testkit {__version__}"
    return config
