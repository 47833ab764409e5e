"""zwiebel.app."""
