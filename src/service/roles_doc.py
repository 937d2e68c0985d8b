"""Print docs/roles.md as the routes declare it: `python -m service.roles_doc > docs/roles.md`."""

from __future__ import annotations

import tempfile

from api.app import create_app
from api.roles_doc import roles_markdown
from service.bootstrap import bootstrap
from service.settings import Settings


def main() -> None:
    """Build the app on a throwaway SQLite file and print its roles document."""
    with tempfile.TemporaryDirectory() as folder:
        service = bootstrap(Settings(database_url=f"sqlite:///{folder}/roles.db"))
        try:
            app = create_app(service.orders, service.queries, service.tokens)
            print(roles_markdown(app.openapi()), end="")
        finally:
            service.close()


if __name__ == "__main__":
    main()
