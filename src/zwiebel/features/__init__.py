"""zwiebel.features."""
