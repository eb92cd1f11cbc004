"""The POLE store beyond people: objects, locations, events, and the links between any two entities."""
