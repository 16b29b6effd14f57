"""Running the suite on this machine: the stand-in servers, the SMTP sink and `make up`."""
