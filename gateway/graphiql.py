"""GraphiQL from local files: no CDN, so the page works with no internet.

`make install` runs `npm ci --prefix gateway/web`, which puts GraphiQL's and
React's UMD builds under gateway/web/node_modules (never committed). Only the
four files the page loads are served, under /graphiql/static/. When they are
missing the page answers 503 naming `make install`, not a broken page.
"""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import Mapping
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

__all__ = ["ASSETS", "NODE_MODULES", "STATIC_PREFIX", "GraphiQLAssets", "GraphiQLPage"]

NODE_MODULES = Path(__file__).resolve().parent / "web" / "node_modules"
STATIC_PREFIX = "/graphiql/static"
ASSETS: dict[str, str] = {
    "react": "react/umd/react.production.min.js",
    "react_dom": "react-dom/umd/react-dom.production.min.js",
    "graphiql_js": "graphiql/graphiql.min.js",
    "graphiql_css": "graphiql/graphiql.min.css",
}
_NOT_INSTALLED = (
    "GraphiQL is not installed: its npm packages are missing from gateway/web/node_modules. "
    "Run `make install` (it runs `npm ci --prefix gateway/web`) and reload."
)

_PAGE = r"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>engagement-gateway · GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{graphiql_css}">
<style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="{react}"></script>
<script src="{react_dom}"></script>
<script src="{graphiql_js}"></script>
<script id="examples" type="application/json">{examples}</script>
<script nonce="{nonce}">
  const examples = JSON.parse(document.getElementById("examples").textContent);
  const http = GraphiQL.createFetcher({{
    url: {graphql_url},
    headers: {{ Accept: "application/graphql-response+json, application/json;q=0.9" }},
  }});
  // GraphiQL re-reads the operation name a moment after the editor or tab
  // changes; a run in between would name an operation the document lacks.
  const defines = (query, name) =>
    new RegExp("\\b(query|mutation|subscription)\\s+" + name + "\\b").test(query || "");
  // A subscription runs over GraphQL-over-SSE (distinct connections): a POST with
  // Accept: text/event-stream answers `event: next` / `data: <result>` messages,
  // then `event: complete`; a request that cannot start answers plain JSON.
  async function* events(params, headers, signal) {{
    const response = await fetch({graphql_url}, {{
      method: "POST",
      body: JSON.stringify(params),
      signal,
      headers: {{ ...headers, "Content-Type": "application/json", Accept: "text/event-stream" }},
    }});
    if (response.status !== 200) {{
      const failed = {{ errors: [{{ message: `HTTP ${{response.status}}` }}] }};
      yield await response.json().catch(() => failed);
      return;
    }}
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "", event = "", data = [];
    for (;;) {{
      const {{ value, done }} = await reader.read();
      if (done) return;
      const lines = (buffer + value).split(/\r?\n/);
      buffer = lines.pop();
      for (const line of lines) {{
        if (line === "") {{
          if (event === "complete") return;
          if (event === "next") yield JSON.parse(data.join("\n"));
          event = "";
          data = [];
        }} else if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }}
    }}
  }}
  // GraphiQL stops a subscription with return(): abort the request at once.
  const subscribe = (params, headers) => {{
    const abort = new AbortController();
    const results = events(params, headers, abort.signal);
    return {{
      [Symbol.asyncIterator]() {{ return this; }},
      next: () => results.next().catch((error) => {{
        if (abort.signal.aborted) return {{ done: true, value: undefined }};
        throw error;
      }}),
      return() {{ abort.abort(); return results.return(); }},
    }};
  }};
  const kindOf = (params, documentAST) => {{
    const operations = (documentAST ? documentAST.definitions : [])
      .filter((definition) => definition.kind === "OperationDefinition");
    const chosen = operations.find((definition) => !params.operationName
      || (definition.name && definition.name.value === params.operationName));
    return chosen && chosen.operation;
  }};
  const fetcher = (params, options) => {{
    const named = params.operationName && !defines(params.query, params.operationName)
      ? {{ ...params, operationName: undefined }} : params;
    return kindOf(named, options && options.documentAST) === "subscription"
      ? subscribe(named, (options && options.headers) || {{}})
      : http(named, options);
  }};
  const defaultTabs = Object.values(examples).map((query) => ({{ query }}));
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {{
      fetcher,
      defaultTabs,
      defaultQuery: defaultTabs.length ? defaultTabs[0].query : undefined,
      defaultEditorToolsVisibility: true,
    }}),
  );
</script>
</body>
</html>
"""


class GraphiQLAssets:
    """ASGI app serving the allow-listed asset files from node_modules."""

    def __init__(self, root: Path = NODE_MODULES) -> None:
        self.root = root
        self._allowed = frozenset(ASSETS.values())
        self._files = StaticFiles(directory=root, check_dir=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = self._files.get_path(scope).replace("\\", "/")
        response: Response | None = None
        if path not in self._allowed:
            response = PlainTextResponse("Not Found", status_code=404)
        elif not (self.root / path).is_file():
            response = PlainTextResponse(_NOT_INSTALLED, status_code=503)
        if response is not None:
            await response(scope, receive, send)
            return
        await self._files(scope, receive, send)


class GraphiQLPage:
    """The GraphiQL HTML page, fetching from `graphql_url`, opening `examples` as tabs."""

    def __init__(
        self,
        examples: Mapping[str, str],
        *,
        root: Path = NODE_MODULES,
        graphql_url: str = "/graphql",
    ) -> None:
        self.examples = dict(examples)
        self.root = root
        self.graphql_url = graphql_url

    def assets(self) -> GraphiQLAssets:
        return GraphiQLAssets(self.root)

    def missing(self) -> list[str]:
        return [rel for rel in ASSETS.values() if not (self.root / rel).is_file()]

    async def endpoint(self, request: Request) -> Response:
        """A Starlette endpoint (GET /graphiql)."""
        return self.render(request)

    def render(self, request: Request) -> Response:
        if missing := self.missing():
            message = _NOT_INSTALLED + " Missing: " + ", ".join(missing)
            body = f"<!doctype html><title>GraphiQL not installed</title><p>{html.escape(message)}"
            return HTMLResponse(body, status_code=503)
        base = request.scope.get("root_path", "").rstrip("/")
        nonce = secrets.token_urlsafe(16)
        page = _PAGE.format(
            nonce=nonce,
            graphql_url=json.dumps(base + self.graphql_url),
            examples=json.dumps(self.examples).replace("<", "\\u003c"),
            **{key: html.escape(f"{base}{STATIC_PREFIX}/{rel}") for key, rel in ASSETS.items()},
        )
        policy = (
            "default-src 'none'; "
            f"script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self' 'unsafe-inline'; "
            "font-src 'self' data:; img-src 'self' data:; "
            "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )
        return HTMLResponse(page, headers={"Content-Security-Policy": policy})
