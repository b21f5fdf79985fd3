"""The residents' kiosk: life-event guidance, once-only details and tickets."""

#: What other features may import (docs/architecture.md); everything else here is internal.
PUBLIC_MODULES = (
    "kiosk.catalog",
    "kiosk.details",
    "kiosk.guide",  # the rule engine: life events and answers → procedures (the navigator)
    "kiosk.flow",  # an office's checked catalog, and which offered languages it lacks texts in
    "kiosk.offer",  # an office's kiosk: languages in order, welcome text, privacy notice
    "kiosk.entry",  # the details form's fields and values (details entered at home)
    "kiosk.pre_entry",  # details entered at home and their codes (the navigator)
    "kiosk.pre_entry_limits",  # their abuse limits
    "kiosk.catalog_versions",  # the catalog's versions in the database (admin pages, CLI)
    "kiosk.catalog_serving",  # which version an office's kiosk serves, and its checks
    "kiosk.catalog_config",  # the catalog's section of the configuration file
)
