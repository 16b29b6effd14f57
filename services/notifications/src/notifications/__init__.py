"""The notifications service: E-mail, in-app notifications and messages between people."""
