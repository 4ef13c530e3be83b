"""Citizens' juries: officer pages, public pages and invitations, the jury room and the reports."""
