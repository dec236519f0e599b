"""SuiteQL for the sandbox: tokenizer, parser, tables over the store, engine, route."""

from __future__ import annotations

from sandboxes.netsuite.suiteql.engine import QueryError, execute
from sandboxes.netsuite.suiteql.lexer import SuiteQLSyntaxError
from sandboxes.netsuite.suiteql.parser import parse

__all__ = ["QueryError", "SuiteQLSyntaxError", "execute", "parse"]
