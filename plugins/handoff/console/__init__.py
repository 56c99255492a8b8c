"""The SRE console's logic (DORA figures, page state), kept apart from the HTTP layer."""
