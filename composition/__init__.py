"""The composition layer: the one place that knows every feature.

It builds the web application (`composition.factory.create_app`), the command line
(`composition.cli`), the demo city (`composition.demo`, `composition.demo_history`) and the full
database schema (`composition.schema`) from the core (`frontyard`) and the features (`kiosk`,
`counter`, `analytics`, `admin`), and connects the features' events (`composition.wiring`).
Nothing imports it but its entry points: uvicorn (`composition.asgi:app`), the `frontyard`
command, Alembic's environment and the tests. See docs/architecture.md.
"""
