"""The XE-IT prompt: one template file shared by instances, preference pairs and the evaluator."""

from __future__ import annotations

from dataclasses import dataclass

from .langs import language_name
from .resources import read_prompt, text_hash

DEFAULT_XEIT_TEMPLATE = "xeit/v1.txt"


@dataclass(frozen=True)
class EditTemplate:
    """Renders ``[Updated Information]`` + ``[Query]`` user messages."""

    text: str
    name: str = DEFAULT_XEIT_TEMPLATE

    @classmethod
    def load(cls, name: str = DEFAULT_XEIT_TEMPLATE) -> "EditTemplate":
        return cls(read_prompt(name), name)

    @property
    def hash(self) -> str:
        return text_hash(self.text)

    def render(self, target_lang: str, updates: list[str] | str, query: str) -> str:
        """``updates`` are "prompt target_new" edit statements in the source language."""
        if isinstance(updates, str):
            updates = [updates]
        return self.text.format(target_language=language_name(target_lang), updates="\n".join(updates), query=query)


def edit_statement(prompt: str, target_new: str) -> str:
    """The released code's update line: ``{prompt} {target_new}``."""
    return f"{prompt} {target_new}"
