"""Officer pages: signing in, pilots, areas, staff, polls, voter codes, paper ballots, translations."""
