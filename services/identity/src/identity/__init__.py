"""The identity service: Schools (tenants), users, memberships and roles, login and tokens."""
