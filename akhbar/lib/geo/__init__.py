"""Geocoding of place mentions: the Arabic gazetteer, resolution with evidence, the event's location.

No Beam here: ``akhbar.transforms.enrich`` runs ``GeoEnricher`` after the NER
and event branches are joined.
"""
