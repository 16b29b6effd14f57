"""The page routers, in the order the app includes them."""

from web.routes import auth, home

ROUTERS = [auth.router, home.router]
