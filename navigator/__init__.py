"""Before the visit: the public procedure navigator, details entered at home, appointments.

Residents use it on their own phones, without an account; it reuses the kiosk's catalog and
details forms and the queue's live figures, and it shows no personal data on any public page.
"""

#: What other features may import (docs/architecture.md): nothing, the navigator is a leaf.
PUBLIC_MODULES: tuple[str, ...] = ()
