"""The HTTP API: app factory, authentication, errors, pagination; routers live in the domains."""
