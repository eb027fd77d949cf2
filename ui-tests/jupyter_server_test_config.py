"""Server configuration for the Galata tests (never use it in production).

The server root comes from JUPYTERLAB_GALATA_ROOT_DIR, which
playwright.config.js sets so that the tests can look at the files on disk.
"""

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821 (c is provided by the config loader)
# Galata deletes its test notebooks after each test: delete them, rather than fill the user's ~/.local Trash.
c.FileContentsManager.delete_to_trash = False  # noqa: F821
