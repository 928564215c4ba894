"""A griffe extension for the API reference: the library's docstrings use reStructuredText
roles (``:class:`Report```, ``:meth:`run```) and literal blocks (``text::``), which Markdown
would print as they are. This turns each role into inline code and ``::`` into ``:`` before
mkdocstrings renders them, so the docstrings stay as they are for help() and IDEs."""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|meth|func|attr|mod|exc|data|obj):`~?([^`]+)`")
_LITERAL_BLOCK = re.compile(r"(\S)::$", re.MULTILINE)


def markdown_of(text: str) -> str:
    """The docstring ``text`` with roles as inline code and ``::`` block openers as ``:``."""
    text = _ROLE.sub(r"`\1`", text)
    return _LITERAL_BLOCK.sub(r"\1:", text)


class RstRoles(griffe.Extension):
    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown_of(obj.docstring.value)
