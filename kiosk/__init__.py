"""The residents' kiosk: life-event guidance, once-only details and tickets."""

#: What other features may import (docs/architecture.md); everything else here is internal.
PUBLIC_MODULES = ("kiosk.catalog", "kiosk.details", "kiosk.catalog_versions",
                  "kiosk.catalog_serving", "kiosk.guide",
                  "kiosk.catalog_config")
