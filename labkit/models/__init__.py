"""Models: one architecture per file, each with ``load_pretrained`` beside it where weights exist."""
