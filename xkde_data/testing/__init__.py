"""Test helpers that are real servers, not mocks (used by the test suite and by anyone testing a push)."""
