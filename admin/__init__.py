"""The administration area: pages for the admin role (the city's structure, the audit log)."""

#: What other features may import (docs/architecture.md): nothing, admin is a leaf.
PUBLIC_MODULES = ()
