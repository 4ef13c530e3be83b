"""Pages anyone can see: the front page, a pilot's page, official results and the health checks."""
