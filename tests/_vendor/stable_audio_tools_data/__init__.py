"""stable-audio-tools 0.0.19's PreEncodedDataset: see tests/_vendor/README.md."""
