"""The suppliers' read-only, multi-tenant HTTP API (FastAPI on uvicorn, 127.0.0.1): each supplier reads its own daily
sales, returns, top products and funnel with a bearer token of its own.

- tenant_scope.py  the table macros, created in each serving copy, that every query goes through (one supplier each);
- tokens.py        issuing, revoking and checking tokens (stored hashed in the data folder, never in the repository);
- app.py           the routes: the supplier comes from the token, never from the request;
- cli.py           `tidewater api-token issue|revoke|list` (`tidewater serve` starts the API: `command` gives its argv).
"""

from __future__ import annotations

from pathlib import Path

from tidewater.orchestrate.settings import Settings, venv_tool


def command(
    settings: Settings, port: int, tokens_file: Path | None = None, access_log: bool = True, workers: int = 1
) -> list[str]:
    """The argv of `tidewater serve` for `settings`' data folder on 127.0.0.1:`port` (in the foreground)."""
    argv = [venv_tool("tidewater"), "--data-dir", str(settings.data_dir), "serve", "--port", str(port)]
    if tokens_file is not None:
        argv += ["--tokens-file", str(tokens_file)]
    if workers != 1:
        argv += ["--workers", str(workers)]
    if not access_log:
        argv.append("--no-access-log")
    return argv
