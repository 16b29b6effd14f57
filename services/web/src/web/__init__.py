"""The web app people use: server-rendered pages that call the services' public APIs."""
