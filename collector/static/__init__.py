"""Files Teller serves as they are: the tracking snippet."""
