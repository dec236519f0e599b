"""The SOQL subset: tokenizer, parser, name resolution and an in-memory engine."""

from sandboxes.salesforce.soql.compile import CompiledQuery, compile_query
from sandboxes.salesforce.soql.engine import execute
from sandboxes.salesforce.soql.errors import SoqlError
from sandboxes.salesforce.soql.parser import parse

__all__ = ["CompiledQuery", "SoqlError", "compile_query", "execute", "parse"]
