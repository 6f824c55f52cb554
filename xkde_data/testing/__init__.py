"""Test helpers that other packages and downstream users can reuse (a fake OpenAI-compatible server)."""
