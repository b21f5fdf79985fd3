"""The administration area: pages for the admin role (the audit log today)."""

#: What other features may import (docs/architecture.md): nothing, admin is a leaf.
PUBLIC_MODULES = ()
