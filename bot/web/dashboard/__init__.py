"""The clinic staff dashboard under /staff/: accounts, sessions, CSRF, pages, audit and export."""
