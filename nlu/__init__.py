"""Vietnamese language understanding: normalisation, intent classifier, entity matcher. No I/O at match time."""
