"""Training code of the Arabic NER model (pretraining, fine-tuning, export) and its CRF baseline."""
