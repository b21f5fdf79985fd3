"""The procedure catalog: life events, questions, rules, procedures, documents and forms.

A catalog is data kept in a YAML file per office (`kiosk/catalogs/<office>.yaml`); every text
in it is a map {locale: text}. `load_catalog` reads a file, checks it against the schema and
its cross-references (ids, service codes, translations) and returns a `Catalog`, or raises a
`CatalogError` listing every problem with the file, the YAML line and the place. Problems of
structure and type come first (like a compiler's syntax errors); translations and references
are checked, all together, once the structure is right.

Visiting order is the order of `sections:` (the register first, because later steps need
the new address or the new entry), then the order of `procedures:` within a section.

`kiosk.catalog` is the catalog's public interface; inside, `schema` holds the models, `reading`
the YAML with its lines, `checks` the problems and `load_catalog`, `texts` the translations and
localisation, `offices` the file's place and the office's services in the database.
"""

from __future__ import annotations

from kiosk.catalog.checks import CatalogError, CheckResult, check_catalog, load_catalog
from kiosk.catalog.offices import (
    CATALOG_DIR,
    apply_section_names,
    catalog_path,
    service_codes_in_database,
)
from kiosk.catalog.reading import Problem, format_place
from kiosk.catalog.schema import (
    KIOSK_LOCALES,
    SEED_LOCALES,
    Catalog,
    Condition,
    Deadline,
    Document,
    Form,
    LifeEvent,
    OnlineAlternative,
    Option,
    Procedure,
    Question,
    Rule,
    Section,
    SectionStep,
    Text,
)
from kiosk.catalog.texts import iter_texts, localized, localized_html, missing_translations

__all__ = [
    "CATALOG_DIR",
    "KIOSK_LOCALES",
    "SEED_LOCALES",
    "Catalog",
    "CatalogError",
    "CheckResult",
    "Condition",
    "Deadline",
    "Document",
    "Form",
    "LifeEvent",
    "OnlineAlternative",
    "Option",
    "Problem",
    "Procedure",
    "Question",
    "Rule",
    "Section",
    "SectionStep",
    "Text",
    "apply_section_names",
    "catalog_path",
    "check_catalog",
    "format_place",
    "iter_texts",
    "load_catalog",
    "localized",
    "localized_html",
    "missing_translations",
    "service_codes_in_database",
]
