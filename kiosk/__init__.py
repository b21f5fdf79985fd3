"""The residents' kiosk: life-event guidance, once-only details and tickets."""

#: What other features may import (docs/architecture.md); everything else here is internal.
PUBLIC_MODULES = (
    "kiosk.catalog",
    "kiosk.details",
    "kiosk.guide",  # the rule engine: life events and answers → procedures (the navigator)
    "kiosk.flow",  # an office's checked catalog, and which offered languages it lacks texts in
    "kiosk.offer",  # an office's kiosk: languages in order, welcome text, privacy notice
)
