"""The app's routers, one module each; :func:`lendscope.app.factory.create_app` includes them.

Importing a router registers nothing: each module only defines its ``router``.
"""
