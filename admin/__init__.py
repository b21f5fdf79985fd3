"""The administration area: pages for the admin role (the audit log today)."""
