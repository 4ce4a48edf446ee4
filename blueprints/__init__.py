"""One package per feature the person sees."""
