"""People (nominals): the first POLE record."""
