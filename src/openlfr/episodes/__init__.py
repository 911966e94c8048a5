"""Alert episodes: repeat sightings of one subject as one queue item, decided together."""
