"""Intelligence reports: 3x5x2 grading, sanitisation, the Connect-style lifecycle, dissemination."""
