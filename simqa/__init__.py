"""simqa: ask your simulations questions in plain language."""
