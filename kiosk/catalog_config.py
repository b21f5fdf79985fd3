"""The catalog's section of the configuration file (`frontyard config export/import`).

Exported: the office's published catalog as the YAML document's data (None when it has none).
Imported: the data is checked against the office's live services like an upload and
published as a new version (nothing happens when it equals the published one); a problem is
a ValidationFailed naming its place in the data, e.g. `catalog.procedures[1].service`.
"""

from __future__ import annotations

from typing import Any

import yaml
from sqlmodel import Session

from counter.models import Office
from frontyard.exceptions import ValidationFailed
from frontyard.i18n import gettext as _
from frontyard.i18n import translated
from kiosk.catalog_serving import check_version
from kiosk.catalog_versions import dump_yaml, publish, published_version, save_version

CONFIG_SECTION = "catalog"


def export_config(session: Session, office: Office) -> Any:
    """The published catalog's data, in the file's own order (None: no catalog yet)."""
    version = published_version(session, office)
    return None if version is None else yaml.safe_load(version.yaml_text)


def import_config(session: Session, office: Office, data: Any) -> None:
    """Check `data` as the office's catalog and publish it as a new version (flush only)."""
    if data is None:
        return
    if not isinstance(data, dict):
        message = _("catalog: must be a mapping (the catalog's data), or empty.")
        raise ValidationFailed(message, catalog=message)
    current = published_version(session, office)
    if current is not None and yaml.safe_load(current.yaml_text) == data:
        return
    version = save_version(session, None, office, dump_yaml(data), "configuration import")
    result = check_version(session, office, version)
    if result.catalog is None:
        # In the reader's language (the command line's is English): the check is cached for all.
        lines = [f"catalog.{problem.place}: {translated(problem.message)}" if problem.place
                 else f"catalog: {translated(problem.message)}" for problem in result.problems]
        summary = "\n".join(lines)
        raise ValidationFailed(summary, catalog=lines[0])
    publish(session, None, office, version, result)
    session.flush()
