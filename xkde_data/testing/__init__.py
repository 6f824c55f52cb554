"""Test helpers that are real servers, not mocks: a fake OpenAI-compatible translator
(``openai_server``) and a Hub server (``hub_server``), used by the test suite and downstream tests."""
