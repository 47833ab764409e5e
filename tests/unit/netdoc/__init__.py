"""Tests for zwiebel.netdoc (directory documents)."""
