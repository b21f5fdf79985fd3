"""The residents' kiosk: life-event guidance, once-only details and tickets."""
